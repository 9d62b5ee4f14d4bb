"""git and DVC as ``dlpath new`` sets them up: DVC's files are written by
dlpath (DVC's API cost half of ``dlpath new``), so they are pinned here to
what the installed DVC writes itself, and DVC's own commands must agree that
a new project is an initialised DVC repository."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dlpath import vcs
from tests.conftest import dvc, make_project


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True,
                          text=True).stdout


def files_under(root: Path) -> dict[str, bytes]:
    """DVC's files in ``root``: .dvcignore and .dvc/ (less its tmp/, which DVC
    makes for itself whenever it runs)."""
    found = {".dvcignore": (root / ".dvcignore").read_bytes()}
    for p in sorted((root / ".dvc").rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_file() and not rel.startswith(".dvc/tmp/"):
            found[rel] = p.read_bytes()
    return found


def dvc_own_init(root: Path, remote: Path) -> None:
    """``dvc init``, then the config dlpath wants as ``dvc config core.analytics
    false`` and ``dvc remote add -d local URL`` set it (the command line hands
    DVC's config the text it was given), through DVC's own API."""
    from dvc.repo import Repo

    with vcs.in_dir(root):
        repo = Repo.init(str(root))
        try:
            with repo.config.edit("repo") as conf:
                conf["core"]["analytics"] = "false"
                conf["core"]["check_update"] = "false"
                conf["core"]["remote"] = "local"
                conf["remote"]["local"] = {"url": str(remote)}
        finally:
            repo.close()


@pytest.mark.parametrize("remote", ["/srv/dvc/remote", "/home/a learner/remote #1/p-1234abcd"])
def test_dvc_files_are_byte_for_byte_what_the_installed_dvc_writes(tmp_path, remote):
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for root in (ours, theirs):
        root.mkdir()
        git("init", "-q", cwd=root)
    vcs.dvc_init(ours, Path(remote))
    dvc_own_init(theirs, Path(remote))
    assert files_under(ours) == files_under(theirs)


def test_dvc_itself_agrees_a_new_project_is_an_initialised_dvc_repository(tmp_path):
    root = make_project("xai", tmp_path)
    doctor = dvc("doctor", cwd=root).stdout
    assert "Repo: dvc, git" in doctor
    listed = dict(line.split("=", 1) for line in dvc("config", "-l", "--project",
                                                     cwd=root).stdout.splitlines())
    assert listed["core.analytics"] == "false" and listed["core.check_update"] == "false"
    assert listed["core.remote"] == "local"
    remote = Path(listed["remote.local.url"])
    assert remote.is_absolute() and remote.parent == Path(
        __import__("os").environ["DLPATH_HOME"]) / "remotes"
    status = dvc("status", cwd=root)
    assert status.returncode == 0 and "ERROR" not in status.stdout + status.stderr
    # DVC's files are committed, and nothing DVC writes when it runs shows up in git.
    assert {".dvc/.gitignore", ".dvc/config", ".dvcignore"} <= set(
        git("ls-files", cwd=root).split())
    assert git("status", "--porcelain", cwd=root) == ""


def test_a_remote_path_outside_ascii_is_written_and_read_back(tmp_path):
    root = tmp_path / "p"
    root.mkdir()
    git("init", "-q", cwd=root)
    remote = tmp_path / "données" / "remote"
    vcs.dvc_init(root, remote)
    # (not `dvc remote list`: DVC wraps its table at the terminal's width)
    assert dvc("config", "remote.local.url", cwd=root).stdout.strip() == str(remote)
    assert dvc("config", "core.remote", cwd=root).stdout.strip() == "local"


def test_identity_from_the_environment_is_the_learners_not_the_fallback(
        tmp_path, no_git_identity, monkeypatch):
    root = tmp_path / "p"
    root.mkdir()
    git("init", "-q", cwd=root)
    (root / "f.txt").write_text("x")
    assert not vcs.has_identity(root)
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Ada")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "ada@example.com")
    assert vcs.has_identity(root)
    commit = vcs.commit_all(root, "first")
    assert not commit.used_fallback_identity
    assert git("log", "-1", "--format=%an <%ae> %H", cwd=root).strip() == (
        f"Ada <ada@example.com> {commit.sha}")
