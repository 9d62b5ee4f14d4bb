"""`dlpath next`, `roadmap`, `done` and `undo` driven through a learner's
progress, through the CLI runner."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta, timezone

import pytest

from dlpath import achievements, progress, results, roadmap, rubric, tutor
from dlpath.cli import app
from tests.conftest import make_project


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    roadmap._load.cache_clear()


def _json(runner, *args):
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _phase(data, phase_id):
    return next(p for p in data["phases"] if p["id"] == phase_id)


def _mark_done(step_ids):
    prog = progress.load()
    for sid in step_ids:
        prog.steps[sid] = {"done_at": progress.now(), "by": "check"}
    progress.save(prog)


def test_a_learner_finishes_structured_learning_through_the_cli(runner):
    rm = roadmap.load()
    _mark_done(s.id for s in rm.steps if s.phase == "groundwork")
    assert _phase(_json(runner, "roadmap"), "structured-learning")["done"] == 0
    finished = []
    while True:  # follow `next` only, as a learner would
        nxt = _json(runner, "next")
        if nxt["step"] is None or roadmap.load().step(nxt["step"]).phase != "structured-learning":
            break
        prereqs = roadmap.load().step(nxt["step"]).prerequisites
        # next follows prerequisites (the groundwork ones were marked done above)
        assert all(p in finished or rm.step(p).phase == "groundwork" for p in prereqs)
        if nxt["step"] == "micro-credentials":  # completed by `dlpath credential`
            assert nxt["command"].startswith("dlpath credential MILESTONE")
            achievements.complete_step("credential")
            finished.append(nxt["step"])
            continue
        assert nxt["kind"] == "step" and nxt["command"] == f"dlpath done {nxt['step']}"
        done = runner.invoke(app, ["done", nxt["step"]])
        assert done.exit_code == 0 and "Done:" in done.stderr
        finished.append(nxt["step"])
    data = _json(runner, "roadmap")
    phase = _phase(data, "structured-learning")
    assert phase["done"] == phase["total"] == 7 and len(finished) == 7
    assert nxt["step"] == "mlops-from-day-one" and data["current"] == "mlops-from-day-one"
    assert nxt["command"].startswith("dlpath templates   # pick any template")
    # done twice is harmless; undo takes it back, undo twice says so
    assert "Already done" in runner.invoke(app, ["done", "curriculum-decay"]).stderr
    assert "Not done any more" in runner.invoke(app, ["undo", "curriculum-decay"]).stderr
    assert "Was not marked done" in runner.invoke(app, ["undo", "curriculum-decay"]).stderr
    data = _json(runner, "roadmap")
    step = next(s for s in _phase(data, "structured-learning")["steps"]
                if s["id"] == "curriculum-decay")
    assert step["done"] is False and data["current"] == "curriculum-decay"
    tree = runner.invoke(app, ["roadmap"]).stdout
    assert "Structured learning" in tree and "6/7" in tree and "11/11" in tree
    assert "→ Curriculum decay" in tree


def test_next_follows_prerequisites_not_a_fixed_list(runner):
    assert _json(runner, "next")["step"] == "vectors-and-matrices"
    assert _json(runner, "next")["command"] == "dlpath new groundwork my-groundwork"
    _mark_done(["vectors-and-matrices", "numpy-vectorisation"])
    # cross-entropy is next in the file; loss-landscape only needs vectorisation
    _mark_done(["cross-entropy", "chain-rule"])
    assert _json(runner, "next")["step"] == "computational-graphs"
    _mark_done(["computational-graphs", "gaussian-and-batchnorm", "loss-landscape"])
    assert _json(runner, "next")["step"] == "weight-initialisation"
    _mark_done(["weight-initialisation", "momentum-and-adam", "convolution", "first-network"])
    # every step but dev-environment: mlops-from-day-one needs it, so it is offered first
    _mark_done(s.id for s in roadmap.load().steps
               if s.phase == "structured-learning" and s.id != "dev-environment")
    assert _json(runner, "next")["step"] == "dev-environment"


def test_a_checked_step_cannot_be_marked_by_hand(runner):
    for command in ("done", "undo"):
        result = runner.invoke(app, [command, "edge-deployment"])
        assert result.exit_code == 2
        assert "'edge-deployment' is completed by a check" in result.stderr
        assert "dlpath check" in result.stderr and "dlpath new quantization" in result.stderr
    assert not progress.load().is_done("edge-deployment")


def test_unknown_step_suggests_the_closest_id(runner):
    result = runner.invoke(app, ["done", "choose-a-pth"])
    assert result.exit_code == 2
    assert "Unknown step 'choose-a-pth'" in result.stderr
    assert "Did you mean 'choose-a-path'?" in result.stderr
    assert "Traceback" not in result.output


def test_paper_suggestion_every_seventh_call_once_a_hands_on_step_is_done(runner):
    kinds = [_json(runner, "next")["kind"] for _ in range(7)]
    assert "paper" not in kinds  # no hands-on project yet
    _mark_done(["edge-deployment"])
    prog = progress.load()
    prog.next_calls = 0
    progress.save(prog)
    kinds = [_json(runner, "next")["kind"] for _ in range(14)]
    assert [i for i, k in enumerate(kinds) if k == "paper"] == [6, 13]
    assert progress.load().next_calls == 14


def test_next_inside_a_project_refreshes_and_counts_attempts_not_calls(tmp_path, runner):
    root = make_project("quantization", tmp_path)
    first = _json(runner, "next", str(root))
    # the checks that run no command ran first: the first milestone's advice, not "check"
    assert first["kind"] == "milestone" and first["step"] == "mlops-from-day-one"
    assert first["command"] == f"dlpath check {root} -m versioned"
    assert "git commit" in first["do"]
    assert first["based_on"] == ("Based on: git, DVC and metric checks just now; the tests "
                                 "have not run yet (dlpath check runs them).")
    for _ in range(2):  # checking the same project again is no new attempt
        runner.invoke(app, ["check", str(root), "--no-commands"])
        assert _json(runner, "next", str(root))["kind"] == "milestone"
    (root / "notes.md").write_text("what I tried\n")  # the learner changes something
    subprocess.run(["git", "add", "notes.md"], cwd=root, check=True)
    subprocess.run(["git", "commit", "-qm", "notes"], cwd=root, check=True)
    runner.invoke(app, ["check", str(root), "--no-commands"])
    again = _json(runner, "next", str(root))
    assert again["kind"] == "practice" and "failed 2 different attempts" in again["why"]
    assert again["do"].startswith("Error analysis")
    # the struggle is remembered for spaced review
    assert progress.load().practice["mlops-from-day-one"]["fail_count"] == 2


def test_passed_milestones_mark_steps_and_hard_ones_come_back_on_a_spaced_schedule(tmp_path):
    root = make_project("xai", tmp_path)
    failed_at = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)

    def passed(state):
        for m in rubric.load_for_project(root).milestones:
            state["milestones"][m.id] = {
                "first_passed": failed_at.isoformat(), "fail_count": 0, "step": m.step,
                "last": {"status": "pass", "failed_checks": []}}
        state["milestones"]["sane-explanations"].update(
            fail_count=3, last_failed=failed_at.isoformat())

    results.update(root, passed)
    kinds = {}
    for hours in (12, 25, 26, 50, 73, 100, 24 * 7 + 1, 24 * 30):
        suggestion = tutor.next_step(root, now=failed_at + timedelta(hours=hours),
                                       refresh=False).suggestion
        kinds[hours] = suggestion.kind
        if suggestion.kind == "review":
            assert suggestion.step == "explainable-ai"
            assert suggestion.command == f"dlpath check {root} -m sane-explanations"
    # due after 1, 3 and 7 days; once each; never before
    # between reviews: the finished project's first challenge on fresh data (xai declares one)
    assert kinds == {12: "challenge", 25: "review", 26: "challenge", 50: "challenge",
                     73: "review", 100: "challenge", 24 * 7 + 1: "review", 24 * 30: "challenge"}
    prog = progress.load()
    assert prog.is_done("explainable-ai") and prog.is_done("mlops-from-day-one")
    assert prog.practice["explainable-ai"]["reviews"] == 3


def test_a_new_failure_restarts_the_review_schedule(tmp_path):
    root = make_project("xai", tmp_path)
    t0 = datetime(2026, 3, 1, tzinfo=timezone.utc)

    def failing(at):
        def change(state):
            state["milestones"]["versioned"] = {
                "first_passed": None, "fail_count": 2, "step": "mlops-from-day-one",
                "last_failed": at.isoformat(),
                "last": {"status": "fail", "failed_checks": [{"id": "commits", "hint": "h"}]}}
        return change

    results.update(root, failing(t0))
    assert tutor.next_step(root, now=t0, refresh=False).suggestion.kind == "practice"
    # Outside the project the concept comes back after a day, once.
    assert tutor.next_step(tmp_path, now=t0 + timedelta(days=1)).suggestion.kind == "review"
    assert tutor.next_step(tmp_path, now=t0 + timedelta(days=2)).suggestion.kind == "step"
    results.update(root, failing(t0 + timedelta(days=2)))
    tutor.next_step(root, now=t0 + timedelta(days=2), refresh=False)  # syncs the new failure
    record = progress.load().practice["mlops-from-day-one"]
    assert record["reviews"] == 0 and record["last_failed"].startswith("2026-03-03")
    later = tutor.next_step(tmp_path, now=t0 + timedelta(days=3, hours=1)).suggestion
    assert later.kind == "review" and "(review 1 of 3)" in later.title


def test_roadmap_json_is_stable(runner):
    _mark_done(["vectors-and-matrices"])
    data = _json(runner, "roadmap")
    assert set(data) == {"format_version", "current", "done", "total", "phases", "due"}
    assert data["due"] == []
    assert data["format_version"] == 1 and data["done"] == 1 and data["total"] == 30
    assert data["current"] == "numpy-vectorisation"
    step = data["phases"][0]["steps"][0]
    assert set(step) == {"id", "title", "done", "current", "why", "do", "effort",
                         "prerequisites", "completion"}
    assert step["completion"] == {"milestone": "groundwork/vectors"} and step["done"] is True
    assert data["phases"][1]["steps"][0]["completion"] == {"self_report": True}
    assert sum(s["current"] for p in data["phases"] for s in p["steps"]) == 1
