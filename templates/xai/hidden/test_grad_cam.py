"""Hidden tests of grad_cam() (kept inside dlpath; run by `dlpath check`).

Random networks and layers, drawn from a seed chosen at run time, compared
with Captum's LayerGradCam (relu_attributions=True).
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


def net_and_layer(g: torch.Generator):
    channels = int(torch.randint(1, 4, (), generator=g))
    hidden = int(torch.randint(2, 9, (), generator=g))
    classes = int(torch.randint(2, 11, (), generator=g))
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(torch.randint(2**31, (), generator=g)))
        net = nn.Sequential(nn.Conv2d(channels, hidden, 3, padding=1), nn.ReLU(),
                            nn.Conv2d(hidden, hidden, 3, padding=1), nn.ReLU(),
                            nn.MaxPool2d(2), nn.Flatten(), nn.Linear(hidden * 16, classes)).eval()
    layer = net[int(torch.randint(0, 5, (), generator=g))]  # a conv, a ReLU, or the pooling
    n = int(torch.randint(1, 7, (), generator=g))
    x = torch.rand(n, channels, 8, 8, generator=g)
    target = torch.randint(0, classes, (n,), generator=g)
    return net, layer, x, target


@pytest.mark.parametrize("k", range(6))
def test_agrees_with_captum_on_random_networks_and_layers(k):
    from captum.attr import LayerGradCam

    g = torch.Generator().manual_seed(SEED + k)
    net, layer, x, target = net_and_layer(g)
    ours = methods.grad_cam(net, x, target, layer)
    ref = LayerGradCam(net, layer).attribute(x, target=target, relu_attributions=True)
    assert ours.shape == ref.shape
    torch.testing.assert_close(ours, ref, rtol=1e-4, atol=1e-6)


def test_removes_its_hook_even_when_the_model_fails():
    g = torch.Generator().manual_seed(SEED + 100)
    net, layer, x, target = net_and_layer(g)

    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = net

        def forward(self, x):
            self.inner[:2](x)
            raise RuntimeError("broken on purpose")

    with pytest.raises(RuntimeError):
        methods.grad_cam(Broken(), x, target, net[1])
    assert len(net[1]._forward_hooks) == 0
    methods.grad_cam(net, x, target, layer)
    assert len(layer._forward_hooks) == 0
    assert all(p.grad is None for p in net.parameters())


def test_written_without_captum(monkeypatch):
    for name in [m for m in sys.modules if m == "captum" or m.startswith("captum.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "captum", None)
    fresh = importlib.reload(methods)
    g = torch.Generator().manual_seed(SEED + 200)
    net, layer, x, target = net_and_layer(g)
    out = fresh.grad_cam(net, x, target, layer)
    assert out.shape[:2] == (len(x), 1) and not out.requires_grad
