"""``dlpath check``: evaluate a project's rubric and return a Report.

Nothing here prints. The report is rendered as a table or as JSON by the CLI
(see docs/check-json.md for the JSON). Results are recorded in the project
(dlpath.results) for ``dlpath next``.
"""

from __future__ import annotations

import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlpath import attempts, checks, hints, project, results, rubric, vcs
from dlpath.errors import DlpathError, ExitCode
from dlpath.gitstate import GitState

JSON_FORMAT_VERSION = 1


def _worst(statuses) -> str:
    """error beats fail beats skipped beats pass."""
    found = set(statuses)
    for status in (checks.ERROR, checks.FAIL, checks.SKIPPED):
        if status in found:
            return status
    return checks.PASS


@dataclass
class CheckReport:
    milestone: str
    id: str
    kind: str
    status: str
    message: str
    hint: str
    score: int
    max_score: int
    visible: bool
    seconds: float
    cached: bool = False
    output: str = ""
    #: caused by the machine (a busy DVC lock, a missing tool), not the work
    transient: bool = False


@dataclass
class MilestoneReport:
    id: str
    title: str
    step: str
    checks: list[CheckReport]
    #: the hints and solution the learner used (dlpath.hints.summary), or None
    assistance: dict[str, Any] | None = None

    @property
    def score(self) -> int:
        return sum(c.score for c in self.checks)

    @property
    def max_score(self) -> int:
        return sum(c.max_score for c in self.checks)

    @property
    def status(self) -> str:
        return _worst(c.status for c in self.checks)


@dataclass
class Report:
    root: Path
    template: str | None
    milestones: list[MilestoneReport]
    tampered: list[str] = field(default_factory=list)
    #: what the learner should know (stderr): a discarded state, a newer dlpath, ...
    warnings: list[str] = field(default_factory=list)
    #: "template": dlpath's rubric for the project's template (hidden checks
    #: included); "project": a hand-written .dlpath/rubric.yaml
    rubric_source: str = "template"
    #: grader mode: the commit graded, and how (see dlpath.grader)
    grade: dict[str, Any] | None = None

    @property
    def hidden_included(self) -> bool:
        """True only where dlpath's own rubric ran: a hand-written rubric
        never counts as "hidden ones included"."""
        return self.rubric_source == "template"

    @property
    def all_checks(self) -> list[CheckReport]:
        return [c for m in self.milestones for c in m.checks]

    @property
    def score(self) -> int:
        return sum(m.score for m in self.milestones)

    @property
    def max_score(self) -> int:
        return sum(m.max_score for m in self.milestones)

    def tally(self, visible: bool) -> tuple[int, int]:
        group = [c for c in self.all_checks if c.visible == visible]
        return sum(c.status == checks.PASS for c in group), len(group)

    @property
    def skipped(self) -> int:
        return sum(c.status == checks.SKIPPED for c in self.all_checks)

    @property
    def seconds(self) -> float:
        return sum(c.seconds for c in self.all_checks)

    @property
    def status(self) -> str:
        # Skipped checks do not fail a run (`--no-commands`).
        worst = _worst(c.status for c in self.all_checks)
        return checks.PASS if worst == checks.SKIPPED else worst

    @property
    def exit_code(self) -> int:
        return int(ExitCode.OK if self.status == checks.PASS else ExitCode.FAILURE)

    @property
    def used_cache(self) -> int:
        return sum(c.cached for c in self.all_checks)

    def to_json(self) -> dict[str, Any]:
        visible_passed, visible_total = self.tally(True)
        hidden_passed, hidden_total = self.tally(False)
        return {
            "format_version": JSON_FORMAT_VERSION,
            "version": JSON_FORMAT_VERSION,
            "status": self.status,
            "score": self.score,
            "max_score": self.max_score,
            "project": str(self.root),
            "template": self.template,
            "tampered": self.tampered,
            "warnings": self.warnings,
            "rubric": self.rubric_source,
            "mode": "grade" if self.grade else "local",
            **({"grade": self.grade} if self.grade else {}),
            "visible": {"passed": visible_passed, "total": visible_total},
            "hidden": {"passed": hidden_passed, "total": hidden_total},
            "skipped": self.skipped,
            "execution_time": round(self.seconds, 4),
            "milestones": [
                {"id": m.id, "title": m.title, "step": m.step, "status": m.status,
                 "score": m.score, "max_score": m.max_score,
                 **({"assistance": m.assistance} if m.assistance else {})}
                for m in self.milestones
            ],
            "tests": [
                {
                    "name": f"{c.milestone}/{c.id}",
                    "milestone": c.milestone,
                    "check": c.id,
                    "kind": c.kind,
                    "status": c.status,
                    "message": c.message,
                    "hint": c.hint if c.status != checks.PASS else None,
                    "output": c.output,
                    "score": c.score,
                    "max_score": c.max_score,
                    "visibility": "visible" if c.visible else "hidden",
                    "time": round(c.seconds, 4),
                    "cached": c.cached,
                }
                for c in self.all_checks
            ],
        }


