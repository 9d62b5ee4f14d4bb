"""`dlpath check`: rubric loading, every check kind on small hand-made
projects, the report, JSON output, recording, caching and tampering."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlpath import checker, results, rubric
from dlpath.cli import app
from tests.conftest import dvc, make_project

STAGE = textwrap.dedent("""\
    import json, pathlib, yaml
    p = yaml.safe_load(open("params.yaml"))
    pathlib.Path("data").mkdir(exist_ok=True)
    pathlib.Path("data/out.txt").write_text("x" * p["n"])
    pathlib.Path("metrics").mkdir(exist_ok=True)
    json.dump({"acc": p["acc"], "fast": 2.0, "slow": 4.0, "bad": float("nan")},
              open("metrics/m.json", "w"))
""")


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def write_rubric(root: Path, text: str) -> None:
    (root / ".dlpath").mkdir(exist_ok=True)
    (root / ".dlpath" / "rubric.yaml").write_text(textwrap.dedent(text))


@pytest.fixture
def mini(tmp_path) -> Path:
    """A tiny git + DVC project with one stage (no dlpath metadata)."""
    root = tmp_path / "mini"
    root.mkdir()
    (root / "stage.py").write_text(STAGE)
    (root / "params.yaml").write_text("n: 3\nacc: 0.8\n")
    (root / "dvc.yaml").write_text(textwrap.dedent("""\
        stages:
          make:
            cmd: python stage.py
            deps: [stage.py]
            params: [n, acc]
            outs: [data]
            metrics:
              - metrics/m.json:
                  cache: false
        """))
    (root / ".gitignore").write_text("/.dlpath/state.json*\n")
    git("init", "-q", cwd=root)
    dvc("init", "-q", cwd=root)
    dvc("config", "core.analytics", "false", cwd=root)
    dvc("remote", "add", "-d", "local", str(tmp_path / "remote"), cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    return root


def statuses(report) -> dict[str, str]:
    return {f"{c.milestone}/{c.id}": c.status for c in report.all_checks}


METRICS_RUBRIC = """\
    format_version: 1
    milestones:
      - id: goals
        title: Goals
        step: edge-deployment
        checks:
          - {id: acc, kind: metric, file: metrics/m.json, key: acc, op: ">=", value: 0.7,
             hint: train longer}
          - {id: ratio, kind: metric_ratio, file: metrics/m.json, numerator: fast,
             denominator: slow, op: "<=", value: 0.8, points: 2, hint: go faster}
          - {id: secret, kind: metric, file: metrics/m.json, key: acc, op: ">=",
             value: 0.9, visible: false, hint: aim higher}
          - {id: nan, kind: metric, file: metrics/m.json, key: bad, op: ">=", value: 0,
             hint: fix nan}
      - id: versioned
        title: Versioned
        step: mlops-from-day-one
        checks:
          - {id: commits, kind: git_commits, min: 1, hint: commit}
          - {id: outs, kind: dvc_outputs_versioned, hint: dvc repro}
          - {id: tracked, kind: dvc_tracked, path: data, hint: track data}
          - {id: pushed, kind: dvc_pushed, hint: dvc push}
          - {id: fresh, kind: dvc_up_to_date, hint: dvc repro}
          - {id: clean, kind: git_clean, hint: commit all}
          - {id: stage, kind: dvc_stage, name: make, hint: keep the stage}
    """


def test_versioned_and_metric_checks_follow_the_learner(mini):
    write_rubric(mini, METRICS_RUBRIC)
    before = checker.evaluate(mini)
    s = statuses(before)
    assert s["goals/acc"] == "fail" and s["goals/ratio"] == "fail"  # no metrics yet
    assert s["versioned/commits"] == "fail"
    assert s["versioned/outs"] == "fail" and s["versioned/pushed"] == "fail"
    assert s["versioned/fresh"] == "fail"
    assert s["versioned/stage"] == "pass"
    # .dlpath/rubric.yaml is new and uncommitted
    assert s["versioned/clean"] == "fail"

    dvc("repro", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "run", cwd=mini)
    dvc("push", cwd=mini)
    after = checker.evaluate(mini)
    s = statuses(after)
    assert s == {
        "goals/acc": "pass", "goals/ratio": "pass", "goals/secret": "fail", "goals/nan": "fail",
        "versioned/commits": "pass", "versioned/outs": "pass", "versioned/tracked": "pass",
        "versioned/pushed": "pass", "versioned/fresh": "pass", "versioned/clean": "pass",
        "versioned/stage": "pass",
    }
    nan = next(c for c in after.all_checks if c.id == "nan")
    assert "nan" in nan.message
    secret = next(c for c in after.all_checks if c.id == "secret")
    assert "0.9" not in secret.message and secret.message == "hidden check failed"
    assert after.tally(True) == (9, 10) and after.tally(False) == (0, 1)
    goals = after.milestones[0]
    assert (goals.score, goals.max_score) == (3, 5)  # partial credit


def test_a_stale_pipeline_fails_exactly_the_up_to_date_check(mini):
    write_rubric(mini, METRICS_RUBRIC)
    dvc("repro", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "run", cwd=mini)
    dvc("push", cwd=mini)
    (mini / "params.yaml").write_text("n: 4\nacc: 0.8\n")
    git("commit", "-qam", "change params", cwd=mini)
    s = statuses(checker.evaluate(mini))
    failing = sorted(k for k, v in s.items() if v != "pass")
    assert failing == ["goals/nan", "goals/secret", "versioned/fresh"]


def test_data_committed_to_git_fails_the_versioning_checks(mini):
    write_rubric(mini, METRICS_RUBRIC)
    dvc("repro", cwd=mini)
    (mini / ".gitignore").write_text("/.dlpath/state.json*\n")  # drop DVC's ignore entry
    (mini / "data" / ".gitignore").unlink(missing_ok=True)
    git("add", "-f", "data/out.txt", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "oops, data in git", cwd=mini)
    report = checker.evaluate(mini)
    s = statuses(report)
    assert s["versioned/outs"] == "fail" and s["versioned/tracked"] == "fail"
    tracked = next(c for c in report.all_checks if c.id == "tracked")
    assert "git rm -r --cached data" in tracked.message


def test_missing_and_malformed_metrics(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: missing, kind: metric, file: metrics/none.json, key: a, op: ">=",
                 value: 1, hint: h}
              - {id: empty, kind: metric, file: empty.json, key: a, op: ">=", value: 1, hint: h}
              - {id: garbage, kind: metric, file: garbage.json, key: a, op: ">=", value: 1,
                 hint: h}
              - {id: yaml, kind: metric, file: m.yaml, key: a.b, op: "==", value: 1,
                 tolerance: 0.01, hint: h}
        """)
    (mini / "empty.json").write_text("")
    (mini / "garbage.json").write_text("{not: [valid")
    (mini / "m.yaml").write_text("a:\n  b: 1.005\n")
    s = statuses(checker.evaluate(mini))
    assert s == {"m/missing": "fail", "m/empty": "error", "m/garbage": "error", "m/yaml": "pass"}


