"""Isolation for every test: HOME, git config, dlpath's user directory and DVC
never touch the developer's machine, and DVC never waits on the network."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pytest_configure(config: pytest.Config) -> None:
    # Session-wide (not per-test) so session-scoped fixtures are isolated too.
    import tempfile

    base = Path(tempfile.mkdtemp(prefix="dlpath-tests-"))
    config._dlpath_base = base  # removed in pytest_unconfigure
    home = base / "home"
    home.mkdir()
    gitconfig = home / ".gitconfig"
    gitconfig.write_text("[user]\n\tname = Test Learner\n\temail = learner@example.com\n"
                         "[init]\n\tdefaultBranch = main\n")
    os.environ.update(
        {
            "HOME": str(home),
            "XDG_DATA_HOME": str(home / ".local" / "share"),
            "XDG_CONFIG_HOME": str(home / ".config"),
            "XDG_CACHE_HOME": str(home / ".cache"),
            "DLPATH_HOME": str(base / "dlpath-home"),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "DVC_NO_ANALYTICS": "1",
            "DVC_SITE_CACHE_DIR": str(base / "dvc-site-cache"),
            # Stage commands call `python`: make it this interpreter.
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }
    )
    os.environ.pop("DLPATH_DEBUG", None)
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # One BLAS/torch thread per worker: -n auto already uses every core,
        # and the pipelines these tests run (subprocesses) inherit this.
        for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
            os.environ.setdefault(var, "1")


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    base = getattr(config, "_dlpath_base", None)
    if base is not None:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def runner():
    from typer.testing import CliRunner

    return CliRunner()


@pytest.fixture
def no_git_identity(tmp_path, monkeypatch):
    """A git configuration without user.name / user.email."""
    cfg = tmp_path / "empty.gitconfig"
    cfg.write_text("[init]\n\tdefaultBranch = main\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    return cfg


def make_project(template: str, where: Path, name: str = "proj", **kwargs) -> Path:
    """Generate a project through the core API (fast; the CLI has its own tests)."""
    from dlpath import scaffold

    return scaffold.create_project(template, name, where, **kwargs).path


def run(cmd: list[str], cwd: Path, timeout: float = 600, check: bool = True):
    """Run a command as a learner would, returning the CompletedProcess."""
    proc = subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=os.environ.copy()
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
            f"stderr:\n{proc.stderr[-4000:]}"
        )
    return proc


def dvc(*args: str, cwd: Path, check: bool = True):
    return run([sys.executable, "-m", "dvc", *args], cwd=cwd, check=check)


def snapshot(path: Path) -> dict[str, bytes | None]:
    """Every file and directory under ``path`` with its content, for before/after checks."""
    out: dict[str, bytes | None] = {}
    for p in sorted(path.rglob("*")):
        rel = p.relative_to(path).as_posix()
        out[rel] = p.read_bytes() if p.is_file() and not p.is_symlink() else None
    return out


# Modules that run whole pipelines, heaviest first (CPU-minutes measured in CI).
# With `--dist loadfile` each worker takes the next module as it finishes one:
# starting the longest first keeps one worker from finishing alone at the end.
# Every worker collects the same order, as xdist requires.
HEAVY_FIRST = [
    "test_template_synthetic.py",
    "test_template_multimodal.py",
    "test_template_quantization.py",
    "test_template_xai.py",
    "test_groundwork_pipeline.py",
    "test_check_templates.py",  # after quantization: it shares its solved project
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(HEAVY_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))
