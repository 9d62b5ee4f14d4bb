"""Grading that can be trusted (issue 12): each class of forgery found by a
determined learner, reproduced, and shown caught -- in local mode where the
threat model says so, and in grader mode (``check --grade``) for all.

1. a forged cache entry;            2. learner code deciding a test verdict;
3. numbers taken on trust;          4. tamper detection switched off;
5. hidden thresholds and seeds;     6. git configuration running commands.

The projects: a groundwork project (real exercises, visible and hidden pytest
checks) and the tiny template of tests/tiny_template.py (a DVC stage, a
probe), both built once per module and copied per test.
"""

from __future__ import annotations

import json
import os
import py_compile
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlpath import checker, grader, results
from dlpath import groundwork as exercises_meta
from tests import tiny_template
from tests.conftest import dvc, make_project


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def commit(root: Path, message: str = "work") -> None:
    git("add", "-A", cwd=root)
    git("commit", "-qm", message, "--allow-empty", cwd=root)


def by_id(report, milestone: str | None = None) -> dict:
    return {c.id: c for c in report.all_checks if milestone in (None, c.milestone)}


def evaluate(root: Path, mode: str, milestone=None):
    """A local check of the working tree, or grader mode on a commit of it."""
    if mode == "grade":
        commit(root, "attempt")
        return grader.evaluate_commit(root, milestone=milestone)
    return checker.evaluate(root, milestone=milestone)


# ---------------------------------------------------------------- projects


@pytest.fixture(scope="module")
def groundwork(tmp_path_factory) -> Path:
    return make_project("groundwork", tmp_path_factory.mktemp("gw"))


@pytest.fixture
def gw(groundwork, tmp_path) -> Path:
    """A private copy of the fresh groundwork project."""
    return Path(shutil.copytree(groundwork, tmp_path / "gw", symlinks=True))


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory) -> Path:
    return tiny_template.install(tmp_path_factory.mktemp("templates"))


@pytest.fixture(scope="module")
def tiny_built(tiny_folder, tmp_path_factory) -> Path:
    """The tiny project, run, committed and pushed: every goal check passes."""
    with tiny_template.patched(tiny_folder):
        root = make_project("tiny", tmp_path_factory.mktemp("tiny"))
    dvc("repro", "-q", cwd=root)
    commit(root, "run")
    dvc("push", "-q", cwd=root)
    return root


@pytest.fixture
def tiny(tiny_folder, tiny_built, tmp_path):
    with tiny_template.patched(tiny_folder):
        yield Path(shutil.copytree(tiny_built, tmp_path / "tiny", symlinks=True))


def test_the_reference_tiny_project_passes_its_goal_in_both_modes(tiny):
    local = by_id(checker.evaluate(tiny, milestone="goal"))
    assert {c.status for c in local.values()} == {"pass"}, {
        c.id: c.message for c in local.values()}
    graded = grader.evaluate_commit(tiny, milestone="goal")
    assert {c.status for c in graded.all_checks} == {"pass"}
    assert graded.grade["pipeline"] == "re-run" and graded.grade["commit"]
    assert not any(c.cached for c in graded.all_checks)


# ------------------------------------------------------- 1. the cache


def _forge(root: Path, change) -> None:
    """Edit .dlpath/state.json as a learner would, by hand."""
    path = root / ".dlpath" / "state.json"
    state = json.loads(path.read_text())
    change(state)
    path.write_text(json.dumps(state))


def test_a_hand_forged_cache_entry_is_discarded_with_a_warning(gw):
    first = by_id(checker.evaluate(gw, milestone="vectors"))
    assert first["visible-tests"].status == "fail"

    def flip(state):
        for entry in state["cache"].values():
            if "status" in entry:
                entry["status"], entry["message"] = "pass", "passed in 0.1 s"
    _forge(gw, flip)
    report = checker.evaluate(gw, milestone="vectors")
    assert by_id(report)["visible-tests"].status == "fail"
    assert not any(c.cached for c in report.all_checks)
    assert any("was not written by dlpath for this project and account" in w
               for w in report.warnings)


