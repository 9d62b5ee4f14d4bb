"""Hidden tests of structured pruning (prune.py): random sizes, with random
units made useless, which any sensible importance score ranks last; the
pruned network must compute exactly what the original did, with narrower
layers."""

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from quant_support import SEED, learner  # noqa: E402


@pytest.mark.parametrize("case", range(5))
def test_keep_top_on_random_scores(case):
    g = torch.Generator().manual_seed(SEED + case)
    n = int(torch.randint(1, 40, (1,), generator=g))
    scores = torch.randperm(n, generator=g).float() + torch.rand(n, generator=g) * 0.5
    amount = float(torch.rand(1, generator=g))
    k = max(1, n - round(amount * n))
    expected = sorted(torch.argsort(scores, descending=True)[:k].tolist())
    assert learner("prune").keep_top(scores, amount).tolist() == expected


@pytest.mark.parametrize("case", range(4))
def test_pruning_random_dead_units_keeps_the_function(case):
    g = torch.Generator().manual_seed(SEED + 100 + case)
    EdgeNet = learner("model").EdgeNet
    channels = int(torch.randint(2, 9, (1,), generator=g))
    expand, hidden = 4 * int(torch.randint(1, 5, (1,), generator=g)), 4 * int(
        torch.randint(2, 9, (1,), generator=g))
    amount = [0.25, 0.5, 0.75][case % 3]
    torch.manual_seed(SEED + case)
    model = EdgeNet(channels=channels, expand=expand, hidden=hidden).eval()
    dead_c = torch.randperm(expand, generator=g)[: round(amount * expand)]
    dead_h = torch.randperm(hidden, generator=g)[: round(amount * hidden)]
    with torch.no_grad():
        for bn in (model.bn1, model.bn2, model.bn3):
            bn.running_mean.uniform_(-0.3, 0.3, generator=g)
            bn.running_var.uniform_(0.5, 2.0, generator=g)
            bn.weight.uniform_(0.5, 1.5, generator=g)
            bn.bias.uniform_(-0.2, 0.2, generator=g)
        model.pw.weight[dead_c] = 0
        model.bn3.weight[dead_c] = 0
        model.bn3.bias[dead_c] = 0
        model.fc1.weight[dead_h] = 0
        model.fc1.bias[dead_h] = 0
        model.fc2.weight[:, dead_h] = 0
    before = {k: v.clone() for k, v in model.state_dict().items()}
    pruned = learner("prune").prune_structured(model, amount)
    assert pruned.sizes == {"channels": channels, "expand": expand - len(dead_c),
                            "hidden": hidden - len(dead_h)}
    assert pruned.fc1.weight.shape == (hidden - len(dead_h), 16 * (expand - len(dead_c)))
    x = torch.rand(32, 1, 8, 8, generator=g)
    with torch.no_grad():
        assert torch.allclose(pruned.eval()(x), model(x), atol=1e-5)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
