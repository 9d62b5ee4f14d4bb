"""The `multimodal` template: a generated project builds a paired image-text
dataset, trains image-only and text-only baselines, a late-fusion model and a
CLIP-style dual encoder; fusion beats both baselines by 10 points or more and
retrieval finds the right caption in the top 5.

The full pipeline runs once for the module (``reproduced``)."""

from __future__ import annotations

import json

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

STAGES = ["generate", "baselines", "train", "contrastive", "evaluate"]
# The rubric's thresholds (the goal milestones), asserted here with the numbers.
MIN_MARGIN = 0.10
MIN_RECALL_AT_5 = 0.5


def test_renders_stages_params_readme_and_rubric(tmp_path):
    root = make_project("multimodal", tmp_path)
    stages = yaml.safe_load((root / "dvc.yaml").read_text())["stages"]
    assert list(stages) == STAGES
    assert all(s["cmd"] == f"python -m {PKG}.{name}" for name, s in stages.items())
    assert {"metrics/evaluate.json": {"cache": False}} in stages["evaluate"]["metrics"]
    assert {"metrics/retrieval.json": {"cache": False}} in stages["contrastive"]["metrics"]
    assert "data/generated" in stages["generate"]["outs"]
    params = yaml.safe_load((root / "params.yaml").read_text())
    assert {"seed", "threads", "generate", "train", "contrastive"} <= set(params)
    readme = (root / "README.md").read_text()
    for expected in ("late-fusion", "InfoNCE", "margin_over_best_baseline", "recall@5",
                     "Fusion beats both baselines", f"torchrun --nproc_per_node=2 -m {PKG}.train"):
        assert expected in readme, expected
    assert "{%" not in readme and "{{" not in readme and "Skeleton" not in readme
    for module in ("world", "models", "generate", "baselines", "train", "contrastive",
                   "evaluate"):
        assert (root / PKG / f"{module}.py").is_file(), module


def test_rubric_checks_the_margin_and_recall_and_hides_some():
    milestones = rubric.load_file(templates.get("multimodal").rubric_path)
    assert [m.id for m in milestones] == ["fusion-beats-baselines", "retrieval"]
    assert all(m.step == "multimodal" for m in milestones)
    checks = {c.id: c for m in milestones for c in m.checks}
    assert checks["margin"].kind == "metric" and checks["recall-at-5"].kind == "metric"
    assert {c.kind for c in checks.values()} >= {"dvc_stage", "metric"}
    assert sum(not c.visible for c in checks.values()) >= 1
    assert all(c.hint for c in checks.values())
    assert "UNFINISHED" not in templates.get("multimodal").description


@pytest.fixture(scope="module")
def reproduced(tmp_path_factory):
    return reproduce("multimodal", tmp_path_factory)


@pytest.mark.slow
def test_repro_fits_the_time_budget(reproduced):
    _, seconds = reproduced
    assert seconds < REPRO_BUDGET_S


@pytest.mark.slow
def test_fusion_beats_both_baselines(reproduced):
    root, _ = reproduced
    m = read_metrics(root, "evaluate")
    acc = m["accuracy"]
    best = max(acc["image_only"], acc["text_only"])
    assert acc["fused"] - best >= MIN_MARGIN, m
    assert m["fusion"]["margin_over_best_baseline"] == pytest.approx(acc["fused"] - best,
                                                                     abs=1e-3)
    # Counting needs the image only: the fused model must get it, the text-only cannot.
    assert m["by_kind"]["count"]["fused"] > m["by_kind"]["count"]["text_only"] + 0.3, m
    rows = (root / "metrics" / "accuracy_by_kind.csv").read_text().splitlines()
    assert rows[0] == "kind,examples,image_only,text_only,fused"
    assert sum(int(r.split(",")[1]) for r in rows[1:]) == len(
        np.load(root / "data" / "generated" / "test.npz")["y"])


@pytest.mark.slow
def test_retrieval_beats_chance_by_far(reproduced):
    root, _ = reproduced
    m = read_metrics(root, "retrieval")
    assert m["image_to_text"]["recall_at_5"] >= MIN_RECALL_AT_5, m
    assert m["text_to_image"]["recall_at_5"] >= MIN_RECALL_AT_5, m
    assert m["image_to_text"]["recall_at_1"] <= m["image_to_text"]["recall_at_5"]
    assert m["image_to_text"]["recall_at_5"] > 20 * m["chance_recall_at_5"]
    losses = [float(r.split(",")[1]) for r in
              (root / "metrics" / "contrastive_log.csv").read_text().splitlines()[1:]]
    assert losses[-1] < losses[0]


@pytest.mark.slow
def test_goal_milestones_pass_hidden_checks_included(reproduced):
    root, _ = reproduced
    assert_milestones_pass(root, "fusion-beats-baselines", "retrieval")


@pytest.mark.slow
def test_dvc_shows_the_metrics_and_plots(reproduced, tmp_path):
    root, _ = reproduced
    shown = json.dumps(json.loads(dvc("metrics", "show", "--json", cwd=root).stdout))
    for expected in ("metrics/evaluate.json", "margin_over_best_baseline", "recall_at_5"):
        assert expected in shown, expected
    dvc("plots", "show", "-o", str(tmp_path / "plots"), cwd=root)
    html = (tmp_path / "plots" / "index.html").read_text()
    assert "Validation accuracy per epoch" in html and "accuracy_by_kind" in html
    assert (root / "figures" / "examples.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_project_tests_and_ruff_pass(reproduced):
    root, _ = reproduced
    assert_project_tests_and_ruff_pass(root)


@pytest.mark.slow
def test_generate_is_deterministic(reproduced):
    """Same seed, same data and figure, byte for byte; the pipeline stays up to date."""
    root, _ = reproduced
    outputs = ["data/generated/train.npz", "data/generated/test.npz", "figures/examples.png"]
    assert_stages_rewrite_identically(root, ["generate"], outputs)
