"""What the built wheel contains, and that an installed (non-editable) dlpath
renders projects from the templates inside it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation",
         "-q", "-w", str(out)],
        check=True, capture_output=True, timeout=300,
    )
    (built,) = out.glob("dlpath-*.whl")
    return built


def test_wheel_ships_every_template_file_dotfiles_included(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    source = ROOT / "templates"
    expected = {
        "dlpath/templates/" + p.relative_to(source).as_posix()
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    }
    missing = sorted(expected - names)
    assert not missing, missing
    # The files most easily lost by ignore patterns are there.
    base = "dlpath/templates/_base/{{cookiecutter._project_name}}/"
    for rel in (".gitignore", ".github/workflows/ci.yml", "PROBLEM.md"):
        assert base + rel in names
    assert not any("__pycache__" in n for n in names)


def test_wheel_ships_the_packaged_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = ROOT / "dlpath" / "data"
    for p in data.rglob("*"):
        if p.is_file() and "__pycache__" not in p.parts:
            assert "dlpath/data/" + p.relative_to(data).as_posix() in names


def test_installed_wheel_renders_a_project(wheel, tmp_path):
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run from tmp_path: from the repository root, the source tree would win.
    env = {**os.environ, "PYTHONPATH": str(site)}
    probe = subprocess.run(
        [sys.executable, "-c", "import dlpath.resources as r; print(r.templates_dir())"],
        capture_output=True, text=True, env=env, check=True, cwd=tmp_path,
    )
    assert Path(probe.stdout.strip()) == site / "dlpath" / "templates"
    proc = subprocess.run(
        [sys.executable, "-m", "dlpath", "new", "xai", "w", "--no-input", "-o", str(tmp_path)],
        capture_output=True, text=True, env=env, timeout=120, stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "w" / ".github" / "workflows" / "ci.yml").is_file()
    assert (tmp_path / "w" / ".gitignore").is_file()


def test_wheel_ships_the_docs_that_hints_name(wheel, tmp_path):
    names = set(zipfile.ZipFile(wheel).namelist())
    for p in (ROOT / "docs").rglob("*"):
        if p.is_file():
            assert "dlpath/docs/" + p.relative_to(ROOT / "docs").as_posix() in names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    (tmp_path / "plain").mkdir()
    proc = subprocess.run(  # a folder without a rubric: the hint names the format doc
        [sys.executable, "-m", "dlpath", "check", "plain"], capture_output=True, text=True,
        env={**os.environ, "PYTHONPATH": str(site), "COLUMNS": "500"}, cwd=tmp_path,
        timeout=120, stdin=subprocess.DEVNULL)
    assert proc.returncode == 2, proc.stderr
    named = site / "dlpath" / "docs" / "rubric-format.md"
    assert f"format: {named})" in proc.stderr and named.is_file()
