"""The check kinds (dlpath.checks) through dlpath.checker.evaluate, on small
hand-made git + DVC projects: each broken project fails exactly the check it
should, with a message that says what is wrong."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from dlpath import checker, vcs
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


def make_mini(tmp_path: Path) -> Path:
    """A tiny git + DVC project with one stage and a local remote (no dlpath metadata)."""
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
    # DVC's API in-process: three `dvc` command-line calls would cost ~2 s a test.
    vcs.dvc_init(root, tmp_path / "remote")
    git("add", "-A", cwd=root)
    git("commit", "-qm", "first", cwd=root)
    return root


def run_and_commit(root: Path, push: bool = True) -> None:
    dvc("repro", cwd=root)
    git("add", "-A", cwd=root)
    git("commit", "-qm", "run", cwd=root)
    if push:
        dvc("push", cwd=root)


@pytest.fixture
def mini(tmp_path) -> Path:
    return make_mini(tmp_path)


def statuses(report) -> dict[str, str]:
    return {f"{c.milestone}/{c.id}": c.status for c in report.all_checks}


def by_id(report) -> dict:
    return {c.id: c for c in report.all_checks}


def not_passing(report) -> list[str]:
    return sorted(k for k, v in statuses(report).items() if v != "pass")


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
             value: 0.93, visible: false, hint: aim higher}
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


def test_fresh_project_fails_then_passes_after_repro_commit_and_push(mini):
    write_rubric(mini, METRICS_RUBRIC)
    before = checker.evaluate(mini)
    assert statuses(before) == {
        "goals/acc": "fail", "goals/ratio": "fail", "goals/secret": "fail",  # no metrics yet
        "versioned/commits": "fail", "versioned/outs": "fail", "versioned/tracked": "pass",
        "versioned/pushed": "fail", "versioned/fresh": "fail",
        "versioned/clean": "fail",  # .dlpath/rubric.yaml is new and uncommitted
        "versioned/stage": "pass",
    }
    checks = by_id(before)
    assert checks["acc"].message == "metrics/m.json does not exist yet (run: dvc repro)"
    assert checks["commits"].message == "0 commit(s) beyond the first, needs 1"
    assert checks["fresh"].message == "the pipeline has never run (no dvc.lock)"
    assert checks["outs"].message == "output(s) not produced yet: data"
    assert checks["pushed"].message == "nothing versioned by DVC yet (run the pipeline first)"
    assert checks["clean"].message == "uncommitted changes: .dlpath/rubric.yaml"
    # A hidden check may say the file is missing: that reveals no expected value.
    assert checks["secret"].message == (
        "hidden check failed: metrics/m.json does not exist yet (run: dvc repro)")

    dvc("repro", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "run", cwd=mini)
    middle = checker.evaluate(mini)
    assert not_passing(middle) == ["goals/secret", "versioned/pushed"]
    assert by_id(middle)["pushed"].message.startswith("2 file(s) not in the remote: ")

    dvc("push", cwd=mini)
    after = checker.evaluate(mini)
    assert not_passing(after) == ["goals/secret"]
    checks = by_id(after)
    assert checks["acc"].message == "acc = 0.8 (needs >= 0.7)"
    assert checks["ratio"].message == "fast / slow = 0.5 (needs <= 0.8)"
    assert "0.93" not in checks["secret"].message
    assert checks["secret"].message == "hidden check failed: acc = 0.8: not there yet"
    assert after.tally(True) == (9, 9) and after.tally(False) == (0, 1)
    goals = after.milestones[0]
    assert (goals.score, goals.max_score) == (3, 4)  # partial credit
    assert after.status == "fail" and after.exit_code == 1


def test_a_stale_pipeline_fails_exactly_the_up_to_date_check(mini):
    write_rubric(mini, METRICS_RUBRIC)
    run_and_commit(mini)
    (mini / "params.yaml").write_text("n: 4\nacc: 0.8\n")
    git("commit", "-qam", "change params", cwd=mini)
    report = checker.evaluate(mini)
    assert not_passing(report) == ["goals/secret", "versioned/fresh"]
    assert by_id(report)["fresh"].message == "changed since the last run: make"


def test_data_committed_to_git_instead_of_dvc(mini):
    write_rubric(mini, METRICS_RUBRIC)
    dvc("repro", cwd=mini)
    (mini / "data" / ".gitignore").unlink(missing_ok=True)
    (mini / ".gitignore").write_text("/.dlpath/state.json*\n")
    git("add", "-f", "data/out.txt", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "oops, data in git", cwd=mini)
    dvc("push", cwd=mini)
    report = checker.evaluate(mini)
    assert not_passing(report) == ["goals/secret", "versioned/outs", "versioned/tracked"]
    checks = by_id(report)
    assert checks["tracked"].message == "data is tracked by git too: git rm -r --cached data"
    assert checks["outs"].message == "committed to git instead of DVC: data"


def test_a_threshold_missed_fails_only_that_metric(mini):
    write_rubric(mini, METRICS_RUBRIC)
    (mini / "params.yaml").write_text("n: 3\nacc: 0.5\n")
    git("commit", "-qam", "worse", cwd=mini)
    run_and_commit(mini)
    report = checker.evaluate(mini)
    assert not_passing(report) == ["goals/acc", "goals/secret"]
    assert by_id(report)["acc"].message == "acc = 0.5 (needs >= 0.7)"
    assert report.milestones[0].score == 2  # the ratio still counts


def test_metrics_missing_empty_garbage_nan_and_yaml(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: missing, kind: metric, file: none.json, key: a, op: ">=", value: 1, hint: h}
              - {id: empty, kind: metric, file: empty.json, key: a, op: ">=", value: 1, hint: h}
              - {id: garbage, kind: metric, file: garbage.json, key: a, op: ">=", value: 1,
                 hint: h}
              - {id: scalar, kind: metric, file: scalar.json, key: a, op: ">=", value: 1,
                 hint: h}
              - {id: nan, kind: metric, file: nan.json, key: a.b, op: ">=", value: 0, hint: h}
              - {id: nokey, kind: metric, file: m.yaml, key: a.c, op: ">=", value: 0, hint: h}
              - {id: text, kind: metric, file: m.yaml, key: a.s, op: ">=", value: 0, hint: h}
              - {id: yaml, kind: metric, file: m.yaml, key: a.b, op: "==", value: 1,
                 tolerance: 0.01, hint: h}
              - {id: far, kind: metric, file: m.yaml, key: a.b, op: "==", value: 1.1,
                 tolerance: 0.01, hint: h}
              - {id: zero, kind: metric_ratio, file: m.yaml, numerator: a.b,
                 denominator: a.z, op: "<=", value: 1, hint: h}
        """)
    (mini / "empty.json").write_text("  \n")
    (mini / "garbage.json").write_text("{not: [valid")
    (mini / "scalar.json").write_text("42\n")
    (mini / "nan.json").write_text('{"a": {"b": NaN}}')
    (mini / "m.yaml").write_text("a:\n  b: 1.005\n  s: fast\n  z: 0\n")
    report = checker.evaluate(mini)
    assert statuses(report) == {
        "m/missing": "fail", "m/empty": "error", "m/garbage": "error", "m/scalar": "error",
        "m/nan": "fail", "m/nokey": "fail", "m/text": "error", "m/yaml": "pass",
        "m/far": "fail", "m/zero": "error",
    }
    checks = by_id(report)
    assert checks["empty"].message == "empty.json is empty"
    assert checks["scalar"].message == "scalar.json holds no metrics mapping (found int: '42')"
    assert checks["garbage"].message == "garbage.json is neither JSON nor YAML"
    assert checks["nan"].message == "nan.json: a.b is nan (did training diverge?)"
    assert checks["nokey"].message == "m.yaml has no metric a.c"
    assert checks["text"].message == "m.yaml: a.s is not a number ('fast')"
    assert checks["far"].message == "a.b = 1.005 (needs 1.1 ± 0.01)"
    assert checks["zero"].message == "a.z is 0: the ratio is undefined"


