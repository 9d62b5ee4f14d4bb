"""The edge model, and the same model with its BatchNorm folded away.

EdgeNet is a tiny MobileNet-style feature extractor with a wide classifier
head, for the 8x8 digits::

    conv1 3x3 (1 -> channels)                  + BatchNorm + ReLU
    dw    3x3 depthwise (channels, one filter per channel) + BatchNorm + ReLU
    pw    1x1 pointwise (channels -> expand)   + BatchNorm + ReLU
    max-pool 2x2, flatten (expand * 4 * 4 features)
    fc1 (-> hidden) + ReLU                     the wide layer: most of the bytes
    fc2 (hidden -> 10 logits)

Before quantizing, `fold()` merges every BatchNorm into the convolution in
front of it: at inference BN is an affine map per channel,
y = gamma * (conv(x) - mean) / sqrt(var + eps) + beta, so scaling the
convolution's weights and bias by k = gamma / sqrt(var + eps) gives the same
outputs with one layer fewer. Folding is also what makes weight ranges differ
between channels (each channel is scaled by its own k), and why per-tensor
weight scales lose so much here.

This file imports nothing but torch, so dlpath's own checks can rebuild your
models from their weights without running any other project code.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn
from torch.nn import functional as F

#: the layers that hold weights, in order (fold() keeps these names)
LAYERS = ("conv1", "dw", "pw", "fc1", "fc2")
#: where activations are quantized: the input, then each layer's output
#: (after its ReLU; pw's after the max-pool, which commutes with quantization)
ACT_POINTS = ("input", *LAYERS)


class EdgeNet(nn.Module):
    def __init__(self, channels: int = 32, expand: int = 64, hidden: int = 1024,
                 classes: int = 10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.dw = nn.Conv2d(channels, channels, 3, padding=1, groups=channels, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.pw = nn.Conv2d(channels, expand, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(expand)
        self.fc1 = nn.Linear(expand * 16, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.dw(x)))
        x = F.relu(self.bn3(self.pw(x)))
        x = F.max_pool2d(x, 2).flatten(1)
        return self.fc2(F.relu(self.fc1(x)))

    @property
    def sizes(self) -> dict[str, int]:
        return {"channels": self.conv1.out_channels, "expand": self.pw.out_channels,
                "hidden": self.fc1.out_features}

    @classmethod
    def from_state_dict(cls, state: dict[str, torch.Tensor]) -> EdgeNet:
        """An EdgeNet shaped like ``state`` (a pruned model is narrower), loaded."""
        model = cls(channels=state["conv1.weight"].shape[0],
                    expand=state["pw.weight"].shape[0],
                    hidden=state["fc1.weight"].shape[0],
                    classes=state["fc2.weight"].shape[0])
        model.load_state_dict(state)
        return model.eval()


WeightHook = Callable[[str, torch.Tensor], torch.Tensor]
ActHook = Callable[[str, torch.Tensor], torch.Tensor]


class FoldedNet(nn.Module):
    """EdgeNet with BatchNorm folded into the convolutions: five layers with
    weights and biases. ``forward`` takes two optional hooks, which is how
    calibration, simulated quantization and QAT look inside the network:

    * ``weight(name, w)`` returns the weight layer ``name`` should use
      (e.g. a fake-quantized copy);
    * ``act(name, x)`` sees every activation point in ACT_POINTS (the input
      and each layer's output) and returns what flows on.
    """

    def __init__(self, layers: dict[str, nn.Module]):
        super().__init__()
        for name in LAYERS:
            self.add_module(name, layers[name])

    def forward(self, x: torch.Tensor, weight: WeightHook | None = None,
                act: ActHook | None = None) -> torch.Tensor:
        def w(name: str) -> torch.Tensor:
            param = getattr(self, name).weight
            return weight(name, param) if weight is not None else param

        def a(name: str, value: torch.Tensor) -> torch.Tensor:
            return act(name, value) if act is not None else value

        x = a("input", x)
        x = a("conv1", F.relu(F.conv2d(x, w("conv1"), self.conv1.bias, padding=1)))
        x = a("dw", F.relu(F.conv2d(x, w("dw"), self.dw.bias, padding=1,
                                    groups=self.dw.groups)))
        x = F.max_pool2d(F.relu(F.conv2d(x, w("pw"), self.pw.bias)), 2)
        x = a("pw", x).flatten(1)
        x = a("fc1", F.relu(F.linear(x, w("fc1"), self.fc1.bias)))
        return a("fc2", F.linear(x, w("fc2"), self.fc2.bias))


def _fold_conv(conv: nn.Conv2d, bn: nn.BatchNorm2d) -> nn.Conv2d:
    k = bn.weight / torch.sqrt(bn.running_var + bn.eps)
    folded = nn.Conv2d(conv.in_channels, conv.out_channels, conv.kernel_size,
                       padding=conv.padding, groups=conv.groups, bias=True)
    bias = conv.bias if conv.bias is not None else torch.zeros_like(bn.running_mean)
    with torch.no_grad():
        folded.weight.copy_(conv.weight * k.view(-1, 1, 1, 1))
        folded.bias.copy_((bias - bn.running_mean) * k + bn.bias)
    return folded


def fold(model: EdgeNet) -> FoldedNet:
    """The same function as ``model`` (in eval mode), without BatchNorm."""
    model = model.eval()
    layers = {
        "conv1": _fold_conv(model.conv1, model.bn1),
        "dw": _fold_conv(model.dw, model.bn2),
        "pw": _fold_conv(model.pw, model.bn3),
        "fc1": nn.Linear(model.fc1.in_features, model.fc1.out_features),
        "fc2": nn.Linear(model.fc2.in_features, model.fc2.out_features),
    }
    with torch.no_grad():
        for name in ("fc1", "fc2"):
            layers[name].load_state_dict(getattr(model, name).state_dict())
    return FoldedNet(layers).eval().to(model.fc1.weight.device)


def load_fp32(path: str = "models/fp32.pt") -> EdgeNet:
    """The trained fp32 model, on the CPU."""
    return EdgeNet.from_state_dict(torch.load(path, map_location="cpu", weights_only=True))
