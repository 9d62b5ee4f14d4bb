"""Grader mode: ``dlpath check --grade [--commit REV]``.

What a course, a CI job or ``dlpath verify`` relies on. Unlike the local
check (fast, cached, advisory) it trusts nothing the project holds:

* it grades a commit, not a working tree: a clean clone of the repository
  (no hooks, no fsmonitor, no local git configuration: the clone's config is
  git's default) checked out in a temporary folder outside the project;
* it reads no cache and records nothing (no ``.dlpath/state.json``);
* the project's protected files are compared with the template rendered
  afresh (see dlpath.reference);
* DVC answers about the commit as committed: its outputs are fetched (hashes
  verified) from the project's DVC cache or its default remote, and the
  versioning checks run on them;
* then it re-runs the pipeline from scratch (``dvc repro --force``) and only
  then runs the checks that judge numbers (``metric``, ``metric_ratio``,
  ``probe``): every number is one dlpath computed itself, in the clone.

It cannot prove who wrote the code, or anything about a machine it does not
run on; see docs/threat-model.md.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath import checks, project, vcs
from dlpath.errors import DlpathError, ExitCode

DEFAULT_REPRO_TIMEOUT = 1800.0
#: the remote grader mode adds in its clone: the project's own DVC cache
PROJECT_CACHE_REMOTE = "dlpath-project-cache"


@dataclass
class Checkout:
    """A clean checkout of one commit, and the pipeline re-run in it."""

    source: Path
    commit: str
    path: Path
    repro_timeout: float = DEFAULT_REPRO_TIMEOUT
    #: what happened when the outputs were fetched (for the report)
    fetched: str = ""
    #: the pipeline's re-run: None before it ran; then its outcome
    #: (None inside: it ran and succeeded)
    _reproduced: list[checks.Outcome | None] = field(default_factory=list)
    repro_seconds: float = 0.0

    def reproduce(self, ctx: checks.Context) -> checks.Outcome | None:
        """Re-run the whole pipeline in the checkout (once); None when it
        succeeded or there is none, else the failure every number check gets."""
        if not self._reproduced:
            self._reproduced.append(self._repro())
            ctx.forget_files()
            ctx.probe = None
        return self._reproduced[0]

    def _repro(self) -> checks.Outcome | None:
        if not (self.path / "dvc.yaml").is_file():
            return None
        from dlpath.checks.commands import command_env
        from dlpath.checks.runner import run_bounded

        cmd = [sys.executable, "-m", "dvc", "repro", "--force", "--quiet"]
        ctx = checks.Context(root=self.path, meta=None)
        done = run_bounded(cmd, self.path, self.repro_timeout, command_env(ctx))
        self.repro_seconds = done.seconds
        where = f"a clean checkout of {self.commit[:8]}"
        if done.code is None:
            return checks.Outcome(checks.FAIL, f"the pipeline timed out after "
                                  f"{self.repro_timeout:g} s in {where}", done.output,
                                  public=f"the pipeline timed out in {where}")
        if done.code != 0:
            text = (f"the pipeline failed in {where} (dvc repro --force exited with "
                    f"{done.code}): no number of this commit can be trusted")
            return checks.Outcome(checks.FAIL, text, done.output, public=text)
        return None

    def describe(self) -> dict[str, Any]:
        ran = bool(self._reproduced) and (self.path / "dvc.yaml").is_file()
        failed = bool(self._reproduced) and self._reproduced[0] is not None
        return {"commit": self.commit, "outputs": self.fetched,
                "pipeline": ("failed" if failed else "re-run") if ran else "not run",
                "pipeline_seconds": round(self.repro_seconds, 2)}


def _resolve(root: Path, commit: str) -> str:
    if not vcs.is_git_root(root) or not vcs.git_available():
        raise DlpathError(f"'{root}' is not a git repository: grader mode grades a commit.",
                          hint="Commit your work first: git init && git add -A && "
                               "git commit -m '...'", exit_code=ExitCode.USAGE)
    try:
        return vcs.git_output(root, "rev-parse", "--verify", "--quiet",
                              f"{commit}^{{commit}}").strip()
    except DlpathError:
        raise DlpathError(f"No commit '{commit}' in {root}.",
                          hint="Name a commit, branch or tag: dlpath check --grade "
                               "--commit HEAD", exit_code=ExitCode.USAGE) from None


def _fetch_outputs(source: Path, clone: Path, scratch: Path) -> str:
    """The commit's DVC outputs, from the project's DVC cache (hashes
    verified) or else its default remote; what was found, in words."""
    if not (clone / ".dvc").is_dir():
        return "no DVC"
    vcs._quiet_dvc()
    cache = None
    try:
        from dvc.repo import Repo

        with vcs.in_dir(source):
            repo = Repo(str(source))
            try:
                cache = repo.cache.local.path
            finally:
                repo.close()
    except Exception:  # no DVC in the project any more, or a broken config
        cache = None
    lines = [f"[core]\n    site_cache_dir = {scratch / 'dvc-site-cache'}\n"]
    if cache and Path(cache).is_dir():
        lines.append(f'[remote "{PROJECT_CACHE_REMOTE}"]\n    url = {cache}\n    verify = true\n')
    (clone / ".dvc" / "config.local").write_text("".join(lines), encoding="utf-8")
    from dvc.repo import Repo

    found = []
    with vcs.in_dir(clone):
        repo = Repo(str(clone))
        try:
            for remote in ([PROJECT_CACHE_REMOTE] if len(lines) > 1 else []) + [None]:
                try:
                    repo.fetch(remote=remote)
                    found.append(remote or "the default remote")
                except Exception:  # noqa: S112 - an unreachable remote: try the next
                    continue
            try:
                repo.checkout(force=True)
                state = "checked out"
            except Exception as exc:  # some outputs are nowhere to be found
                state = f"partly missing ({checks.first_line(exc)})"
        finally:
            repo.close()
    where = " and ".join(
        "the project's DVC cache" if f == PROJECT_CACHE_REMOTE else f for f in found)
    return f"{state} from {where}" if where else state


@contextmanager
def checkout(root: Path, commit: str = "HEAD", *,
             repro_timeout: float = DEFAULT_REPRO_TIMEOUT) -> Iterator[Checkout]:
    """A clean checkout of ``commit`` of the project at ``root``, in a
    temporary folder removed afterwards."""
    sha = _resolve(root, commit)
    scratch = Path(tempfile.mkdtemp(prefix="dlpath-grade-"))
    try:
        clone = scratch / root.name
        vcs.git_output(scratch, "clone", "--quiet", "--no-checkout", str(root), str(clone))
        try:  # DVC experiments live under refs/exps (params_changed reads them)
            vcs.git_output(clone, "fetch", "--quiet", "origin", "+refs/exps/*:refs/exps/*")
        except DlpathError:
            pass
        vcs.git_output(clone, "checkout", "--quiet", "--detach", sha)
        found = Checkout(source=root, commit=sha, path=clone, repro_timeout=repro_timeout)
        found.fetched = _fetch_outputs(root, clone, scratch)
        yield found
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def evaluate_commit(root: Path, commit: str = "HEAD", *, milestone=None,
                    run_commands: bool = True,
                    repro_timeout: float = DEFAULT_REPRO_TIMEOUT):
    """Grade ``commit`` of the project at (or above) ``root``: a Report whose
    ``grade`` says which commit and how."""
    from dlpath import checker

    root = root.resolve()
    if not root.is_dir():
        raise DlpathError(f"'{root}' is not a directory.", exit_code=ExitCode.USAGE)
    root = project.find_root(root) or root
    start = time.perf_counter()
    with checkout(root, commit, repro_timeout=repro_timeout) as co:
        report = checker.evaluate(co.path, milestone=milestone, run_commands=run_commands,
                                  record=False, use_cache=False, grade=co)
        report.root = root
        report.grade = {**co.describe(), "seconds": round(time.perf_counter() - start, 2)}
    return report
