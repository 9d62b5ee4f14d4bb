"""Affine quantization by hand: the functions every int8 model in this
project is made with. You write them.

A quantized tensor stores integers q in [qmin, qmax] and two numbers, a
*scale* (a positive float) and a *zero point* (an integer in [qmin, qmax]),
such that each real value r is represented as r ~ scale * (q - zero_point).
The scale is the step between neighbouring representable values; the zero
point is the integer that stands for 0.0 exactly (ReLU outputs and padding
are full of zeros, so 0.0 must be exact).

* per tensor: one scale and zero point for the whole tensor;
* per channel: one pair per slice along ``axis`` (for a weight, axis 0: one
  per output channel), so a channel with small weights gets a fine grid of its
  own instead of sharing the grid of the channel with the largest weights.

Weights use a *symmetric* signed grid (zero point 0, [-qmax, qmax]);
activations after a ReLU use an *affine* unsigned one ([0, 2**bits - 1]).

Check what you write against PyTorch's own quantizer (``torch.quantize_per_tensor``,
``torch.quantize_per_channel``, ``torch.fake_quantize_per_tensor_affine``):
that is what tests/test_quantize.py does. Your functions must not call them.
"""

# ruff: noqa: E501  (a TODO line names its function, file and test: it runs long)
from __future__ import annotations

import torch

#: the smallest scale (as torch.ao's observers): a range of [0, 0] must not divide by zero
EPS = torch.finfo(torch.float32).eps


def _along(t: torch.Tensor, x: torch.Tensor, axis: int | None) -> torch.Tensor:
    """``t`` (one value per slice of ``x`` along ``axis``) shaped to broadcast
    against ``x``; unchanged when ``axis`` is None (per tensor)."""
    t = torch.as_tensor(t, device=x.device)
    if axis is None:
        return t
    shape = [1] * x.dim()
    shape[axis] = -1
    return t.reshape(shape)