def _hide(outcome: checks.Outcome, check: rubric.Check) -> tuple[str, str]:
    """A hidden check says what is wrong, never the expected value: its message
    is the outcome's ``public`` one where the check gave one, and no output."""
    if check.visible or outcome.status == checks.SKIPPED:
        return outcome.message, outcome.output
    word = {checks.PASS: "passed", checks.FAIL: "failed"}.get(outcome.status, "could not run")
    if outcome.public and outcome.status != checks.PASS:
        return f"hidden check {word}: {outcome.public}", ""
    return f"hidden check {word}", ""


#: check kinds whose numbers grader mode computes itself (after re-running the
#: pipeline in its clean checkout), never reads as committed
NUMBER_KINDS = {"metric", "metric_ratio", "probe"}


def _meta(root: Path, git: GitState, tampered: list[str], warnings: list[str]
          ) -> project.ProjectMeta | None:
    """The project's metadata, held to its first commit's: a project whose
    ``.dlpath/project.json`` was deleted, or changed to another template or
    other answers, is still checked against the template it was made from."""
    from dlpath import reference

    meta = project.load_meta(root)
    first = reference.first_commit_meta(root, git)
    if first is None:
        return meta
    sha, data = first
    try:
        original = project.meta_from_json(data)
    except (KeyError, TypeError, ValueError, AttributeError, DlpathError):
        return meta
    if meta is None:
        tampered.append(f"{project.META_DIR}/{project.META_FILE}")
        warnings.append(f"{project.META_DIR}/{project.META_FILE} was deleted; checking against "
                        f"the '{original.template}' template of the first commit ({sha[:8]})")
        return original
    if (meta.template, meta.answers, meta.package) != (
            original.template, original.answers, original.package):
        tampered.append(f"{project.META_DIR}/{project.META_FILE}")
        warnings.append(f"{project.META_DIR}/{project.META_FILE} names another template or "
                        f"other answers than the first commit ({sha[:8]}); checking against "
                        "the first commit's")
        return original
    return meta


def _versions(meta: project.ProjectMeta, warnings: list[str]) -> None:
    from dlpath import __version__, templates
    from dlpath.project import version_tuple

    if version_tuple(meta.dlpath_version) > version_tuple(__version__):
        warnings.append(f"This project was made by dlpath {meta.dlpath_version}, newer than "
                        f"this one ({__version__}): some checks may be missing or differ "
                        "(upgrade: pip install -U dlpath)")
    try:
        installed = templates.get(meta.template).version
    except DlpathError:
        return
    if str(installed) != str(meta.template_version):
        warnings.append(f"This project was made from version {meta.template_version} of the "
                        f"'{meta.template}' template; dlpath has version {installed} and checks "
                        "against it")


