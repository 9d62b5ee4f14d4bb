"""What the hidden tests of the quantization template share (no test_
prefix: pytest does not collect it).

* ``PKG`` and ``learner()``: the project's package (named by the learner) and
  its modules.
* ``SEED``: drawn at run time, so no answer can be fitted to the hidden
  inputs: ``dlpath check`` draws one per run (``DLPATH_SEED``); run any other
  way, it comes from :mod:`secrets`. Set DLPATH_SEED to replay a run.
* ``refused()``: PyTorch's quantizers raise while the learner's code runs, so
  a test compares the learner's arithmetic with PyTorch's, never PyTorch's
  with itself. Each test module names what it refuses.
"""

from __future__ import annotations

import importlib
import json
import os
import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
import torch

PKG = json.loads(Path(".dlpath/project.json").read_text(encoding="utf-8"))["package"]
SEED = int(os.environ.get("DLPATH_SEED") or secrets.randbelow(2**31))

# The quantizers every hidden test refuses; modules add their own.
QUANTIZERS = ("quantize_per_tensor", "quantize_per_channel", "fake_quantize_per_tensor_affine",
              "fake_quantize_per_channel_affine", "dequantize")


def learner(module: str):
    return importlib.import_module(f"{PKG}.{module}")


@contextmanager
def refused(torch_functions=(), tensor_methods=()):
    """PyTorch's quantizers (``QUANTIZERS`` and ``torch_functions``), the
    ``tensor_methods`` named and the observers' qparams raise inside."""
    with pytest.MonkeyPatch.context() as mp:
        from torch.ao.quantization import observer

        def refuse(*args, **kwargs):
            raise AssertionError("uses PyTorch's quantizer instead of doing the arithmetic")

        for name in (*QUANTIZERS, *torch_functions):
            mp.setattr(torch, name, refuse)
        for name in tensor_methods:
            mp.setattr(torch.Tensor, name, refuse)
        mp.setattr(observer.UniformQuantizationObserverBase, "_calculate_qparams", refuse)
        yield
