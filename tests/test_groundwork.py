"""The groundwork template: its exercises fail untouched, the reference
solutions (tests/groundwork_solutions) pass the visible and hidden tests, a
hard-coded answer does not pass the hidden ones, `dvc repro` works on a fresh
project, `dlpath next` walks the exercises, `dlpath reset` restores them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlpath import checker, groundwork, progress, templates
from dlpath.cli import app
from tests.conftest import dvc, make_project

SOLUTIONS = Path(__file__).parent / "groundwork_solutions"
HIDDEN = templates.get("groundwork").path / "hidden"
IDS = [e.id for e in groundwork.load()]


def pytest_run(root: Path, files: list[Path | str]) -> tuple[int, int, str]:
    """Run pytest on ``files`` as `dlpath check` does (cwd and PYTHONPATH = the
    project); return (passed, failed, output)."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
         "-c", os.devnull, *map(str, files)],
        cwd=root, env=env, capture_output=True, text=True, timeout=300)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""

    def count(word: str) -> int:
        found = re.search(rf"(\d+) {word}", summary)
        return int(found.group(1)) if found else 0

    return count("passed"), count("failed") + count("error"), proc.stdout + proc.stderr


def visible(root: Path) -> list[Path]:
    return [root / "tests" / f"test_{i}.py" for i in IDS]


def hidden() -> list[Path]:
    return [HIDDEN / f"test_{i}.py" for i in IDS]


def solve(root: Path, ids=IDS) -> None:
    for i in ids:
        shutil.copy(SOLUTIONS / f"{i}.py", root / "exercises" / f"{i}.py")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    return make_project("groundwork", tmp_path_factory.mktemp("gw-fresh"), name="gw")


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    root = make_project("groundwork", tmp_path_factory.mktemp("gw-solved"), name="gw")
    solve(root)
    return root


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_the_project_holds_every_exercise_and_its_tests_but_no_hidden_tests(fresh):
    for e in groundwork.load():
        text = (fresh / e.file).read_text()
        assert "NotImplementedError" in text and '"""' in text
        assert text == groundwork.starting_text(e)  # reset relies on this
        assert (fresh / "tests" / f"test_{e.id}.py").is_file()
    assert not list(fresh.rglob("hidden"))
    assert not (fresh / "tests" / "groundwork_solutions").exists()
    exercises_dir = templates.get("groundwork").path / templates.PROJECT_DIR / "exercises"
    for source in exercises_dir.glob("*.py"):  # no Jinja: the template file is the start state
        assert "{{" not in source.read_text() and "{%" not in source.read_text()


def test_untouched_exercises_fail_every_visible_and_hidden_test(fresh):
    passed, failed, out = pytest_run(fresh, visible(fresh))
    assert passed == 0 and failed >= 6 * 3, out
    passed, failed, out = pytest_run(fresh, hidden())
    assert passed == 0 and failed >= 6 * 3, out


def test_reference_solutions_pass_every_visible_and_hidden_test(solved):
    passed, failed, out = pytest_run(solved, visible(solved))
    assert failed == 0 and passed >= 30, out
    passed, failed, out = pytest_run(solved, hidden())
    assert failed == 0 and passed >= 50, out


def test_a_hard_coded_answer_passes_the_visible_tests_but_not_the_hidden_ones(solved, tmp_path):
    # A copy of the solved exercises where cross_entropy returns the number the
    # visible test expects, whatever its input.
    root = tmp_path / "cheat"
    shutil.copytree(solved / "exercises", root / "exercises")
    shutil.copytree(solved / "tests", root / "tests")
    path = root / "exercises" / "softmax.py"
    path.write_text(path.read_text() + "\n\ndef cross_entropy(logits, labels):\n"
                    "    return float(np.log(4))\n")
    passed, failed, out = pytest_run(root, [root / "tests" / "test_softmax.py"])
    assert failed == 0 and passed == 5, out
    passed, failed, out = pytest_run(root, [HIDDEN / "test_softmax.py"])
    assert failed >= 4 and "test_cross_entropy_on_random_labels" in out


def test_a_looping_solution_passes_nothing_in_the_vectorise_checks(solved, tmp_path):
    root = tmp_path / "loops"
    shutil.copytree(solved / "exercises", root / "exercises")
    path = root / "exercises" / "vectorise.py"
    path.write_text(path.read_text() + "\n\ndef pairwise_distances(a, b):\n"
                    "    return pairwise_distances_loop(a, b)\n")
    passed, failed, out = pytest_run(root, [HIDDEN / "test_vectorise.py"])
    assert "test_no_loops_and_no_calls_to_the_loop_version[pairwise_distances]" in out
    assert failed == 1, out


def test_dlpath_check_counts_visible_and_hidden_tests(fresh, solved):
    report = checker.evaluate(solved, milestone="softmax", record=False)
    by_kind = {c.kind: c for c in report.all_checks}
    assert report.status == "pass", [(c.id, c.message, c.output) for c in report.all_checks]
    assert not by_kind["package_tests"].visible and report.score == report.max_score == 4
    report = checker.evaluate(fresh, milestone="softmax", record=False)
    assert [c.status for c in report.all_checks] == ["fail", "fail"]
    assert report.all_checks[1].message == "hidden check failed"