def _tampering(root: Path, meta: project.ProjectMeta | None, stack: ExitStack, *,
               fresh: bool, warnings: list[str]) -> tuple[list[str], Path | None]:
    """Protected files changed since the template rendered them, and the
    rendered reference (None where there is none)."""
    from dlpath import reference

    if meta is None:
        return [], None
    try:
        ref = stack.enter_context(reference.rendered(root, meta, fresh=fresh))
    except (DlpathError, OSError) as exc:
        message = exc.message if isinstance(exc, DlpathError) else str(exc)
        warnings.append(f"The '{meta.template}' template could not be rendered to compare "
                        f"with ({message}); compared with the checksums recorded at creation")
        return project.tampered(root, meta), None
    return reference.compare(root, ref), ref


def evaluate(root: Path, *, milestone: str | list[str] | None = None,
             run_commands: bool = True, record: bool = True, use_cache: bool = True,
             grade: Any = None) -> Report:
    """Evaluate the project at (or above) ``root``.

    ``milestone``: one id or several (default: every milestone).
    ``use_cache``: False reads and writes no cached result (``--no-cache``).
    ``grade``: a :class:`dlpath.grader.Checkout` (grader mode): nothing cached,
    nothing recorded, the reference rendered afresh, and the number checks
    run after the checkout has re-run the pipeline.
    """
    root = root.resolve()
    if not root.is_dir():
        raise DlpathError(f"'{root}' is not a directory.", exit_code=ExitCode.USAGE)
    found = project.find_root(root)
    if found is not None:
        root = found
    warnings: list[str] = []
    tampered: list[str] = []
    git = GitState(root)  # every git answer of this evaluation, asked once
    meta = _meta(root, git, tampered, warnings)
    the_rubric = rubric.load_for_project(root, meta)
    wanted = [milestone] if isinstance(milestone, str) else list(dict.fromkeys(milestone or []))
    selected = [the_rubric.milestone(m) for m in wanted] if wanted else the_rubric.milestones
    if meta is not None:
        _versions(meta, warnings)
    grading = grade is not None
    state = results.empty() if grading or not use_cache else results.load(root, warnings)
    reports = []
    with ExitStack() as stack:
        found_tampered, ref = _tampering(root, meta, stack, fresh=grading, warnings=warnings)
        tampered = sorted({*tampered, *found_tampered})
        ctx = checks.Context(root=root, meta=meta, run_commands=run_commands,
                             tampered=tampered, cache=dict(state.get("cache", {})),
                             use_cache=use_cache and not grading, reference=ref,
                             grade=grading, gitstate=git)
        # ctx.close() must run inside in_dir: the DVC session it closes changed
        # directory itself, and restores the directory it found (the root).
        with vcs.in_dir(root):
            try:
                deferred: list[tuple[list[CheckReport], int, rubric.Milestone, rubric.Check]] = []
                for m in selected:
                    check_reports: list[CheckReport] = []
                    for check in m.checks:
                        if grading and check.kind in NUMBER_KINDS and run_commands:
                            deferred.append((check_reports, len(check_reports), m, check))
                            check_reports.append(None)  # type: ignore[arg-type]
                            continue
                        check_reports.append(_run(ctx, m, check))
                    reports.append(MilestoneReport(id=m.id, title=m.title, step=m.step,
                                                   checks=check_reports))
                if deferred:
                    failure = grade.reproduce(ctx)
                    for check_reports, index, m, check in deferred:
                        check_reports[index] = _run(ctx, m, check, failure)
            finally:
                ctx.close()
    report = Report(root=root, template=meta.template if meta else None, milestones=reports,
                    tampered=tampered, warnings=warnings,
                    rubric_source="template" if the_rubric.template else "project")
    if not grading:  # the hints and solutions the learner asked for (dlpath.hints)
        recorded = state if use_cache else results.load(root, [])
        for m in reports:
            m.assistance = hints.summary(recorded, m.id)
    if record and not grading:
        # --no-cache leaves the cache as it was (None): it neither used nor refreshed it
        _record(root, report, ctx.cache if use_cache else None,
                attempts.attempts(root, selected, meta, git))
    return report