def test_command_checks_time_out_bound_output_and_are_cached(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: ok, kind: command, run: "python -c 'print(1)'", hint: h}
              - {id: hangs, kind: command, run: "sleep 30", timeout: 1, hint: h}
              - {id: loud, kind: command,
                 run: "python -c \\"import sys; sys.stdout.write('y' * 5000000); sys.exit(3)\\"",
                 hint: h}
        """)
    report = checker.evaluate(mini)
    by_id = {c.id: c for c in report.all_checks}
    assert by_id["ok"].status == "pass" and not by_id["ok"].cached
    assert by_id["hangs"].status == "fail" and "timed out" in by_id["hangs"].message
    assert by_id["hangs"].seconds < 10
    assert by_id["loud"].status == "fail" and "exited with 3" in by_id["loud"].message
    assert len(by_id["loud"].output) < 5000
    again = {c.id: c for c in checker.evaluate(mini).all_checks}
    assert all(c.cached for c in again.values())
    assert again["ok"].status == "pass" and again["hangs"].status == "fail"
    (mini / "stage.py").write_text(STAGE + "\n# edited\n")  # an input changed
    third = {c.id: c for c in checker.evaluate(mini).all_checks}
    assert not third["ok"].cached
    skipped = checker.evaluate(mini, run_commands=False)
    assert {c.status for c in skipped.all_checks} == {"skipped"}


def test_params_changed_and_experiments(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: any, kind: params_changed, hint: h}
              - {id: exp, kind: params_changed, experiment: true, keys: [n], hint: h}
        """)
    assert statuses(checker.evaluate(mini)) == {"m/any": "fail", "m/exp": "fail"}
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "rubric", cwd=mini)
    dvc("exp", "run", "--set-param", "n=9", cwd=mini)
    assert statuses(checker.evaluate(mini)) == {"m/any": "pass", "m/exp": "pass"}


