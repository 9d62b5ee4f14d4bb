"""A quantization scheme, put together from your functions in quantize.py:
calibrate the activation ranges, quantize every weight, and write it all
down as a spec that engine.py turns into an int8 model.
"""

from __future__ import annotations

import torch

from .model import ACT_POINTS, LAYERS, FoldedNet
from .quantize import observe, qparams, quantize_weight


def calibration_batches(x: torch.Tensor, batches: int, batch_size: int) -> list[torch.Tensor]:
    """The first ``batches`` batches of ``x`` (a shuffled training split)."""
    return list(x[: batches * batch_size].split(batch_size))


@torch.no_grad()
def record(folded: FoldedNet, batches: list[torch.Tensor]) -> dict[str, list[torch.Tensor]]:
    """Every activation point's values on the calibration batches."""
    seen: dict[str, list[torch.Tensor]] = {name: [] for name in ACT_POINTS}

    def keep(name: str, x: torch.Tensor) -> torch.Tensor:
        seen[name].append(x.detach().cpu())
        return x

    for batch in batches:
        folded(batch, act=keep)
    return seen


def calibrate(folded: FoldedNet, batches: list[torch.Tensor], method: str,
              percentile: float = 99.99) -> dict[str, tuple[float, float]]:
    """The range (lo, hi) of every activation point, as your observer sees it."""
    return {name: observe(values, method, percentile)
            for name, values in record(folded, batches).items()}


def act_qparams(lo: float, hi: float, bits: int) -> tuple[float, int]:
    """Scale and zero point of an unsigned ``bits``-bit activation grid."""
    scale, zero_point = qparams(torch.tensor([lo]), torch.tensor([hi]), 0, 2 ** bits - 1)
    return float(scale[0]), int(zero_point[0])


@torch.no_grad()
def make_spec(folded: FoldedNet, ranges: dict[str, tuple[float, float]], sizes: dict,
              weight_bits: int, act_bits: int, per_channel: bool = True) -> dict:
    """The spec of ``folded`` quantized with your functions: weights on a
    symmetric ``weight_bits`` grid (per channel or per tensor), activations on
    an unsigned ``act_bits`` grid over ``ranges``."""
    scale, zero_point = act_qparams(*ranges["input"], act_bits)
    spec = {"format": 1, "weight_bits": weight_bits, "act_bits": act_bits, "sizes": dict(sizes),
            "input": {"scale": scale, "zero_point": zero_point}, "layers": {}}
    for name in LAYERS:
        layer = getattr(folded, name)
        q, w_scale, w_zero = quantize_weight(layer.weight.detach().cpu(), weight_bits,
                                             per_channel=per_channel)
        out_scale, out_zero = act_qparams(*ranges[name], act_bits)
        spec["layers"][name] = {
            "weight": q.to(torch.int8), "scale": w_scale.float().reshape(-1),
            "zero_point": w_zero.long().reshape(-1),
            "bias": layer.bias.detach().cpu().float().clone(),
            "out_scale": out_scale, "out_zero_point": out_zero}
    return spec


def weight_levels(spec: dict) -> int:
    """The largest integer magnitude any weight uses (3 bits: at most 3)."""
    return max(int(layer["weight"].abs().max()) for layer in spec["layers"].values())
