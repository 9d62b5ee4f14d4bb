"""The ``probe`` check kind: dlpath measures the learner's model itself.

A template may ship ``templates/<name>/hidden/probe.py`` defining::

    def measure(root: pathlib.Path, seed: int, challenge: bool = False) -> dict[str, float]

It loads the learner's model artefacts (``models/*.pt``, ...) and evaluates
them on data it generates itself from ``seed`` (never the project's
``data/``), returning flat metrics (``{"int8.accuracy": 0.97, ...}``); it may
add ``"not_implemented": ["TODO: ..."]`` where a learner function it needs is
still a stub, or ``{"key.prefix.": ["TODO: ..."]}`` to say which missing keys
each stub explains (a check names only the stubs its key waits for).
``challenge=True`` draws shifted fresh data (``dlpath challenge``).

dlpath runs it in a separate Python process isolated from the project's
interpreter hooks (see ``_child.py``), with cwd = the project root, a
seed drawn at check time from :mod:`secrets`, a time limit, and the whole
process tree killed at the end, at the timeout and on Ctrl-C. The result
comes back through a file descriptor onto a file outside the project, tagged
with a per-run nonce that only the probe's side reads (from stdin): a
missing, malformed or untagged result is a failure, never a pass.

All probe checks of one evaluation share one run and one seed. Results are
never cached: each check draws fresh data.

:func:`measure` is the API for other commands (``dlpath challenge``).
"""

from __future__ import annotations

import math
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome, plain
from dlpath.checks.metrics import MetricError, compare, lookup, read_metrics
from dlpath.checks.runner import run_isolated

#: where a template keeps its probe, relative to its packaged folder
PROBE_FILE = "hidden/probe.py"
DEFAULT_TIMEOUT = 300.0


@dataclass
class Measurement:
    """One run of a probe."""

    seed: int
    challenge: bool
    values: dict[str, float] = field(default_factory=dict)
    #: the probe's ``not_implemented`` notes, each with the key prefix it
    #: explains ("" for any key)
    todos: list[tuple[str, str]] = field(default_factory=list)
    #: why there are no values (the probe failed, timed out, or ended without
    #: a valid result), else None
    error: str | None = None
    #: the error is a learner's stub (NotImplementedError)
    todo: bool = False
    #: the error lies with the probe itself (dlpath's side)
    probe_bug: bool = False
    #: keys whose values were not numbers
    bad: list[str] = field(default_factory=list)
    output: str = ""
    seconds: float = 0.0

    @property
    def notes(self) -> list[str]:
        return [note for _, note in self.todos]

    def notes_for(self, key: str) -> list[str]:
        """The notes that explain a missing ``key``: those whose prefix it
        starts with (the longest prefix first), else every note."""
        matching = sorted(((len(prefix), note) for prefix, note in self.todos
                           if prefix and key.startswith(prefix)), key=lambda m: -m[0])
        notes = [note for _, note in matching] or [note for prefix, note in self.todos
                                                   if not prefix] or self.notes
        return list(dict.fromkeys(notes))


def probe_path(template_dir: Path | None) -> Path | None:
    if template_dir is None:
        return None
    path = template_dir / PROBE_FILE
    return path if path.is_file() else None


