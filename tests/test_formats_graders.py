"""The ready-to-use platform wrappers in docs/graders/, run as each platform runs
them (paths pointed at tmp_path): Gradescope's run_autograder, exercism's
bin/run.sh, the GitHub Classroom workflow's dlpath step followed by the grading
reporter (ported in tests/platform_specs/classroom.py), and PrairieLearn's
entry point. Each leaves a results file its platform's validator accepts, for a
project and for a submission that is not one, and never touches the project's
grade."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import yaml

from dlpath import rubric
from tests.conftest import ROOT, make_project
from tests.platform_specs import Invalid, classroom, exercism, gradescope, prairielearn

GRADERS = ROOT / "docs" / "graders"
FAST = {"DLPATH_CHECK_ARGS": "--no-commands"}  # the command checks have their own tests


def env(**extra: str) -> dict[str, str]:
    return {**os.environ, **FAST, **extra}


def git_status(root: Path) -> str:
    return subprocess.run(["git", "status", "--porcelain", "--untracked-files=all"], cwd=root,
                          capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    return make_project("groundwork", tmp_path_factory.mktemp("graders"))


@pytest.fixture
def copy(project, tmp_path):
    def make(dest: Path) -> Path:
        shutil.copytree(project, dest, symlinks=True)
        return dest
    return make


def hidden_ids(root: Path) -> set[str]:
    return {c.id for m in rubric.load_for_project(root).milestones for c in m.checks
            if not c.visible}


def test_the_wrappers_are_executable_and_cite_their_platform():
    for rel, cites in [("gradescope/run_autograder", "docs/specs.md"),
                       ("exercism/bin/run.sh", "test-runners/interface.md"),
                       ("prairielearn/run.sh", "docs/externalGrading.md"),
                       ("classroom/classroom.yml", "autograding-grading-reporter")]:
        path = GRADERS / rel
        assert cites in path.read_text(), rel
        if not rel.endswith(".yml"):
            assert os.access(path, os.X_OK), f"{rel} is not executable"
            subprocess.run(["bash", "-n", str(path)], check=True)


# ------------------------------------------------------------------ Gradescope

def run_autograder(root: Path, **extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(GRADERS / "gradescope" / "run_autograder")], cwd=root,
                          env=env(AUTOGRADER_ROOT=str(root), **extra), capture_output=True,
                          text=True, timeout=600)


def test_gradescope_run_autograder(copy, tmp_path):
    root = tmp_path / "autograder"
    submission = copy(root / "submission")
    before = git_status(submission)
    proc = run_autograder(root)
    assert proc.returncode == 0, proc.stderr
    doc = gradescope.validate((root / "results" / "results.json").read_text())
    concealed = {t["extra_data"]["dlpath"]["check"] for t in doc["tests"]
                 if t["visibility"] == "after_published"}
    assert concealed == hidden_ids(submission)
    assert git_status(submission) == before  # results outside the project

    hidden = run_autograder(root, DLPATH_HIDDEN_VISIBILITY="hidden")
    assert hidden.returncode == 0
    doc = gradescope.validate((root / "results" / "results.json").read_text())
    assert {t["visibility"] for t in doc["tests"]} == {"visible", "hidden"}


def test_gradescope_finds_a_project_one_folder_down_and_reports_a_non_project(copy, tmp_path):
    root = tmp_path / "autograder"
    copy(root / "submission" / "my-project")
    assert run_autograder(root).returncode == 0
    doc = gradescope.validate((root / "results" / "results.json").read_text())
    assert doc["tests"] and doc["extra_data"]["dlpath"]["template"] == "groundwork"

    other = tmp_path / "other"
    (other / "submission").mkdir(parents=True)
    (other / "submission" / "homework.py").write_text("print('hi')\n")
    assert run_autograder(other).returncode == 0
    doc = gradescope.validate((other / "results" / "results.json").read_text())
    assert doc["score"] == 0 and "was not created by dlpath" in doc["output"]


def test_gradescope_when_dlpath_cannot_start(tmp_path):
    (tmp_path / "submission").mkdir()
    proc = run_autograder(tmp_path, DLPATH="/nonexistent/dlpath")
    assert proc.returncode == 0
    doc = gradescope.validate((tmp_path / "results" / "results.json").read_text())
    assert "dlpath could not run (exit status 127)" in doc["output"]


# -------------------------------------------------------------------- exercism

RUN_SH = GRADERS / "exercism" / "bin" / "run.sh"


def test_exercism_runner(copy, tmp_path):
    solution = copy(tmp_path / "input")
    doc = exercism.run_runner(RUN_SH, "groundwork", solution, tmp_path / "output", env=env())
    assert doc["version"] == 2 and doc["status"] == "fail"  # the input was left as it was
    messages = {t["message"] for t in doc["tests"] if t["status"] != "pass"}
    assert not any(str(tmp_path) in m for m in messages)
    assert not any(t for t in doc["tests"] if "output" in t)


def test_exercism_runner_on_what_is_not_a_project(tmp_path):
    (tmp_path / "input").mkdir()
    (tmp_path / "input" / "two_fer.py").write_text("def two_fer(): ...\n")
    doc = exercism.run_runner(RUN_SH, "two-fer", tmp_path / "input", tmp_path / "out", env=env())
    assert doc["status"] == "error"
    assert doc["message"].startswith("dlpath could not check this solution: '<solution-dir>'")
    missing = exercism.run_runner(RUN_SH, "x", tmp_path / "nowhere", tmp_path / "out2", env=env())
    assert missing["status"] == "error" and "is not a directory" in missing["message"]
    broken = exercism.run_runner(RUN_SH, "x", tmp_path / "input", tmp_path / "out3",
                                 env=env(DLPATH="/nonexistent/dlpath"))
    assert broken["message"] == "dlpath could not run (exit status 127)."


def test_exercism_runner_without_its_arguments_says_how_to_call_it(tmp_path):
    proc = subprocess.run([str(RUN_SH), "slug"], capture_output=True, text=True, env=env())
    assert proc.returncode == 2 and "usage:" in proc.stderr


# ------------------------------------------------------------ GitHub Classroom

def workflow() -> dict:
    return yaml.safe_load((GRADERS / "classroom" / "classroom.yml").read_text())


def test_classroom_workflow_step_and_reporter(copy, tmp_path):
    steps = workflow()["jobs"]["run-autograding-tests"]["steps"]
    ours = next(s for s in steps if s.get("id") == "dlpath")
    report_step = next(s for s in steps
                       if str(s.get("uses", "")).startswith(
                           "classroom-resources/autograding-grading-reporter@"))
    assert report_step["with"]["runners"] == "dlpath"
    assert "fetch-depth" in next(s for s in steps if "actions/checkout" in str(s.get("uses")))[
        "with"]

    repo = copy(tmp_path / "repo")
    before = git_status(repo)
    github_output = tmp_path / "github_output"
    runner_temp = tmp_path / "runner_temp"
    runner_temp.mkdir()
    proc = subprocess.run(["bash", "-e", "-c", ours["run"]], cwd=repo, capture_output=True,
                          text=True, timeout=600,
                          env=env(GITHUB_OUTPUT=str(github_output), RUNNER_TEMP=str(runner_temp),
                                  **{k: str(v) for k, v in ours.get("env", {}).items()
                                     if k != "DLPATH_CHECK_ARGS"}))
    assert proc.returncode == 0, proc.stderr
    assert git_status(repo) == before

    outputs = dict(line.split("=", 1) for line in github_output.read_text().splitlines())
    step_env = {}
    for name, value in report_step["env"].items():
        match = re.fullmatch(r"\$\{\{\s*steps\.([\w-]+)\.outputs\.(\w+)\s*\}\}", value)
        assert match and match.group(1) == "dlpath", value
        step_env[name] = outputs[match.group(2)]
    seen = classroom.reporter(step_env, report_step["with"]["runners"])
    classroom.validate(json.loads(base64.b64decode(step_env["DLPATH_RESULTS"])))
    assert seen.failed == "Some tests errored."  # --no-commands: checks not run
    assert "🔄 Processing: dlpath" in seen.text and "line undefined" not in seen.text
    for secret in hidden_ids(repo):
        assert secret not in seen.text
    assert seen.notified and seen.max_points > 0


def test_classroom_step_when_dlpath_cannot_start(tmp_path):
    ours = next(s for s in workflow()["jobs"]["run-autograding-tests"]["steps"]
                if s.get("id") == "dlpath")
    github_output = tmp_path / "out"
    proc = subprocess.run(["bash", "-e", "-c", ours["run"].replace("dlpath check", "/nonexistent")],
                          cwd=tmp_path, capture_output=True, text=True,
                          env=env(GITHUB_OUTPUT=str(github_output), RUNNER_TEMP=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    encoded = github_output.read_text().strip().split("=", 1)[1]
    seen = classroom.reporter({"DLPATH_RESULTS": encoded}, "dlpath")
    assert seen.failed == "Some tests errored." and "dlpath could not run" in seen.text


# ---------------------------------------------------------------- PrairieLearn

PL_ENTRY = GRADERS / "prairielearn" / "run.sh"


def zip_folder(folder: Path, archive: Path) -> None:
    with zipfile.ZipFile(archive, "w") as z:
        for path in sorted(folder.rglob("*")):
            if not path.is_symlink() and path.is_file():
                z.write(path, Path(folder.name) / path.relative_to(folder))


def test_prairielearn_entry_with_a_zipped_project(project, tmp_path):
    grade = tmp_path / "grade"
    (grade / "student").mkdir(parents=True)
    zip_folder(project, grade / "student" / "project.zip")
    doc = prairielearn.run_entry(PL_ENTRY, grade, env(PL_GRADE_ROOT=str(grade)))
    assert doc["gradable"] is True and 0 <= doc["score"] < 1
    assert doc["dlpath"]["template"] == "groundwork"
    # the commits came with the zip: the git checks ran on the learner's history
    names = {t["name"]: t for t in doc["tests"]}
    assert "not a git repository" not in names["Versioned from day one: commits"]["message"]


def test_prairielearn_entry_with_loose_files_and_a_bad_archive(copy, tmp_path):
    grade = tmp_path / "grade"
    copy(grade / "student")
    assert prairielearn.run_entry(PL_ENTRY, grade, env(PL_GRADE_ROOT=str(grade)))["gradable"]

    bad = tmp_path / "bad"
    (bad / "student").mkdir(parents=True)
    (bad / "student" / "project.zip").write_bytes(b"not a zip")
    doc = prairielearn.run_entry(PL_ENTRY, bad, env(PL_GRADE_ROOT=str(bad)))
    assert doc["gradable"] is False and doc["format_errors"]

    broken = tmp_path / "broken"
    (broken / "student").mkdir(parents=True)
    doc = prairielearn.run_entry(PL_ENTRY, broken,
                                 env(PL_GRADE_ROOT=str(broken), DLPATH="/nonexistent/dlpath"))
    assert doc == {"gradable": False, "format_errors": ["dlpath could not run (exit status 127)."]}


def test_the_entry_validator_can_fail(tmp_path):
    """A valid results file from an entry point that exits non-zero is refused,
    as PrairieLearn's grader host ignores it."""
    script = tmp_path / "entry.sh"
    script.write_text("#!/bin/sh\nmkdir -p results\necho '{\"score\": 1}' > results/results.json\n"
                      "exit 3\n")
    script.chmod(0o755)
    with pytest.raises(Invalid, match="exited 3"):
        prairielearn.run_entry(script, tmp_path, dict(os.environ))
