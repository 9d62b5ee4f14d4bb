"""Stage `compress`: three smaller versions of the fp32 model.

* int8, static: weights *and* activations in int8. Calibration runs a few
  batches through observers to choose each activation's scale.
* int8, dynamic: weights in int8, activations quantized on the fly per batch.
* pruned: the 50% smallest-magnitude weights of every Linear set to zero
  (torch.nn.utils.prune), then made permanent.

This uses PyTorch's eager-mode `torch.ao.quantization`, which runs on the CPU
with no extra package. PyTorch marks it deprecated in favour of torchao; the
ideas (observers, calibration, fused int8 kernels) carry over unchanged.
"""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn
from torch.ao import quantization as tq
from torch.nn.utils import prune

from .common import load_params, load_split, save_torch, set_seed
from .model import DigitsMLP

warnings.filterwarnings("ignore", category=DeprecationWarning)
# torch 2.13 warns that its quantized tensors are deprecated (see the module docstring).
warnings.filterwarnings(
    "ignore", message=".*(torch.ao.quantization|quantize_per|quantized|reduce_range).*"
)
warnings.filterwarnings("ignore", message=".*TypedStorage is deprecated.*")


def load_fp32(hidden: int) -> DigitsMLP:
    model = DigitsMLP(hidden)
    model.load_state_dict(torch.load("models/fp32.pt", weights_only=True))
    return model.eval()


def quantize_static(model: DigitsMLP, calibration: torch.Tensor, backend: str) -> nn.Module:
    torch.backends.quantized.engine = backend
    model = copy.deepcopy(model).eval().fuse()
    model.qconfig = tq.get_default_qconfig(backend)
    prepared = tq.prepare(model)
    with torch.inference_mode():
        for batch in calibration.split(64):
            prepared(batch)
    return tq.convert(prepared)


def quantize_dynamic(model: nn.Module) -> nn.Module:
    return tq.quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear}, dtype=torch.qint8)


def prune_magnitude(model: nn.Module, amount: float) -> nn.Module:
    model = copy.deepcopy(model)
    for module in model.modules():
        if isinstance(module, nn.Linear):
            prune.l1_unstructured(module, name="weight", amount=amount)
            prune.remove(module, "weight")
    return model


def sparsity(model: nn.Module) -> float:
    weights = [m.weight for m in model.modules() if isinstance(m, nn.Linear)]
    zeros = sum(int((w == 0).sum()) for w in weights)
    return zeros / sum(w.numel() for w in weights)


def main() -> None:
    params = load_params()
    set_seed(params["seed"])
    model = load_fp32(params["train"]["hidden"])
    train = torch.as_tensor(load_split("data/prepared/train.npz")["x"])
    calibration = train[: 64 * params["quantize"]["calibration_batches"]]
    variants = {
        "int8_static": quantize_static(model, calibration, params["quantize"]["backend"]),
        "int8_dynamic": quantize_dynamic(model),
        "pruned": prune_magnitude(model, params["prune"]["amount"]),
    }
    for name, variant in variants.items():
        # Whole modules: a quantized model's structure differs from DigitsMLP.
        save_torch(variant, f"models/{name}.pt")
    print(f"pruned sparsity: {sparsity(variants['pruned']):.2f}")


if __name__ == "__main__":
    main()
