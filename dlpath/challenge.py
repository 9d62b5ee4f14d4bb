"""``dlpath challenge``: re-test the learner's trained model on data it has
never seen, drawn by dlpath at challenge time (docs/challenge.md).

The template declares the challenge in its ``template.yaml``
(dlpath.declarations): the model files its probe loads, the scores it judges
and their thresholds, the learner's own test-split figure to show beside
each, and how long a pass stays fresh. The template's probe
(``hidden/probe.py``, see dlpath.checks.probe) draws the data from a seed
picked here with :mod:`secrets`, shifted (``challenge=True``), inside an
isolated process; nothing is written into the project, so it cannot be
trained on.

A challenge runs only on a committed, reproduced project, so that its record
(date, seed, commit, scores) names exactly what was tested. Nothing here
prints.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dlpath import declarations, project, templates
from dlpath.errors import DlpathError, ExitCode, UsageError

#: the roadmap step a passed challenge completes
STEP = "fresh-data-retests"
#: runs kept per template in the progress file
HISTORY = 20
DAYS_PER_MONTH = 30.4375


@dataclass
class ScoreResult:
    key: str
    label: str
    op: str
    threshold: float
    #: what dlpath measured on the fresh data (None: not measured)
    value: float | None
    #: the learner's own figure on the test split (None: not found)
    test: float | None
    passed: bool
    #: why there is no value (a stub, a missing key)
    note: str = ""

    @property
    def drop(self) -> float | None:
        """How much worse the fresh data scored than the test split (> 0:
        worse), in the score's units."""
        if self.value is None or self.test is None:
            return None
        worse = self.test - self.value if self.op in (">=", ">") else self.value - self.test
        return worse

    def to_json(self) -> dict[str, Any]:
        return {"key": self.key, "label": self.label, "op": self.op,
                "threshold": self.threshold, "value": self.value, "test": self.test,
                "drop": self.drop, "passed": self.passed, "note": self.note}


@dataclass
class Result:
    root: Path
    template: str
    template_version: str
    seed: int
    commit: str
    shift: str
    scores: list[ScoreResult]
    seconds: float
    at: str
    due_months: int
    #: the probe could not measure (the learner's model crashed, timed out...)
    error: str | None = None
    recorded: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return self.error is None and bool(self.scores) and all(s.passed for s in self.scores)

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.passed else ExitCode.FAILURE)

    @property
    def due_at(self) -> str | None:
        if not self.passed:
            return None
        return _iso(_parse(self.at) + timedelta(days=round(self.due_months * DAYS_PER_MONTH)))

    def to_json(self) -> dict[str, Any]:
        return {"format_version": 1, "status": "pass" if self.passed else "fail",
                "project": str(self.root), "template": self.template,
                "template_version": self.template_version, "seed": self.seed,
                "commit": self.commit, "shift": self.shift, "at": self.at,
                "due_again": self.due_at, "seconds": round(self.seconds, 2),
                "error": self.error, "scores": [s.to_json() for s in self.scores]}

    def record(self) -> dict[str, Any]:
        """What the progress file keeps of this run."""
        return {"at": self.at, "seed": self.seed, "commit": self.commit,
                "project": str(self.root), "template_version": self.template_version,
                "passed": self.passed, "error": self.error,
                "scores": {s.key: s.value for s in self.scores},
                "test": {s.key: s.test for s in self.scores}}


def _iso(when: datetime) -> str:
    return when.astimezone(timezone.utc).isoformat(timespec="seconds")


def _parse(stamp: Any) -> datetime:
    when = datetime.fromisoformat(str(stamp))
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


# ----------------------------------------------------------------- the project


@dataclass(frozen=True)
class Target:
    root: Path
    meta: project.ProjectMeta
    template: templates.Template
    spec: declarations.Challenge
    probe: Path


