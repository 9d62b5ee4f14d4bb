"""Export the fp32 model to ONNX, for runtimes on edge devices.

    python -m {{ cookiecutter._package_name }}.export

Needs the optional `onnx` package (`pip install onnx onnxscript`); without it,
says so and exits cleanly. Not a pipeline stage, because its output is optional.

The fp32 model is exported: eager-mode int8 modules have no faithful ONNX
form. On the device, ONNX Runtime quantizes the exported graph itself
(`onnxruntime.quantization.quantize_dynamic`): a stretch idea in the README.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

from .common import load_params
from .compress import load_fp32

OUTPUT = Path("models/fp32.onnx")


def main() -> int:
    if importlib.util.find_spec("onnx") is None:
        print("ONNX export skipped: the 'onnx' package is not installed "
              "(pip install onnx onnxscript).")
        return 0
    if not Path("models/fp32.pt").is_file():
        print("No models/fp32.pt yet: run `dvc repro` first.", file=sys.stderr)
        return 1
    import onnx

    params = load_params()
    model = load_fp32(params["train"]["hidden"])
    # The new exporter (torch.export based) needs onnxscript; without it, the
    # TorchScript-based exporter does the same for this simple graph.
    modern = importlib.util.find_spec("onnxscript") is not None
    torch.onnx.export(model, (torch.zeros(1, 1, 8, 8),), str(OUTPUT),
                      input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}},
                      dynamo=modern)
    onnx.checker.check_model(onnx.load(str(OUTPUT)))
    print(f"Wrote {OUTPUT} ({OUTPUT.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
