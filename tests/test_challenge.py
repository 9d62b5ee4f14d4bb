"""``dlpath challenge`` on a fake template (tests/beyond_fake.py): a model that
learned the rule passes on fresh, shifted data drawn with a new seed each run;
a model that memorised the test split fails although its own test score is
perfect; dirty, unreproduced and unchallengeable projects are refused with one
line; runs are recorded in progress, complete the roadmap step, and come back
as due after the declared period."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from dlpath import challenge, declarations, progress
from dlpath.cli import app
from tests import beyond_fake


@pytest.fixture
def fake(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    return beyond_fake.install(tmp_path, monkeypatch)


def test_a_model_that_learned_the_rule_passes_with_a_fresh_seed_each_run(fake, tmp_path,
                                                                          runner):
    root = beyond_fake.project(tmp_path)
    seeds = set()
    for _ in range(2):
        result = runner.invoke(app, ["challenge", str(root), "--json"])
        assert result.exit_code == 0, result.output
        data = json.loads(result.stdout)
        assert data["status"] == "pass"
        score = data["scores"][0]
        assert score["key"] == "acc" and score["value"] >= 0.99 and score["test"] == 1.0
        assert data["commit"] == beyond_fake.git(root, "rev-parse", "HEAD").strip()
        seeds.add(data["seed"])
    assert len(seeds) == 2
    assert beyond_fake.git(root, "status", "--porcelain") == ""  # nothing written
    prog = progress.load()
    entry = prog.challenges["fake"]
    assert entry["passed_at"] and entry["last"]["seed"] in seeds and len(entry["history"]) == 2
    assert prog.steps[challenge.STEP]["by"] == "challenge"


def test_a_memorised_test_split_fails_the_challenge_and_the_drop_is_shown(fake, tmp_path,
                                                                          runner):
    root = beyond_fake.project(tmp_path, memorise=True)
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 1, result.output
    assert "✗ Not passed" in result.stdout
    assert re.search(r"accuracy is 0\.[3-6]\d* worse on fresh data than on your test split",
                     result.stdout)
    data = json.loads(runner.invoke(app, ["challenge", str(root), "--json"]).stdout)
    score = data["scores"][0]
    assert score["test"] == 1.0 and score["value"] < 0.7 and score["drop"] > 0.3
    entry = progress.load().challenges["fake"]
    assert entry["passed_at"] is None and entry["last"]["passed"] is False
    assert not progress.load().is_done(challenge.STEP)


def test_unfinished_learner_code_is_reported_not_crashed(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    (root / "learner.py").write_text(beyond_fake.LEARNER + "def f():\n    pass\n"
                                     "TODO = 'TODO: predict: write predict() in learner.py'\n")
    beyond_fake.git(root, "commit", "-qam", "stub")
    result = runner.invoke(app, ["challenge", str(root), "--json"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["scores"][0]["note"] == ("not implemented yet: TODO: predict: write predict() "
                                         "in learner.py")


@pytest.mark.parametrize("change, expected", [
    (lambda r: (r / "learner.py").write_text("x = 1\n"),
     "The project has uncommitted changes (learner.py)"),
    (lambda r: (r / "extra.txt").write_text("x"), "uncommitted changes (extra.txt)"),
])
def test_a_dirty_project_is_refused_and_nothing_is_recorded(fake, tmp_path, runner, change,
                                                            expected):
    root = beyond_fake.project(tmp_path)
    change(root)
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 1
    assert expected in result.stderr and "Traceback" not in result.output
    assert progress.load().challenges == {}


def test_a_missing_model_and_a_project_without_commits_are_refused(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    beyond_fake.git(root, "rm", "-q", "models/model.json")
    beyond_fake.git(root, "commit", "-qm", "no model")
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 1 and "No trained model to challenge: models/model.json" \
        in result.stderr
    fresh = tmp_path / "fresh"
    (fresh / ".dlpath").mkdir(parents=True)
    (fresh / ".dlpath" / "project.json").write_text((root / ".dlpath/project.json").read_text())
    beyond_fake.git(tmp_path, "init", "-q", str(fresh))
    result = runner.invoke(app, ["challenge", str(fresh)])
    assert result.exit_code == 1 and "The project has no commit yet." in result.stderr


@pytest.mark.slow
def test_an_unreproduced_pipeline_is_refused(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path, dvc=True)
    assert runner.invoke(app, ["challenge", str(root)]).exit_code == 0
    (root / "params.yaml").write_text("threshold: 0.3\nmemorise: false\n")
    beyond_fake.git(root, "commit", "-qam", "new params, no repro")
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 1
    assert "The pipeline is not reproduced (train changed since the last run)" in result.stderr


def test_not_a_project_and_a_template_without_a_challenge_are_usage_errors(fake, tmp_path,
                                                                          runner):
    result = runner.invoke(app, ["challenge", str(tmp_path)])
    assert result.exit_code == 2 and "is not inside a project made by 'dlpath new'" \
        in result.stderr
    result = runner.invoke(app, ["challenge", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
    (fake / "template.yaml").write_text(beyond_fake.MANIFEST.split("challenge:")[0])
    (fake.parent / "other" / "template.yaml").write_text(
        beyond_fake.MANIFEST.split("leaderboard:")[0])
    root = beyond_fake.project(tmp_path)
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 2
    assert "The 'fake' template has no challenge on fresh data." in result.stderr
    assert "Templates with one: other." in result.stderr


def test_a_passed_challenge_is_due_again_after_its_period(fake, tmp_path, runner):
    root = beyond_fake.project(tmp_path)
    then = datetime(2025, 1, 10, tzinfo=timezone.utc)
    result = challenge.run(root, now=then)
    assert result.passed and result.due_at.startswith("2026-01-1")
    entry = progress.load().challenges
    assert challenge.due(entry, then + timedelta(days=300)) == []
    due = challenge.due(entry, then + timedelta(days=370))
    assert [d.template for d in due] == ["fake"] and due[0].project == str(root)
    # next and roadmap show it, from anywhere
    prog = progress.load()
    prog.challenges["fake"]["passed_at"] = "2020-01-01T00:00:00+00:00"
    progress.save(prog)
    shown = runner.invoke(app, ["next", str(tmp_path), "--json"])
    data = json.loads(shown.stdout)
    assert data["kind"] == "challenge" and data["command"] == f"dlpath challenge {root}"
    assert "is due again" in data["title"]
    roadmap = runner.invoke(app, ["roadmap", str(tmp_path)])
    assert "Due again: the fake challenge (passed 2020-01-01)" in roadmap.stdout
    listed = json.loads(runner.invoke(app, ["roadmap", str(tmp_path), "--json"]).stdout)
    assert listed["due"][0]["challenge"] == "fake"


def test_next_suggests_a_first_challenge_once_every_milestone_passes(fake, tmp_path, runner):
    from dlpath import checker

    root = beyond_fake.project(tmp_path)
    checker.evaluate(root)
    report = checker.evaluate(root)
    assert report.status == "pass", [c.message for c in report.all_checks]
    data = json.loads(runner.invoke(app, ["next", str(root), "--json"]).stdout)
    assert data["kind"] == "challenge" and data["title"].startswith("Challenge your fake model")


def test_the_roadmap_steps_are_completed_by_the_commands_not_by_hand(runner):
    from dlpath import roadmap

    steps = {s.id: s for s in roadmap.load().steps}
    assert steps["fresh-data-retests"].command == "challenge"
    assert steps["micro-credentials"].command == "credential"
    assert steps["leaderboards"].command == "leaderboard"
    result = runner.invoke(app, ["done", "fresh-data-retests"])
    assert result.exit_code == 2
    assert "is completed by 'dlpath challenge', not by hand" in result.stderr


def test_progress_format_3_gains_an_empty_challenge_record(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"format_version": 3, "steps": {}, "next_calls": 1,
                                "practice": {}}))
    loaded = progress.load(path)
    assert loaded.challenges == {} and loaded.loaded_version == 3 and not loaded.warnings


@pytest.mark.parametrize("section, message", [
    ("challenge: 3\n", "template.yaml:1: challenge: must be a mapping"),
    ("challenge:\n  shift: s\n  models: [m]\n", "challenge: missing field(s) scores"),
    ("challenge:\n  shift: s\n  models: [/etc/passwd]\n  scores: [{key: a, op: '>=', "
     "value: 1}]\n", "challenge.models[0]: must be a path inside the project"),
    ("challenge:\n  shift: s\n  models: [m]\n  scores:\n    - key: a\n      op: '='\n"
     "      value: 1\n", "template.yaml:5: challenge.scores[0].op: must be one of"),
    ("challenge:\n  shift: s\n  models: [m]\n  due_months: 0\n  scores: [{key: a, op: '>=', "
     "value: 1}]\n", "challenge.due_months: must be a whole number of months >= 1"),
    ("challenge:\n  shift: s\n  models: [m]\n  colour: red\n  scores: []\n",
     "challenge: unknown field(s) colour"),
    ("leaderboard:\n  milestone: goal\n  metric: {file: m.json, key: a, direction: up}\n",
     "template.yaml:3: leaderboard.metric.direction: must be higher or lower"),
])
def test_a_malformed_declaration_names_file_line_and_field(tmp_path, monkeypatch, section,
                                                         message):
    from dlpath import templates

    folder = tmp_path / "templates" / "bad"
    folder.mkdir(parents=True)
    (folder / "template.yaml").write_text(
        section + "format_version: 1\nversion: '1'\ndescription: d\nphase: p\nstep: s\n")
    monkeypatch.setattr(templates, "templates_dir", lambda: tmp_path / "templates")
    with pytest.raises(declarations.DeclarationError) as err:
        templates.available()
    assert message in err.value.message
