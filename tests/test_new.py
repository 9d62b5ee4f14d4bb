"""`dlpath new`: every template renders into a clean git + DVC project, and every
bad input is refused with one line, the right exit code, and no trace left."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dlpath import scaffold, templates, vcs
from dlpath.cli import app
from tests.conftest import snapshot

TEMPLATES = sorted(templates.available())


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True
    ).stdout


def dvc_config(project: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser()
    parser.read(project / ".dvc" / "config")
    return parser


def test_all_five_templates_are_packaged():
    assert {"quantization", "xai", "synthetic-data", "multimodal", "groundwork"} <= set(TEMPLATES)


@pytest.mark.parametrize("template", TEMPLATES)
def test_template_renders_a_clean_repository_with_one_commit(template, tmp_path, runner):
    result = runner.invoke(app, ["new", template, "proj", "--no-input", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "proj"

    # Only the project is left behind: no temporary directory beside it.
    assert sorted(p.name for p in tmp_path.iterdir()) == ["proj"]
    # One commit holding every file, and nothing left uncommitted.
    assert git("rev-list", "--count", "HEAD", cwd=project).strip() == "1"
    assert git("status", "--porcelain", "--untracked-files=all", cwd=project) == ""
    committed = set(git("ls-files", cwd=project).split())
    for expected in ("dvc.yaml", "params.yaml", "README.md", "pyproject.toml", ".gitignore",
                     ".dvc/config", ".dlpath/project.json", ".github/workflows/ci.yml"):
        assert expected in committed, expected
    # No Jinja left unrendered anywhere in the project.
    for rel in committed:
        text = (project / rel).read_bytes()
        assert b"cookiecutter." not in text, rel

    # DVC: initialised, off the network, with a working default remote.
    config = dvc_config(project)
    assert config["core"]["analytics"].lower() == "false"
    assert config["core"]["check_update"].lower() == "false"
    assert config["core"]["remote"] == "local"
    remote_url = Path(config['\'remote "local"\'']["url"])
    assert remote_url.is_absolute()
    assert remote_url.parent == Path(os.environ["DLPATH_HOME"]) / "remotes"

    meta = json.loads((project / ".dlpath" / "project.json").read_text())
    assert meta["template"] == template
    assert meta["template_version"] == templates.get(template).version
    assert meta["answers"]["author_name"] == "A. Learner"
    assert "tests/test_common.py" in meta["checksums"] or template == "groundwork"


def test_new_prints_the_next_commands(tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "demo", "--no-input", "-o", str(tmp_path)])
    assert result.exit_code == 0
    assert f"cd {tmp_path / 'demo'}" in result.stdout
    assert "dvc repro" in result.stdout


def test_param_overrides_a_question(tmp_path, runner):
    result = runner.invoke(
        app,
        ["new", "quantization", "p", "--no-input", "-o", str(tmp_path), "-p", "author_name=Ada L."],
    )
    assert result.exit_code == 0, result.output
    assert 'name = "Ada L."' in (tmp_path / "p" / "pyproject.toml").read_text()
    assert "seed: 42" in (tmp_path / "p" / "params.yaml").read_text()
    meta = json.loads((tmp_path / "p" / ".dlpath" / "project.json").read_text())
    assert meta["answers"]["author_name"] == "Ada L."


def test_typed_param_reaches_params_yaml(tmp_path, runner):
    result = runner.invoke(
        app, ["new", "quantization", "p", "--no-input", "-o", str(tmp_path), "-p", "seed=7"]
    )
    assert result.exit_code == 0, result.output
    params = (tmp_path / "p" / "params.yaml").read_text()
    assert "seed: 7" in params and "seed: 42" not in params


def test_package_name_is_derived_from_the_project_name(tmp_path):
    result = scaffold.create_project("quantization", "My-Proj.v2", tmp_path)
    assert (result.path / "my_proj_v2" / "common.py").is_file()
    assert "python -m my_proj_v2." in (result.path / "dvc.yaml").read_text()


def test_output_dir_is_created_when_missing(tmp_path, runner):
    target = tmp_path / "a" / "b"
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert (target / "p" / "dvc.yaml").is_file()


def test_an_existing_empty_directory_is_used(tmp_path, runner):
    (tmp_path / "p").mkdir()
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "p" / "dvc.yaml").is_file()


def test_without_git_identity_it_commits_as_dlpath_and_says_how_to_set_yours(
    tmp_path, runner, no_git_identity
):
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path)])
    assert result.exit_code == 0, result.output
    project = tmp_path / "p"
    author = git("log", "-1", "--format=%an <%ae>", cwd=project).strip()
    assert author == f"{vcs.FALLBACK_NAME} <{vcs.FALLBACK_EMAIL}>"
    assert "git config --global user.name" in result.stderr
    # Nothing was written to the repository's config: the learner's identity
    # applies as soon as they set it.
    assert "[user]" not in (project / ".git" / "config").read_text()


def test_no_git_no_dvc(tmp_path, runner):
    result = runner.invoke(
        app, ["new", "xai", "p", "--no-input", "--no-git", "--no-dvc", "-o", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "p" / ".git").exists()
    assert not (tmp_path / "p" / ".dvc").exists()
    assert (tmp_path / "p" / "dvc.yaml").is_file()


def test_templates_lists_every_template_with_its_phase(runner):
    result = runner.invoke(app, ["templates", "--json"])
    assert result.exit_code == 0
    listed = {t["name"]: t for t in json.loads(result.stdout)}
    assert sorted(listed) == TEMPLATES
    assert listed["groundwork"]["phase"] == "groundwork"
    assert all(t["description"] for t in listed.values())
    table = runner.invoke(app, ["templates"])
    assert table.exit_code == 0
    for name in TEMPLATES:
        assert name in table.stdout


# ------------------------------------------------------------- bad input


def assert_refused(result, code: int, *fragments: str) -> None:
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr


def test_unknown_template_suggests_the_closest(tmp_path, runner):
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "quantisation", "p", "--no-input", "-o", str(tmp_path)])
    assert_refused(result, 2, "Unknown template 'quantisation'", "Did you mean 'quantization'?")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize(
    "name", ["a/b", "..", "../escape", "", "  ", "con", "NUL.txt", "lpt1", "1abc", "a b", "x\\y"]
)
def test_invalid_project_names_are_refused(name, tmp_path, runner):
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "xai", name, "--no-input", "-o", str(tmp_path)])
    assert_refused(result, 2, "project name")
    assert snapshot(tmp_path) == before
    assert not (tmp_path.parent / "escape").exists()


def test_existing_non_empty_destination_is_never_touched(tmp_path, runner):
    dest = tmp_path / "p"
    dest.mkdir()
    (dest / "notes.txt").write_text("my precious notes")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path)])
    assert_refused(result, 2, "already exists and is not empty")
    assert snapshot(tmp_path) == before


def test_destination_that_is_a_file_is_refused(tmp_path, runner):
    (tmp_path / "p").write_text("a file")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path)])
    assert_refused(result, 2, "already exists")
    assert snapshot(tmp_path) == before


@pytest.mark.parametrize("pair,message", [("nonsense", "expected key=value"),
                                          ("colour=red", "Unknown --param colour"),
                                          ("seed=abc", "--param seed must be an integer")])
def test_bad_params_are_refused(pair, message, tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path), "-p", pair])
    assert_refused(result, 2, message)
    assert list(tmp_path.iterdir()) == []


def test_no_git_without_no_dvc_is_a_usage_error(tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "--no-git", "-o", str(tmp_path)])
    assert_refused(result, 2, "--no-git needs --no-dvc")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_no_write_permission(tmp_path, runner):
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(locked)])
    assert_refused(result, 1, "No permission to write")
    assert list(locked.iterdir()) == []


def test_output_dir_under_a_file_is_refused(tmp_path, runner):
    (tmp_path / "file").write_text("x")
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path / "file")])
    assert_refused(result, 2, "is not a directory")
    assert snapshot(tmp_path) == before


def test_git_not_installed(tmp_path, runner, monkeypatch):
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(out)])
    assert_refused(result, 1, "git is not installed", "--no-git")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("stage", ["init_repo", "dvc_init", "commit_all"])
def test_a_failing_git_or_dvc_step_leaves_no_trace(stage, tmp_path, runner, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(vcs, stage, boom)
    remotes_before = snapshot(Path(os.environ["DLPATH_HOME"])) if Path(
        os.environ["DLPATH_HOME"]).exists() else {}
    out = tmp_path / "out" / "nested"
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(out)])
    assert_refused(result, 1, "failed: simulated failure")
    # Even the --output-dir directories it had to create are gone.
    assert not (tmp_path / "out").exists()
    home = Path(os.environ["DLPATH_HOME"])
    assert (snapshot(home) if home.exists() else {}) == remotes_before


def test_ctrl_c_midway_leaves_no_trace(tmp_path, runner, monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(vcs, "commit_all", interrupt)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path)])
    assert_refused(result, 130, "Interrupted")
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------- the real command


def test_installed_command_runs_as_a_subprocess(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dlpath", "new", "xai", "sub", "--no-input", "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "sub" / ".git").is_dir()
    # stdout carries only the next commands: DVC's own chatter is silenced.
    assert "Initialized DVC" not in proc.stdout
    assert proc.stdout.strip().splitlines()[0].strip() == f"cd {tmp_path / 'sub'}"

    bad = subprocess.run(
        [sys.executable, "-m", "dlpath", "new", "nope", "x", "-o", str(tmp_path)],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert bad.returncode == 2
    assert "Traceback" not in bad.stderr
    assert len([line for line in bad.stderr.splitlines() if line.startswith("Error:")]) == 1


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from dlpath.cli import app\n"
        "try:\n"
        "    app(['--help'], prog_name='dlpath')\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('dvc', 'cookiecutter', 'git', 'torch') if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "HEAVY="


def test_no_write_permission_reported_before_any_work(tmp_path, runner, monkeypatch):
    # Root ignores permission bits, so the refusal is simulated where os.access
    # is asked; the real-permission test above runs for non-root users.
    real_access = os.access
    monkeypatch.setattr(
        os, "access",
        lambda path, mode, **kw: (
            False if str(path) == str(tmp_path) and mode & os.W_OK else real_access(path, mode)
        ),
    )
    before = snapshot(tmp_path)
    result = runner.invoke(app, ["new", "xai", "p", "--no-input", "-o", str(tmp_path / "sub")])
    assert_refused(result, 1, "No permission to write", "--output-dir")
    assert snapshot(tmp_path) == before
