"""`dlpath check --format json|gradescope|exercism|classroom|prairielearn`: every
document validates against its platform's validator (tests/platform_specs,
written from each platform's specification), on a fresh groundwork project
(all fail), a project whose metrics file is not JSON (errors), `--no-commands`
(skipped checks) and an empty directory (exit 2); hidden checks are mapped as
docs/check-json.md says; `--output` never changes the grade nor overwrites a
learner's file. The quantization project after `dvc repro` (solved, before
its first commit: mixed results) is in test_check_templates.py, the platform
wrappers in test_formats_graders.py."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import pytest

from dlpath import checker, rubric
from dlpath.cli import app
from tests.conftest import make_project
from tests.platform_specs import Invalid, classroom, dlpath_json, exercism, gradescope, prairielearn
from tests.test_checks import git, write_rubric

FORMATS = ("json", "gradescope", "exercism", "classroom", "prairielearn")


def validate(fmt: str, text: str) -> dict:
    """The document, judged by its platform's validator (Invalid if it would be refused)."""
    if fmt == "json":
        return dlpath_json.validate(text)
    if fmt == "gradescope":
        return gradescope.validate(text)
    if fmt == "exercism":
        return exercism.validate(text)
    if fmt == "prairielearn":
        return prairielearn.validate(text)
    doc = classroom.validate(json.loads(text))
    # and the reporter reads it as the workflow hands it over: base64 in DLPATH_RESULTS
    seen = classroom.reporter({"DLPATH_RESULTS": base64.b64encode(text.encode()).decode()},
                              "dlpath")
    assert seen.failed in (None, "Some tests failed.", "Some tests errored."), seen.failed
    assert "line undefined" not in seen.text and "NaN" not in seen.text
    return doc


def check(runner, target: Path, fmt: str, out: Path, *args: str):
    """`dlpath check TARGET --format FMT --output OUT ARGS`: (exit code, validated document)."""
    result = runner.invoke(app, ["check", str(target), "--format", fmt, "--output", str(out),
                                 *args])
    assert "Traceback" not in result.output + result.stderr
    assert result.stdout == "", "with --output, stdout stays empty"
    return result.exit_code, validate(fmt, out.read_text(encoding="utf-8"))


def hidden_ids(root: Path) -> list[str]:
    return [c.id for m in rubric.load_for_project(root).milestones for c in m.checks
            if not c.visible]


# ------------------------------------------------------------------ projects

@pytest.fixture(scope="module")
def groundwork(tmp_path_factory) -> Path:
    """A fresh groundwork project, checked once in full so that the command
    checks' results are cached for the formats that follow."""
    root = make_project("groundwork", tmp_path_factory.mktemp("gw"))
    from typer.testing import CliRunner

    first = CliRunner().invoke(app, ["check", str(root), "--json"])
    assert first.exit_code == 1, first.stderr
    return root


@pytest.fixture(scope="module")
def broken_metrics(tmp_path_factory) -> Path:
    """A quantization project whose metrics files are not JSON."""
    root = make_project("quantization", tmp_path_factory.mktemp("broken"))
    files = {c.args["file"] for m in rubric.load_for_project(root).milestones
             for c in m.checks if c.kind in ("metric", "metric_ratio")}
    assert files, "the quantization rubric has metric checks"
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text("{not json", encoding="utf-8")
    return root


# ------------------------------------------------------- the five cases validate

@pytest.mark.parametrize("fmt", FORMATS)
def test_a_fresh_groundwork_project_fails_everywhere(groundwork, fmt, runner, tmp_path):
    code, doc = check(runner, groundwork, fmt, tmp_path / "r.json")
    assert code == 1
    report = checker.evaluate(groundwork, record=False)  # cached: the same results
    assert report.score < report.max_score
    if fmt == "exercism":
        assert doc["status"] == "fail"
        assert [t["name"] for t in doc["tests"]] == [
            f"{m.title}: {c.id}" for m in report.milestones for c in m.checks]  # rubric order
    elif fmt == "classroom":
        assert doc["status"] == "fail" and doc["max_score"] == report.max_score
    elif fmt == "prairielearn":
        assert doc["gradable"] is True
        assert doc["score"] == pytest.approx(report.score / report.max_score)
    elif fmt == "gradescope":
        assert doc["score"] == report.score
        assert sum(t["max_score"] for t in doc["tests"]) == report.max_score
    else:
        assert doc["status"] == "fail"


