"""Fast checks of the attribution code (no pipeline run)."""

import numpy as np
import pytest
import torch

from {{ cookiecutter._package_name }}.attribution import METHODS, attribute
from {{ cookiecutter._package_name }}.cnn import DigitsCNN
from {{ cookiecutter._package_name }}.explain import heatmap_grid
from {{ cookiecutter._package_name }}.report import methods_explained, render
from {{ cookiecutter._package_name }}.sanity import (
    area,
    deletion_curve,
    randomised_copy,
    rank_correlation,
    spearman,
)


def model():
    torch.manual_seed(0)
    return DigitsCNN(channels=8).eval()


def test_attributions_have_the_input_shape():
    x = torch.rand(3, 1, 8, 8)
    target = torch.tensor([0, 1, 2])
    for method in METHODS:
        assert attribute(model(), x, target, method, steps=8).shape == x.shape


def test_unknown_method_is_refused():
    with pytest.raises(ValueError, match="unknown attribution method"):
        attribute(model(), torch.rand(1, 1, 8, 8), torch.tensor([0]), "lime")


def test_integrated_gradients_is_complete():
    m = model()
    x = torch.rand(2, 1, 8, 8)
    target = torch.tensor([3, 3])
    attr = attribute(m, x, target, "integrated_gradients", steps=200)
    with torch.no_grad():
        gap = m(x)[:, 3] - m(torch.zeros_like(x))[:, 3]
    assert torch.allclose(attr.flatten(1).sum(1), gap, atol=0.05)


def test_randomised_copy_changes_every_weight_and_keeps_the_original():
    m = model()
    before = {k: v.clone() for k, v in m.state_dict().items()}
    fresh = randomised_copy(m, seed=1)
    for key, value in fresh.state_dict().items():
        assert value.shape == before[key].shape
        if key.endswith("weight"):
            assert not torch.equal(value, before[key]), key
    for key, value in m.state_dict().items():
        assert torch.equal(value, before[key])
    assert torch.equal(randomised_copy(m, seed=1).head[-1].weight, fresh.head[-1].weight)


def test_rank_correlation_of_identical_maps_is_one_and_of_opposite_maps_minus_one():
    a = np.random.default_rng(0).normal(size=(4, 1, 8, 8))
    assert abs(rank_correlation(a, a) - 1.0) < 1e-9
    assert abs(rank_correlation(a, -a) + 1.0) < 1e-9
    assert abs(rank_correlation(a, -a, absolute=True) - 1.0) < 1e-9


def test_spearman_matches_scipy_with_ties_and_constants():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(1)
    for _ in range(20):
        a = rng.integers(0, 5, size=64).astype(float)  # many ties, like black pixels
        b = a + rng.normal(size=64)
        assert spearman(a, b) == pytest.approx(spearmanr(a, b).statistic, abs=1e-12)
    assert spearman(np.ones(64), rng.normal(size=64)) == 0.0


def test_deletion_curve_starts_at_full_accuracy_and_area_is_a_mean():
    m = model()
    x = torch.rand(5, 1, 8, 8)
    y = m(x).argmax(1)
    order = torch.stack([torch.randperm(64) for _ in range(5)])
    curve = deletion_curve(m, x, y, order, steps=4)
    assert len(curve) == 5 and curve[0] == 1.0
    assert area([1.0, 1.0, 1.0]) == 1.0
    assert area([1.0, 0.0]) == 0.5


def test_heatmap_grid_writes_a_png(tmp_path):
    x = np.random.default_rng(0).random((3, 1, 8, 8))
    heatmap_grid(x, x - 0.5, [1, 2, 3], [1, 2, 4], "test", tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_finds_the_methods_in_the_saved_arrays(tmp_path):
    x = np.zeros((2, 1, 8, 8))
    np.savez(tmp_path / "a.npz", images=x, labels=[1, 2], predictions=[1, 2],
             integrated_gradients=x, occlusion=x)
    assert methods_explained(tmp_path / "a.npz") == ["integrated_gradients", "occlusion"]


def test_report_embeds_the_figures_and_the_numbers():
    sanity = {"examples": 10, "model_accuracy": 0.9,
              "randomisation": {"spearman": 0.1, "spearman_abs": 0.8},
              "deletion": {"attribution_auc": 0.2, "random_auc": 0.6, "auc_gap": 0.4}}
    text = render(sanity, {"val_acc": 0.95}, list(METHODS))
    for method in METHODS:
        assert f"(figures/{method}.png)" in text
    assert "(figures/deletion_curve.png)" in text and "(figures/randomisation.png)" in text
    assert "| 0.100 |" in text and "| 0.200 |" in text
    assert "FAILS" not in text
