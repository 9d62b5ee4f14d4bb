"""``dlpath next``: pick the single most useful next step for this learner.

In order:

1. Inside a project, its milestones (as recorded by ``dlpath check``, with
   the checks that run no command refreshed first, so advice already
   followed is not repeated): the first failing one, framed as deliberate
   practice (error analysis) once it has failed in more than one attempt.
   A project never checked is told to run ``dlpath check``; a milestone
   whose files changed since its last check is told to be checked again. In
   a groundwork project, the first unsolved exercise whose prerequisites
   are solved, with the next hint level on offer. The suggestion says which
   check it rests on (``based_on``).
2. A concept whose checks failed more than once comes back as a short review
   item on a spaced schedule: 1, 3 and 7 days after its last failure.
3. Once a hands-on step is done, every seventh call suggests implementing a
   recent paper (a counter in the progress file keeps this deterministic).
4. The roadmap: the first step, in roadmap order, whose prerequisites are done.

Nothing here prints; the CLI renders the :class:`Suggestion`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from dlpath import attempts, groundwork, hints, project, results, roadmap
from dlpath import progress as progress_mod
from dlpath.errors import DlpathError, UsageError

#: days after the last failure at which a struggled-with concept is reviewed
REVIEW_AFTER_DAYS = (1, 3, 7)
#: once a hands-on project is done, one suggestion in this many is a paper
PAPER_EVERY = 7
PAPER_STEP = "implement-papers"
HANDS_ON_PHASE = "hands-on"


@dataclass(frozen=True)
class Suggestion:
    #: check | exercise | milestone | practice | review | paper | step | finished
    kind: str
    title: str
    why: str
    do: str
    command: str
    step: str | None = None
    #: the project it is about, when it comes from one
    project: str | None = None
    #: which checks the advice rests on, and how fresh they are (inside a project)
    based_on: str | None = None


@dataclass
class NextResult:
    suggestion: Suggestion
    warnings: list[str] = field(default_factory=list)


def _parse_time(stamp: str | None) -> datetime | None:
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp)
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _check_command(root: Path, milestone: str | None = None) -> str:
    """`dlpath check [-m ID]`, naming the project when the learner is elsewhere."""
    here = Path.cwd().resolve() == root.resolve()
    cmd = "dlpath check" if here else f"dlpath check {root}"
    return f"{cmd} -m {milestone}" if milestone else cmd


# ----------------------------------------------------------------- syncing


def sync_project(root: Path, the_roadmap: roadmap.Roadmap, prog: progress_mod.Progress) -> bool:
    """Copy what ``dlpath check`` recorded in ``root`` into the learner's progress:
    steps whose milestone passed are done; concepts failed more than once are
    scheduled for review. Returns whether anything changed."""
    meta = project.load_meta(root)
    if meta is None:
        return False
    changed = False
    for mid, entry in results.load(root)["milestones"].items():
        if not isinstance(entry, dict):
            continue
        for step in the_roadmap.steps:
            if step.milestone not in (f"{meta.template}/{mid}", f"*/{mid}"):
                continue
            if entry.get("first_passed") and not prog.is_done(step.id):
                prog.steps[step.id] = {"done_at": entry["first_passed"], "by": "check"}
                changed = True
        concept = entry.get("step")
        fails = entry.get("fail_count", 0)
        if concept and isinstance(fails, int) and fails > 1:
            changed |= _note_struggle(prog, concept, fails, entry.get("last_failed"),
                                      {"project": str(root), "milestone": mid,
                                       "template": meta.template})
    return changed


def _note_struggle(prog: progress_mod.Progress, concept: str, fails: int,
                   last_failed: str | None, where: dict[str, str]) -> bool:
    record = prog.practice.get(concept)
    if record is None:
        prog.practice[concept] = {"fail_count": fails, "last_failed": last_failed,
                                  "reviews": 0, "last_review": None, **where}
        return True
    newer = (_parse_time(last_failed) or datetime.min.replace(tzinfo=timezone.utc)) > (
        _parse_time(record.get("last_failed")) or datetime.min.replace(tzinfo=timezone.utc))
    if newer:  # it failed again: the schedule restarts from this failure
        record.update(fail_count=max(fails, record.get("fail_count", 0)),
                      last_failed=last_failed, reviews=0, last_review=None, **where)
        return True
    return False


# ----------------------------------------------------------------- projects


def _stale(root: Path, milestone: Any, entry: dict[str, Any]) -> bool:
    """Whether the learner's files for ``milestone`` changed since the last
    full check of it (dlpath.attempts), so its recorded result may be out of date."""
    recorded = entry.get("attempt")
    if not recorded:
        return False
    now = attempts.attempts(root, [milestone], project.load_meta(root)).get(milestone.id)
    return now is not None and not now.untouched and now.fingerprint != recorded


def _recheck(root: Path, title: str, step: str | None, milestone: str,
             changed: str) -> Suggestion:
    return Suggestion("check", title,
                      f"You changed {changed} since its last check: what that check said may "
                      "no longer be true.",
                      "Check it again; the result says what to do next.",
                      _check_command(root, milestone), step, str(root))


def _milestone_suggestion(root: Path, m: Any, entry: dict[str, Any]) -> Suggestion:
    failed = (entry.get("last") or {}).get("failed_checks") or []
    first = failed[0] if failed else {
        "id": m.id, "hint": "What failed at its last check now passes: check it again."}
    command = _check_command(root, m.id)
    if _stale(root, m, entry):
        return _recheck(root, m.title, m.step, m.id, "its files")
    if entry.get("fail_count", 0) > 1 and failed:
        return Suggestion(
            "practice", m.title,
            f"This milestone has failed {entry['fail_count']} different attempts; repeating "
            "the same attempt will not fix it, understanding the error will.",
            f"Error analysis: write down what '{first['id']}' checks, why your result misses "
            f"it, and one change to test; then make that change. Hint: {first['hint']}",
            command, m.step, str(root))
    return Suggestion("milestone", m.title,
                      f"The next milestone of this project ({m.id}) is not met yet.",
                      first["hint"], command, m.step, str(root))


def _groundwork_suggestion(root: Path, state: dict[str, Any], the_roadmap: roadmap.Roadmap,
                           milestones: dict[str, Any]) -> Suggestion | None:
    exercises = groundwork.load()
    recorded = state["milestones"]
    solved = {e.id for e in exercises
              if ((recorded.get(e.id) or {}).get("last") or {}).get("status") == "pass"}
    ready = groundwork.in_order(exercises, solved)
    if not ready:
        return None
    ex = ready[0]
    number = [e.id for e in exercises].index(ex.id) + 1
    entry = recorded.get(ex.id) or {}
    m = milestones[ex.id]
    title = f"Exercise {number}: {m.title} ({ex.file})"
    command = _check_command(root, ex.id)
    level = (hints.summary(state, ex.id) or {}).get("hints", 0)
    more = (f"Stuck? 'dlpath hint {ex.id}' gives hint {level + 1} of {len(groundwork.LEVELS)}."
            if level < len(groundwork.LEVELS) else
            f"You have seen every hint ('dlpath hint {ex.id}' shows them again).")
    try:
        why = the_roadmap.step(ex.concept).why
    except UsageError:
        why = "It is the next exercise whose prerequisites you have solved."
    if _stale(root, m, entry):
        return _recheck(root, title, ex.concept, ex.id, ex.file)
    last = entry.get("last") or {}
    failed = last.get("failed_checks") or []
    if last and not failed:  # refreshed since: what failed then passes now
        return Suggestion("check", title,
                          "What failed at its last check passes now: a full check records it.",
                          "Check it again.", command, ex.concept, str(root))
    if entry.get("fail_count", 0) > 1:
        return Suggestion(
            "practice", title,
            f"Its checks have failed {entry['fail_count']} different attempts; slow down and "
            "find out why.",
            f"Error analysis: run python -m pytest -q {ex.test}, read the first failure, and "
            f"write down what you expected and what came out. {more}",
            command, ex.concept, str(root))
    if failed and all(f["id"] != "visible-tests" for f in failed):
        return Suggestion("milestone", title, why,
                          f"Your visible tests pass; what is left: {failed[0]['hint']} {more}",
                          command, ex.concept, str(root))
    status = "not solved yet" if entry.get("last") else "waiting for you"
    return Suggestion("exercise", title, why,
                      f"Open {ex.file} ({status}), read its docstring and replace each "
                      f"NotImplementedError. Visible tests: python -m pytest -q {ex.test}. "
                      f"{more}",
                      command, ex.concept, str(root))


def _refresh(root: Path) -> str:
    """Re-run the checks that run no command (git, DVC, metrics: cheap) and
    record them; say what the advice rests on."""
    from dlpath import checker, rubric

    try:
        milestones = rubric.load_for_project(root).milestones
    except DlpathError:
        milestones = []
    try:
        checker.evaluate(root, run_commands=False)
        fresh = "git, DVC and metric checks just now"
    except DlpathError as exc:
        fresh = f"no fresh checks ({exc.message})"
    with_tests = {m.id for m in milestones if any(c.runs_commands for c in m.checks)}
    recorded = results.load(root)["milestones"]
    stamps = [t for t in (_parse_time(((recorded.get(mid) or {}).get("last") or {}).get("at"))
                          for mid in with_tests) if t]
    if not stamps:
        return f"Based on: {fresh}; the tests have not run yet (dlpath check runs them)."
    return f"Based on: your last dlpath check ({_ago(max(stamps))}) for the tests; {fresh}."


def _ago(when: datetime) -> str:
    seconds = max(0, int((datetime.now(timezone.utc) - when).total_seconds()))
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"{n} {unit}{'s' if n > 1 else ''} ago"
    return "just now"


def _project_suggestion(root: Path, the_roadmap: roadmap.Roadmap,
                        based_on: str | None = None) -> Suggestion | None:
    from dlpath import rubric

    meta = project.load_meta(root)
    milestones = rubric.load_for_project(root).milestones
    based_on = based_on or "Based on: the checks recorded in the project."
    state = results.load(root)
    found = None
    if meta is not None and meta.template == groundwork.TEMPLATE:
        found = _groundwork_suggestion(root, state, the_roadmap, {m.id: m for m in milestones})
    if found is None:
        found = _first_open_milestone(root, state, milestones)
    return replace(found, based_on=based_on) if found is not None else None


def _first_open_milestone(root: Path, state: dict[str, Any], milestones: list) -> \
        Suggestion | None:
    if not state["milestones"]:
        return Suggestion("check", "Check where this project stands",
                          "dlpath check runs the milestones' checks and records what passes, "
                          "so dlpath next can tell you what to do first.",
                          "Run the checks, then ask again: dlpath next",
                          _check_command(root), None, str(root))
    for m in milestones:
        entry = state["milestones"].get(m.id)
        if entry is None:
            return Suggestion("check", f"Check the milestone '{m.title}'",
                              "It has not been evaluated yet.", "Run its checks.",
                              _check_command(root, m.id), m.step, str(root))
        if (entry.get("last") or {}).get("status") != "pass":
            return _milestone_suggestion(root, m, entry)
    return None


# ----------------------------------------------------------------- reviews


def _due_review(prog: progress_mod.Progress, the_roadmap: roadmap.Roadmap,
                now: datetime) -> str | None:
    """The concept whose next spaced review is due, the longest overdue first."""
    due = []
    for concept, record in prog.practice.items():
        reviews = record.get("reviews", 0)
        failed_at = _parse_time(record.get("last_failed"))
        if failed_at is None or not isinstance(reviews, int) or reviews >= len(REVIEW_AFTER_DAYS):
            continue
        when = failed_at + timedelta(days=REVIEW_AFTER_DAYS[reviews])
        if now >= when:
            due.append((when, concept))
    return min(due)[1] if due else None


def _review(concept: str, prog: progress_mod.Progress, the_roadmap: roadmap.Roadmap,
            now: datetime) -> Suggestion:
    record = prog.practice[concept]
    n = record.get("reviews", 0) + 1
    record.update(reviews=n, last_review=now.isoformat(timespec="seconds"))
    try:
        step = the_roadmap.step(concept)
        title, why = step.title, step.why
    except UsageError:
        title, why = concept, "You found this concept hard: reviewing it fixes it in memory."
    do = ("Ten minutes, without looking at your solution: explain the idea in your own words, "
          "redo the part that failed, and re-run it on fresh data (a new seed). Write down the "
          "error you made and how you would spot it next time.")
    command = "dlpath roadmap"
    if record.get("project") and record.get("milestone"):
        command = f"dlpath check {record['project']} -m {record['milestone']}"
        if record.get("template") == groundwork.TEMPLATE:
            do = (f"Solve the exercise again from scratch: 'dlpath reset {record['milestone']}' "
                  "in your groundwork project keeps your solution as a backup and restores the "
                  "starting file. Then compare the two and write down the error you made first.")
    return Suggestion("review", f"{title} (review {n} of {len(REVIEW_AFTER_DAYS)})",
                      f"Its checks failed {record.get('fail_count')} times. {why}",
                      do, command, concept)


# ----------------------------------------------------------------- next


def _command_for(step: roadmap.Step) -> str:
    if step.command is not None:
        return _STEP_COMMANDS[step.command]
    if step.self_reported:
        return f"dlpath done {step.id}"
    template = step.template
    if template == "*":
        return "dlpath templates   # pick any template, then: dlpath new TEMPLATE NAME"
    return f"dlpath new {template} my-{template}"


#: what a step completed by a command asks for (completion: {command: ...})
_STEP_COMMANDS = {"challenge": "dlpath challenge PATH   # in a finished hands-on project",
                  "credential": "dlpath credential MILESTONE   # in a project where it passes",
                  "leaderboard": "dlpath leaderboard   # then: dlpath leaderboard submit "
                                 "--board LOCATION"}


def _challenge_due(prog: progress_mod.Progress, root: Path | None,
                   now: datetime) -> Suggestion | None:
    """A challenge on fresh data that is due (dlpath.challenge): a passed one
    gone stale, or, in a project whose milestones all pass, its first one."""
    from dlpath import challenge

    stale = challenge.due(prog.challenges, now)
    item = stale[0] if stale else (challenge.first_challenge(root, prog.challenges)
                                   if root is not None else None)
    if item is None:
        return None
    where = item.project or "PATH"
    if item.first:
        return Suggestion(
            "challenge", f"Challenge your {item.template} model on fresh data",
            "Every milestone passes on the data you trained and tested on; a model that "
            "learned the skill also holds on data it has never seen.",
            "dlpath draws fresh, shifted data now and tests your committed model on it, "
            "beside your own test score.", f"dlpath challenge {where}", challenge.STEP, where)
    return Suggestion(
        "challenge", f"Your {item.template} challenge is due again",
        f"You passed it on {item.passed_at[:10]}; skills and practices go stale, and a "
        "fresh challenge shows whether yours still holds.",
        "Re-run the challenge on fresh data (retrain first if the template has moved on).",
        f"dlpath challenge {where}", challenge.STEP, where)


def _paper(the_roadmap: roadmap.Roadmap) -> Suggestion:
    paper = the_roadmap.step(PAPER_STEP)
    return Suggestion("paper", "Implement a recent paper", paper.why,
                      "Pick a paper from the last few months in your area and reimplement its "
                      "core idea in one of your dlpath projects, as a DVC experiment (keep it "
                      "to about 15% of this week's learning time).",
                      f"dlpath done {paper.id}", paper.id)


def first_open_step(the_roadmap: roadmap.Roadmap, done: set[str]) -> roadmap.Step | None:
    for step in the_roadmap.steps:
        if step.id not in done and all(p in done for p in step.prerequisites):
            return step
    return None


def next_step(where: Path, now: datetime | None = None, refresh: bool = True) -> NextResult:
    """The suggestion for a learner at ``where``, and any warnings to show.
    Inside a project, the checks that run no command are re-run first
    (``refresh``), so the advice rests on the project as it is now."""
    now = now or datetime.now(timezone.utc)
    the_roadmap = roadmap.load()
    root = project.find_root(where)
    # before the progress lock: it runs checks (git, DVC, metrics)
    based_on = _refresh(root) if root is not None and refresh else None
    with progress_mod.transaction() as prog:  # no lost update under concurrent calls
        suggestion = None
        if root is not None:
            sync_project(root, the_roadmap, prog)
            suggestion = _project_suggestion(root, the_roadmap, based_on)
        # a review due today before a challenge (which keeps until tomorrow)
        concept = None if suggestion is not None else _due_review(prog, the_roadmap, now)
        if concept is not None:
            suggestion = _review(concept, prog, the_roadmap, now)
        if suggestion is None:
            suggestion = _challenge_due(prog, root, now)
        if suggestion is None:
            prog.next_calls += 1
    if suggestion is not None:
        return NextResult(suggestion, prog.warnings)
    hands_on_done = any(prog.is_done(s.id) for s in the_roadmap.steps
                        if s.phase == HANDS_ON_PHASE)
    if hands_on_done and prog.next_calls % PAPER_EVERY == 0:
        return NextResult(_paper(the_roadmap), prog.warnings)
    step = first_open_step(the_roadmap, set(prog.steps))
    if step is None:
        return NextResult(Suggestion(
            "finished", "You have finished the roadmap", "Every step is done.",
            "Keep going: implement a paper, formulate a problem of your own, or help others "
            "in your community.", "dlpath roadmap"), prog.warnings)
    return NextResult(Suggestion("step", step.title, step.why, step.do, _command_for(step),
                                 step.id), prog.warnings)


# ----------------------------------------------------------------- done / undo


@dataclass(frozen=True)
class Marked:
    step: roadmap.Step
    changed: bool
    warnings: list[str]


def mark(step_id: str, done: bool) -> Marked:
    """``dlpath done`` / ``dlpath undo``: only for self-reported steps."""
    the_roadmap = roadmap.load()
    step = the_roadmap.step(step_id)
    if step.command is not None:
        raise UsageError(
            f"'{step.id}' is completed by 'dlpath {step.command}', not by hand.",
            hint=f"Run: {_STEP_COMMANDS[step.command]}")
    if not step.self_reported:
        where = ("in any project" if step.template == "*"
                 else f"in a {step.template} project (dlpath new {step.template} NAME)")
        raise UsageError(
            f"'{step.id}' is completed by a check, not by hand: reach the milestone "
            f"'{step.milestone}'.",
            hint=f"Run 'dlpath check' {where}; a passing milestone marks the step done.",
        )
    with progress_mod.transaction() as prog:  # no lost update under concurrent calls
        changed = prog.is_done(step.id) != done
        if done and changed:
            prog.steps[step.id] = {"done_at": progress_mod.now(), "by": "learner"}
        elif not done:
            prog.steps.pop(step.id, None)
    return Marked(step, changed, prog.warnings)


# ----------------------------------------------------------------- roadmap view


@dataclass(frozen=True)
class RoadmapView:
    roadmap: roadmap.Roadmap
    done: set[str]
    current: str | None
    warnings: list[str]
    #: challenges on fresh data that are due again (dlpath.challenge.Due)
    due: tuple = ()

    def to_json(self) -> dict[str, Any]:
        """The stable JSON of ``dlpath roadmap --json`` (docs/roadmap.md)."""
        return {
            "format_version": 1,
            "current": self.current,
            "due": [{"challenge": d.template, "passed_at": d.passed_at, "due_at": d.due_at,
                     "project": d.project} for d in self.due],
            "done": sum(s.id in self.done for s in self.roadmap.steps),
            "total": len(self.roadmap.steps),
            "phases": [
                {"id": p.id, "title": p.title,
                 "done": sum(s.id in self.done for s in p.steps), "total": len(p.steps),
                 "steps": [{"id": s.id, "title": s.title, "done": s.id in self.done,
                            "current": s.id == self.current, "why": s.why, "do": s.do,
                            "effort": s.effort, "prerequisites": list(s.prerequisites),
                            "completion": ({"milestone": s.milestone} if s.milestone
                                           else {"command": s.command} if s.command
                                           else {"self_report": True})}
                           for s in p.steps]}
                for p in self.roadmap.phases
            ],
        }


def view(where: Path) -> RoadmapView:
    the_roadmap = roadmap.load()
    root = project.find_root(where)
    if root is not None:
        with progress_mod.transaction() as prog:
            sync_project(root, the_roadmap, prog)
    else:
        prog = progress_mod.load()
    done = set(prog.steps)
    step = first_open_step(the_roadmap, done)
    from dlpath import challenge

    return RoadmapView(the_roadmap, done, step.id if step else None, prog.warnings,
                       tuple(challenge.due(prog.challenges)))