def qparams(lo: torch.Tensor, hi: torch.Tensor, qmin: int, qmax: int,
            symmetric: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Scale and zero point that map the real range [lo, hi] onto the
    integers [qmin, qmax].

    ``lo`` and ``hi`` are float tensors of one shape: one element for a whole
    tensor, or one per channel. Returns ``(scale, zero_point)`` of that shape:
    ``scale`` float32, ``zero_point`` int64.

    * First widen the range to include 0.0 (a range of [2, 5] becomes [0, 5]).
    * affine (``symmetric=False``): the whole integer range [qmin, qmax]
      covers [lo, hi]; the zero point is the integer that represents 0.0
      (rounded, and kept inside [qmin, qmax]).
    * symmetric: the zero point is 0 and the grid is centred on it: the
      larger of |lo| and |hi| maps to (qmax - qmin) / 2 steps from zero
      (torch.ao's convention for symmetric signed ranges).
    * The scale is never below EPS.
    """
    ### BEGIN SOLUTION: scale and zero point (test: tests/test_quantize.py)
    lo = torch.clamp(torch.as_tensor(lo, dtype=torch.float32), max=0.0)
    hi = torch.clamp(torch.as_tensor(hi, dtype=torch.float32), min=0.0)
    if symmetric:
        scale = torch.maximum(-lo, hi) / ((qmax - qmin) / 2)
        scale = torch.clamp(scale, min=EPS)
        return scale, torch.zeros_like(scale, dtype=torch.int64)
    scale = torch.clamp((hi - lo) / (qmax - qmin), min=EPS)
    zero_point = qmin - torch.round(lo / scale).to(torch.int64)
    return scale, torch.clamp(zero_point, qmin, qmax)
    ### END SOLUTION


def quantize(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, qmin: int,
             qmax: int, axis: int | None = None) -> torch.Tensor:
    """The integers that represent ``x`` on the grid (scale, zero_point):
    each value goes to its nearest grid point (ties to even, as torch.round),
    and values beyond the grid saturate at qmin or qmax.

    Per tensor when ``axis`` is None (``scale`` and ``zero_point`` hold one
    value); per channel otherwise (one value per slice of ``x`` along
    ``axis``). Returns an int64 tensor shaped like ``x``.
    """
    ### BEGIN SOLUTION: affine quantization, per tensor and per channel (test: tests/test_quantize.py)
    scale, zero_point = _along(scale, x, axis), _along(zero_point, x, axis)
    q = torch.round(x / scale) + zero_point
    return torch.clamp(q, qmin, qmax).to(torch.int64)
    ### END SOLUTION


def dequantize(q: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor,
               axis: int | None = None) -> torch.Tensor:
    """The real values (float32) the integers ``q`` stand for on the grid
    (scale, zero_point); per channel along ``axis`` as in quantize()."""
    ### BEGIN SOLUTION: dequantization (test: tests/test_quantize.py)
    scale, zero_point = _along(scale, q, axis), _along(zero_point, q, axis)
    return ((q - zero_point) * scale).to(torch.float32)
    ### END SOLUTION


def quantize_weight(w: torch.Tensor, bits: int, per_channel: bool = True
                    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A weight on a symmetric signed ``bits``-bit grid [-qmax, qmax], with
    qmax = 2**(bits-1) - 1, its range taken from its own min and max: per
    output channel (axis 0) or for the whole tensor.

    Returns ``(q, scale, zero_point)``: int64 integers shaped like ``w``, and
    scale and zero point of shape (out_channels,) per channel or (1,) per
    tensor.
    """
    ### BEGIN SOLUTION: per-channel weight quantization (test: tests/test_calibrate.py)
    qmax = 2 ** (bits - 1) - 1
    flat = w.detach().flatten(1) if per_channel else w.detach().reshape(1, -1)
    scale, zero_point = qparams(flat.amin(1), flat.amax(1), -qmax, qmax, symmetric=True)
    q = quantize(w.detach(), scale, zero_point, -qmax, qmax, axis=0 if per_channel else None)
    return q, scale, zero_point
    ### END SOLUTION


def fake_quantize(x: torch.Tensor, scale: torch.Tensor, zero_point: torch.Tensor, qmin: int,
                  qmax: int, axis: int | None = None) -> torch.Tensor:
    """Quantize then dequantize, in float, so a network in training sees the
    rounding and saturation its int8 version will have.

    Rounding has no useful gradient (zero almost everywhere), so the backward
    pass treats it as the identity: the *straight-through estimator*. Where a
    value saturated (its integer fell outside [qmin, qmax]) the output no
    longer depends on it, and its gradient is zero. Same numbers, forward and
    backward, as torch.fake_quantize_per_tensor_affine / _per_channel_affine.
    """
    ### BEGIN SOLUTION: fake quantization with a straight-through gradient (test: tests/test_qat.py)
    s, z = _along(scale, x, axis), _along(zero_point, x, axis)
    q = torch.round(x / s) + z
    inside = ((q >= qmin) & (q <= qmax)).to(x.dtype)
    out = (torch.clamp(q, qmin, qmax) - z) * s
    # Forward: out. Backward: d out / d x = inside (1 on the grid, 0 where it saturated).
    return (out - x * inside).detach() + x * inside
    ### END SOLUTION


def observe(batches: list[torch.Tensor], method: str = "minmax",
            percentile: float = 99.99) -> tuple[float, float]:
    """The real range (lo, hi) to quantize an activation to, from the values
    it took on the calibration batches.

    * "minmax": the smallest and largest value seen. Every value seen fits,
      but one rare outlier stretches the grid for all the others.
    * "percentile": ``percentile`` percent of the values lie below hi, and
      ``100 - percentile`` percent below lo (linear interpolation, as
      numpy.percentile): rare outliers saturate, the rest get a finer grid.
    """
    ### BEGIN SOLUTION: an observer: calibration ranges (test: tests/test_calibrate.py)
    values = torch.cat([b.detach().flatten().float().cpu() for b in batches])
    if method == "minmax":
        return float(values.min()), float(values.max())
    if method == "percentile":
        values, _ = torch.sort(values)

        def at(p: float) -> float:
            pos = p / 100 * (len(values) - 1)
            low = int(pos)
            high = min(low + 1, len(values) - 1)
            return float(values[low] + (values[high] - values[low]) * (pos - low))

        return at(100 - percentile), at(percentile)
    raise ValueError(f"unknown observer {method!r} (minmax or percentile)")
    ### END SOLUTION
