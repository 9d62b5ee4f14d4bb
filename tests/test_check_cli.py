"""`dlpath check` on the command line: the table, --json (docs/check-json.md),
exit codes, bad input without tracebacks, results recorded for `dlpath next`,
the command cache, and two checks at once."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlpath import results
from dlpath.cli import app
from tests.conftest import make_project
from tests.test_checks import git, make_mini, run_and_commit, write_rubric

PASSING = """\
    format_version: 1
    milestones:
      - id: basics
        title: Basics
        step: s
        checks:
          - {id: stage, kind: dvc_stage, name: make, hint: keep the stage}
          - {id: script, kind: file_matches, path: stage.py, pattern: json, hint: h}
          - {id: secret, kind: file_exists, path: params.yaml, visible: false,
             hint: somewhere}
          - {id: runs, kind: command, run: "python -c 'print(42)'", hint: make it run}
    """


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A freshly generated quantization project (git and DVC set up, nothing run)."""
    return make_project("quantization", tmp_path_factory.mktemp("gen"))


@pytest.fixture
def fresh(generated, tmp_path) -> Path:
    """A private copy of the generated project, for tests that record results."""
    return Path(shutil.copytree(generated, tmp_path / "proj", symlinks=True))


def invoke(runner, *args):
    result = runner.invoke(app, ["check", *map(str, args)])
    assert "Traceback" not in result.output + result.stderr
    return result


def test_a_fresh_project_fails_the_common_milestones_with_their_hints(fresh, runner):
    result = invoke(runner, fresh, "--json", "--no-commands")
    assert result.exit_code == 1, result.stderr
    data = json.loads(result.stdout)  # nothing but JSON on stdout
    assert [m["id"] for m in data["milestones"]] == [
        "versioned", "quantize-by-hand", "calibrated-ptq", "qat", "latency-study",
        "structured-pruning", "edge-ready", "reproducible", "own-problem"]
    tests = {t["name"]: t for t in data["tests"]}
    failing = {name for name, t in tests.items()
               if t["status"] == "fail" and t["milestone"] in
               ("versioned", "reproducible", "own-problem")}
    assert failing == {
        "versioned/commits", "versioned/outputs-in-dvc", "versioned/pushed",
        "reproducible/pipeline-up-to-date", "own-problem/problem-statement",
        "own-problem/experiment"}
    assert tests["reproducible/clean-tree"]["status"] == "pass"  # the first commit is whole
    assert "git add -A && git commit" in tests["versioned/commits"]["hint"]
    assert "dvc repro" in tests["versioned/outputs-in-dvc"]["hint"]
    assert "dvc push" in tests["versioned/pushed"]["hint"]
    assert "dvc repro" in tests["reproducible/pipeline-up-to-date"]["hint"]
    assert "PROBLEM.md" in tests["own-problem/problem-statement"]["hint"]
    assert tests["own-problem/problem-statement"]["message"] == (
        "PROBLEM.md: still TODO: Problem, Hypothesis, Experiment, Result")
    assert "dvc exp run" in tests["own-problem/experiment"]["hint"]
    assert tests["structured-pruning/curve"]["message"] == (
        "metrics/prune.json does not exist yet (run: dvc repro)")
    hidden = [t for t in data["tests"] if t["visibility"] == "hidden"]
    ran = [t for t in hidden if t["status"] != "skipped"]  # --no-commands skips the rest
    assert ran and all(t["message"].startswith("hidden check failed") for t in ran)
    assert data["hidden"] == {"passed": 0, "total": len(hidden)}


