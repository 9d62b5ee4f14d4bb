"""Structured pruning (prune.py).

Run: python -m pytest -q tests/test_prune.py
"""

import torch

from {{ cookiecutter._package_name }}.model import EdgeNet
from {{ cookiecutter._package_name }}.prune import keep_top, prune_structured


def test_keep_top_keeps_the_best_in_index_order():
    scores = torch.tensor([0.5, 3.0, 0.1, 2.0, 1.0])
    assert keep_top(scores, 0.4).tolist() == [1, 3, 4]
    assert keep_top(scores, 0.0).tolist() == [0, 1, 2, 3, 4]
    assert keep_top(scores, 1.0).tolist() == [1]  # never nothing


def dead_units_model() -> EdgeNet:
    """An EdgeNet whose last half of pw channels and fc1 neurons do nothing."""
    torch.manual_seed(0)
    model = EdgeNet(channels=4, expand=8, hidden=16)
    with torch.no_grad():
        model.pw.weight[4:] = 0
        model.bn3.weight[4:] = 0
        model.bn3.bias[4:] = 0
        model.fc1.weight[8:] = 0
        model.fc1.bias[8:] = 0
        model.fc2.weight[:, 8:] = 0
        model.bn3.running_var.uniform_(0.5, 2)
        model.bn3.running_mean.uniform_(-0.2, 0.2)
    return model.eval()


def test_pruning_removes_units_and_keeps_the_function():
    model = dead_units_model()
    pruned = prune_structured(model, 0.5)
    assert isinstance(pruned, EdgeNet)
    assert pruned.sizes == {"channels": 4, "expand": 4, "hidden": 8}
    assert pruned.pw.weight.shape == (4, 4, 1, 1) and pruned.fc1.weight.shape == (8, 64)
    x = torch.rand(16, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(pruned(x), model(x), atol=1e-5)
    assert sum(p.numel() for p in pruned.parameters()) < sum(
        p.numel() for p in model.parameters()) / 2
    # The original is untouched.
    assert model.pw.weight.shape == (8, 4, 1, 1)