def test_dvc_repro_works_fresh_and_plots_the_solved_descent(fresh, solved):
    dvc("repro", cwd=fresh)
    metrics = json.loads((fresh / "metrics" / "descent.json").read_text())
    assert metrics["solved"] == 0 and (fresh / "plots" / "descent.png").stat().st_size > 1000
    assert json.loads(dvc("status", "--json", cwd=fresh).stdout) == {}
    dvc("repro", cwd=solved)
    metrics = json.loads((solved / "metrics" / "descent.json").read_text())
    assert metrics["solved"] == 1 and metrics["steps"] == 100 and metrics["converged"] == 1
    assert metrics["final_loss"] == pytest.approx(metrics["min_loss"], abs=1e-6)
    assert metrics["lr"] < metrics["lr_limit"]
    assert (solved / "plots" / "descent.png").read_bytes()[:4] == b"\x89PNG"


def test_next_walks_the_exercises_in_prerequisite_order(tmp_path, home, runner, monkeypatch):
    root = make_project("groundwork", tmp_path, name="gw")
    monkeypatch.chdir(root)

    def nxt():
        result = runner.invoke(app, ["next", "--json"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    first = nxt()
    assert first["kind"] == "exercise" and first["step"] == "vectors-and-matrices"
    assert "exercises/vectors.py" in first["title"]
    assert first["command"] == "dlpath check -m vectors"
    assert groundwork.get("vectors").hint in first["do"]
    runner.invoke(app, ["check", "-m", "vectors"])
    runner.invoke(app, ["check", "-m", "vectors"])
    practice = nxt()
    assert practice["kind"] == "practice" and "failed 2 times" in practice["why"]
    solve(root, ["vectors", "vectorise"])
    assert runner.invoke(app, ["check", "-m", "vectors"]).exit_code == 0
    assert nxt()["title"].startswith("Exercise 2: Vectorised NumPy")
    assert runner.invoke(app, ["check", "-m", "vectorise"]).exit_code == 0
    # softmax and descent both only need vectorise now: softmax comes first in the list
    assert nxt()["title"].startswith("Exercise 3: Softmax and cross-entropy")
    prog = progress.load()
    assert prog.is_done("vectors-and-matrices") and prog.is_done("numpy-vectorisation")
    assert prog.practice["vectors-and-matrices"]["fail_count"] == 2


def test_reset_keeps_the_learners_version_and_never_overwrites_a_backup(tmp_path, runner,
                                                                        monkeypatch):
    root = make_project("groundwork", tmp_path, name="gw")
    monkeypatch.chdir(root)
    target = root / "exercises" / "vectors.py"
    start = target.read_text()
    result = runner.invoke(app, ["reset", "vectors"])
    assert result.exit_code == 0 and "Nothing to reset" in result.stderr
    target.write_text("my first attempt\n")
    result = runner.invoke(app, ["reset", "vectors"])  # no terminal, no --yes
    assert result.exit_code == 2 and "dlpath reset vectors --yes" in result.stderr
    assert target.read_text() == "my first attempt\n"
    assert runner.invoke(app, ["reset", "vectors", "--yes"]).exit_code == 0
    assert target.read_text() == start
    assert (root / "exercises" / "vectors.py.bak").read_text() == "my first attempt\n"
    target.write_text("my second attempt\n")
    (root / "exercises" / "softmax.py").write_text("softmax attempt\n")
    result = runner.invoke(app, ["reset", "--all", "--yes"])
    assert result.exit_code == 0, result.output
    assert (root / "exercises" / "vectors.py.bak").read_text() == "my first attempt\n"
    assert (root / "exercises" / "vectors.py.bak-2").read_text() == "my second attempt\n"
    assert (root / "exercises" / "softmax.py.bak").read_text() == "softmax attempt\n"
    assert target.read_text() == start
    assert "vectors.py.bak-2" in result.stderr


def test_reset_refuses_bad_input_with_one_clear_line(tmp_path, runner, monkeypatch, fresh):
    monkeypatch.chdir(fresh)
    result = runner.invoke(app, ["reset", "vectros", "--yes"])
    assert result.exit_code == 2 and "Unknown exercise 'vectros'" in result.stderr
    assert "dlpath reset vectors" in result.stderr
    assert runner.invoke(app, ["reset"]).exit_code == 2
    assert runner.invoke(app, ["reset", "vectors", "--all"]).exit_code == 2
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["reset", "vectors", "--yes"])
    assert result.exit_code == 2 and "not inside a groundwork project" in result.stderr
    assert "dlpath new groundwork" in result.stderr and "Traceback" not in result.output


def test_reset_asks_on_a_terminal_and_a_no_changes_nothing(tmp_path, runner, monkeypatch):
    from types import SimpleNamespace

    from dlpath.commands import tutor as tutor_cmd

    root = make_project("groundwork", tmp_path, name="gw")
    monkeypatch.chdir(root)
    tty = SimpleNamespace(stdin=SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(tutor_cmd, "sys", tty)
    target = root / "exercises" / "descent.py"
    target.write_text("mine\n")
    result = runner.invoke(app, ["reset", "descent"], input="n\n")
    assert result.exit_code == 1 and "Nothing was changed" in result.stderr
    assert target.read_text() == "mine\n" and not (root / "exercises" / "descent.py.bak").exists()
    result = runner.invoke(app, ["reset", "descent"], input="y\n")
    assert result.exit_code == 0 and "Reset exercises/descent.py" in result.stderr
    assert (root / "exercises" / "descent.py.bak").read_text() == "mine\n"
    assert target.read_text() == groundwork.starting_text(groundwork.get("descent"))