def measure(root: Path, probe: Path, *, seed: int | None = None, challenge: bool = False,
            timeout: float = DEFAULT_TIMEOUT) -> Measurement:
    """Run ``probe``'s ``measure(root, seed, challenge)`` in an isolated
    process and return what it measured (or why it could not)."""
    root = root.resolve()
    seed = secrets.randbelow(2**31) if seed is None else seed
    found = Measurement(seed=seed, challenge=challenge)
    done, result = run_isolated("probe", root, [str(probe.resolve()), str(seed),
                                                "1" if challenge else "0"], timeout)
    found.output, found.seconds = done.output, done.seconds
    if done.code is None:
        found.error = f"the measurement timed out after {timeout:g} s"
        return found
    if result is None or result.get("seed") != seed:
        found.error = ("the measurement ended without a valid result (exit status "
                       f"{done.code}): did the project's code end the process?")
        return found
    if not result.get("ok"):
        found.error = str(result.get("error") or "the probe failed")
        found.todo = bool(result.get("todo"))
        found.probe_bug = bool(result.get("probe_bug"))
        found.output = (found.output + "\n" + str(result.get("traceback", ""))).strip()
        return found
    values = result.get("values")
    if not isinstance(values, dict):
        found.error = "the measurement ended without a valid result"
        return found
    try:
        found.values = {str(k): float(v) for k, v in values.items()}  # "nan" -> nan
    except (TypeError, ValueError):
        found.error = "the measurement ended without a valid result"
        return found
    found.todos = [(str(n[0]), str(n[1])) for n in result.get("notes") or []
                   if isinstance(n, list) and len(n) == 2]
    found.bad = [str(b) for b in result.get("bad") or []]
    return found


def _measurement(ctx: Context, probe_file: Path, timeout: float) -> Measurement:
    """One run per evaluation, shared by every probe check."""
    if ctx.probe is None:
        ctx.probe = measure(ctx.root, probe_file, timeout=timeout)
        ctx.forget_files()  # a probe writes nothing, but learner code may
    return ctx.probe


def probe(ctx: Context, key: str, op: str, value: float, reported: dict | None = None,
          timeout: float = DEFAULT_TIMEOUT) -> Outcome:
    probe_file = probe_path(ctx.template_dir)
    if probe_file is None:
        if ctx.meta is None:
            return plain(ERROR, "probe checks need a project made by 'dlpath new'")
        return plain(ERROR, f"dlpath's probe for the '{ctx.meta.template}' template is "
                            "missing (reinstall dlpath)")
    m = _measurement(ctx, probe_file, timeout)
    fresh = f"on fresh data (seed {m.seed})"
    if m.error is not None:
        if m.todo:
            text = f"not implemented yet: {m.error.split(': ', 1)[-1]}"
            return Outcome(FAIL, text, m.output, public=text)
        status = ERROR if m.probe_bug else FAIL
        text = f"dlpath could not measure your model {fresh}: {m.error}"
        return Outcome(status, text, m.output, public=text)
    if key not in m.values:
        notes = m.notes_for(key)
        if notes:
            more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
            return plain(FAIL, f"not implemented yet: {notes[0]}{more}")
        if key in m.bad:
            return plain(ERROR, f"dlpath's probe returned no number for {key}")
        return plain(ERROR, f"dlpath's probe measured no {key} (a bug in the template: "
                            "report it)")
    actual = m.values[key]
    if not math.isfinite(actual):
        return plain(FAIL, f"dlpath measured {key} = {actual} {fresh} (did training diverge?)")
    agree = ""
    if reported is not None:
        file, rkey = reported["file"], reported.get("key", key)
        tolerance = float(reported.get("tolerance", 0.0))
        try:
            claimed = lookup(read_metrics(ctx, file), file, rkey)
        except MetricError as exc:
            return exc.outcome
        if abs(claimed - actual) > tolerance:
            text = (f"{file} says {rkey} = {claimed:g}, dlpath measured {actual:g} {fresh}: "
                    "the file is stale or was edited; re-run dvc repro")
            return plain(FAIL, text)
        agree = f"; {file} agrees ({claimed:g})"
    ok = compare(actual, op, value)
    if ok:
        return Outcome(PASS, f"dlpath measured {key} = {actual:g} {fresh}{agree}",
                       public=f"dlpath measured {key} = {actual:g} {fresh}")
    return Outcome(FAIL, f"dlpath measured {key} = {actual:g} {fresh} (needs {op} {value:g})",
                   public=f"dlpath measured {key} = {actual:g} {fresh}: not there yet")