def test_command_checks_time_out_bound_their_output_and_are_cached(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: ok, kind: command, run: "python -c 'import os; print(os.getcwd())'",
                 hint: h}
              - {id: hangs, kind: command, run: "sleep 30", timeout: 1, hint: h}
              - {id: loud, kind: command,
                 run: "python -c \\"import sys; sys.stdout.write('y' * 5000000); sys.exit(3)\\"",
                 hint: h}
              - {id: narrow, kind: command, run: "python -c 'print(2)'", inputs: [params.yaml],
                 hint: h}
        """)
    report = checker.evaluate(mini)
    checks = by_id(report)
    assert checks["ok"].status == "pass" and not checks["ok"].cached
    assert checks["ok"].output.strip() == str(mini)  # run from the project root
    assert checks["hangs"].status == "fail" and checks["hangs"].message == "timed out after 1 s"
    assert checks["hangs"].seconds < 10
    assert checks["loud"].status == "fail" and checks["loud"].message == "exited with 3"
    assert len(checks["loud"].output) < 4200 and "bytes cut" in checks["loud"].output

    again = by_id(checker.evaluate(mini))
    assert again["ok"].cached and again["loud"].cached and again["narrow"].cached
    assert again["ok"].status == "pass" and again["loud"].status == "fail"
    assert not again["hangs"].cached  # a timeout may be a busy machine: never cached

    (mini / "stage.py").write_text(STAGE + "\n# edited\n")  # a default input changed
    third = by_id(checker.evaluate(mini))
    assert not third["ok"].cached and third["narrow"].cached  # narrow only reads params.yaml
    (mini / "params.yaml").write_text("n: 5\nacc: 0.8\n")
    assert not by_id(checker.evaluate(mini))["narrow"].cached

    skipped = checker.evaluate(mini, run_commands=False)
    assert {c.status for c in skipped.all_checks} == {"skipped"}
    assert skipped.status == "pass" and skipped.skipped == 4


def test_command_killed_with_its_process_group(mini, tmp_path):
    marker = tmp_path / "child-alive"
    write_rubric(mini, f"""\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - id: hangs
                kind: command
                run: "(sleep 3 && touch {marker}) & sleep 30"
                timeout: 1
                hint: h
        """)
    assert statuses(checker.evaluate(mini)) == {"m/hangs": "fail"}
    import time

    time.sleep(3.5)
    assert not marker.exists()  # the background child was killed too


def test_params_changed_in_the_workspace_and_in_experiments(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: any, kind: params_changed, hint: h}
              - {id: exp, kind: params_changed, experiment: true, keys: [n], hint: h}
              - {id: other, kind: params_changed, experiment: true, keys: [acc], hint: h}
        """)
    assert statuses(checker.evaluate(mini)) == {"m/any": "fail", "m/exp": "fail",
                                                "m/other": "fail"}
    (mini / "params.yaml").write_text("n: 3\nacc: 0.9\n")
    assert statuses(checker.evaluate(mini)) == {"m/any": "pass", "m/exp": "fail",
                                                "m/other": "fail"}
    git("checkout", "--", "params.yaml", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "rubric", cwd=mini)
    dvc("exp", "run", "--set-param", "n=9", cwd=mini)
    report = checker.evaluate(mini)
    assert statuses(report) == {"m/any": "pass", "m/exp": "pass", "m/other": "fail"}
    assert by_id(report)["exp"].message.startswith("experiment ")
    assert by_id(report)["exp"].message.endswith(" changes n")