@pytest.mark.parametrize("fmt", FORMATS)
def test_skipped_checks(groundwork, fmt, runner, tmp_path):
    code, doc = check(runner, groundwork, fmt, tmp_path / "r.json", "--no-commands")
    assert code == 1
    not_run = [c for c in checker.evaluate(groundwork, record=False, run_commands=False)
               .all_checks if c.status == "skipped"]
    assert not_run, "groundwork has command checks"
    if fmt == "exercism":
        errors = [t for t in doc["tests"] if t["status"] == "error"]
        assert len(errors) == len(not_run)
        assert all("--no-commands" in t["message"] for t in errors if "hidden" not in t["message"])
    elif fmt == "gradescope":
        skipped = [t for t in doc["tests"] if t["extra_data"]["dlpath"]["status"] == "skipped"]
        assert len(skipped) == len(not_run)
        assert all(t["status"] == "failed" and t["score"] == 0 and "--no-commands" in t["output"]
                   for t in skipped)
        assert "not run (--no-commands)" in doc["output"]
    elif fmt == "classroom":
        assert sum(t["status"] == "error" for t in doc["tests"]) == len(not_run)
    elif fmt == "json":
        assert doc["skipped"] == len(not_run)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_metrics_file_that_is_not_json(broken_metrics, fmt, runner, tmp_path):
    code, doc = check(runner, broken_metrics, fmt, tmp_path / "r.json", "--no-commands")
    assert code == 1
    if fmt == "json":
        assert doc["status"] == "error"
        assert any(t["status"] == "error" for t in doc["tests"])
    elif fmt == "exercism":
        # some checks ran (git, files): not an exercism "error", which means none ran
        assert doc["status"] == "fail"
        assert any(t["status"] == "error" for t in doc["tests"])
    elif fmt == "classroom":
        assert doc["status"] == "error"
    elif fmt == "prairielearn":
        assert doc["gradable"] is True  # the learner's file: it scores 0, not "ungradable"


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_empty_directory_is_a_valid_error_document(fmt, runner, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    code, doc = check(runner, empty, fmt, tmp_path / "r.json")
    assert code == 2
    reason = "was not created by dlpath and has no rubric."
    text = json.dumps(doc)
    assert reason in text
    if fmt == "json":
        assert doc["status"] == "error" and doc["exit_code"] == 2 and doc["tests"] == []
    elif fmt == "gradescope":
        assert doc["score"] == 0 and reason in doc["output"]
    elif fmt == "exercism":
        assert doc["status"] == "error" and "tests" not in doc
        assert str(empty) not in doc["message"] and "<solution-dir>" in doc["message"]
    elif fmt == "classroom":
        assert doc["status"] == "error" and doc["tests"][0]["status"] == "error"
    else:
        assert doc["gradable"] is False and reason in doc["format_errors"][0]
    assert not list(empty.iterdir()), "nothing written into the checked directory"


def test_json_on_an_error_goes_to_stdout_with_the_message(runner, tmp_path):
    """issue 13: `check --json` on an error prints a JSON object with status "error"."""
    result = runner.invoke(app, ["check", str(tmp_path), "--json"])
    assert result.exit_code == 2
    doc = dlpath_json.validate(result.stdout)
    assert doc["status"] == "error"
    assert doc["message"].endswith("was not created by dlpath and has no rubric.")
    assert doc["hint"].startswith("Create a project with 'dlpath new")
    assert result.stderr.startswith("Error: ")  # and the learner's line, as ever
    missing = runner.invoke(app, ["check", str(tmp_path / "nowhere"), "--format", "exercism"])
    assert missing.exit_code == 2
    assert exercism.validate(missing.stdout)["message"].endswith("is not a directory.")


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unexpected_error_still_gives_a_valid_document(fmt, runner, tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(checker, "evaluate", broken)
    result = runner.invoke(app, ["check", str(tmp_path), "--format", fmt])
    assert result.exit_code == 1
    assert "Unexpected error: RuntimeError: boom" in result.stderr
    assert "RuntimeError: boom" in json.dumps(validate(fmt, result.stdout))


# -------------------------------------------------------------- hidden checks

def test_gradescope_hidden_checks_wait_for_publication(groundwork, runner, tmp_path):
    hidden = hidden_ids(groundwork)
    assert hidden
    _, doc = check(runner, groundwork, "gradescope", tmp_path / "r.json")
    concealed = [t for t in doc["tests"] if t["visibility"] != "visible"]
    assert sorted(t["extra_data"]["dlpath"]["check"] for t in concealed) == sorted(hidden)
    assert {t["visibility"] for t in concealed} == {"after_published"}
    now = gradescope.student_view(doc, "submitted")
    assert len(now["tests"]) == len(doc["tests"]) - len(hidden)
    assert now["total_score"] is False
    assert "Hidden checks passed" not in now["output"]  # the summary shows at once
    assert "hidden check(s) also count (shown once grades are published)" in now["output"]
    published = gradescope.student_view(doc, "after_published")
    assert len(published["tests"]) == len(doc["tests"]) and published["total_score"]
    # names, scores and dlpath's fields are all there for the instructor
    assert all(t["name"].endswith(t["extra_data"]["dlpath"]["check"]) for t in doc["tests"])
    assert doc["extra_data"]["dlpath"]["hidden"]["total"] == len(hidden)

    _, never = check(runner, groundwork, "gradescope", tmp_path / "h.json",
                     "--hidden-visibility", "hidden")
    assert {t["visibility"] for t in never["tests"] if t["visibility"] != "visible"} == {"hidden"}
    assert len(gradescope.student_view(never, "after_published")["tests"]) == \
        len(doc["tests"]) - len(hidden)


def test_exercism_says_only_hidden_check_failed(groundwork, runner, tmp_path):
    _, doc = check(runner, groundwork, "exercism", tmp_path / "r.json")
    report = checker.evaluate(groundwork, record=False)
    for test, c in zip(doc["tests"], report.all_checks, strict=True):
        assert "output" not in test  # only what a learner printed would go there
        if not c.visible:
            assert test["message"] in ("hidden check failed", "hidden check could not run")
        elif c.status != "pass":
            assert test["message"].startswith(c.message) and f"Hint: {c.hint}" in test["message"]


def test_classroom_never_prints_a_hidden_checks_name_or_message(tmp_path, runner):
    root = tmp_path / "p"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / "a.txt").write_text("a\n")
    write_rubric(root, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: there, kind: file_exists, path: a.txt, hint: h}
              - {id: needs-secret-sauce, kind: file_exists, path: sauce.txt, visible: false,
                 hint: hint about sauce, points: 3}
              - {id: also-secret, kind: file_matches, path: a.txt, pattern: a, visible: false,
                 hint: h2}
              - {id: missing, kind: file_exists, path: b.txt, hint: write b.txt}
              - {id: broken, kind: metric, file: m.json, key: a, op: ">=", value: 1,
                 hint: fix m.json}
        """)
    (root / "m.json").write_text("{not json")
    code, doc = check(runner, root, "classroom", tmp_path / "r.json")
    assert code == 1
    seen = classroom.reporter(
        {"DLPATH_RESULTS": base64.b64encode((tmp_path / "r.json").read_bytes()).decode()},
        "dlpath")
    for secret in ("needs-secret-sauce", "sauce", "also-secret", "hint about sauce"):
        assert secret not in seen.text
    assert "❌ M: hidden check 1" in seen.text and "✅ M: hidden check 2" in seen.text
    assert "❌ M: missing" in seen.text and "Hint: write b.txt" in seen.text
    # an error's message is printed alone: it names its check
    assert "Error: M: broken: " in seen.text and "Hint: fix m.json" in seen.text
    assert (seen.total_points, seen.max_points) == (2, 7)  # dlpath's points, not a pass count
    assert seen.failed == "Some tests errored."  # the result is "error": an error beats a failure


def test_prairielearn_score_is_a_fraction_and_hidden_messages_say_nothing(groundwork, runner,
                                                                          tmp_path):
    _, doc = check(runner, groundwork, "prairielearn", tmp_path / "r.json")
    assert 0 <= doc["score"] < 1
    points = sum(t["points"] for t in doc["tests"])
    assert doc["score"] == pytest.approx(points / sum(t["max_points"] for t in doc["tests"]))
    hidden = [t for t in doc["tests"] if t["name"].endswith("(hidden)")]
    assert len(hidden) == len(hidden_ids(groundwork))
    assert all(t["message"].startswith("hidden check") and "output" not in t for t in hidden)


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_check_the_machine_could_not_run(fmt, tmp_path, runner):
    """A missing tool is the grading machine's fault (dlpath marks it transient):
    PrairieLearn must not take the attempt; elsewhere it is an error test."""
    root = tmp_path / "p"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    write_rubric(root, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: there, kind: file_exists, path: a.txt, hint: h}
              - {id: tool, kind: command, run: "no-such-tool-dlpath --version", hint: h}
        """)
    code, doc = check(runner, root, fmt, tmp_path / "r.json")
    assert code == 1
    if fmt == "prairielearn":
        assert doc["gradable"] is False
        assert "m/tool: could not start no-such-tool-dlpath" in doc["format_errors"][0]
    elif fmt == "gradescope":
        assert [t["extra_data"]["dlpath"]["transient"] for t in doc["tests"]] == [False, True]
    elif fmt == "exercism":
        assert [t["status"] for t in doc["tests"]] == ["pass", "error"]


