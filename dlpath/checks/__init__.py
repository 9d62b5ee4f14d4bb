"""The check kinds: each takes a :class:`Context` and a check's arguments and
returns an :class:`Outcome`. None of them prints; none raises for a learner's
mistake (a missing file is a failure with a message, not an exception).

A check that cannot run at all (a metrics file that is not JSON, a command
that cannot start) returns ``error``.

One module per family, the registry here:

* :mod:`~dlpath.checks.files` – ``file_exists``, ``file_matches``, ``markdown_sections``
* :mod:`~dlpath.checks.git` – ``git_commits``, ``git_clean``, ``git_tag``, ``params_changed``
* :mod:`~dlpath.checks.dvc` – ``dvc_*`` (DVC's answers, reused while their fingerprint holds)
* :mod:`~dlpath.checks.metrics` – ``metric``, ``metric_ratio``
* :mod:`~dlpath.checks.commands` – ``command``, ``package_tests``, with the command
  cache (:mod:`~dlpath.checks.cache`), the process runner (:mod:`~dlpath.checks.runner`)
  and pytest run in isolation with a per-test report (:mod:`~dlpath.checks.pytests`)
* :mod:`~dlpath.checks.probe` – ``probe``: dlpath measures the learner's model itself

Learner code that dlpath judges (tests, probes) runs in ``_child.py``, an
isolated interpreter that reports through a nonce-tagged channel.
"""

from __future__ import annotations

from collections.abc import Callable

from dlpath.checks import git
from dlpath.checks.base import (
    ERROR,
    FAIL,
    OUTPUT_LIMIT,
    PASS,
    SKIPPED,
    Context,
    Outcome,
    first_line,
)
from dlpath.checks.dvc import dvc_signature
from dlpath.checks.metrics import NOT_IMPLEMENTED
from dlpath.rubric import Check

__all__ = ["ERROR", "FAIL", "NOT_IMPLEMENTED", "OUTPUT_LIMIT", "PASS", "RUNNERS", "SKIPPED",
           "Context", "Outcome", "dvc_signature", "run"]

#: each kind's runner as "module.function" under dlpath.checks, imported when
#: a check of that kind runs: ``check --no-commands`` never imports the
#: command runner, pytest plumbing or the probe (see :func:`kind_runner`,
#: not named ``runner``: that is a submodule of this package)
RUNNERS: dict[str, str] = {
    "file_exists": "files.file_exists",
    "file_matches": "files.file_matches",
    "markdown_sections": "files.markdown_sections",
    "git_commits": "git.git_commits",
    "git_clean": "git.git_clean",
    "git_tag": "git.git_tag",
    "dvc_tracked": "dvc.dvc_tracked",
    "dvc_outputs_versioned": "dvc.dvc_outputs_versioned",
    "dvc_stage": "dvc.dvc_stage",
    "dvc_up_to_date": "dvc.dvc_up_to_date",
    "dvc_pushed": "dvc.dvc_pushed",
    "metric": "metrics.metric",
    "metric_ratio": "metrics.metric_ratio",
    "params_changed": "git.params_changed",
    "command": "commands.command",
    "package_tests": "commands.package_tests",
    "probe": "probe.probe",
}


def kind_runner(kind: str) -> Callable[..., Outcome]:
    """The function that runs checks of ``kind`` (KeyError for an unknown kind)."""
    import importlib

    module, name = RUNNERS[kind].split(".")
    return getattr(importlib.import_module(f"dlpath.checks.{module}"), name)

#: kinds whose runner also takes the Check (for its cache key)
_TAKES_CHECK = {"command", "package_tests"}
#: kinds whose result comes from a run of the pipeline, and so from params.yaml
_FROM_PARAMS = {"metric", "metric_ratio", "probe"}


def run(ctx: Context, check: Check) -> Outcome:
    """Run one check; any unexpected exception is the check's `error`, not a crash."""
    outcome = _run(ctx, check)
    if outcome.status == FAIL and check.kind in _FROM_PARAMS:
        # After `dvc exp run -S ...` the workspace holds the experiment: say
        # so, or the hint about the committed run misleads.
        note = git.uncommitted_params_note(ctx)
        if note:
            outcome.message += note
            if outcome.public is not None:
                outcome.public += note
    return outcome


def _run(ctx: Context, check: Check) -> Outcome:
    from dlpath.vcs import DvcBusy

    if check.runs_commands and not ctx.run_commands:
        return Outcome(SKIPPED, "skipped (--no-commands)")
    try:
        fn = kind_runner(check.kind)
        if check.kind in _TAKES_CHECK:
            return fn(ctx, check, **check.args)
        return fn(ctx, **check.args)
    except DvcBusy as exc:
        return Outcome(ERROR, f"could not run: {exc.message} ({exc.hint})", transient=True)
    except Exception as exc:
        return Outcome(ERROR, f"could not run: {first_line(exc)}")
