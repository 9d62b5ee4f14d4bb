"""Fast checks of the attribution code (no pipeline run)."""

import numpy as np
import torch

from {{ cookiecutter._package_name }}.attribution import METHODS, attribute
from {{ cookiecutter._package_name }}.cnn import DigitsCNN
from {{ cookiecutter._package_name }}.sanity import area, deletion_curve, rank_correlation


def model():
    torch.manual_seed(0)
    return DigitsCNN(channels=8).eval()


def test_attributions_have_the_input_shape():
    x = torch.rand(3, 1, 8, 8)
    target = torch.tensor([0, 1, 2])
    for method in METHODS:
        assert attribute(model(), x, target, method, steps=8).shape == x.shape


def test_integrated_gradients_is_complete():
    m = model()
    x = torch.rand(2, 1, 8, 8)
    target = torch.tensor([3, 3])
    attr = attribute(m, x, target, "integrated_gradients", steps=200)
    with torch.no_grad():
        gap = m(x)[:, 3] - m(torch.zeros_like(x))[:, 3]
    assert torch.allclose(attr.flatten(1).sum(1), gap, atol=0.05)


def test_rank_correlation_of_identical_maps_is_one():
    a = np.random.default_rng(0).normal(size=(4, 1, 8, 8))
    assert abs(rank_correlation(a, a) - 1.0) < 1e-9


def test_deletion_curve_starts_at_full_accuracy_and_area_is_a_mean():
    m = model()
    x = torch.rand(5, 1, 8, 8)
    y = m(x).argmax(1)
    order = torch.stack([torch.randperm(64) for _ in range(5)])
    curve = deletion_curve(m, x, y, order, steps=4)
    assert len(curve) == 5 and curve[0] == 1.0
    assert area([1.0, 1.0, 1.0]) == 1.0
