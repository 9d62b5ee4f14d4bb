"""The groundwork tutor commands through the CLI, on real projects in
tmp_path: hint (levels, recorded, reported), solution (gated, recorded),
watch (a real file change), attempt counting, a fresh `next`, and reset
with backups, warnings and --undo."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from dlpath import groundwork, hints, results, solutions
from dlpath import watch as watch_mod
from dlpath.cli import app
from tests.conftest import dvc, make_project


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def project(tmp_path, home, monkeypatch) -> Path:
    root = make_project("groundwork", tmp_path, name="gw")
    monkeypatch.chdir(root)
    return root


def state(root: Path) -> dict:
    return results.load(root)


def mark_passed(root: Path, *ids: str) -> None:
    """Record milestones as passed, as `dlpath check` would (to reach a later exercise)."""
    def change(s):
        for i in ids:
            s["milestones"][i] = {"first_passed": "2026-01-01T00:00:00+00:00", "fail_count": 0,
                                  "last": {"at": "2026-01-01T00:00:00+00:00", "status": "pass",
                                           "score": 4, "max_score": 4, "failed_checks": []}}
    results.update(root, change)


def solve(root: Path, *ids: str) -> None:
    solutions.apply_reference(root, [f"exercises/{i}.py" for i in ids])


def tty(monkeypatch) -> None:
    from dlpath.commands import exercise as exercise_cmd

    monkeypatch.setattr(exercise_cmd, "sys", SimpleNamespace(stdin=SimpleNamespace(
        isatty=lambda: True)))


# ------------------------------------------------------------------ hint


def test_hint_reveals_one_level_at_a_time_and_records_it(project, runner):
    backprop = groundwork.get("backprop")
    result = runner.invoke(app, ["hint", "backprop"])
    assert result.exit_code == 0, result.output
    assert "hint 1 of 3" in result.stderr and f"1. The concept: {backprop.hints[0]}" in \
        " ".join(result.stdout.split())
    assert backprop.hints[1][:40] not in result.stdout
    runner.invoke(app, ["hint", "backprop"])
    third = runner.invoke(app, ["hint", "backprop"])
    flat = " ".join(third.stdout.split())
    assert all(h in flat for h in backprop.hints) and "last level" in third.stderr
    again = runner.invoke(app, ["hint", "backprop"])
    assert "all levels shown" in again.stderr
    record = state(project)["assistance"]["backprop"]
    assert record["hint_level"] == 3
    assert [h["level"] for h in record["hints"]] == ["concept", "approach", "key_step"]
    # shown honestly in the check report (JSON and table)
    report = json.loads(runner.invoke(app, ["check", "-m", "backprop", "--json",
                                            "--no-commands"]).stdout)
    assert report["milestones"][0]["assistance"] == {"hints": 3, "hint_levels": 3}
    table = runner.invoke(app, ["check", "-m", "backprop", "--no-commands"]).stdout
    assert "hints 3 of 3" in table


def test_hint_without_an_exercise_is_for_the_current_one(project, runner):
    result = runner.invoke(app, ["hint"])
    assert result.exit_code == 0 and "vectors (exercises/vectors.py): hint 1 of 3" in \
        result.stderr
    mark_passed(project, "vectors", "vectorise")
    assert "softmax (exercises/softmax.py)" in runner.invoke(app, ["hint"]).stderr


def test_hint_refuses_bad_input_with_one_line(project, runner, tmp_path, monkeypatch):
    result = runner.invoke(app, ["hint", "backprob"])
    assert result.exit_code == 2 and "Unknown exercise 'backprob'" in result.stderr
    assert "dlpath hint backprop" in result.stderr and "Traceback" not in result.output
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["hint"])
    assert result.exit_code == 2 and "not inside a groundwork project" in result.stderr


# ------------------------------------------------------------------ solution


def test_solution_before_passing_needs_a_confirmation_and_is_recorded(project, runner,
                                                                      monkeypatch):
    result = runner.invoke(app, ["solution", "softmax"])  # no terminal, no --yes
    assert result.exit_code == 2 and "has not passed yet" in result.stderr
    assert "dlpath solution softmax --yes" in result.stderr
    assert "assistance" not in state(project)
    tty(monkeypatch)
    result = runner.invoke(app, ["solution", "softmax"], input="n\n")
    assert result.exit_code == 1 and "Nothing was shown" in result.stderr
    assert "log_softmax" not in result.stdout and "assistance" not in state(project)
    result = runner.invoke(app, ["solution", "softmax"], input="y\n")
    assert result.exit_code == 0, result.output
    assert "z.max(axis=-1, keepdims=True)" in result.stdout  # the reference code
    assert "before it passed" in result.stderr
    assert state(project)["assistance"]["softmax"]["solution"]["before_passing"] is True
    report = json.loads(runner.invoke(app, ["check", "-m", "softmax", "--json",
                                            "--no-commands"]).stdout)
    assert report["milestones"][0]["assistance"]["solution_viewed"] == "before passing"


def test_solution_after_passing_needs_no_confirmation(project, runner):
    solve(project, "vectors")
    assert runner.invoke(app, ["check", "-m", "vectors"]).exit_code == 0
    result = runner.invoke(app, ["solution", "vectors"])
    assert result.exit_code == 0, result.output
    assert "(u * v).sum()" in result.stdout and "after it passed" in result.stderr
    assert state(project)["assistance"]["vectors"]["solution"]["before_passing"] is False


# ------------------------------------------------------------------ attempts and next


def test_attempts_count_only_changed_files_and_next_says_so(project, runner):
    def check():
        runner.invoke(app, ["check", "-m", "vectors"])
        return state(project)["milestones"]["vectors"]

    assert check()["fail_count"] == 0          # untouched stubs: no attempt
    assert check()["fail_count"] == 0
    target = project / "exercises" / "vectors.py"
    start = target.read_text()
    target.write_text(start.replace(
        "    # TODO: the dot product from its definition (your code replaces the line below)\n",
        "    return 0.0\n", 1))
    assert check()["fail_count"] == 1
    assert check()["fail_count"] == 1          # the same code again: no new attempt
    target.write_text(target.read_text().replace("return 0.0", "return 1.0"))
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert nxt["kind"] == "check" and "You changed exercises/vectors.py" in nxt["why"]
    assert check()["fail_count"] == 2
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert nxt["kind"] == "practice" and "failed 2 different attempts" in nxt["why"]
    assert "dlpath hint vectors" in nxt["do"]
    assert nxt["based_on"].startswith("Based on: your last dlpath check (just now) for the tests")


def test_next_refreshes_what_it_can_and_never_repeats_advice_already_followed(project, runner):
    mark_passed(project, "vectors", "vectorise", "softmax", "backprop", "autograd", "batchnorm")
    solve(project, "init")
    assert runner.invoke(app, ["check", "-m", "init"]).exit_code == 1
    last = state(project)["milestones"]["init"]["last"]
    assert [f["id"] for f in last["failed_checks"]] == ["experiment-run"]  # tests pass
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert "dvc repro" in nxt["do"] and "Your visible tests pass" in nxt["do"]
    dvc("repro", "init", cwd=project)  # the learner follows the advice
    nxt = json.loads(runner.invoke(app, ["next", "--json"]).stdout)
    assert "dvc repro" not in nxt["do"]
    assert nxt["kind"] == "check" and nxt["command"] == "dlpath check -m init"
    assert "git, DVC and metric checks just now" in nxt["based_on"]
    assert runner.invoke(app, ["check", "-m", "init"]).exit_code == 0
    assert json.loads(runner.invoke(app, ["next", "--json"]).stdout)["title"].startswith(
        "Exercise 8: Gradient descent")


# ------------------------------------------------------------------ reset


def test_reset_warns_about_importers_keeps_backups_out_of_git_and_undoes(project, runner):
    solve(project, "softmax")
    target = project / "exercises" / "softmax.py"
    mine = target.read_text()
    subprocess.run(["git", "add", "-A"], cwd=project, check=True)
    subprocess.run(["git", "commit", "-qm", "softmax"], cwd=project, check=True)
    result = runner.invoke(app, ["reset", "softmax", "--yes"])
    assert result.exit_code == 0, result.output
    assert "exercises/backprop.py, exercises/network.py import exercises/softmax.py " in \
        " ".join(result.stderr.split())
    assert target.read_text() == groundwork.starting_text(groundwork.get("softmax"))
    backups = list((project / ".dlpath" / "backups" / "softmax").glob("*.py"))
    assert [b.read_text() for b in backups] == [mine]
    assert not list(project.glob("exercises/*.bak*"))
    status = subprocess.run(["git", "status", "--porcelain"], cwd=project, capture_output=True,
                            text=True, check=True).stdout
    assert status.strip() == "M exercises/softmax.py"   # the backup is not in git's way
    result = runner.invoke(app, ["reset", "--undo", "softmax"])
    assert result.exit_code == 0 and "Brought back exercises/softmax.py" in result.stderr
    assert target.read_text() == mine and not list(backups[0].parent.glob("*.py"))
    result = runner.invoke(app, ["reset", "--undo", "softmax"])
    assert result.exit_code == 2 and "No backup of exercises/softmax.py" in result.stderr


def test_undo_keeps_what_it_replaces(project, runner):
    target = project / "exercises" / "vectors.py"
    target.write_text("first\n")
    runner.invoke(app, ["reset", "vectors", "--yes"])
    target.write_text("second\n")
    assert runner.invoke(app, ["reset", "--undo", "vectors"]).exit_code == 0
    assert target.read_text() == "first\n"
    kept = list((project / ".dlpath" / "backups" / "vectors").glob("*.py"))
    assert [k.read_text() for k in kept] == ["second\n"]


def test_reset_asks_on_a_terminal_and_refuses_bad_input(project, runner, monkeypatch, tmp_path):
    target = project / "exercises" / "descent.py"
    assert "Nothing to reset" in runner.invoke(app, ["reset", "descent"]).stderr
    target.write_text("mine\n")
    result = runner.invoke(app, ["reset", "descent"])  # no terminal, no --yes
    assert result.exit_code == 2 and "dlpath reset descent --yes" in result.stderr
    tty(monkeypatch)
    result = runner.invoke(app, ["reset", "descent"], input="n\n")
    assert result.exit_code == 1 and target.read_text() == "mine\n"
    result = runner.invoke(app, ["reset", "descent"], input="y\n")
    assert result.exit_code == 0 and "Reset exercises/descent.py" in result.stderr
    for args, message in ((["reset", "vectros", "--yes"], "Unknown exercise 'vectros'"),
                          (["reset"], "Name one exercise"),
                          (["reset", "vectors", "--all"], "Name one exercise"),
                          (["reset", "--all", "--undo"], "one exercise at a time")):
        result = runner.invoke(app, args)
        assert result.exit_code == 2 and message in result.stderr, args


# ------------------------------------------------------------------ watch


def test_watch_ignores_outputs_and_maps_saves_to_exercises(tmp_path):
    root = tmp_path
    exercises = groundwork.load()
    paths = [str(root / p) for p in ("exercises/conv.py", "data/prepared/x.py",
                                     ".dvc/tmp/a.py", "metrics/m.py", "dvclive/d.py",
                                     "exercises/__pycache__/conv.py", "gw/train_network.py",
                                     "README.md", "exercises/vectors.py")]
    assert [e.id for e in watch_mod.targets(root, paths, exercises)] == ["vectors", "conv"]


def test_watch_checks_an_exercise_when_its_file_is_saved(project):
    events, stop = [], threading.Event()
    worker = threading.Thread(target=watch_mod.run, args=(project, events.append),
                              kwargs={"stop": stop}, daemon=True)
    worker.start()
    deadline = time.monotonic() + 300
    while not any(e.kind == "result" for e in events) and time.monotonic() < deadline:
        time.sleep(0.2)
    first = next(e for e in events if e.kind == "result")
    assert first.exercise.id == "vectors" and not first.passed
    assert first.failure and "test_vectors.py::test_" in first.failure and first.hint
    solve(project, "vectors")
    while sum(e.kind == "result" for e in events) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    stop.set()
    worker.join(30)
    second = [e for e in events if e.kind == "result"][1]
    assert second.exercise.id == "vectors" and second.passed, second.failure
    assert second.changed == ("exercises/vectors.py",)


@pytest.mark.slow
def test_watch_through_the_cli_with_a_real_save_and_ctrl_c(project):
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
    proc = subprocess.Popen([sys.executable, "-m", "dlpath", "watch", "-e", "softmax"],
                            cwd=project, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")),
                              daemon=True)
    reader.start()

    def wait_for(text: str, after: int = 0) -> int:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            joined = "".join(lines)
            if text in joined[after:]:
                return len(joined)
            if proc.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"{text!r} not in:\n{''.join(lines)}")

    try:
        seen = wait_for("✗ softmax")
        assert "First failure: tests/test_softmax.py::test_" in "".join(lines)
        assert "Stuck? dlpath hint softmax" in "".join(lines)
        solve(project, "softmax")
        wait_for("✓ softmax passes", seen)
        assert "exercises/softmax.py changed" in "".join(lines)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    reader.join(10)
    out = "".join(lines)
    assert "Stopped watching." in out and "Traceback" not in out
    assert hints.passed(state(project), "softmax")