@pytest.mark.parametrize("bad,field", [
    ("{id: x, kind: file_exists, path: ../outside, hint: h}", "path"),
    ("{id: x, kind: file_exists, path: /etc/passwd, hint: h}", "path"),
    ("{id: x, kind: metric, file: ../m.json, key: a, op: '>=', value: 1, hint: h}", "file"),
    ("{id: x, kind: nope, hint: h}", "kind"),
    ("{id: x, kind: file_exists, path: a}", "hint"),
    ("{id: x, kind: metric, file: m.json, key: a, op: '~', value: 1, hint: h}", "op"),
])
def test_rubric_errors_name_file_line_and_field(bad, field, tmp_path, runner):
    write_rubric(tmp_path, f"""\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {bad}
        """)
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert "rubric.yaml:7: milestones[m].checks[x]" in result.stderr
    assert f".{field}" in result.stderr or field in result.stderr


def test_a_directory_dlpath_did_not_create(tmp_path, runner):
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 2
    assert "was not created by dlpath and has no rubric" in result.stderr
    assert ".dlpath/rubric.yaml" in result.stderr


def test_a_project_without_git_or_dvc_still_reports(tmp_path):
    write_rubric(tmp_path, METRICS_RUBRIC)
    report = checker.evaluate(tmp_path)
    by_id = {c.id: c for c in report.all_checks}
    assert "not a git repository" in by_id["commits"].message
    assert "DVC is not initialised" in by_id["pushed"].message
    assert by_id["stage"].status == "fail"


def test_generated_project_check_json_records_and_reports_tampering(tmp_path, runner):
    root = make_project("quantization", tmp_path)
    result = runner.invoke(app, ["check", str(root), "--json", "--no-commands"])
    assert result.exit_code == 1
    data = json.loads(result.stdout)  # nothing but JSON on stdout
    assert data["format_version"] == 1 and data["status"] == "fail"
    assert [m["id"] for m in data["milestones"]] == [
        "versioned", "edge-ready", "reproducible", "own-problem"]
    names = {t["name"]: t for t in data["tests"]}
    assert names["versioned/commits"]["status"] == "fail"
    assert "git commit" in names["versioned/commits"]["hint"]
    assert names["edge-ready/latency"]["status"] == "fail"
    assert "dvc repro" in names["edge-ready/latency"]["message"]
    assert names["edge-ready/accuracy-floor"]["visibility"] == "hidden"
    assert data["hidden"]["total"] >= 1
    for t in data["tests"]:
        assert set(t) >= {"name", "status", "message", "score", "max_score", "visibility", "time"}
    state = results.load(root)
    assert state["milestones"]["versioned"]["fail_count"] == 1
    assert state["milestones"]["versioned"]["last"]["failed_checks"][0]["id"] == "commits"

    # The project copy of the rubric lists no hidden check.
    copy = rubric.load_file(root / ".dlpath" / "rubric.yaml")
    assert all(c.visible for m in copy for c in m.checks)
    assert "accuracy-floor" not in (root / ".dlpath" / "rubric.yaml").read_text()

    # Editing a test the rubric relies on is reported.
    (root / "tests" / "test_common.py").write_text("def test_nothing():\n    pass\n")
    result = runner.invoke(app, ["check", str(root), "--no-commands"])
    assert "Edited since the project was generated" in result.stderr
    assert "tests/test_common.py" in result.stderr


def test_one_milestone_and_unknown_milestone(tmp_path, runner):
    root = make_project("quantization", tmp_path)
    ok = runner.invoke(app, ["check", str(root), "-m", "edge-ready", "--json"])
    assert [m["id"] for m in json.loads(ok.stdout)["milestones"]] == ["edge-ready"]
    bad = runner.invoke(app, ["check", str(root), "-m", "nope"])
    assert bad.exit_code == 2 and "No milestone 'nope'" in bad.stderr


def test_json_works_without_a_terminal(tmp_path):
    root = make_project("xai", tmp_path)
    proc = subprocess.run([sys.executable, "-m", "dlpath", "check", "--json", "--no-commands"],
                          cwd=root, capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["status"] == "fail"
