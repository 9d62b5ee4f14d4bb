"""The pipeline's own tools (no training): similarity measures, the faithfulness
curves and controls, the planted marks, the figures and the report."""

import numpy as np
import pytest
import torch

from {{ cookiecutter._package_name }}.attribution import LAYERS, explainer, randomised
from {{ cookiecutter._package_name }}.cnn import DigitsCNN
from {{ cookiecutter._package_name }}.faithfulness import area, control_scores, curve, order_by
from {{ cookiecutter._package_name }}.figures import heatmap_rows, scale
from {{ cookiecutter._package_name }}.markers import marker_mask, marker_pixels, plant
from {{ cookiecutter._package_name }}.report import render
from {{ cookiecutter._package_name }}.shortcut import gain_interval, ink_share
from {{ cookiecutter._package_name }}.similarity import similarity, spearman, ssim


def model(seed=0):
    torch.manual_seed(seed)
    return DigitsCNN(channels=8).eval()


def test_spearman_matches_scipy_with_ties_and_constants():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 5, size=64).astype(float)  # many ties, like black pixels
        b = a + rng.normal(size=64)
        assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert spearman(np.ones(64), rng.normal(size=64)) == 0.0


def test_similarity_of_identical_opposite_and_unrelated_maps():
    rng = np.random.default_rng(0)
    a = rng.normal(size=(6, 1, 8, 8))
    same = similarity(a, a)
    assert same["spearman"] == pytest.approx(1) and same["ssim"] == pytest.approx(1)
    flipped = similarity(a, -a)
    assert flipped["spearman"] == pytest.approx(-1) and flipped["spearman_abs"] == pytest.approx(1)
    other = similarity(a, rng.normal(size=a.shape))
    assert abs(other["spearman"]) < 0.2 and other["ssim"] < 0.5
    assert ssim(np.zeros((8, 8)), np.zeros((8, 8))) == pytest.approx(1)


def test_randomised_copy_changes_the_named_layers_only_and_keeps_the_original():
    m = model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    fresh = randomised(m, LAYERS[:2], seed=1)
    for key, value in fresh.state_dict().items():
        changed = not torch.equal(value, before[key])
        assert changed == key.startswith(("head.3.", "head.1.")), key
    assert all(torch.equal(v, before[k]) for k, v in m.state_dict().items())
    again = randomised(m, LAYERS[:2], seed=1)
    assert torch.equal(again.head[3].weight, fresh.head[3].weight)


def test_order_by_ranks_highest_first_and_breaks_ties_at_random():
    rng = np.random.default_rng(0)
    scores = np.zeros((200, 1, 8, 8))
    scores[:, 0, 3, 3] = 5.0
    order = order_by(scores, rng)
    assert (order[:, 0] == 27).all()
    assert len(set(order[:, 1])) > 20  # the tied rest in random order


def test_controls_need_no_model():
    rng = np.random.default_rng(0)
    x = np.zeros((2, 1, 8, 8))
    x[:, 0, 2, 2], x[:, 0, 5, 5] = 1.0, 0.5
    assert (order_by(control_scores("intensity", x, rng), rng)[:, :2] == [18, 45]).all()
    ink = order_by(control_scores("random_ink", x, rng), rng)[:, :2]
    assert all(set(row) == {18, 45} for row in ink)


def test_deletion_and_insertion_curves_end_where_they_must():
    m = model()
    x = torch.rand(5, 1, 8, 8)
    target = m(x).argmax(1)
    order = np.stack([np.random.default_rng(i).permutation(64) for i in range(5)])
    deletion = curve(m, x, target, order, steps=4)
    insertion = curve(m, x, target, order, steps=4, insertion=True)
    with torch.no_grad():
        full = torch.softmax(m(x), 1).gather(1, target.view(-1, 1)).view(-1).numpy()
        blank = torch.softmax(m(torch.zeros_like(x)), 1).gather(1, target.view(-1, 1)).view(-1)
    np.testing.assert_allclose(deletion[:, 0], full, rtol=1e-5)
    np.testing.assert_allclose(insertion[:, -1], full, rtol=1e-5)
    np.testing.assert_allclose(deletion[:, -1], blank.numpy(), rtol=1e-5)
    assert area(np.ones((3, 5))) == 1.0 and area(np.array([[1.0, 0.0]])) == 0.5