def test_a_forged_dvc_answer_does_not_make_unpushed_outputs_pushed(tiny):
    (tiny / "params.yaml").write_text("seed: 42\ntrain:\n  margin: 0.01\n")
    dvc("repro", "-q", cwd=tiny)  # a new model, never pushed
    assert by_id(checker.evaluate(tiny, milestone="versioned"))["pushed"].status == "fail"

    def pushed(state):
        state["cache"]["dvc"]["cloud"] = {"status": {}}
    _forge(tiny, pushed)
    assert by_id(checker.evaluate(tiny, milestone="versioned"))["pushed"].status == "fail"


def test_an_ill_typed_state_is_discarded_not_an_error_for_every_check(gw):
    (gw / ".dlpath" / "state.json").write_text(json.dumps(
        {"format_version": 1, "milestones": {"vectors": {"fail_count": "many"}}, "cache": 5}))
    report = checker.evaluate(gw, milestone="vectors", run_commands=False)
    assert {c.status for c in report.all_checks} == {"skipped"}
    assert any("its cached results were discarded" in w for w in report.warnings)
    warnings: list[str] = []
    results.load(gw, warnings)  # rewritten, valid and signed
    assert warnings == []


def test_grader_mode_reads_no_cache_even_a_validly_signed_one(gw):
    checker.evaluate(gw, milestone="vectors")  # records the failures in the cache

    def forged(state):  # what only someone holding the per-user key could write
        for entry in state["cache"].values():
            if "status" in entry:
                entry["status"] = "pass"
    results.update(gw, forged)
    assert by_id(checker.evaluate(gw, milestone="vectors"))["visible-tests"].cached
    graded = grader.evaluate_commit(gw, milestone="vectors")
    assert by_id(graded)["visible-tests"].status == "fail"
    assert not any(c.cached for c in graded.all_checks)


# ------------------------------------------- 2. who decides a test verdict

SOLVED_VECTORS = exercises_meta.reference_text(exercises_meta.get("vectors"))  # the regions


def _exit_early(root: Path) -> None:
    path = root / "exercises" / "vectors.py"
    path.write_text("import os\nos._exit(0)\n" + path.read_text())


def _shadow_pytest(root: Path) -> None:
    (root / "pytest.py").write_text("import sys\nsys.exit(0)\n")


def _startup_hook(root: Path) -> None:
    (root / "sitecustomize.py").write_text(
        "import os, sys\nif 'pytest' in ' '.join(sys.argv):\n    os._exit(0)\n")
    (root / "usercustomize.py").write_text("import os\nos._exit(0)\n")