def test_json_fields_follow_the_documented_format(fresh, runner):
    data = json.loads(invoke(runner, fresh, "--json", "--no-commands").stdout)
    assert data["format_version"] == 1 and data["version"] == 1
    assert data["status"] == "fail" and data["template"] == "quantization"
    assert data["score"] == sum(t["score"] for t in data["tests"])
    assert data["max_score"] == sum(t["max_score"] for t in data["tests"])
    assert data["tampered"] == []
    assert data["skipped"] == sum(t["status"] == "skipped" for t in data["tests"])
    assert isinstance(data["execution_time"], float)
    for t in data["tests"]:
        assert set(t) == {"name", "milestone", "check", "kind", "status", "message", "hint",
                          "output", "score", "max_score", "visibility", "time", "cached"}
        assert t["status"] in {"pass", "fail", "error", "skipped"}
        assert t["visibility"] in {"visible", "hidden"}
        assert t["name"] == f"{t['milestone']}/{t['check']}"
        assert (t["hint"] is None) == (t["status"] == "pass")
    for m in data["milestones"]:
        assert set(m) == {"id", "title", "step", "status", "score", "max_score"}


def test_the_table_shows_hints_and_the_score_and_records_results(fresh, runner):
    result = invoke(runner, fresh, "--no-commands")
    assert result.exit_code == 1
    out = result.stdout
    assert "Versioned from day one" in out and "An edge-ready model" in out
    assert "✗ fail" in out and "→ Commit your work" in out
    assert "Score: " in out and "Hidden checks passed: 0/" in out
    assert "All checks passed" not in out and "Every check that ran passed" not in out
    assert "dlpath next" in out

    state = results.load(fresh)
    versioned = state["milestones"]["versioned"]
    assert versioned["fail_count"] == 1 and versioned["first_passed"] is None
    assert versioned["step"] == "mlops-from-day-one"
    assert [c["id"] for c in versioned["last"]["failed_checks"]] == [
        "commits", "outputs-in-dvc", "pushed"]
    invoke(runner, fresh, "--no-commands", "-m", "versioned")
    state = results.load(fresh)
    assert state["milestones"]["versioned"]["fail_count"] == 1  # the same attempt again
    assert state["milestones"]["own-problem"]["fail_count"] == 1  # not evaluated this time
    (fresh / "notes.md").write_text("a change\n")  # a new attempt
    invoke(runner, fresh, "--no-commands", "-m", "versioned")
    assert results.load(fresh)["milestones"]["versioned"]["fail_count"] == 2


def test_one_milestone_and_an_unknown_one(fresh, runner):
    ok = invoke(runner, fresh, "-m", "edge-ready", "--json")
    assert [m["id"] for m in json.loads(ok.stdout)["milestones"]] == ["edge-ready"]
    bad = invoke(runner, fresh, "-m", "nope")
    assert bad.exit_code == 2 and bad.stdout == ""
    assert "No milestone 'nope' in this project's rubric. Milestones: versioned, " in bad.stderr


def test_editing_protected_files_is_reported(fresh, runner):
    (fresh / "tests" / "test_common.py").write_text("def test_nothing():\n    pass\n")
    result = invoke(runner, fresh, "--no-commands")
    assert "Edited since the project was generated: tests/test_common.py" in result.stderr
    as_json = invoke(runner, fresh, "--no-commands", "--json")
    assert json.loads(as_json.stdout)["tampered"] == ["tests/test_common.py"]
    assert "Edited since the project was generated: tests/test_common.py" in as_json.stderr


def test_everything_passing_exits_0_and_says_so(tmp_path, runner):
    root = make_mini(tmp_path)
    write_rubric(root, PASSING)
    result = invoke(runner, root)
    assert result.exit_code == 0, result.stdout
    # a hand-written rubric is never "hidden ones included"
    assert "All checks passed (of a hand-written rubric, not a dlpath template's)." \
        in result.stdout
    assert "hidden ones included" not in result.stdout
    assert "Hidden checks passed: 1/1" in result.stdout
    again = invoke(runner, root)
    assert again.exit_code == 0
    assert "check result(s) reused from the last check" in again.stdout
    assert "(cached)" in again.stdout
    skipped = invoke(runner, root, "--no-commands")
    assert skipped.exit_code == 0
    assert "All checks passed" not in skipped.stdout
    assert "Every check that ran passed; 1 skipped (--no-commands)" in skipped.stdout
    data = json.loads(invoke(runner, root, "--no-commands", "--json").stdout)
    assert data["status"] == "pass" and data["skipped"] == 1
    assert {t["check"]: t["status"] for t in data["tests"]}["runs"] == "skipped"
    state = results.load(root)
    assert state["milestones"]["basics"]["first_passed"] is not None
    assert state["milestones"]["basics"]["fail_count"] == 0