# --------------------------------------------------------------- command line

def test_json_and_format_are_one_choice(runner, tmp_path):
    same = runner.invoke(app, ["check", str(tmp_path), "--json", "--format", "json"])
    assert same.exit_code == 2 and json.loads(same.stdout)["status"] == "error"
    clash = runner.invoke(app, ["check", str(tmp_path), "--json", "--format", "gradescope"])
    assert clash.exit_code == 2 and clash.stdout == ""
    assert "--json and --format gradescope: choose one." in clash.stderr
    wrong = runner.invoke(app, ["check", str(tmp_path), "--format", "exercism",
                                "--hidden-visibility", "hidden"])
    assert wrong.exit_code == 2
    assert "--hidden-visibility only applies to --format gradescope." in wrong.stderr
    unknown = runner.invoke(app, ["check", str(tmp_path), "--format", "moodle"])
    assert unknown.exit_code == 2


def test_output_alone_writes_json(runner, tmp_path):
    runner.invoke(app, ["check", str(tmp_path), "--output", str(tmp_path.parent / "o.json")])
    assert dlpath_json.validate((tmp_path.parent / "o.json").read_text())["status"] == "error"


# ------------------------------------------ results files never change the grade

CLEAN = """\
    format_version: 1
    milestones:
      - id: m
        title: M
        step: s
        checks:
          - {id: clean-tree, kind: git_clean, hint: commit}
          - {id: there, kind: file_exists, path: a.txt, hint: h}
    """


