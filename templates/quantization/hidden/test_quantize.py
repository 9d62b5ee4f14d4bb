"""Hidden tests of quantize.py's affine quantization (run by `dlpath check`).

Random shapes, ranges, bit widths and axes, drawn afresh on every run, are
compared with PyTorch's own quantizer, which the learner's functions must not
call: while they run, torch's quantizers and observers raise.
"""

import sys
from functools import partial
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
import quant_support  # noqa: E402
from quant_support import SEED, learner  # noqa: E402

# What this module's learner code may not call, besides quant_support.QUANTIZERS.
refused = partial(quant_support.refused,
                  ("quantize_per_tensor_dynamic", "_make_per_tensor_quantized_tensor",
                   "_make_per_channel_quantized_tensor"),
                  tensor_methods=("dequantize", "int_repr"))

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
GRIDS = [(0, 255, torch.quint8), (-128, 127, torch.qint8), (0, 15, torch.quint8),
         (-8, 7, torch.qint8)]

# What the learner's code may not use; captured before any test patches them.
TORCH_QUANTIZE_PER_TENSOR = torch.quantize_per_tensor
TORCH_QUANTIZE_PER_CHANNEL = torch.quantize_per_channel


def generator(offset: int) -> torch.Generator:
    return torch.Generator().manual_seed(SEED + offset)


def torch_qparams(lo: float, hi: float, qmin: int, qmax: int, symmetric: bool):
    from torch.ao.quantization import MinMaxObserver

    dtype = torch.qint8 if qmin < 0 else torch.quint8
    scheme = torch.per_tensor_symmetric if symmetric else torch.per_tensor_affine
    obs = MinMaxObserver(dtype=dtype, qscheme=scheme, quant_min=qmin, quant_max=qmax)
    obs(torch.tensor([lo, hi]))
    return obs.calculate_qparams()


@pytest.mark.parametrize("case", range(6))
def test_affine_qparams_on_random_ranges(case):
    g = generator(case)
    qmin, qmax, _ = GRIDS[case % len(GRIDS)]
    n = int(torch.randint(1, 12, (1,), generator=g))
    centre = torch.randn(n, generator=g) * 5
    width = torch.rand(n, generator=g) * 10 ** float(torch.empty(1).uniform_(-3, 1, generator=g))
    lo, hi = centre - width, centre + width
    lo[0] = hi[0] = 0.0 if n > 1 else lo[0]  # an empty range among them
    with refused():
        scale, zero_point = learner("quantize").qparams(lo, hi, qmin, qmax)
    assert scale.shape == (n,) and zero_point.shape == (n,)
    for i in range(n):
        expected_scale, expected_zero = torch_qparams(float(lo[i]), float(hi[i]), qmin, qmax,
                                                      symmetric=False)
        assert float(scale[i]) == pytest.approx(float(expected_scale), rel=1e-5)
        assert int(zero_point[i]) == int(expected_zero)


@pytest.mark.parametrize("case", range(4))
def test_symmetric_qparams_on_random_ranges(case):
    g = generator(100 + case)
    qmax = int(torch.randint(1, 128, (1,), generator=g))
    n = int(torch.randint(1, 10, (1,), generator=g))
    lo = -torch.rand(n, generator=g) * 3
    hi = torch.rand(n, generator=g) * 3
    with refused():
        scale, zero_point = learner("quantize").qparams(lo, hi, -qmax, qmax, symmetric=True)
    for i in range(n):
        expected_scale, _ = torch_qparams(float(lo[i]), float(hi[i]), -qmax, qmax, symmetric=True)
        assert float(scale[i]) == pytest.approx(float(expected_scale), rel=1e-5)
    assert (zero_point == 0).all()


def random_tensor(g: torch.Generator) -> torch.Tensor:
    dims = int(torch.randint(1, 5, (1,), generator=g))
    shape = [int(s) for s in torch.randint(1, 7, (dims,), generator=g)]
    return torch.randn(shape, generator=g) * float(torch.rand(1, generator=g) * 20 + 0.01)


def close_enough(ours: torch.Tensor, theirs: torch.Tensor) -> None:
    """Equal, but for rare off-by-one at exact ties (x / s versus x * (1 / s))."""
    diff = (ours.long() - theirs.long()).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() <= 0.002


@pytest.mark.parametrize("case", range(8))
def test_quantize_per_tensor_on_random_tensors(case):
    g = generator(200 + case)
    qmin, qmax, dtype = GRIDS[case % 2]
    x = random_tensor(g)
    scale = float(x.abs().max()) / float(torch.randint(20, 400, (1,), generator=g)) + 1e-6
    zero = int(torch.randint(qmin, qmax + 1, (1,), generator=g))
    with refused():
        q = learner("quantize").quantize(x, torch.tensor(scale), torch.tensor(zero), qmin, qmax)
    assert q.shape == x.shape and not q.is_floating_point()
    expected = TORCH_QUANTIZE_PER_TENSOR(x, scale, zero, dtype).int_repr()
    close_enough(q, expected)


@pytest.mark.parametrize("case", range(8))
def test_quantize_per_channel_and_dequantize_on_random_tensors(case):
    g = generator(300 + case)
    qmin, qmax, dtype = GRIDS[case % 2]
    x = random_tensor(g)
    axis = int(torch.randint(0, x.dim(), (1,), generator=g))
    n = x.shape[axis]
    scales = torch.rand(n, generator=g) * 0.1 + 1e-3
    zeros = torch.randint(qmin, qmax + 1, (n,), generator=g)
    if dtype == torch.qint8:
        zeros = torch.zeros(n, dtype=torch.int64)
    quantize = learner("quantize")
    with refused():
        q = quantize.quantize(x, scales, zeros, qmin, qmax, axis=axis)
    expected = TORCH_QUANTIZE_PER_CHANNEL(x, scales.double(), zeros, axis, dtype)
    close_enough(q, expected.int_repr())
    integers = expected.int_repr().long()
    with refused():
        back = quantize.dequantize(integers, scales, zeros, axis=axis)
    assert back.dtype == torch.float32
    assert torch.allclose(back, expected.dequantize(), rtol=1e-5, atol=1e-6)