def test_a_hidden_failure_is_never_all_passed_and_keeps_its_secret(tmp_path, runner):
    root = make_mini(tmp_path)
    write_rubric(root, PASSING.replace("path: params.yaml", "path: secret-file.txt"))
    result = invoke(runner, root)
    assert result.exit_code == 1
    assert "All checks passed" not in result.stdout
    assert "Visible checks passed: 3/3.  Hidden checks passed: 0/1." in result.stdout
    assert "secret-file" not in result.stdout
    data = json.loads(invoke(runner, root, "--json").stdout)
    secret = {t["check"]: t for t in data["tests"]}["secret"]
    assert secret["message"] == "hidden check failed" and secret["hint"] == "somewhere"
    assert "secret-file" not in json.dumps(data)


@pytest.mark.parametrize("setup,expected", [
    ("none", "was not created by dlpath and has no rubric."),
    ("missing-path", "is not a directory."),
    ("malformed", "rubric.yaml:7: milestones[m].checks[x].op: must be one of"),
    ("escape", "rubric.yaml:7: milestones[m].checks[x].path: path '../x' leaves the project"),
    ("damaged-meta", "project.json: the project metadata is damaged"),
])
def test_bad_input_is_one_line_and_exit_2_or_1(setup, expected, tmp_path, runner):
    target = tmp_path
    if setup == "missing-path":
        target = tmp_path / "nowhere"
    elif setup == "malformed":
        write_rubric(tmp_path, textwrap.dedent("""\
            format_version: 1
            milestones:
              - id: m
                title: M
                step: s
                checks:
                  - {id: x, kind: metric, file: m.json, key: a, op: '~', value: 1, hint: h}
            """))
    elif setup == "escape":
        write_rubric(tmp_path, textwrap.dedent("""\
            format_version: 1
            milestones:
              - id: m
                title: M
                step: s
                checks:
                  - {id: x, kind: file_exists, path: ../x, hint: h}
            """))
    elif setup == "damaged-meta":
        (tmp_path / ".dlpath").mkdir()
        (tmp_path / ".dlpath" / "project.json").write_text("{not json")
    result = invoke(runner, target)
    assert result.exit_code == (1 if setup == "damaged-meta" else 2), result.stderr
    assert result.stdout == ""
    assert expected in result.stderr
    assert result.stderr.startswith("Error: ")