def target(where: Path) -> Target:
    """The project at (or above) ``where`` and its template's challenge."""
    from dlpath.checks.probe import probe_path

    where = where.resolve()
    if not where.exists():
        raise UsageError(f"'{where}' does not exist.")
    root = project.find_root(where if where.is_dir() else where.parent)
    meta = project.load_meta(root) if root else None
    if root is None or meta is None:
        raise UsageError(f"'{where}' is not inside a project made by 'dlpath new'.",
                         hint="Run it in a hands-on project: dlpath challenge PATH")
    template = templates.get(meta.template)
    probe = probe_path(template.path)
    if template.challenge is None or probe is None:
        with_one = sorted(n for n, t in templates.available().items()
                          if t.challenge is not None and probe_path(t.path) is not None)
        raise UsageError(
            f"The '{meta.template}' template has no challenge on fresh data.",
            hint=(f"Templates with one: {', '.join(with_one)}." if with_one
                  else "No installed template declares one yet."))
    return Target(root, meta, template, template.challenge, probe)


def head_commit(root: Path) -> str:
    from dlpath import vcs

    if not vcs.is_git_root(root):
        raise DlpathError(f"'{root}' is not a git repository: a challenge records the commit "
                          "it tested.", hint="Commit your work: git init && git add -A && "
                          "git commit -m 'My model'")
    try:
        return vcs.git_output(root, "rev-parse", "--verify", "HEAD").strip()
    except DlpathError:
        raise DlpathError("The project has no commit yet.", hint=vcs.commit_hint(
            root, "Commit your work: git add -A && git commit -m 'My model'")) from None


def uncommitted(root: Path) -> list[str]:
    from dlpath import vcs

    status = vcs.git_output(root, "status", "--porcelain", "--untracked-files=all")
    return [line[3:] for line in status.splitlines() if line.strip()]


def require_clean(root: Path, doing: str) -> str:
    """The HEAD commit of a project with nothing uncommitted, else a one-line
    refusal (exit 1)."""
    from dlpath import vcs

    commit = head_commit(root)
    dirty = uncommitted(root)
    if dirty:
        shown = ", ".join(dirty[:3]) + (f" and {len(dirty) - 3} more" if len(dirty) > 3 else "")
        raise DlpathError(f"The project has uncommitted changes ({shown}): {doing} records a "
                          "commit, so commit first.",
                          hint=vcs.commit_hint(
                              root, "git add -A && git commit -m '...', then run it again."))
    return commit


def require_reproduced(root: Path, models: tuple[str, ...]) -> None:
    """The pipeline's outputs are present and up to date (``dvc status`` clean)."""
    from dlpath import vcs

    if (root / "dvc.yaml").is_file():
        try:
            facts = vcs.ask_dvc(root)
        except vcs.DvcBusy as exc:
            raise DlpathError(exc.message, hint=exc.hint) from None
        status = facts.get("status")
        if isinstance(status, dict) and "error" in status and len(status) == 1:
            raise DlpathError(f"DVC cannot read the pipeline: {status['error']}",
                              hint="Fix dvc.yaml, then: dvc repro")
        if status:
            stages = ", ".join(sorted(str(s) for s in status)[:3])
            raise DlpathError(f"The pipeline is not reproduced ({stages} changed since the "
                              "last run): the challenge would test a stale model.",
                              hint="Run: dvc repro && git add -A && git commit -m '...'")
    missing = [m for m in models if not (root / m).is_file()]
    if missing:
        raise DlpathError(f"No trained model to challenge: {', '.join(missing)} is missing.",
                          hint="Run: dvc repro (or dvc pull) to produce it.")


# ----------------------------------------------------------------- running


def _test_figure(root: Path, score: declarations.Score) -> float | None:
    import json

    import yaml

    if score.test_file is None or score.test_key is None:
        return None
    path = root / score.test_file
    try:
        if not path.is_file() or path.stat().st_size > 10_000_000:
            return None
        text = path.read_text(encoding="utf-8")
        try:
            node: Any = json.loads(text)
        except ValueError:
            node = yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError):
        return None
    for part in score.test_key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    if isinstance(node, bool) or not isinstance(node, (int, float)) or not math.isfinite(node):
        return None
    return float(node)


def measure(t: Target, seed: int | None = None):
    """One probe run on shifted fresh data (a dlpath.checks.probe.Measurement)."""
    from dlpath.checks import probe as probe_mod

    return probe_mod.measure(t.root, t.probe, seed=seed, challenge=True,
                             timeout=t.spec.timeout)


