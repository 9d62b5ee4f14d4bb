"""``dlpath new`` with answers and names that used to break the project, and
signals that used to leave half-made folders or untrue messages; ``reset``
with a planted backup link (issue 12)."""

from __future__ import annotations

import json
import os
import signal
import stat
import sys
from contextlib import contextmanager

import pytest

from dlpath import scaffold
from dlpath.errors import DlpathError, ExitCode, UsageError
from tests import tiny_template
from tests.conftest import make_project


@pytest.mark.parametrize("author", ['Ada "the Countess" Lovelace', "C:\\Users\\ada",
                                    "{{ 7*7 }}", "{% if true %}x{% endif %}"])
def test_answers_are_escaped_per_file_and_never_evaluated(tmp_path, author):
    tomllib = pytest.importorskip("tomllib")
    root = make_project("groundwork", tmp_path, git=False, dvc=False,
                        params={"author_name": author})
    data = tomllib.loads((root / "pyproject.toml").read_text())
    assert data["project"]["authors"] == [{"name": author}]
    meta = json.loads((root / ".dlpath" / "project.json").read_text())
    assert meta["answers"]["author_name"] == author


@pytest.mark.parametrize("name", ["numpy", "pytest", "json", "torch"])
def test_names_that_shadow_installed_modules_are_refused(tmp_path, name):
    with pytest.raises(UsageError, match=f"would hide the installed module '{name}'"):
        scaffold.create_project("groundwork", name, tmp_path, git=False, dvc=False)
    assert list(tmp_path.iterdir()) == []


def test_no_bytecode_is_copied_from_the_installed_templates(tmp_path):
    folder = tiny_template.install(tmp_path / "t")
    cache = folder / "tiny" / tiny_template.PROJECT / tiny_template.PKG / "__pycache__"
    cache.mkdir()
    (cache / f"train.{sys.implementation.cache_tag}.pyc").write_bytes(b"stale")
    (folder / "_base" / tiny_template.PROJECT / "stray.pyc").write_bytes(b"stale")
    with tiny_template.patched(folder):
        root = make_project("tiny", tmp_path / "out", git=False, dvc=False)
    assert not list(root.rglob("*.pyc")) and not list(root.rglob("__pycache__"))


def _signal_at(label: str, sig: int):
    @contextmanager
    def step(current: str):
        if current.startswith(label):
            os.kill(os.getpid(), sig)
        yield
    return step


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_signal_during_new_leaves_nothing_and_says_so(tmp_path, sig):
    with pytest.raises(DlpathError) as caught:
        scaffold.create_project("groundwork", "proj", tmp_path, step=_signal_at(
            "Initialising DVC", sig))
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert caught.value.message == "Interrupted; nothing was left half-made."
    assert list(tmp_path.iterdir()) == []  # no hidden .proj.dlpath-XXXX either


def test_an_interrupt_right_after_the_move_tells_the_truth(tmp_path, monkeypatch):
    real = os.rename

    def rename_then_interrupt(src, dst):
        real(src, dst)
        os.kill(os.getpid(), signal.SIGINT)  # held back until the move is recorded

    monkeypatch.setattr(scaffold.os, "rename", rename_then_interrupt)
    with pytest.raises(DlpathError) as caught:
        scaffold.create_project("groundwork", "proj", tmp_path, git=False, dvc=False)
    assert caught.value.exit_code == ExitCode.INTERRUPTED
    assert "had already been created in full" in caught.value.message
    assert (tmp_path / "proj" / ".dlpath" / "project.json").is_file()
    assert [p.name for p in tmp_path.iterdir()] == ["proj"]


def test_reset_never_writes_through_a_planted_backup_link(tmp_path, monkeypatch):
    from dlpath import reset

    root = make_project("groundwork", tmp_path / "p", git=False, dvc=False)
    exercise = root / "exercises" / "vectors.py"
    exercise.chmod(0o644)
    exercise.write_text(exercise.read_text() + "\n# my attempt\n")
    outside = tmp_path / "outside.txt"
    (planned,) = reset.plan(root, ["vectors"])
    folder = reset.backup_dir(root, planned.exercise)
    folder.mkdir(parents=True)

    class Frozen:  # every backup gets the same time stamp: the link sits at the first name
        @staticmethod
        def now(tz=None):
            from datetime import datetime
            return datetime(2026, 1, 1, tzinfo=tz)

    monkeypatch.setattr(reset, "datetime", Frozen)
    (folder / "20260101T000000000000-001.py").symlink_to(outside)  # dangling, leads out
    (done,) = reset.apply([planned], root)
    assert not outside.exists()
    assert done.backup.name == "20260101T000000000000-002.py"
    assert "# my attempt" in done.backup.read_text()
    assert stat.S_IMODE(exercise.stat().st_mode) == 0o644
