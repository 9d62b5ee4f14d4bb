"""The `xai` template: a generated project trains a CNN, explains it with
Captum (Integrated Gradients and Saliency), and its two sanity checks pass:
the model-parameter randomisation test and the deletion curve.

The full pipeline runs once for the module (``reproduced``); the other slow
tests read what it left behind or re-run a single stage."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from dlpath import rubric, templates
from tests.conftest import dvc, make_project
from tests.template_helpers import (
    PKG,
    REPRO_BUDGET_S,
    assert_milestones_pass,
    assert_project_tests_and_ruff_pass,
    assert_stages_rewrite_identically,
    read_metrics,
    reproduce,
)

METHODS = ("integrated_gradients", "saliency")
FIGURES = [f"figures/{m}.png" for m in METHODS] + [
    "figures/randomisation.png", "figures/deletion_curve.png"]
# The rubric's thresholds for the sanity checks.
MAX_RANDOMISATION_SPEARMAN = 0.5


def test_renders_the_stages_params_readme_and_captum_dependency(tmp_path):
    root = make_project("xai", tmp_path)
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == ["prepare", "train", "explain", "sanity", "report"]
    assert all(s["cmd"].startswith(f"python -m {PKG}.") for s in stages.values())
    # Figures and the report live in git (cache: false), the arrays in DVC.
    explain_outs = stages["explain"]["outs"]
    assert "data/attributions.npz" in explain_outs
    for method in METHODS:
        assert {f"figures/{method}.png": {"cache": False}} in explain_outs
    assert {"report.md": {"cache": False}} in stages["report"]["outs"]
    assert {"metrics/sanity.json": {"cache": False}} in stages["sanity"]["metrics"]

    assert '"captum>=0.7"' in (root / "pyproject.toml").read_text()
    readme = (root / "README.md").read_text()
    for expected in ("Integrated Gradients", "randomisation", "deletion",
                     "Explanations that pass their sanity checks", "spearman_abs",
                     f"torchrun --nproc_per_node=2 -m {PKG}.train"):
        assert expected in readme, expected
    assert "{%" not in readme and "{{" not in readme
    gitignore = (root / ".gitignore").read_text()
    assert "/data/" in gitignore and "figures" not in gitignore


def test_rubric_holds_both_sanity_checks_and_hides_one():
    milestones = rubric.load_file(templates.get("xai").rubric_path)
    assert [m.id for m in milestones] == ["sane-explanations"]
    (goal,) = milestones
    assert goal.step == "explainable-ai"
    by_id = {c.id: c for c in goal.checks}
    assert by_id["randomisation"].kind == "metric"
    assert by_id["deletion"].kind == "metric_ratio"
    assert by_id["heatmaps"].kind == "file_exists" and by_id["report"].kind == "file_matches"
    assert any(not c.visible for c in goal.checks)
    assert all(c.hint for c in goal.checks)


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    return reproduce("xai", tmp_path_factory)


def sanity_json(root: Path) -> dict:
    return read_metrics(root, "sanity")


@pytest.mark.slow
def test_repro_fits_the_time_budget(reproduced):
    _, seconds = reproduced
    assert seconds < REPRO_BUDGET_S


@pytest.mark.slow
def test_explanations_pass_both_sanity_checks(reproduced):
    root, _ = reproduced
    m = sanity_json(root)
    assert m["randomisation"]["spearman"] <= MAX_RANDOMISATION_SPEARMAN, m
    assert m["deletion"]["attribution_auc"] < m["deletion"]["random_auc"], m
    assert m["deletion"]["auc_gap"] == pytest.approx(
        m["deletion"]["random_auc"] - m["deletion"]["attribution_auc"], abs=1e-3)
    assert m["model_accuracy"] >= 0.9, m  # explanations of a real model


@pytest.mark.slow
def test_deletion_curve_falls_from_the_models_accuracy(reproduced):
    root, _ = reproduced
    lines = (root / "metrics" / "deletion_curve.csv").read_text().splitlines()
    header, rows = lines[0].split(","), [list(map(float, r.split(","))) for r in lines[1:]]
    assert header == ["removed_fraction", "attribution_acc", "random_acc"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert len(rows) == params["sanity"]["deletion_steps"] + 1
    assert rows[0][0] == 0.0 and rows[-1][0] == 1.0
    assert rows[0][1] == rows[0][2] == sanity_json(root)["model_accuracy"]
    # With every pixel removed both orders see the same black image.
    assert rows[-1][1] == rows[-1][2]


@pytest.mark.slow
def test_heatmaps_arrays_and_report(reproduced):
    root, _ = reproduced
    for figure in FIGURES:
        assert (root / figure).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", figure
    params = yaml.safe_load((root / "params.yaml").read_text())
    n = params["explain"]["examples"]
    with np.load(root / "data" / "attributions.npz") as arrays:
        assert arrays["images"].shape == (n, 1, 8, 8)
        for method in METHODS:
            assert arrays[method].shape == (n, 1, 8, 8)
            assert np.abs(arrays[method]).sum() > 0
    report = (root / "report.md").read_text()
    for figure in FIGURES:
        assert f"]({figure})" in report, figure
    m = sanity_json(root)
    assert f"| {m['randomisation']['spearman']:.3f} |" in report
    assert f"| {m['deletion']['attribution_auc']:.3f} |" in report


@pytest.mark.slow
def test_goal_milestone_passes_hidden_checks_included(reproduced):
    root, _ = reproduced
    assert_milestones_pass(root, "sane-explanations")


@pytest.mark.slow
def test_dvc_shows_the_metrics_and_plots(reproduced, tmp_path):
    root, _ = reproduced
    shown = json.dumps(json.loads(dvc("metrics", "show", "--json", cwd=root).stdout))
    assert "metrics/sanity.json" in shown and '"attribution_auc"' in shown
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=root)
    html = (tmp_path / "plots" / "index.html").read_text()
    assert "Deletion curve" in html and "random_acc" in html and "val_acc" in html
    assert (tmp_path / "plots" / "static").is_dir()  # the heatmaps, as image plots


@pytest.mark.slow
def test_project_tests_and_ruff_pass(reproduced):
    root, _ = reproduced
    assert_project_tests_and_ruff_pass(root)


@pytest.mark.slow
def test_sanity_stage_is_deterministic(reproduced):
    """Same seed, same numbers and the same figures, byte for byte."""
    root, _ = reproduced
    outputs = ["metrics/sanity.json", "metrics/deletion_curve.csv",
               "figures/randomisation.png", "figures/deletion_curve.png"]
    assert_stages_rewrite_identically(root, ["sanity"], outputs)


@pytest.mark.slow
def test_prepare_is_deterministic_for_a_seed(reproduced):
    """Same seed, same split, byte for byte: DVC sees nothing to redo."""
    root, _ = reproduced
    parts = [f"data/prepared/{p}.npz" for p in ("train", "val", "test")]
    assert_stages_rewrite_identically(root, ["prepare"], parts)