def _run(ctx: checks.Context, m: rubric.Milestone, check: rubric.Check,
         failure: checks.Outcome | None = None) -> CheckReport:
    start = time.perf_counter()
    outcome = failure if failure is not None else checks.run(ctx, check)
    message, output = _hide(outcome, check)
    return CheckReport(
        milestone=m.id, id=check.id, kind=check.kind, status=outcome.status,
        message=message, max_score=check.points,
        hint=f"{outcome.first} Then: {check.hint}" if outcome.first and check.hint
        else outcome.first or check.hint,
        score=check.points if outcome.status == checks.PASS else 0,
        visible=check.visible, seconds=time.perf_counter() - start,
        cached=outcome.cached, output=output, transient=outcome.transient,
    )


def _record(root: Path, report: Report, cache: dict[str, Any] | None,
            tries: dict[str, attempts.Attempt] | None = None) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")

    def change(state: dict[str, Any]) -> None:
        if cache is not None:
            state["cache"] = cache
        for m in report.milestones:
            if any(c.transient for c in m.checks):
                continue  # the machine, not the learner: not an attempt
            failed = [{"id": c.id, "hint": c.hint} for c in m.checks
                      if c.status in (checks.FAIL, checks.ERROR)]
            skipped = {c.id for c in m.checks if c.status == checks.SKIPPED}
            if skipped:
                _record_partial(state, m, failed, skipped, now)
                continue
            entry = state["milestones"].setdefault(
                m.id, {"first_passed": None, "fail_count": 0, "last": None})
            passed = m.status == checks.PASS
            if passed and not entry["first_passed"]:
                entry["first_passed"] = now
            # An attempt is a change of the learner's files: checking the same
            # code again, or untouched stubs, is none (dlpath.attempts).
            tried = (tries or {}).get(m.id)
            new_attempt = tried is None or (not tried.untouched
                                            and tried.fingerprint != entry.get("attempt"))
            if not passed and new_attempt:
                entry["fail_count"] = entry.get("fail_count", 0) + 1
                entry["last_failed"] = now
            if tried is not None:
                entry["attempt"] = tried.fingerprint
            entry["step"] = m.step
            entry["last"] = {
                "at": now, "status": m.status, "score": m.score, "max_score": m.max_score,
                "failed_checks": failed,
            }

    try:
        results.update(root, change)
    except OSError:
        pass  # a read-only checkout still gets its report


def _record_partial(state: dict[str, Any], m: MilestoneReport, failed: list[dict[str, str]],
                    skipped: set[str], now: str) -> None:
    """A milestone evaluated in part (``--no-commands``): the checks that ran
    refresh the last full result, the skipped ones keep what it said. No
    attempt is counted and nothing passes on a partial evaluation."""
    entry = state["milestones"].get(m.id)
    last = (entry or {}).get("last")
    if not isinstance(last, dict):
        if not failed:
            return  # nothing known yet, and nothing wrong among the checks that ran
        # never evaluated in full: what failed is worth knowing (no attempt counted)
        entry = state["milestones"].setdefault(
            m.id, {"first_passed": None, "fail_count": 0, "last": None})
        entry["step"] = m.step
        last = entry["last"] = {"at": None, "status": checks.FAIL, "score": m.score,
                                "max_score": m.max_score, "failed_checks": []}
    kept = [f for f in last.get("failed_checks") or [] if f.get("id") in skipped]
    last["failed_checks"] = kept + failed
    if last["failed_checks"]:
        last["status"] = checks.ERROR if any(
            c.status == checks.ERROR for c in m.checks) else checks.FAIL
    last["refreshed"] = now
