"""Rough edges a new learner hits, through the CLI: a commit hint that works
where git has no identity, roadmap step ids kept at 80 columns with the
self-reported steps marked, JSON on stdout when a command run with `--json`
fails, hints naming docs that exist on this machine, and the README's first
commands."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from dlpath import console, roadmap
from dlpath.cli import app
from tests.conftest import ROOT
from tests.test_checks import git, make_mini, write_rubric

COMMITS = """\
    format_version: 1
    milestones:
      - id: versioned
        title: Versioned
        step: s
        checks:
          - {id: commits, kind: git_commits, min: 1,
             hint: "Commit your work: `git add -A && git commit -m 'First run'`."}
          - {id: clean, kind: git_clean, hint: "Commit everything: `git add -A && git commit`."}
    """


def _hints(runner, root: Path) -> dict[str, str | None]:
    result = runner.invoke(app, ["check", str(root), "--json", "--no-commands"])
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    return {t["name"].rsplit("/", 1)[-1]: t["hint"] for t in data["tests"]}


def test_without_a_git_identity_the_commit_hint_says_how_to_set_one_first(
        tmp_path, runner, monkeypatch):
    root = make_mini(tmp_path)
    write_rubric(root, COMMITS)
    (root / "notes.txt").write_text("uncommitted\n")
    # With an identity: the rubric's hint alone.
    assert _hints(runner, root) == {
        "commits": "Commit your work: `git add -A && git commit -m 'First run'`.",
        "clean": "Commit everything: `git add -A && git commit`."}

    empty = tmp_path / "empty.gitconfig"
    empty.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    for var in ("EMAIL", "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME",
                "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(var, raising=False)
    hints = _hints(runner, root)
    for check in ("commits", "clean"):
        assert hints[check].startswith("git does not know who you are yet"), hints[check]
        assert hints[check].endswith("Then: " + {
            "commits": "Commit your work: `git add -A && git commit -m 'First run'`.",
            "clean": "Commit everything: `git add -A && git commit`."}[check])
    monkeypatch.setattr(console.out, "width", 400)  # the table, one line a check
    table = runner.invoke(app, ["check", str(root), "--no-commands"])
    assert 'first run `git config --global user.name "Your Name"`' in table.stdout

    # Following the hint, in its order, works: the identity, then the commit.
    steps = re.findall(r"`([^`]+)`", hints["commits"])
    assert steps[:2] == ['git config --global user.name "Your Name"',
                         'git config --global user.email "you@example.com"']
    refused = subprocess.run(["git", "-c", "user.useConfigOnly=true", "commit", "-qam", "x"],
                             cwd=root, capture_output=True, text=True)
    assert refused.returncode != 0  # what the learner would have hit
    for step in steps:
        subprocess.run(step, shell=True, cwd=root, check=True, capture_output=True)
    assert git("log", "-1", "--format=%an", cwd=root).stdout.strip() == "Your Name"
    assert runner.invoke(app, ["check", str(root), "--no-commands"]).exit_code == 0


def test_roadmap_at_80_columns_keeps_every_step_id_and_marks_self_reported_steps(
        runner, monkeypatch, tmp_path):
    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))  # progress of its own
    monkeypatch.setattr(console.out, "width", 80)
    shown = runner.invoke(app, ["roadmap"])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    steps = roadmap.load().steps
    for step in steps:
        (line,) = [li for li in lines if re.search(rf"\s{re.escape(step.id)}(\s|$)", li)]
        assert line.rstrip().endswith("self-reported") == step.self_reported, line
    assert any(s.self_reported for s in steps) and any(not s.self_reported for s in steps)
    assert "dlpath done STEP-ID" in shown.stdout
    # ...and `done` takes an id exactly as shown.
    self_reported = next(s for s in steps if s.self_reported)
    assert runner.invoke(app, ["done", self_reported.id]).exit_code == 0
    again = runner.invoke(app, ["roadmap"]).stdout
    assert any("✓ " in li and f" {self_reported.id} " in li for li in again.splitlines())


@pytest.mark.parametrize("where", ["missing", "no-rubric", "bad-rubric"])
def test_check_json_on_an_error_prints_one_json_object_with_the_message(
        tmp_path, runner, where):
    root = tmp_path / "p"
    if where != "missing":
        root.mkdir()
    if where == "bad-rubric":
        write_rubric(root, "format_version: 1\nmilestones: [{id: x}]\n")
    result = runner.invoke(app, ["check", str(root), "--json"])
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert data["status"] == "error"
    assert data["message"] and data["message"] in result.stderr
    assert data["milestones"] == []


@pytest.mark.parametrize("args", [
    ["challenge", "{root}"], ["leaderboard", "{root}"], ["verify", "{root}/missing.json"],
    ["credential", "edge-ready", "{root}"]])
def test_every_json_command_on_an_error_prints_one_json_object(tmp_path, runner, args):
    """A script reading stdout gets one object saying what went wrong, never
    nothing (check has a document of its own: the test above)."""
    args = [a.format(root=tmp_path) for a in args]
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code in (1, 2), result.output
    data = json.loads(result.stdout)  # exactly one JSON document
    assert data["status"] == "error" and data["exit_code"] == result.exit_code
    assert data["message"] and data["message"] in " ".join(result.stderr.split())
    without = runner.invoke(app, args)
    assert without.exit_code == result.exit_code and not without.stdout.strip()


def test_hints_name_docs_that_exist_on_this_machine(tmp_path, runner):
    (tmp_path / "p").mkdir()
    result = runner.invoke(app, ["check", str(tmp_path / "p")])
    assert result.exit_code == 2
    named = re.findall(r"(\S+rubric-format\.md)", " ".join(result.stderr.split()))
    assert named and all(Path(p).is_file() for p in named), result.stderr
    write_rubric(tmp_path / "p", "format_version: 1\nmilestones: [{id: x}]\n")
    bad = runner.invoke(app, ["check", str(tmp_path / "p")])
    named = re.findall(r"(\S+rubric-format\.md)", " ".join(bad.stderr.split()))
    assert named and all(Path(p).is_file() for p in named), bad.stderr


def test_readme_clones_before_installing_and_shows_the_quick_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme[readme.index("## Quickstart"):readme.index("## Commands")]
    commands = [line for line in quickstart.splitlines()
                if line.startswith(("git ", "python", "pip "))]
    assert commands[0].startswith("git clone ") and "cd dlpath" in commands[0]
    assert any("pip install" in c for c in commands[1:])
    assert 'python -m pytest -m "not slow"' in commands
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert re.search(r'^\s*"slow:', pyproject, re.M)  # the marker the command selects on


def test_every_check_kind_resolves_and_no_commands_imports_no_command_runner(tmp_path):
    from dlpath import checks, rubric

    for kind in checks.RUNNERS:
        assert callable(checks.kind_runner(kind)), kind
    known = getattr(rubric, "KINDS", None)
    if known is not None:
        assert set(known) == set(checks.RUNNERS)
    root = make_mini(tmp_path)
    write_rubric(root, COMMITS)
    code = ("import sys; from pathlib import Path; from dlpath import checker; "
            "checker.evaluate(Path('.'), run_commands=False); "
            "print(sorted(m for m in sys.modules if m.startswith('dlpath.checks.')))")
    loaded = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                            text=True, timeout=120, check=True).stdout
    assert "dlpath.checks.git" in loaded
    for heavy in ("dlpath.checks.commands", "dlpath.checks.pytests", "dlpath.checks.probe"):
        assert heavy not in loaded


def test_challenge_asks_for_a_git_identity_before_the_commit_it_asks_for(
        tmp_path, runner, monkeypatch):
    from tests import beyond_fake

    monkeypatch.setenv("DLPATH_HOME", str(tmp_path / "home"))
    beyond_fake.install(tmp_path, monkeypatch)
    root = beyond_fake.project(tmp_path)
    (root / "extra.txt").write_text("x")
    result = runner.invoke(app, ["challenge", str(root)])
    assert result.exit_code == 1 and "git config" not in result.stderr  # identity set
    empty = tmp_path / "empty.gitconfig"
    empty.write_text("")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(empty))
    result = runner.invoke(app, ["challenge", str(root)])
    said = " ".join(result.stderr.split())
    assert result.exit_code == 1 and "uncommitted changes (extra.txt)" in said
    assert ('git config --global user.name "Your Name"' in said
            and said.index("user.email") < said.index("Then: git add -A && git commit")), said