@pytest.fixture
def committed(tmp_path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / "a.txt").write_text("a\n")
    write_rubric(root, CLEAN)
    (root / ".gitignore").write_text("/.dlpath/state.json*\n")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    return root


def status(root: Path) -> str:
    return git("status", "--porcelain", "--untracked-files=all", cwd=root).stdout


@pytest.mark.parametrize("rel", ["results.json", "grading/out/results.json", "we ird[1].json"])
def test_a_results_file_inside_the_project_never_fails_clean_tree(committed, runner, rel):
    target = committed / rel
    for _ in range(2):  # the second run overwrites what the first wrote
        result = runner.invoke(app, ["check", str(committed), "--format", "gradescope",
                                     "--output", str(target)])
        assert result.exit_code == 0, result.output + result.stderr
        doc = gradescope.validate(target.read_text())
        assert all(t["status"] == "passed" for t in doc["tests"])
        assert status(committed) == ""
    assert "git's per-clone ignore list" in runner.invoke(
        app, ["check", str(committed), "--output", str(committed / "other.json")]).stderr
    exclude = (committed / ".git" / "info" / "exclude").read_text()
    assert exclude.count("# dlpath check --output") == 1  # one block, both files in it


def test_a_relative_output_inside_the_project(committed, runner, monkeypatch):
    monkeypatch.chdir(committed)
    result = runner.invoke(app, ["check", "--format", "exercism", "-o", "r.json"])
    assert result.exit_code == 0, result.stderr
    exercism.validate((committed / "r.json").read_text())
    assert status(committed) == ""