def judge(t: Target, measurement) -> tuple[list[ScoreResult], str | None]:
    """Each declared score against its threshold, and the run's error (if the
    probe could not measure)."""
    m = measurement
    if m.error is not None and m.probe_bug:
        raise DlpathError(f"dlpath's challenge for '{t.meta.template}' failed: {m.error}",
                          hint="This is a bug in the template: report it "
                               "(dlpath --debug challenge shows more).")
    error = None
    if m.error is not None:
        error = (f"not implemented yet: {m.error.split(': ', 1)[-1]}" if m.todo
                 else f"dlpath could not test your model: {m.error}")
    results = []
    for score in t.spec.scores:
        test = _test_figure(t.root, score)
        value = m.values.get(score.key) if error is None else None
        note = ""
        if error is None and value is None:
            if m.notes_for(score.key):
                note = f"not implemented yet: {m.notes_for(score.key)[0]}"
            else:
                raise DlpathError(f"dlpath's challenge measured no {score.key} (a bug in the "
                                  f"'{t.meta.template}' template: report it).")
        if value is not None and not math.isfinite(value):
            note, value = f"measured {value} (did training diverge?)", None
        passed = value is not None and score.passes(value)
        results.append(ScoreResult(key=score.key, label=score.label, op=score.op,
                                   threshold=score.value, value=value, test=test,
                                   passed=passed, note=note))
    return results, error


def run(where: Path, *, seed: int | None = None, record: bool = True,
        now: datetime | None = None) -> Result:
    """``dlpath challenge``: refuse a dirty or unreproduced project, measure
    the model on fresh shifted data, judge it, and record the run."""
    t = target(where)
    commit = require_clean(t.root, "a challenge")
    require_reproduced(t.root, t.spec.models)
    start = time.perf_counter()
    m = measure(t, seed)
    scores, error = judge(t, m)
    result = Result(root=t.root, template=t.meta.template, template_version=t.template.version,
                    seed=m.seed, commit=commit, shift=t.spec.shift, scores=scores,
                    seconds=time.perf_counter() - start,
                    at=_iso(now or datetime.now(timezone.utc)), due_months=t.spec.due_months,
                    error=error)
    if record:
        from dlpath import achievements

        result.warnings = achievements.record_challenge(result)
        result.recorded = True
    return result


# ----------------------------------------------------------------- decay


@dataclass(frozen=True)
class Due:
    template: str
    passed_at: str
    due_at: str
    project: str | None
    #: never passed (a project whose milestones all pass) or due again
    first: bool = False


def due_at(entry: dict[str, Any]) -> datetime | None:
    try:
        passed = _parse(entry["passed_at"])
        months = int(entry.get("due_months", declarations.DEFAULT_DUE_MONTHS))
    except (KeyError, TypeError, ValueError):
        return None
    return passed + timedelta(days=round(months * DAYS_PER_MONTH))


def due(challenges: dict[str, Any], now: datetime | None = None) -> list[Due]:
    """Passed challenges whose pass has gone stale, the longest overdue first."""
    now = now or datetime.now(timezone.utc)
    found = []
    for name, entry in challenges.items():
        if not isinstance(entry, dict):
            continue
        when = due_at(entry)
        if when is not None and now >= when:
            last = entry.get("last") if isinstance(entry.get("last"), dict) else {}
            found.append((when, Due(name, str(entry["passed_at"]), _iso(when),
                                    last.get("project"))))
    return [d for _, d in sorted(found, key=lambda x: x[0])]


def first_challenge(root: Path, challenges: dict[str, Any]) -> Due | None:
    """The challenge of the project at ``root`` where its template has one and
    the learner never passed it."""
    meta = project.load_meta(root)
    if meta is None:
        return None
    try:
        template = templates.get(meta.template)
    except DlpathError:
        return None
    if template.challenge is None or (challenges.get(meta.template) or {}).get("passed_at"):
        return None
    return Due(meta.template, "", "", str(root), first=True)
