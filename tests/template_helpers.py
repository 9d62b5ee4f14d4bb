"""What the template test modules share: one timed `dvc repro` per module,
reading metrics, the generated project's own tests and ruff, the goal
milestones, and re-running a stage to show it is deterministic."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

from dlpath import checker
from tests.conftest import dvc, make_project, run

PKG = "proj"  # the package of a project named "proj"
# `dvc repro` must finish in under 60 s on an idle 2-core CPU; tests share the
# machine with other pipelines, so allow twice that before calling it a regression.
REPRO_BUDGET_S = 120


def reproduce(template: str, tmp_path_factory) -> tuple[Path, float]:
    """Generate the template's project and run its pipeline; (root, seconds)."""
    root = make_project(template, tmp_path_factory.mktemp(template))
    start = time.perf_counter()
    dvc("repro", cwd=root)
    seconds = time.perf_counter() - start
    print(f"\n{template}: dvc repro took {seconds:.1f} s")
    return root, seconds


def read_metrics(root: Path, name: str) -> dict:
    return json.loads((root / "metrics" / f"{name}.json").read_text())


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_project_tests_and_ruff_pass(root: Path) -> None:
    result = run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=root)
    assert " passed" in result.stdout and "failed" not in result.stdout
    run([sys.executable, "-m", "ruff", "check", "--no-cache", "."], cwd=root)


def assert_milestones_pass(root: Path, *milestones: str) -> None:
    """Every check of each milestone passes, hidden ones included."""
    for milestone in milestones:
        report = checker.evaluate(root, milestone=milestone, record=False)
        failing = [(c.id, c.message) for c in report.all_checks if c.status != "pass"]
        assert not failing, failing


def assert_stages_rewrite_identically(root: Path, stages: list[str], outputs: list[str]) -> None:
    """Re-running the stages rewrites ``outputs`` byte for byte, and DVC sees
    nothing to redo: same seed, same results."""
    before = {p: sha256(root / p) for p in outputs}
    for stage in stages:
        run([sys.executable, "-m", f"{PKG}.{stage}"], cwd=root)
    assert {p: sha256(root / p) for p in outputs} == before
    assert json.loads(dvc("status", "--json", cwd=root).stdout) == {}