@pytest.mark.parametrize("rel,why", [
    ("a.txt", "git tracks that file"),
    ("notes.txt", "the file exists and dlpath did not write it"),
    (".git/results.json", "inside .git/"),
    (".dlpath/results.json", "inside .dlpath/"),
    ("sub", "is a directory"),
])
def test_a_learners_file_is_never_overwritten(committed, runner, rel, why):
    (committed / "notes.txt").write_text("my notes\n")
    (committed / "sub").mkdir()
    before = {p: p.read_bytes() for p in committed.rglob("*") if p.is_file()}
    result = runner.invoke(app, ["check", str(committed), "--format", "classroom",
                                 "--output", str(committed / rel)])
    assert result.exit_code == 2 and result.stdout == ""
    assert why in result.stderr and "Traceback" not in result.stderr
    after = {p: p.read_bytes() for p in committed.rglob("*") if p.is_file()
             if ".dlpath/state.json" not in p.as_posix()}
    assert after == {p: b for p, b in before.items() if ".dlpath/state.json" not in p.as_posix()}


def test_outside_the_project_a_file_is_simply_written(committed, runner, tmp_path):
    target = tmp_path / "results" / "deep" / "results.json"
    target.parent.mkdir(parents=True)
    target.write_text("old")
    result = runner.invoke(app, ["check", str(committed), "--format", "prairielearn",
                                 "--output", str(target)])
    assert result.exit_code == 0 and result.stderr == ""
    assert prairielearn.validate(target.read_text())["score"] == 1.0
    assert not (committed / ".git" / "info" / "exclude").read_text().count("dlpath")


def test_a_project_without_git_is_never_overwritten(tmp_path, runner):
    root = tmp_path / "p"
    root.mkdir()
    (root / "a.txt").write_text("a\n")
    write_rubric(root, "\n".join(line for line in CLEAN.splitlines() if "git_clean" not in line))
    first = runner.invoke(app, ["check", str(root), "--format", "json", "-o", str(root / "r.json")])
    assert first.exit_code == 0
    again = runner.invoke(app, ["check", str(root), "--format", "json", "-o", str(root / "r.json")])
    assert again.exit_code == 2 and "the file exists in the project" in again.stderr


def test_an_unwritable_output_is_one_line(committed, runner, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["check", str(committed), "--format", "json",
                                 "--output", str(blocker / "r.json")])
    assert result.exit_code == 2
    assert result.stderr.startswith("Error: Could not write")


def test_validators_can_fail():
    """Each validator rejects what its platform rejects (so a pass means something)."""
    bad = {
        "gradescope": [{"tests": [{"name": "x", "status": "pass", "score": 1}]},
                       {"tests": [{"name": "x"}]}, {"score": 1, "visibility": "later"}],
        "exercism": [{"version": 2, "status": "fail", "message": None,
                      "tests": [{"name": "x", "status": "skipped"}]},
                     {"version": 2, "status": "error"},
                     {"version": 2, "status": "pass", "tests": [
                         {"name": "x", "status": "fail", "message": "m"}]},
                     {"version": 1, "status": "fail", "tests": []},
                     {"version": 2, "status": "fail", "tests": [
                         {"name": "x", "status": "fail", "message": "m", "output": "o" * 501}]}],
        "prairielearn": [{"score": 3}, {"gradable": True}, {"score": 0.5, "tests": [
            {"name": "a", "points": 1, "max_points": 1}, {"name": "b"}]},
            {"gradable": False, "format_errors": 3}],
        "json": [{"status": "error", "message": "m"}],
    }
    for fmt, docs in bad.items():
        for doc in docs:
            with pytest.raises(Invalid):
                validate(fmt, json.dumps(doc))
    with pytest.raises(Invalid):
        gradescope.validate("")
    with pytest.raises(Invalid):
        classroom.validate({"status": "pass", "max_score": 1, "tests": [
            {"name": "x", "status": "pass", "score": 1}]})  # no line_no: "line undefined"
    seen = classroom.reporter({}, "dlpath")
    assert seen.failed  # no DLPATH_RESULTS: the step fails


def test_git_status_is_what_the_checks_see(committed):
    """The ignore list dlpath writes is the one `git status` (and so clean-tree) reads."""
    (committed / "x.json").write_text("{}")
    assert status(committed) == "?? x.json\n"
    exclude = committed / ".git" / "info" / "exclude"
    exclude.write_text(exclude.read_text() + "/x.json\n")
    assert status(committed) == ""
    subprocess.run(["git", "check-ignore", "-q", "x.json"], cwd=committed, check=True)