def test_json_without_a_terminal_and_without_torch(generated):
    code = ("import sys; from dlpath.cli import main\n"
            "try:\n    main()\nexcept SystemExit as e:\n    code = e.code\n"
            "sys.stderr.write('torch loaded' if 'torch' in sys.modules else 'no torch')\n"
            "sys.exit(code)\n")
    proc = subprocess.run([sys.executable, "-c", code, "check", "--json", "--no-commands"],
                          cwd=generated, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["status"] == "fail"
    assert proc.stderr.endswith("no torch")


def test_two_checks_at_once_both_record(tmp_path):
    root = make_mini(tmp_path)
    write_rubric(root, PASSING.replace("print(42)", "import time; time.sleep(1)"))
    run_and_commit(root)
    cmd = [sys.executable, "-m", "dlpath", "check", "--json", str(root)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(json.loads(o)["status"] == "pass" for o, _ in outs)
    state = json.loads((root / ".dlpath" / "state.json").read_text())  # whole, valid JSON
    assert state["milestones"]["basics"]["fail_count"] == 0
    assert state["milestones"]["basics"]["first_passed"]
    assert len(state["cache"]) == 1
    assert not list((root / ".dlpath").glob(".state.json.*.tmp"))
    assert git("status", "--porcelain", cwd=root).stdout == ""  # the state file is ignored


def test_a_rubric_without_hidden_checks_never_mentions_them(tmp_path, runner):
    root = make_mini(tmp_path)
    write_rubric(root, PASSING.replace("visible: false,", ""))
    result = invoke(runner, root)
    assert result.exit_code == 0, result.stdout
    assert "Visible checks passed: 4/4." in result.stdout
    assert "Hidden checks" not in result.stdout and "hidden ones" not in result.stdout
    assert "All checks passed (of a hand-written rubric" in result.stdout


@pytest.mark.parametrize("command", ["check", "new", "next", "roadmap", "reset"])
def test_help_fits_80_columns_and_shows_flags_without_a_type(runner, command):
    result = runner.invoke(app, [command, "--help"], env={"COLUMNS": "80"}, terminal_width=80)
    assert result.exit_code == 0
    assert "<bool>" not in result.stdout
    assert all(len(line) <= 80 for line in result.stdout.splitlines())


def test_one_check_asks_git_each_question_once(fresh, runner, monkeypatch):
    """A re-run of `check --no-commands` with nothing changed spawns seven git
    processes, one per question (dlpath.gitstate), and nothing else: DVC's
    answers are reused, no command runs. A module that asks git again on its
    own shows up here as a count that grew."""
    for who in ("AUTHOR", "COMMITTER"):  # git knows who commits: both idents are asked
        monkeypatch.setenv(f"GIT_{who}_NAME", "Ada")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "ada@example.com")
    assert invoke(runner, fresh, "--no-commands").exit_code == 1  # DVC asked, answers kept
    spawned: list[list[str]] = []

    class Recording(subprocess.Popen):
        def __init__(self, args, *rest, **kwargs):
            spawned.append([str(a) for a in args])
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Recording)
    again = invoke(runner, fresh, "--no-commands")
    assert again.exit_code == 1
    asked = [next(a for a in args[1:] if not a.startswith("-") and "=" not in a)
             for args in spawned]
    assert all(Path(args[0]).name == "git" for args in spawned), spawned
    assert sorted(asked) == sorted(["rev-list", "for-each-ref", "cat-file", "ls-files",
                                    "status", "var", "var"]), spawned


def test_a_command_runs_in_an_app_with_that_command_only():
    """`dlpath COMMAND` builds only that command's parameters (cli._app_for);
    --help, --version and unknown commands get the whole app."""
    from dlpath import cli

    one = cli._app_for(["check", "--no-commands"])
    assert [c.name for c in one.registered_commands] == ["check"]
    assert one.registered_callback is cli.app.registered_callback
    for args in ([], ["--help"], ["--version"], ["chek"], ["--debug", "check"]):
        assert cli._app_for(args) is cli.app


def test_a_kept_rendering_is_what_rendering_gives_and_never_outlives_a_change(
        fresh, runner, monkeypatch):
    """console.render_report keeps the report's text: an unchanged re-run
    writes it as rendering would, and a change in the report or the console
    renders afresh."""
    from dlpath import console

    def table() -> str:
        result = invoke(runner, fresh, "--no-commands")
        assert result.exit_code == 1, result.stderr
        return result.stdout

    monkeypatch.setattr(console.out, "width", 100)
    first, again = table(), table()
    with monkeypatch.context() as m:  # rendered directly, nothing kept or reused
        m.setattr(console, "_render_memo", lambda *args: None)
        direct = table()
    assert first == again == direct
    assert "│ problem-statement │ ✗ fail" in again

    monkeypatch.setattr(console.out, "width", 70)  # the console changed
    narrow = table()
    rows = [line for line in narrow.splitlines() if line[:1] in "┏┃┡│└"]
    assert narrow != again and rows and max(map(len, rows)) <= 70

    (fresh / "PROBLEM.md").write_text(  # the report changed
        "# Problem\nDigits on a watch.\n## Hypothesis\nint8 keeps accuracy.\n"
        "## Experiment\nPTQ against QAT.\n## Result\nQAT wins by 2 points.\n")
    changed = table()
    assert "problem-statement │ ✓ pass" in changed and changed != narrow