def _stale_bytecode(root: Path) -> None:
    # The solution compiled into a pyc that Python would load without ever
    # comparing it with the (still unsolved) source.
    solution = root / "solution_tmp.py"
    solution.write_text(SOLVED_VECTORS)
    target = root / "exercises" / "__pycache__" / f"vectors.{sys.implementation.cache_tag}.pyc"
    target.parent.mkdir(exist_ok=True)
    py_compile.compile(str(solution), cfile=str(target), dfile="exercises/vectors.py",
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    solution.unlink()


def _collect_only(root: Path) -> None:
    text = (root / "pyproject.toml").read_text()
    (root / "pyproject.toml").write_text(text.replace('addopts = "-rs"',
                                                      'addopts = "-rs --collect-only"'))


def _passing_conftest(root: Path) -> None:
    (root / "conftest.py").write_text(textwrap.dedent("""\
        import pytest

        @pytest.hookimpl(hookwrapper=True)
        def pytest_runtest_makereport(item, call):
            outcome = yield
            report = outcome.get_result()
            report.outcome = "passed"
            report.longrepr = None
        """))


ATTACKS = {"exit-0": _exit_early, "pytest-module": _shadow_pytest,
           "start-up-hook": _startup_hook, "stale-bytecode": _stale_bytecode,
           "collect-only": _collect_only, "conftest": _passing_conftest}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_learner_code_cannot_decide_the_test_verdict_locally(gw, attack):
    ATTACKS[attack](gw)
    checks = by_id(checker.evaluate(gw, milestone="vectors", record=False))
    assert checks["visible-tests"].status == "fail", checks["visible-tests"].message
    assert checks["hidden-tests"].status == "fail"


@pytest.mark.slow
@pytest.mark.parametrize("attack", ["collect-only", "exit-0", "stale-bytecode", "start-up-hook"])
def test_learner_code_cannot_decide_the_test_verdict_in_grader_mode(gw, attack):
    # the same runner as locally, from a clean checkout: a sample of the attacks
    ATTACKS[attack](gw)
    checks = by_id(evaluate(gw, "grade", milestone="vectors"))
    assert checks["visible-tests"].status == "fail", checks["visible-tests"].message
    assert checks["hidden-tests"].status == "fail"


def test_the_solved_exercise_passes_in_both_modes(gw):
    (gw / "exercises" / "vectors.py").write_text(SOLVED_VECTORS)
    for mode in ("local", "grade"):
        checks = by_id(evaluate(gw, mode, milestone="vectors"))
        assert {c.status for c in checks.values()} == {"pass"}, (mode, {
            c.id: c.message for c in checks.values()})


def test_a_test_file_reported_without_its_tests_does_not_pass(gw):
    # The learner's copy of the visible test, emptied of its tests: tampering,
    # and even the run itself proves nothing.
    (gw / "exercises" / "vectors.py").write_text(SOLVED_VECTORS)
    (gw / "tests" / "test_vectors.py").write_text("def test_nothing():\n    pass\n")
    checks = by_id(checker.evaluate(gw, milestone="vectors", record=False))
    assert checks["visible-tests"].status == "fail"
    assert "tests/test_vectors.py" in checks["visible-tests"].message


# --------------------------------------------------- 3. numbers on trust


def _echo_pipeline(root: Path) -> None:
    """The pipeline replaced by a stage that echoes a perfect metric."""
    (root / "echo.py").write_text(
        "import json, pathlib\npathlib.Path('metrics').mkdir(exist_ok=True)\n"
        "json.dump({'acc': 1.0}, open('metrics/m.json', 'w'))\n")
    (root / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          train:
            cmd: python echo.py
            deps: [echo.py]
            metrics:
              - metrics/m.json:
                  cache: false
        """))
    shutil.rmtree(root / "models", ignore_errors=True)
    dvc("repro", "-q", cwd=root)


def _edited_metrics(root: Path) -> None:
    """A weak model (margin 0.3: ~70%), then a hand-edited metric with the
    matching md5 in dvc.lock, so dvc status stays clean."""
    import hashlib

    import yaml

    (root / "params.yaml").write_text("seed: 42\ntrain:\n  margin: 0.3\n")
    dvc("repro", "-q", cwd=root)
    metrics = root / "metrics" / "m.json"
    metrics.write_text(json.dumps({"acc": 0.99}))
    lock = yaml.safe_load((root / "dvc.lock").read_text())
    for out in lock["stages"]["train"]["outs"]:
        if out["path"] == "metrics/m.json":
            out["md5"] = hashlib.md5(metrics.read_bytes()).hexdigest()  # noqa: S324 - DVC's
            out["size"] = metrics.stat().st_size
    (root / "dvc.lock").write_text(yaml.safe_dump(lock, sort_keys=False))


@pytest.mark.parametrize("mode", ["local", "grade"])
def test_a_pipeline_that_echoes_metrics_fails_the_goal(tiny, mode):
    _echo_pipeline(tiny)
    checks = by_id(evaluate(tiny, mode, milestone="goal"))
    assert checks["train-stage"].status == "fail"
    assert "no longer runs proj.train" in checks["train-stage"].message
    assert checks["acc"].status == "fail"
    assert "dlpath could not measure your model" in checks["acc"].message
    assert checks["acc-floor"].status == "fail"


@pytest.mark.parametrize("mode", ["local", "grade"])
def test_a_hand_edited_metric_with_a_matching_lock_fails(tiny, mode):
    _edited_metrics(tiny)
    report = evaluate(tiny, mode, milestone=["goal", "reproducible"])
    checks = by_id(report)
    assert checks["acc"].status == "fail"
    if mode == "local":
        assert checks["pipeline-up-to-date"].status == "pass"  # the lock was forged to match
        assert "metrics/m.json says acc = 0.99, dlpath measured 0." in checks["acc"].message
    else:  # the pipeline re-ran: the number is dlpath's own
        assert "dlpath measured acc = 0." in checks["acc"].message
        assert "(needs >= 0.9)" in checks["acc"].message


# -------------------------------------------------------- 4. tampering


def test_emptying_the_recorded_checksums_does_not_hide_an_edited_test(gw):
    meta = gw / ".dlpath" / "project.json"
    data = json.loads(meta.read_text())
    data["checksums"] = {}
    meta.write_text(json.dumps(data))
    (gw / "tests" / "test_vectors.py").write_text("def test_x():\n    pass\n")
    report = checker.evaluate(gw, milestone="vectors", run_commands=False)
    assert "tests/test_vectors.py" in report.tampered


@pytest.mark.parametrize("mode, added", [
    ("local", "conftest.py"), ("local", "tests/conftest.py"), ("local", "pytest.ini"),
    ("local", "sitecustomize.py"), ("local", "setup.cfg"), ("grade", "tests/conftest.py")])
def test_an_added_test_collection_file_is_tampering(gw, mode, added):
    text = "[tool:pytest]\naddopts = -x\n" if added == "setup.cfg" else (
        "[pytest]\n" if added == "pytest.ini" else "X = 1\n")
    path = gw / added
    path.write_text(path.read_text() + text if path.exists() else text)
    report = evaluate(gw, mode, milestone="vectors") if mode == "grade" else \
        checker.evaluate(gw, milestone="vectors", run_commands=False)
    assert added in report.tampered


def test_deleting_project_json_and_writing_a_rubric_is_still_graded_as_groundwork(gw, runner):
    from dlpath.cli import app

    (gw / ".dlpath" / "project.json").unlink()
    (gw / ".dlpath" / "rubric.yaml").write_text(textwrap.dedent("""\
        format_version: 1
        milestones:
          - id: easy
            title: Easy
            step: s
            checks:
              - {id: x, kind: file_exists, path: README.md, hint: h}
        """))
    report = checker.evaluate(gw, run_commands=False, record=False)
    assert report.template == "groundwork"
    assert "vectors" in [m.id for m in report.milestones]
    assert ".dlpath/project.json" in report.tampered
    assert any("was deleted" in w for w in report.warnings)
    # and where there is no first commit to go by, a hand-written rubric
    # never reads as "hidden ones included"
    shutil.rmtree(gw / ".git")
    result = runner.invoke(app, ["check", str(gw)])
    assert result.exit_code == 0, result.output
    assert "hidden ones included" not in result.stdout
    assert "(of a hand-written rubric, not a dlpath template's)" in result.stdout


def test_changing_the_template_in_project_json_is_tampering(gw):
    meta = gw / ".dlpath" / "project.json"
    data = json.loads(meta.read_text())
    data["template"] = "xai"
    meta.write_text(json.dumps(data))
    report = checker.evaluate(gw, run_commands=False, record=False)
    assert report.template == "groundwork" and ".dlpath/project.json" in report.tampered


# ------------------------------------------ 5. hidden thresholds and seeds


def test_hidden_tests_draw_a_fresh_seed_each_run(tiny, tmp_path, monkeypatch):
    seeds = tmp_path / "seeds.txt"
    monkeypatch.setenv("TINY_SEEDS", str(seeds))
    for _ in range(2):
        checker.evaluate(tiny, milestone="goal", use_cache=False, record=False)
    drawn = seeds.read_text().split()
    assert len(drawn) == 2 and drawn[0] != drawn[1]


def test_a_hand_written_metric_learns_nothing_about_a_hidden_threshold(tiny):
    # Bisection: whatever the learner writes, the hidden check answers the
    # same way until the model itself is better.
    (tiny / "params.yaml").write_text("seed: 42\ntrain:\n  margin: 0.04\n")  # ~96%
    dvc("repro", "-q", cwd=tiny)
    answers = set()
    for value in (0.5, 0.96, 0.969, 0.971, 0.99):
        (tiny / "metrics" / "m.json").write_text(json.dumps({"acc": value}))
        hidden = by_id(checker.evaluate(tiny, milestone="goal", record=False))["acc-floor"]
        answers.add((hidden.status, "0.97" in hidden.message))
    assert answers == {("fail", False)}


# ------------------------------------------------------ 6. git config


@pytest.mark.parametrize("mode", ["local", "grade"])
def test_git_configuration_runs_no_command(gw, tmp_path, mode):
    marker = tmp_path / "ran"
    hook = tmp_path / "monitor.sh"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    git("config", "core.fsmonitor", str(hook), cwd=gw)
    hooks = gw / ".git" / "hooks"
    for name in ("post-checkout", "pre-commit", "post-index-change"):
        (hooks / name).write_text(f"#!/bin/sh\ntouch {marker}\n")
        (hooks / name).chmod(0o755)
    if mode == "grade":
        git("-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null", "commit",
            "-qm", "x", "--allow-empty", cwd=gw)
        grader.evaluate_commit(gw, milestone="reproducible", run_commands=False)
    else:
        checker.evaluate(gw, milestone="reproducible", run_commands=False)
    assert not marker.exists()


# ------------------------------------------------------- grader mode itself


def test_grader_mode_grades_the_commit_not_the_working_tree(gw, runner):
    from dlpath.cli import app

    (gw / "exercises" / "vectors.py").write_text(SOLVED_VECTORS)  # solved, not committed
    local = by_id(checker.evaluate(gw, milestone="vectors", record=False))
    assert local["visible-tests"].status == "pass"
    result = runner.invoke(app, ["check", str(gw), "--grade", "-m", "vectors", "--json"])
    data = json.loads(result.stdout)
    assert result.exit_code == 1
    assert data["mode"] == "grade" and len(data["grade"]["commit"]) == 40
    assert {t["status"] for t in data["tests"]} == {"fail"}
    assert not (gw / ".dlpath" / "state.json").exists()  # grader mode records nothing


def test_grader_mode_refuses_a_missing_commit_or_a_project_without_git(gw, tmp_path, runner):
    from dlpath.cli import app

    result = runner.invoke(app, ["check", str(gw), "--grade", "--commit", "nope"])
    assert result.exit_code == 2 and "No commit 'nope'" in result.stderr
    result = runner.invoke(app, ["check", str(gw), "--commit", "HEAD~1"])
    assert result.exit_code == 2 and "--commit needs --grade" in result.stderr
    bare = Path(shutil.copytree(gw, tmp_path / "bare", ignore=shutil.ignore_patterns(".git")))
    result = runner.invoke(app, ["check", str(bare), "--grade"])
    assert result.exit_code == 2 and "is not a git repository" in result.stderr


def test_grader_mode_leaves_no_trace(gw):
    before = sorted(p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(
        "dlpath-grade-*"))
    status = git("status", "--porcelain", "--ignored", cwd=gw)
    grader.evaluate_commit(gw, milestone="versioned", run_commands=False)
    after = sorted(p.name for p in Path(os.environ.get("TMPDIR", "/tmp")).glob(
        "dlpath-grade-*"))
    assert after == before
    assert git("status", "--porcelain", "--ignored", cwd=gw) == status
    assert "worktree" not in git("worktree", "list", cwd=gw).split()[1:]


def test_a_changed_hidden_support_module_re_runs_the_hidden_tests(tiny, tiny_folder):
    first = by_id(checker.evaluate(tiny, milestone="goal"))
    assert first["hidden-tests"].status == "pass"
    assert by_id(checker.evaluate(tiny, milestone="goal"))["hidden-tests"].cached
    support = tiny_folder / "tiny" / "hidden" / "support_module.py"
    support.write_text("TOLERANCE = 0.01\n")
    try:
        again = by_id(checker.evaluate(tiny, milestone="goal"))
    finally:
        support.unlink()
    assert again["hidden-tests"].status == "pass" and not again["hidden-tests"].cached
