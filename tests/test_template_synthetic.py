"""The `synthetic-data` template: a generated project renders a synthetic digit
dataset, curates it (balance, duplicates, label noise, a dataset card), trains
a CNN on it and tests on scikit-learn's real handwritten digits; the model
reaches 70% on the real set, and a scaling stage plots real-set accuracy
against synthetic-set size.

The full pipeline runs once for the module (``reproduced``)."""

from __future__ import annotations

import json

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

STAGES = ["generate", "curate", "train", "evaluate", "scaling"]
MIN_REAL_ACC = 0.70  # the rubric's goal


def test_renders_stages_params_readme_and_pillow(tmp_path):
    root = make_project("synthetic-data", tmp_path)
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == STAGES
    assert all(s["cmd"] == f"python -m {PKG}.{name}" for name, s in stages.items())
    assert {"DATASET_CARD.md": {"cache": False}} in stages["curate"]["outs"]
    assert "data/synthetic" in stages["generate"]["outs"]
    assert {"metrics/curation.json": {"cache": False}} in stages["curate"]["metrics"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    for knob in ("styles", "stroke", "rotation", "shear", "size", "colour", "noise",
                 "imbalance", "label_noise"):
        assert knob in params["generate"], knob
    assert '"pillow>=9.1"' in (root / "pyproject.toml").read_text()
    readme = (root / "README.md").read_text()
    for expected in ("sim-to-real", "DATASET_CARD.md", "real_acc", "scaling",
                     "Sim-to-real", f"torchrun --nproc_per_node=2 -m {PKG}.train"):
        assert expected in readme, expected
    assert "{%" not in readme and "{{" not in readme and "Skeleton" not in readme


def test_rubric_checks_real_accuracy_card_and_curation_and_hides_some():
    milestones = rubric.load_file(templates.get("synthetic-data").rubric_path)
    assert [m.id for m in milestones] == ["curated-dataset", "sim-to-real"]
    assert all(m.step == "synthetic-data" for m in milestones)
    checks = {c.id: c for m in milestones for c in m.checks}
    assert checks["real-accuracy"].kind == "metric" and checks["card"].kind == "file_matches"
    assert {"generate-stage", "curate-stage", "evaluate-stage", "scaling-stage"} <= set(checks)
    assert sum(not c.visible for c in checks.values()) >= 1
    assert all(c.hint for c in checks.values())
    assert "UNFINISHED" not in templates.get("synthetic-data").description


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    return reproduce("synthetic-data", tmp_path_factory)


@pytest.mark.slow
def test_repro_fits_the_time_budget(reproduced):
    _, seconds = reproduced
    assert seconds < REPRO_BUDGET_S


@pytest.mark.slow
def test_trained_on_synthetic_it_recognises_real_digits(reproduced):
    root, _ = reproduced
    m = read_metrics(root, "evaluate")
    assert m["real_acc"] >= MIN_REAL_ACC, m
    assert m["synthetic_val_acc"] >= m["real_acc"], m  # the gap exists
    assert m["sim_to_real_gap"] == pytest.approx(m["synthetic_val_acc"] - m["real_acc"],
                                                 abs=1e-3)
    per_class = m["real_acc_per_class"]
    assert sorted(per_class) == [str(d) for d in range(10)]
    assert sum(per_class.values()) / 10 == pytest.approx(m["real_acc"], abs=0.05)
    predictions = (root / "metrics" / "real_predictions.csv").read_text().splitlines()
    assert predictions[0] == "actual,predicted" and len(predictions) == 1797 + 1


@pytest.mark.slow
def test_curation_reports_balance_duplicates_and_label_noise(reproduced):
    root, _ = reproduced
    m = read_metrics(root, "curation")
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert m["examples"] == params["generate"]["n"] == sum(m["balance"]["counts"])
    assert m["balance"]["entropy"] > 0.99  # balanced by default
    # 2% of labels are flipped on purpose; the estimate must notice them.
    noise = m["label_noise"]
    assert 0.01 < noise["injected"] < 0.03
    assert noise["estimated"] > noise["injected"] and noise["flag_recall"] > 0.5
    assert m["kept"] == m["examples"] - m["duplicates"]["exact"] == m["train"] + m["val"]
    card = (root / "DATASET_CARD.md").read_text()
    assert f"{noise['estimated']:.1%}" in card and "](figures/examples.png)" in card
    assert (root / "figures" / "examples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_scaling_curve_covers_the_sizes_and_ends_at_the_full_model(reproduced):
    root, _ = reproduced
    lines = (root / "metrics" / "scaling.csv").read_text().splitlines()
    assert lines[0] == "train_size,synthetic_val_acc,real_acc"
    rows = [[float(v) for v in line.split(",")] for line in lines[1:]]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert [int(r[0]) for r in rows[:-1]] == sorted(params["scaling"]["sizes"])
    assert int(rows[-1][0]) == read_metrics(root, "curation")["train"]
    assert rows[-1][2] == read_metrics(root, "evaluate")["real_acc"]
    assert rows[-1][2] > rows[0][2]  # more synthetic data helps on real data


@pytest.mark.slow
def test_goal_milestones_pass_hidden_checks_included(reproduced):
    root, _ = reproduced
    assert_milestones_pass(root, "curated-dataset", "sim-to-real")


@pytest.mark.slow
def test_dvc_shows_the_metrics_and_plots(reproduced, tmp_path):
    root, _ = reproduced
    shown = json.dumps(json.loads(dvc("metrics", "show", "--json", cwd=root).stdout))
    for expected in ("metrics/evaluate.json", "real_acc", "metrics/curation.json"):
        assert expected in shown, expected
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=root)
    html = (tmp_path / "plots" / "index.html").read_text()
    assert "Real-set accuracy against synthetic training-set size" in html
    assert "real_predictions.csv" in html


@pytest.mark.slow
def test_project_tests_and_ruff_pass(reproduced):
    root, _ = reproduced
    assert_project_tests_and_ruff_pass(root)


@pytest.mark.slow
def test_generate_and_curate_are_deterministic(reproduced):
    """Same seed, same dataset, card and picture; the pipeline stays up to date."""
    root, _ = reproduced
    outputs = ["data/synthetic/dataset.npz", "metrics/curation.json", "DATASET_CARD.md",
               "figures/examples.png"]
    assert_stages_rewrite_identically(root, ["generate", "curate"], outputs)
