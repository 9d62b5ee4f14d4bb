"""Hidden tests of integrated_gradients() (kept inside dlpath; run by `dlpath check`).

Random networks, inputs, baselines and targets, drawn from a seed chosen at
run time; compared with the completeness axiom and with Captum.
"""

import importlib
import json
import secrets
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

SEED = secrets.randbelow(2**31)
PACKAGE = json.loads(Path(".dlpath/project.json").read_text(encoding="utf-8"))["package"]
methods = importlib.import_module(f"{PACKAGE}.methods")


def smooth_net(g: torch.Generator, channels: int, classes: int) -> nn.Module:
    """A random CNN with smooth activations: every quadrature converges fast."""
    hidden = int(torch.randint(3, 9, (), generator=g))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (), generator=g)))
        net = nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.Softplus(),
                            nn.Conv2d(hidden, hidden, 3), nn.Tanh(), nn.Flatten(),
                            nn.Linear(hidden * 25, classes))
    return net.eval()


def relu_net(g: torch.Generator, channels: int, classes: int) -> nn.Module:
    hidden = int(torch.randint(3, 9, (), generator=g))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (), generator=g)))
        net = nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                            nn.Conv2d(hidden, hidden, 3), nn.ReLU(), nn.MaxPool2d(1),
                            nn.Flatten(), nn.Linear(hidden * 25, 16), nn.ReLU(),
                            nn.Linear(16, classes))
    return net.eval()


def case(g: torch.Generator, make):
    n = int(torch.randint(1, 7, (), generator=g))
    channels = int(torch.randint(1, 4, (), generator=g))
    classes = int(torch.randint(2, 11, (), generator=g))
    net = make(g, channels, classes)
    x = torch.rand(n, channels, 7, 7, generator=g) * 2
    baseline = torch.randn(n, channels, 7, 7, generator=g) * 0.5
    target = torch.randint(0, classes, (n,), generator=g)
    return net, x, baseline, target


def score(net, x, target):
    with torch.no_grad():
        return net(x).gather(1, target.view(-1, 1)).view(-1)


@pytest.mark.parametrize("k", range(4))
def test_completeness_on_random_smooth_networks_and_baselines(k):
    g = torch.Generator().manual_seed(SEED + k)
    net, x, baseline, target = case(g, smooth_net)
    attr = methods.integrated_gradients(net, x, target, baseline=baseline, steps=128)
    assert attr.shape == x.shape
    gap = score(net, x, target) - score(net, baseline, target)
    error = (attr.flatten(1).sum(1) - gap).abs()
    assert bool((error <= 0.01 * (gap.abs() + 0.05)).all())


@pytest.mark.parametrize("k", range(4))
def test_agrees_with_captum_on_random_relu_networks(k):
    from captum.attr import IntegratedGradients

    g = torch.Generator().manual_seed(SEED + 100 + k)
    net, x, baseline, target = case(g, relu_net)
    ours = methods.integrated_gradients(net, x, target, baseline=baseline, steps=128)
    ref = IntegratedGradients(net).attribute(x, baselines=baseline, target=target, n_steps=128)
    assert float((ours - ref).norm() / ref.norm().clamp_min(1e-9)) < 0.05


def test_default_baseline_is_black_and_default_steps_work():
    from captum.attr import IntegratedGradients

    g = torch.Generator().manual_seed(SEED + 200)
    net, x, _, target = case(g, smooth_net)
    ours = methods.integrated_gradients(net, x, target)
    ref = IntegratedGradients(net).attribute(x, baselines=torch.zeros_like(x), target=target,
                                             n_steps=64)
    assert float((ours - ref).norm() / ref.norm().clamp_min(1e-9)) < 0.05


def test_each_example_is_explained_for_its_own_target_whatever_the_batch():
    g = torch.Generator().manual_seed(SEED + 300)
    net, x, baseline, _ = case(g, relu_net)
    x, baseline = torch.cat([x, x]), torch.cat([baseline, baseline])
    target = torch.randint(0, net[-1].out_features, (len(x),), generator=g)
    together = methods.integrated_gradients(net, x, target, baseline=baseline, steps=16)
    for i in range(len(x)):
        alone = methods.integrated_gradients(net, x[i:i + 1], target[i:i + 1],
                                             baseline=baseline[i:i + 1], steps=16)
        torch.testing.assert_close(together[i:i + 1], alone, rtol=1e-4, atol=1e-5)


def test_leaves_the_model_and_the_input_as_they_were():
    g = torch.Generator().manual_seed(SEED + 400)
    net, x, baseline, target = case(g, relu_net)
    before = x.clone()
    out = methods.integrated_gradients(net, x, target, baseline=baseline, steps=8)
    assert not out.requires_grad
    assert torch.equal(x, before) and x.grad is None
    assert all(p.grad is None for p in net.parameters())


def test_written_without_captum(monkeypatch):
    """With Captum unimportable, the learner's method still runs."""
    for name in [m for m in sys.modules if m == "captum" or m.startswith("captum.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "captum", None)
    fresh = importlib.reload(methods)
    g = torch.Generator().manual_seed(SEED + 500)
    net, x, baseline, target = case(g, smooth_net)
    assert fresh.integrated_gradients(net, x, target, baseline=baseline, steps=4).shape == x.shape
