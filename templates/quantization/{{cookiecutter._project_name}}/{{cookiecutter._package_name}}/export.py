"""Export the fp32 model to ONNX, for runtimes on edge devices.

    python -m {{ cookiecutter._package_name }}.export

Needs the optional `onnx` package (`pip install onnx`); without it, says so
and exits cleanly. Not a pipeline stage, because its output is optional.
"""

from __future__ import annotations

import importlib.util
import sys

import torch

from .common import load_params
from .compress import load_fp32


def main() -> int:
    if importlib.util.find_spec("onnx") is None:
        print("ONNX export skipped: the 'onnx' package is not installed (pip install onnx).")
        return 0
    params = load_params()
    model = load_fp32(params["train"]["hidden"])
    torch.onnx.export(model, (torch.zeros(1, 1, 8, 8),), "models/fp32.onnx",
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}})
    print("Wrote models/fp32.onnx")
    return 0


if __name__ == "__main__":
    sys.exit(main())
