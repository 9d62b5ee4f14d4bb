"""The roadmap, progress, and `dlpath next`/`roadmap`/`done`/`undo` driven
through a learner's progress."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
import yaml

from dlpath import progress, results, roadmap, rubric, templates, tutor
from dlpath.cli import app
from dlpath.resources import data_dir
from tests.conftest import make_project

TOPICS = [  # every topic of the roadmap the product promises, by step id
    "vectors-and-matrices", "chain-rule", "gaussian-and-batchnorm", "numpy-vectorisation",
    "cross-entropy", "loss-landscape", "computational-graphs",
    "choose-a-path", "micro-credentials", "adaptive-pacing", "qa-community",
    "curriculum-decay", "dev-environment", "beyond-recipes",
    "open-ended-problem", "mlops-from-day-one", "multimodal", "explainable-ai",
    "synthetic-data", "edge-deployment", "leaderboards",
    "open-source-contribution", "niche-communities", "fresh-data-retests",
    "implement-papers", "deliberate-practice",
]


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    roadmap._load.cache_clear()


def test_roadmap_covers_every_topic_in_four_phases():
    rm = roadmap.load()
    assert [p.title for p in rm.phases] == [
        "Groundwork", "Structured learning", "Hands-on projects", "Sustaining momentum"]
    assert sorted(s.id for s in rm.steps) == sorted(TOPICS)


def test_every_template_and_milestone_names_a_roadmap_step():
    ids = {s.id for s in roadmap.load().steps}
    for template in templates.available().values():
        assert template.step in ids, template.name
        for m in rubric.for_template(template).milestones:
            assert m.step in ids, (template.name, m.id)


@pytest.mark.parametrize("change,message", [
    (lambda d: d["phases"][0]["steps"][1].update(prerequisites=["nope"]), "unknown step 'nope'"),
    (lambda d: d["phases"][0]["steps"][0].update(prerequisites=["numpy-vectorisation"]),
     "form a cycle"),
    (lambda d: d["phases"][0]["steps"][0].pop("why"), ".why: is required"),
    (lambda d: d.update(format_version=9), "format_version"),
])
def test_roadmap_validation_names_the_field(change, message, tmp_path):
    data = yaml.safe_load((data_dir() / "roadmap.yaml").read_text())
    change(data)
    with pytest.raises(Exception) as info:
        roadmap.parse(data, tmp_path / "roadmap.yaml")
    assert message in str(info.value)


def test_a_learner_finishes_structured_learning_through_the_cli(runner):
    steps = [s for s in roadmap.load().steps if s.phase == "structured-learning"]
    result = runner.invoke(app, ["roadmap", "--json"])
    phase = next(p for p in json.loads(result.stdout)["phases"]
                 if p["id"] == "structured-learning")
    assert phase["done"] == 0
    for step in steps:
        assert runner.invoke(app, ["done", step.id]).exit_code == 0
    phase = next(p for p in json.loads(runner.invoke(app, ["roadmap", "--json"]).stdout)["phases"]
                 if p["id"] == "structured-learning")
    assert phase["done"] == phase["total"] == len(steps)
    assert runner.invoke(app, ["undo", "curriculum-decay"]).exit_code == 0
    data = json.loads(runner.invoke(app, ["roadmap", "--json"]).stdout)
    assert not next(s for p in data["phases"] for s in p["steps"]
                    if s["id"] == "curriculum-decay")["done"]
    tree = runner.invoke(app, ["roadmap"])
    assert "Structured learning" in tree.stdout and "6/7" in tree.stdout


def test_next_follows_prerequisites(runner):
    first = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert first["step"] == "vectors-and-matrices"  # no prerequisites, first in order
    prog = progress.load()
    for s in roadmap.load().steps:
        if s.phase == "groundwork":
            prog.steps[s.id] = {"done_at": progress.now()}
    progress.save(prog)
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert nxt["step"] == "choose-a-path" and nxt["command"] == "dlpath done choose-a-path"
    # mlops needs dev-environment: mark everything but that, and it is not offered
    prog = progress.load()
    for s in roadmap.load().steps:
        if s.phase == "structured-learning" and s.id != "dev-environment":
            prog.steps[s.id] = {"done_at": progress.now()}
    progress.save(prog)
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert nxt["step"] == "dev-environment"


def test_a_checked_step_cannot_be_marked_by_hand_and_unknown_steps_get_a_suggestion(runner):
    result = runner.invoke(app, ["done", "edge-deployment"])
    assert result.exit_code == 2 and "completed by a check" in result.stderr
    assert "dlpath check" in result.stderr
    result = runner.invoke(app, ["done", "choose-a-pth"])
    assert result.exit_code == 2 and "Did you mean 'choose-a-path'?" in result.stderr


def test_paper_suggestion_every_seventh_call_after_a_hands_on_step(runner):
    prog = progress.load()
    prog.steps["edge-deployment"] = {"done_at": progress.now()}
    progress.save(prog)
    kinds = [json.loads(runner.invoke(app, ["next", "--json"]).stdout)["kind"]
             for _ in range(14)]
    assert kinds.count("paper") == 2
    assert kinds[6] == "paper" and kinds[13] == "paper"


def test_corrupt_progress_is_backed_up_and_reported(runner, tmp_path):
    path = tmp_path / "home" / "progress.json"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    result = runner.invoke(app, ["next"])
    assert result.exit_code == 0
    assert "could not be read" in result.stderr
    backups = list(path.parent.glob("progress.json.corrupt-*"))
    assert len(backups) == 1 and backups[0].read_text() == "{not json"


def test_progress_migrates_from_format_1(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"format_version": 1, "done": ["choose-a-path"],
                                "updated": "2026-01-01T00:00:00+00:00"}))
    loaded = progress.load(path)
    assert loaded.is_done("choose-a-path") and not loaded.warnings
    assert loaded.steps["choose-a-path"]["done_at"] == "2026-01-01T00:00:00+00:00"


def test_next_inside_a_project_uses_its_milestones(tmp_path, runner):
    root = make_project("quantization", tmp_path)
    first = json.loads(runner.invoke(app, ["next", str(root), "--json"]).stdout)
    assert first["kind"] == "check" and first["command"] == f"dlpath check {root}"
    runner.invoke(app, ["check", str(root), "--no-commands"])
    nxt = json.loads(runner.invoke(app, ["next", str(root), "--json"]).stdout)
    assert nxt["kind"] == "milestone" and nxt["step"] == "mlops-from-day-one"
    assert "git commit" in nxt["do"]
    runner.invoke(app, ["check", str(root), "--no-commands"])
    again = json.loads(runner.invoke(app, ["next", str(root), "--json"]).stdout)
    assert again["kind"] == "practice" and "failed 2 times" in again["why"]


def test_passed_milestones_mark_steps_and_hard_ones_come_back_for_review(tmp_path):
    root = make_project("xai", tmp_path)
    now = datetime.now(timezone.utc)
    rub = rubric.load_for_project(root)

    def passed(state):
        for m in rub.milestones:
            state["milestones"][m.id] = {
                "first_passed": now.isoformat(), "fail_count": 0,
                "last": {"status": "pass", "failed_checks": []}}
        state["milestones"]["sane-explanations"].update(
            fail_count=3, last_failed=(now - timedelta(days=2)).isoformat())

    results.update(root, passed)
    suggestion, _ = tutor.next_step(root, now=now)
    assert suggestion.kind == "step"  # 2 days < the 3 days due after 3 failures
    suggestion, _ = tutor.next_step(root, now=now + timedelta(days=2))
    assert suggestion.kind == "review" and "Explanations" in suggestion.title
    assert progress.load().is_done("explainable-ai")
    assert progress.load().is_done("mlops-from-day-one")