def test_explainer_falls_back_to_captum_only_for_a_stub():
    todo = []
    ex = explainer("integrated_gradients", todo)
    assert (ex.by == "captum") == bool(todo)
    assert ex.key == ("integrated_gradients" if ex.by == "you" else "captum_integrated_gradients")
    out = ex(model(), torch.rand(2, 1, 8, 8), torch.tensor([1, 2]))
    assert out.shape == (2, 1, 8, 8)
    with pytest.raises(ValueError, match="unknown attribution method"):
        explainer("lime", [])


def test_marks_sit_on_the_empty_margins_one_place_per_class():
    places = {tuple(marker_pixels(c)) for c in range(10)}
    assert len(places) == 10
    mask = marker_mask()
    assert mask[:, 1:7].sum() == 0 and mask.sum() == 12
    x = np.zeros((10, 1, 8, 8), dtype=np.float32)
    marked = plant(x, np.arange(10), 1.0)
    for c in range(10):
        assert marked[c, 0][marker_mask(c)].min() == 1.0
        assert marked[c, 0][~marker_mask(c)].max() == 0.0
    assert plant(x, np.arange(10), 0.0).max() == 0.0 and x.max() == 0.0


def test_ink_share_and_paired_gain():
    x = np.zeros((1, 1, 8, 8))
    x[0, 0, 1, 0], x[0, 0, 4, 4] = 1.0, 3.0
    assert ink_share(x, marker_mask()) == pytest.approx([0.25])
    mean, low, high = gain_interval(np.zeros(100), np.r_[np.ones(50), np.zeros(50)])
    assert mean == 0.5 and low < 0.5 < high


def test_heatmaps_share_one_scale_and_write_a_png(tmp_path):
    maps = np.random.default_rng(0).normal(size=(3, 1, 8, 8))
    cmap, vmin, vmax = scale(maps)
    assert cmap == "RdBu_r" and vmin == -vmax > -np.abs(maps).max() - 1e-9
    assert scale(np.abs(maps))[0] == "inferno"
    heatmap_rows(tmp_path / "h.png", np.abs(maps), [("m", maps)], ["a", "b", "c"], "t",
                 outline=marker_mask())
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def metrics(cascading_abs=0.9, margin=0.1, accuracy=0.97):
    sim = {"spearman": 0.02, "spearman_abs": cascading_abs, "ssim": 0.1}
    faith = {"deletion": 0.06, "insertion": 0.94, "deletion_margin": margin,
             "insertion_margin": margin, "randomised_model": {"deletion": 0.5, "insertion": 0.5},
             "randomised_model_margin": 0.4}
    control = {"deletion": 0.2, "insertion": 0.8}
    return {
        "train": {"val_acc": 0.98},
        "train_shuffled": {"fit_acc": 1.0, "test_acc": 0.1, "examples": 300},
        "explain": {"integrated_gradients": {"completeness_error": 0.001}},
        "sanity": {"examples": 64, "integrated_gradients": {"cascading": sim, "data": sim}},
        "faithfulness": {"seeds": 3, "examples": 120, "model_accuracy": accuracy,
                         "integrated_gradients": faith,
                         "controls": {"intensity": control, "random_ink": control,
                                      "random": control}},
        "shortcut": {"ink_share": 0.09, "biased": {"val_acc": 1.0, "clean_test_acc": 0.8,
                                                   "wrong_mark_test_acc": 0.4}},
    }


def test_report_states_each_failure_it_finds():
    text = render(metrics(cascading_abs=0.9, margin=0.0, accuracy=0.6))
    assert "**Integrated Gradients fails on rank correlation |.|** (every layer randomised: " \
        "0.90; shuffled labels: 0.90)" in text
    assert "does not clearly beat a guess that needs no model" in text
    assert "Below the floor" in text
    for figure in ("explanations", "misclassified", "randomisation", "randomisation_maps",
                   "faithfulness", "shortcut", "shortcut_accuracy"):
        assert f"(figures/{figure}.png)" in text


def test_report_says_passes_only_when_it_does():
    text = render(metrics(cascading_abs=0.1, margin=0.1))
    assert "FAILS" not in text and "fails" not in text
    assert "Write `remove_shortcut`" in text
