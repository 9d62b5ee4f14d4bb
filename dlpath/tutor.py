"""``dlpath next``: pick the single most useful next step for this learner.

Inside a project, its milestones come first (as recorded by ``dlpath check``):
the first failing one, framed as deliberate practice once it has failed more
than once. A milestone that took several tries comes back for review on a
spaced schedule. Elsewhere, the roadmap: the first step whose prerequisites are
done. Once a hands-on project is finished, every seventh suggestion is to
implement a recent paper.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from dlpath import progress as progress_mod
from dlpath import project, results, roadmap

#: days after the last failure at which a struggled-with milestone is reviewed
REVIEW_AFTER_DAYS = (1, 3, 7)
PAPER_EVERY = 7
TEMPLATE_FOR_STEP = {"edge-deployment": "quantization", "explainable-ai": "xai",
                     "synthetic-data": "synthetic-data", "multimodal": "multimodal"}


@dataclass(frozen=True)
class Suggestion:
    kind: str  # check | milestone | practice | review | paper | step | finished
    title: str
    why: str
    do: str
    command: str
    step: str | None = None


def _days_since(stamp: str | None, now: datetime) -> float:
    if not stamp:
        return float("inf")
    return (now - datetime.fromisoformat(stamp)).total_seconds() / 86400


def sync_project(root: Path, the_roadmap: roadmap.Roadmap, prog: progress_mod.Progress) -> bool:
    """Mark roadmap steps done whose milestone this project has passed."""
    meta = project.load_meta(root)
    if meta is None:
        return False
    changed = False
    for mid, entry in results.load(root)["milestones"].items():
        if not entry.get("first_passed"):
            continue
        for step in the_roadmap.steps:
            if step.milestone in (f"{meta.template}/{mid}", f"*/{mid}") and not prog.is_done(
                step.id
            ):
                prog.steps[step.id] = {"done_at": entry["first_passed"], "by": "check"}
                changed = True
    return changed


def _project_suggestion(root: Path, now: datetime) -> Suggestion | None:
    from dlpath import rubric

    state = results.load(root)
    if not state["milestones"]:
        return Suggestion("check", "Check where this project stands",
                          "dlpath check runs the milestones' checks and records what passes.",
                          "Run the checks, then ask again.", f"dlpath check {root}")
    milestones = rubric.load_for_project(root).milestones
    for m in milestones:
        entry = state["milestones"].get(m.id)
        if entry is None:
            return Suggestion("check", f"Check the milestone '{m.title}'",
                              "It has not been evaluated yet.", "Run its checks.",
                              f"dlpath check {root} -m {m.id}", m.step)
        if entry["last"]["status"] == "pass":
            continue
        failed = entry["last"].get("failed_checks") or [{"id": "?", "hint": "see dlpath check"}]
        first = failed[0]
        if entry.get("fail_count", 0) > 1:
            return Suggestion(
                "practice", f"Deliberate practice: {m.title}",
                f"This milestone has failed {entry['fail_count']} times; repeating the same "
                "attempt will not fix it, understanding the error will.",
                f"Error analysis: write down what '{first['id']}' checks, why your result "
                f"misses it, and one change to test. Hint: {first['hint']}",
                f"dlpath check {root} -m {m.id}", m.step)
        return Suggestion("milestone", m.title,
                          f"The next milestone of this project ({m.id}) is not met yet.",
                          first["hint"], f"dlpath check {root} -m {m.id}", m.step)
    for m in milestones:  # every milestone passes: spaced review of the hard ones
        entry = state["milestones"].get(m.id) or {}
        fails = entry.get("fail_count", 0)
        if fails > 1:
            due = REVIEW_AFTER_DAYS[min(fails - 2, len(REVIEW_AFTER_DAYS) - 1)]
            reviewed = entry.get("reviewed", 0)
            if reviewed < len(REVIEW_AFTER_DAYS) and _days_since(entry.get("last_failed"),
                                                                 now) >= due:
                return Suggestion(
                    "review", f"Review: {m.title}",
                    f"It took {fails + 1} tries to pass; a short review now fixes it in memory.",
                    "Without looking at your solution, explain what made it fail and how you "
                    "fixed it; then re-run the checks on fresh data (change the seed).",
                    f"dlpath check {root} -m {m.id}", m.step)
    return None


def _command_for(step: roadmap.Step) -> str:
    if step.self_reported:
        return f"dlpath done {step.id}"
    template = step.milestone.split("/")[0]
    template = TEMPLATE_FOR_STEP.get(step.id, template)
    if template == "*":
        return "dlpath new quantization my-quantization   # any template will do"
    return f"dlpath new {template} my-{template}"


def next_step(where: Path, now: datetime | None = None) -> tuple[Suggestion, list[str]]:
    """The suggestion, and any warnings (a corrupt progress file, say)."""
    now = now or datetime.now(timezone.utc)
    the_roadmap = roadmap.load()
    prog = progress_mod.load()
    root = project.find_root(where)
    if root is not None:
        sync_project(root, the_roadmap, prog)
        suggestion = _project_suggestion(root, now)
        if suggestion is not None:
            progress_mod.save(prog)
            return suggestion, prog.warnings
    prog.next_calls += 1
    progress_mod.save(prog)
    hands_on_done = any(prog.is_done(s.id) for s in the_roadmap.steps if s.phase == "hands-on")
    if hands_on_done and prog.next_calls % PAPER_EVERY == 0:
        paper = the_roadmap.step("implement-papers")
        return Suggestion("paper", "Implement a recent paper", paper.why,
                          "Pick a paper from the last few months in your area and reimplement "
                          "its core idea in one of your dlpath projects (keep it to ~15% of "
                          "this week's learning time).", f"dlpath done {paper.id}",
                          paper.id), prog.warnings
    for step in the_roadmap.steps:
        if prog.is_done(step.id):
            continue
        if all(prog.is_done(p) for p in step.prerequisites):
            return Suggestion("step", step.title, step.why, step.do, _command_for(step),
                              step.id), prog.warnings
    return Suggestion("finished", "You have finished the roadmap",
                      "Every step is done.", "Keep going: pick a paper, a project of your own, "
                      "or help others in your community.", "dlpath roadmap"), prog.warnings


def mark(step_id: str, done: bool) -> roadmap.Step:
    """``dlpath done`` / ``dlpath undo`` for self-reported steps."""
    from dlpath.errors import UsageError

    the_roadmap = roadmap.load()
    step = the_roadmap.step(step_id)
    if not step.self_reported:
        raise UsageError(
            f"'{step.id}' is completed by a check, not by hand.",
            hint=f"Pass its milestone ({step.milestone}) and run 'dlpath check' in the project.",
        )
    prog = progress_mod.load()
    if done:
        prog.steps[step.id] = {"done_at": progress_mod.now(), "by": "learner"}
    else:
        prog.steps.pop(step.id, None)
    progress_mod.save(prog)
    return step


@dataclass(frozen=True)
class RoadmapView:
    roadmap: roadmap.Roadmap
    done: set[str]
    current: str | None
    warnings: list[str]

    def to_json(self) -> dict:
        return {
            "format_version": 1,
            "current": self.current,
            "phases": [
                {"id": p.id, "title": p.title,
                 "done": sum(s.id in self.done for s in p.steps), "total": len(p.steps),
                 "steps": [{"id": s.id, "title": s.title, "done": s.id in self.done,
                            "effort": s.effort, "prerequisites": list(s.prerequisites),
                            "completion": ({"milestone": s.milestone} if s.milestone
                                           else {"self_report": True})}
                           for s in p.steps]}
                for p in self.roadmap.phases
            ],
        }


def view(where: Path) -> RoadmapView:
    the_roadmap = roadmap.load()
    prog = progress_mod.load()
    root = project.find_root(where)
    if root is not None and sync_project(root, the_roadmap, prog):
        progress_mod.save(prog)
    done = set(prog.steps)
    current = next((s.id for s in the_roadmap.steps if s.id not in done
                    and all(p in done for p in s.prerequisites)), None)
    return RoadmapView(the_roadmap, done, current, prog.warnings)