def test_files_markdown_sections_and_tags(mini):
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: glob, kind: file_exists, path: "notes/*.md", hint: h}
              - {id: match, kind: file_matches, path: stage.py, pattern: "json\\\\.dump",
                 forbid: "^TODO", hint: h}
              - {id: twice, kind: file_matches, path: stage.py, pattern: "yaml", min_count: 9,
                 hint: h}
              - {id: problem, kind: markdown_sections, path: PROBLEM.md,
                 sections: [Problem, Hypothesis, Result], hint: h}
              - {id: tag, kind: git_tag, pattern: "v*", hint: h}
        """)
    (mini / "PROBLEM.md").write_text(
        "# Mine\nIntro: replace every TODO.\n\n## Problem\nWhy digits?\n\n"
        "## Hypothesis\nTODO: later\n\n## Result\n\n")
    report = checker.evaluate(mini)
    assert statuses(report) == {"m/glob": "fail", "m/match": "pass", "m/twice": "fail",
                                "m/problem": "fail", "m/tag": "fail"}
    checks = by_id(report)
    assert checks["glob"].message == "no file matches notes/*.md"
    assert checks["twice"].message == "stage.py matches /yaml/ 3 time(s), needs 9"
    assert checks["problem"].message == "PROBLEM.md: empty: Result; still TODO: Hypothesis"
    assert checks["tag"].message == "no tag matches v*"

    (mini / "notes").mkdir()
    (mini / "notes" / "a.md").write_text("hi")
    (mini / "PROBLEM.md").write_text(
        "# Mine\nIntro: replace every TODO.\n\n## Problem\nWhy digits?\n\n"
        "## Hypothesis\nWider is faster.\n\n## Result\nIt was.\n")
    git("tag", "v1", cwd=mini)
    assert not_passing(checker.evaluate(mini)) == ["m/twice"]


def test_a_glob_does_not_follow_symlinks_out_of_the_project(mini, tmp_path):
    # A path named in the rubric that is a symlink out fails its check
    # (tests/test_rubric.py); a glob's matches are filtered.
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("password")
    (mini / "found.txt").symlink_to(outside / "secret.txt")
    write_rubric(mini, """\
        format_version: 1
        milestones:
          - id: m
            title: M
            step: s
            checks:
              - {id: glob, kind: file_exists, path: "*.txt", hint: h}
        """)
    report = checker.evaluate(mini)
    assert statuses(report) == {"m/glob": "fail"}
    (mini / "inside.txt").write_text("mine")
    assert by_id(checker.evaluate(mini))["glob"].message == "found inside.txt"


def test_a_project_without_git_or_dvc_still_reports_the_rest(tmp_path):
    write_rubric(tmp_path, METRICS_RUBRIC)
    (tmp_path / "dvc.yaml").write_text("stages:\n  make:\n    cmd: python stage.py\n")
    report = checker.evaluate(tmp_path)
    checks = by_id(report)
    for name in ("commits", "clean"):
        assert checks[name].status == "fail"
        assert checks[name].message == "This project is not a git repository (run: git init)."
    for name in ("outs", "tracked", "pushed", "fresh"):
        assert checks[name].status == "fail"
        assert checks[name].message == "DVC is not initialised here (run: dvc init)."
    assert checks["stage"].status == "pass"  # dvc.yaml alone is enough for this one
    assert checks["acc"].status == "fail"


def test_no_default_remote_is_a_failure_that_says_how_to_add_one(mini):
    write_rubric(mini, METRICS_RUBRIC)
    dvc("remote", "remove", "local", cwd=mini)
    run_and_commit(mini, push=False)
    pushed = by_id(checker.evaluate(mini, milestone="versioned"))["pushed"]
    assert pushed.status == "fail"
    assert pushed.message == "no default DVC remote (add one: dvc remote add -d NAME URL)"


def test_editing_the_tests_a_command_uses_makes_it_not_count(tmp_path):
    root = make_project("groundwork", tmp_path)
    edited = root / "tests" / "test_vectors.py"
    edited.write_text("def test_nothing():\n    pass\n")
    report = checker.evaluate(root, milestone="vectors", record=False)
    other = checker.evaluate(root, milestone="vectorise", record=False)
    visible = {c.milestone: c for c in report.all_checks + other.all_checks
               if c.id == "visible-tests"}
    assert report.tampered == ["tests/test_vectors.py"]
    assert visible["vectors"].status == "fail"
    assert visible["vectors"].message.startswith(
        "does not count: the tests it runs were edited (tests/test_vectors.py)")
    # Other exercises' checks do not rely on that file: they run (and fail, untouched).
    assert visible["vectorise"].status == "fail"
    assert "does not count" not in visible["vectorise"].message
    # The hidden tests run from dlpath's package against the project, output withheld.
    hidden = next(c for c in report.all_checks
                  if c.milestone == "vectors" and c.id == "hidden-tests")
    assert hidden.status == "fail" and hidden.message.startswith("hidden check failed: ")
    assert "dot(), cosine_similarity(), project(), dense() in exercises/vectors.py" in \
        hidden.message  # the functions and the test names, never expected values
    assert hidden.output == ""


def test_a_concurrent_dvc_command_is_an_error_not_a_hang(mini):
    write_rubric(mini, METRICS_RUBRIC)
    (mini / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")  # as if it had run
    from dvc.lock import make_lock

    lock = make_lock(os.path.join(mini, ".dvc", "tmp", "lock"),
                     tmp_dir=str(mini / ".dvc" / "tmp"))
    lock.lock()
    try:
        report = checker.evaluate(mini, milestone="versioned")
    finally:
        lock.unlock()
    fresh = by_id(report)["fresh"]
    assert fresh.status == "error"
    assert "Another DVC command is running in this project." in fresh.message
    assert by_id(report)["outs"].status == "error"
    assert by_id(report)["commits"].status == "fail"  # the git checks still ran


def test_checking_imports_neither_torch_nor_gitpython(mini):
    write_rubric(mini, METRICS_RUBRIC)
    code = ("import sys; from pathlib import Path; from dlpath import checker; "
            "checker.evaluate(Path('.')); "
            "print(sorted(m for m in ('torch', 'git') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=mini, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_dvc_answers_are_reused_only_while_nothing_they_depend_on_changes(mini):
    write_rubric(mini, METRICS_RUBRIC)
    dvc_checks = ("outs", "tracked", "pushed", "fresh")

    def check():
        report = checker.evaluate(mini, milestone="versioned")
        checks = by_id(report)
        reused = {checks[name].cached for name in dvc_checks}
        assert len(reused) == 1, checks  # all answered by DVC, or all reused
        return {name: checks[name].status for name in dvc_checks}, reused.pop()

    dvc("repro", cwd=mini)
    git("add", "-A", cwd=mini)
    git("commit", "-qm", "run", cwd=mini)
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "fail", "fresh": "pass"},
                       False)
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "fail", "fresh": "pass"},
                       True)
    dvc("push", cwd=mini)  # the remote changed
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "pass", "fresh": "pass"},
                       False)
    assert check()[1] is True
    (mini / "stage.py").write_text(STAGE + "# a dependency changed\n")
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "pass", "fresh": "fail"},
                       False)
    git("checkout", "--", "stage.py", cwd=mini)
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "pass", "fresh": "pass"},
                       False)
    (mini / "data" / "out.txt").write_text("tampered output")  # an output changed
    assert check()[0]["fresh"] == "fail"
    (mini / "data" / "out.txt").unlink()
    assert check()[0]["fresh"] == "fail"
    dvc("checkout", cwd=mini)
    assert check()[0]["fresh"] == "pass"
    (mini / "params.yaml").write_text("n: 3\nacc: 0.7\n")  # same size, other params
    assert check() == ({"outs": "pass", "tracked": "pass", "pushed": "pass", "fresh": "fail"},
                       False)
    assert check()[1] is True


def test_answers_that_cannot_be_fingerprinted_are_never_reused(tmp_path):
    from dlpath.checks import dvc_signature

    base = {"outs": [], "paths": ["dvc.yaml"], "status": {}, "cache": None}
    assert dvc_signature(tmp_path, {**base, "remote": None, "cloud": {"no_remote": True}})
    # a remote off this machine, or a dependency outside the local file system
    assert dvc_signature(tmp_path, {**base, "remote": None, "cloud": {"status": {}}}) is None
    assert dvc_signature(tmp_path, {**base, "paths": None, "remote": None,
                                     "cloud": {"no_remote": True}}) is None


def test_a_file_dvc_yaml_interpolates_is_part_of_the_fingerprint(mini):
    write_rubric(mini, METRICS_RUBRIC)
    (mini / "config.yaml").write_text("tag: a\n")
    dvc_yaml = (mini / "dvc.yaml").read_text()
    (mini / "dvc.yaml").write_text("vars:\n  - config.yaml\n" + dvc_yaml.replace(
        "cmd: python stage.py", "cmd: python stage.py ${tag}"))
    dvc("repro", cwd=mini)
    fresh = [by_id(checker.evaluate(mini, milestone="versioned"))["fresh"] for _ in range(2)]
    assert [(c.status, c.cached) for c in fresh] == [("pass", False), ("pass", True)]
    (mini / "config.yaml").write_text("tag: b\n")  # the stage's command changes
    after = by_id(checker.evaluate(mini, milestone="versioned"))["fresh"]
    assert (after.status, after.cached) == ("fail", False)


def test_evaluate_leaves_the_working_directory_as_it_found_it(mini, tmp_path, monkeypatch):
    write_rubric(mini, METRICS_RUBRIC)
    monkeypatch.chdir(tmp_path)
    report = checker.evaluate(mini)
    assert by_id(report)["fresh"].message == "the pipeline has never run (no dvc.lock)"
    assert by_id(report)["pushed"].status == "fail"  # DVC was opened and closed
    assert Path.cwd() == tmp_path


def test_the_batched_git_answers_are_gits_own(mini, tmp_path):
    """dlpath.gitstate answers each question as the git command it replaces."""
    from dlpath.errors import DlpathError
    from dlpath.gitstate import GitState

    (mini / "params.yaml").write_text("n: 4\r\nacc: 0.8\n")  # universal newlines, as git show
    (mini / "notes é.txt").write_text("untracked, not ignored\n")
    (mini / "data").mkdir()
    (mini / "data" / "ignored.bin").write_bytes(b"\xff\x00")
    (mini / ".gitignore").write_text("/.dlpath/state.json*\n/data/\n")
    git("commit", "-qam", "second", cwd=mini)
    head = git("rev-parse", "HEAD", cwd=mini).stdout.strip()
    git("update-ref", "refs/exps/ab/cdef/exp-1", head, cwd=mini)
    state = GitState(mini)
    assert state.available and state.head() == head
    assert state.commit_count() == int(git("rev-list", "--count", "HEAD", cwd=mini).stdout)
    assert state.first_commit() == git("rev-list", "--max-parents=0", "HEAD",
                                       cwd=mini).stdout.split()[0]
    assert state.tracked() == [p for p in git("ls-files", "-z", cwd=mini).stdout.split("\0")
                               if p]
    assert state.listed() == [p for p in git("ls-files", "-z", "-co", "--exclude-standard",
                                             cwd=mini).stdout.split("\0") if p]
    assert "notes é.txt" in state.listed() and "notes é.txt" not in state.tracked()
    assert state.status() == git("status", "--porcelain", "--untracked-files=all",
                                 cwd=mini).stdout.splitlines()
    assert state.experiments() == [(head, "refs/exps/ab/cdef/exp-1")]
    for rev in ("HEAD", state.first_commit(), head):
        assert state.blob(rev, "params.yaml") == git("show", f"{rev}:params.yaml",
                                                     cwd=mini).stdout
    with pytest.raises(DlpathError):
        state.blob(state.first_commit(), ".dlpath/project.json")  # not in that commit
    with pytest.raises(DlpathError):
        state.blob("HEAD", "stage.py/nothing")  # asked alone, missing too

    empty = tmp_path / "empty"
    empty.mkdir()
    git("init", "-q", cwd=empty)
    bare = GitState(empty)
    assert bare.head() is None and bare.status() == []
    with pytest.raises(DlpathError):
        bare.commit_count()  # as `git rev-list --count HEAD` fails: no commit yet
