"""`dlpath check` on a real template (quantization) whose learner code is
written (the reference solution) and whose pipeline has run: its goal
milestone passes (hidden checks included), and a learner who commits,
pushes, states a problem and runs an experiment passes every milestone.

The pipeline trains real models: one `dvc repro` for the module."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

from dlpath import checker
from dlpath.cli import app
from tests.conftest import dvc, make_project
from tests.template_helpers import solve

pytestmark = pytest.mark.slow

TEMPLATE, GOAL = "quantization", "edge-ready"


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def failing(report) -> list[str]:
    return sorted(f"{c.milestone}/{c.id}" for c in report.all_checks if c.status != "pass")


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory) -> Path:
    root = make_project(TEMPLATE, tmp_path_factory.mktemp(TEMPLATE))
    solve(root)  # a fresh project fails its goal milestones until the learner writes the code
    start = time.perf_counter()
    dvc("repro", cwd=root)
    print(f"\n{TEMPLATE}: dvc repro took {time.perf_counter() - start:.1f} s")
    return root


def test_the_goal_milestone_passes_after_repro(reproduced):
    report = checker.evaluate(reproduced, milestone=GOAL, record=False)
    assert failing(report) == []
    passed, hidden = report.tally(False)
    assert hidden >= 1 and passed == hidden
    (goal,) = report.milestones
    assert goal.score == goal.max_score > 0


def test_a_learner_who_does_every_step_passes_every_milestone(reproduced, runner):
    root = reproduced
    report = checker.evaluate(root, record=False)
    # Ran, but neither committed nor pushed, and no problem of their own yet.
    assert failing(report) == [
        "own-problem/experiment", "own-problem/problem-statement",
        "reproducible/clean-tree", "versioned/commits", "versioned/pushed"]

    git("add", "-A", cwd=root)
    git("commit", "-qm", "First run of the pipeline", cwd=root)
    dvc("push", cwd=root)
    report = checker.evaluate(root, record=False)
    assert failing(report) == ["own-problem/experiment", "own-problem/problem-statement"]
    statuses = {m.id: m.status for m in report.milestones}
    assert statuses[GOAL] == "pass"
    assert {m: s for m, s in statuses.items() if s != "pass"} == {"own-problem": "fail"}

    (root / "PROBLEM.md").write_text(
        "# My own problem\n\n## Problem\nDoes timing more repeats change the ratio?\n\n"
        "## Hypothesis\nNo: the median is steady.\n\n## Experiment\n"
        "dvc exp run --set-param latency.repeats=30\n\n## Result\nSame ratio within 5%.\n")
    git("commit", "-qam", "My problem", cwd=root)
    dvc("exp", "run", "--set-param", "latency.repeats=30", cwd=root)  # latency stage only
    own = checker.evaluate(root, milestone="own-problem", record=False)
    assert failing(own) == []
    # Back to the committed baseline: the workspace holds the experiment's results.
    git("checkout", "--", ".", cwd=root)
    dvc("checkout", cwd=root)

    result = runner.invoke(app, ["check", str(root), "--json"])
    data = json.loads(result.stdout)
    assert [t["name"] for t in data["tests"] if t["status"] != "pass"] == []
    assert result.exit_code == 0
    assert data["status"] == "pass" and data["score"] == data["max_score"]
