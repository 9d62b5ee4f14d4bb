"""A wide MLP over the 8x8 digits, ready for eager-mode quantization.

QuantStub/DeQuantStub mark where tensors enter and leave int8; `fuse()` merges
each Linear with the ReLU after it so the int8 kernel does both at once.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.ao.quantization import DeQuantStub, QuantStub, fuse_modules


class DigitsMLP(nn.Module):
    def __init__(self, hidden: int = 1024, classes: int = 10):
        super().__init__()
        self.quant = QuantStub()
        self.fc1 = nn.Linear(64, hidden)
        self.relu1 = nn.ReLU()
        self.fc2 = nn.Linear(hidden, hidden)
        self.relu2 = nn.ReLU()
        self.fc3 = nn.Linear(hidden, classes)
        self.dequant = DeQuantStub()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.quant(x.flatten(1))
        x = self.relu1(self.fc1(x))
        x = self.relu2(self.fc2(x))
        return self.dequant(self.fc3(x))

    def fuse(self) -> DigitsMLP:
        """Fuse Linear+ReLU pairs in place (the model must be in eval mode)."""
        fuse_modules(self, [["fc1", "relu1"], ["fc2", "relu2"]], inplace=True)
        return self
