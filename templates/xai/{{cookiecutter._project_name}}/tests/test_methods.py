"""Your attribution methods (methods.py). Run: python -m pytest -q tests/test_methods.py

Each test is skipped (not failed) while its function is still a TODO stub.
dlpath check runs more tests of its own, on random models and inputs.
"""

import ast
from pathlib import Path

import pytest
import torch
from torch import nn

from {{ cookiecutter._package_name }}.cnn import DigitsCNN
from {{ cookiecutter._package_name }}.methods import grad_cam, integrated_gradients


def cnn(seed=0, channels=8):
    torch.manual_seed(seed)
    return DigitsCNN(channels=channels).eval()


def scores(model, x, target):
    with torch.no_grad():
        return model(x).gather(1, target.view(-1, 1)).view(-1)


# ------------------------------------------------------------ Integrated Gradients


def test_integrated_gradients_of_a_linear_model_is_input_times_weight():
    """For a linear model the gradient is constant along the path, so IG is
    exactly (x - baseline) * weight of the target class, at any step count."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    x, baseline = torch.rand(4, 1, 8, 8), torch.rand(4, 1, 8, 8)
    target = torch.tensor([0, 3, 3, 9])
    attr = integrated_gradients(model, x, target, baseline=baseline, steps=5)
    weight = model[1].weight.detach()[target].view(4, 1, 8, 8)
    torch.testing.assert_close(attr, (x - baseline) * weight, rtol=1e-4, atol=1e-6)


def test_integrated_gradients_is_complete():
    """The attributions add up to score(x) - score(baseline)."""
    model = cnn()
    x = torch.rand(3, 1, 8, 8)
    target = torch.tensor([2, 5, 7])
    attr = integrated_gradients(model, x, target, steps=64)
    gap = scores(model, x, target) - scores(model, torch.zeros_like(x), target)
    torch.testing.assert_close(attr.flatten(1).sum(1), gap, rtol=0.02, atol=0.02)


def test_integrated_gradients_with_another_baseline_is_complete_too():
    model = cnn(seed=2)
    x, baseline = torch.rand(2, 1, 8, 8), torch.full((2, 1, 8, 8), 0.5)
    target = torch.tensor([1, 4])
    attr = integrated_gradients(model, x, target, baseline=baseline, steps=64)
    gap = scores(model, x, target) - scores(model, baseline, target)
    torch.testing.assert_close(attr.flatten(1).sum(1), gap, rtol=0.02, atol=0.02)


def test_integrated_gradients_gives_nothing_to_an_input_equal_to_its_baseline():
    x = torch.rand(2, 1, 8, 8)
    attr = integrated_gradients(cnn(), x, torch.tensor([0, 1]), baseline=x.clone())
    assert torch.count_nonzero(attr) == 0


def test_integrated_gradients_leaves_model_and_input_alone():
    model = cnn()
    x = torch.rand(2, 1, 8, 8)
    before = x.clone()
    attr = integrated_gradients(model, x, torch.tensor([0, 1]), steps=8)
    assert attr.shape == x.shape and not attr.requires_grad
    assert torch.equal(x, before) and x.grad is None
    assert all(p.grad is None for p in model.parameters())


# ----------------------------------------------------------------------- Grad-CAM


class Gap(nn.Module):
    """conv -> relu (the layer) -> global average pool -> linear: Grad-CAM has a
    closed form here (the gradient of the score is the class's weight / (h*w))."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(1, 3, 3, padding=1)
        self.relu = nn.ReLU()
        self.fc = nn.Linear(3, 10)

    def forward(self, x):
        return self.fc(self.relu(self.conv(x)).mean(dim=(2, 3)))


def test_grad_cam_has_the_closed_form_of_a_pooled_network():
    torch.manual_seed(3)
    model = Gap().eval()
    x = torch.rand(4, 1, 8, 8)
    target = torch.tensor([0, 1, 2, 3])
    cam = grad_cam(model, x, target, model.relu)
    with torch.no_grad():
        a = model.relu(model.conv(x))
        weights = model.fc.weight[target] / 64  # (N, C)
        expected = torch.relu((weights[:, :, None, None] * a).sum(1, keepdim=True))
    torch.testing.assert_close(cam, expected, rtol=1e-4, atol=1e-6)


def test_grad_cam_is_positive_at_the_layers_resolution():
    model = cnn()
    x = torch.rand(5, 1, 8, 8)
    target = torch.arange(5)
    cam = grad_cam(model, x, target, model.features[3])
    assert cam.shape == (5, 1, 8, 8) and (cam >= 0).all() and not cam.requires_grad
    pooled = grad_cam(model, x, target, model.features[4])  # after max-pooling: 4x4
    assert pooled.shape == (5, 1, 4, 4)


def test_grad_cam_removes_its_hook_and_accumulates_no_gradient():
    model = cnn()
    layer = model.features[3]
    grad_cam(model, torch.rand(2, 1, 8, 8), torch.tensor([0, 1]), layer)
    assert len(layer._forward_hooks) == 0
    assert all(p.grad is None for p in model.parameters())


# ------------------------------------------------------------------ from scratch


def test_integrated_gradients_and_grad_cam_use_no_captum():
    """methods.py is yours: the point is to build the method, not to call it."""
    tree = ast.parse(Path(__file__).parents[1].joinpath(
        "{{ cookiecutter._package_name }}", "methods.py").read_text(encoding="utf-8"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any(name.split(".")[0] == "captum" for name in imported), imported


@pytest.mark.parametrize("steps", [1, 7])
def test_integrated_gradients_takes_any_number_of_steps(steps):
    attr = integrated_gradients(cnn(), torch.rand(2, 1, 8, 8), torch.tensor([0, 1]), steps=steps)
    assert attr.shape == (2, 1, 8, 8) and torch.isfinite(attr).all()
