"""Hidden tests of fake quantization and QAT's hooks (quantize.py, qat.py):
forward values and straight-through gradients against PyTorch's fake
quantization, on fresh random inputs, with PyTorch's quantizers refused
while the learner's code runs."""

import sys
from functools import partial
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
import quant_support  # noqa: E402
from quant_support import SEED, learner  # noqa: E402

# What this module's learner code may not call, besides quant_support.QUANTIZERS.
refused = partial(quant_support.refused, ("_fake_quantize_learnable_per_tensor_affine",
                                          "_fake_quantize_learnable_per_channel_affine"))

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
FQ_TENSOR = torch.fake_quantize_per_tensor_affine
FQ_CHANNEL = torch.fake_quantize_per_channel_affine


def grads(fn, x: torch.Tensor, upstream: torch.Tensor, learners: bool = True):
    """fn(x) and the gradient it sends back to x; the learner's functions run
    with PyTorch's quantizers refused."""
    x = x.detach().clone().requires_grad_()
    if learners:
        with refused():
            out = fn(x)
            out.backward(upstream)
    else:
        out = fn(x)
        out.backward(upstream)
    return out.detach(), x.grad


@pytest.mark.parametrize("case", range(6))
def test_fake_quantize_forward_and_gradient(case):
    g = torch.Generator().manual_seed(SEED + case)
    x = torch.randn(int(torch.randint(2, 8, (1,), generator=g)), 5, 4, generator=g) * 3
    upstream = torch.randn(x.shape, generator=g)
    fake_quantize = learner("quantize").fake_quantize
    if case % 2:
        qmin, qmax = 0, int(torch.randint(3, 256, (1,), generator=g))
        scale, zero = float(torch.rand(1, generator=g) * 0.1 + 0.01), 3
        ours = grads(lambda t: fake_quantize(t, torch.tensor(scale), torch.tensor(zero), qmin,
                                             qmax), x, upstream)
        theirs = grads(lambda t: FQ_TENSOR(t, scale, zero, qmin, qmax), x, upstream, False)
    else:
        qmax = int(torch.randint(1, 128, (1,), generator=g))
        axis = int(torch.randint(0, 3, (1,), generator=g))
        scale = torch.rand(x.shape[axis], generator=g) * 0.5 + 0.05
        zero = torch.zeros(x.shape[axis], dtype=torch.int64)
        ours = grads(lambda t: fake_quantize(t, scale, zero, -qmax, qmax, axis=axis), x,
                     upstream)
        theirs = grads(lambda t: FQ_CHANNEL(t, scale, zero.int(), axis, -qmax, qmax), x,
                       upstream, False)
    assert torch.allclose(ours[0], theirs[0], atol=1e-5)
    mismatch = (ours[1] != theirs[1]).float().mean()
    assert mismatch <= 0.002  # the gradient: straight through inside the grid, 0 outside


@pytest.mark.parametrize("case", range(3))
def test_qat_weight_hook(case):
    g = torch.Generator().manual_seed(SEED + 50 + case)
    bits = int(torch.randint(2, 9, (1,), generator=g))
    qmax = 2 ** (bits - 1) - 1
    w = torch.randn(int(torch.randint(2, 12, (1,), generator=g)), 6, generator=g)
    upstream = torch.randn(w.shape, generator=g)
    qat = learner("qat").QAT(bits, 8, {"fc1": (0.0, 1.0)})
    ours = grads(lambda t: qat.weight("fc1", t), w, upstream)
    # torch.ao's symmetric per-channel scale: max |w| of the channel over (qmax - qmin) / 2
    scale = w.abs().amax(1) / ((qmax - (-qmax)) / 2)
    theirs = grads(lambda t: FQ_CHANNEL(t, scale, torch.zeros(len(scale), dtype=torch.int32), 0,
                                        -qmax, qmax), w, upstream, False)
    assert torch.allclose(ours[0], theirs[0], atol=1e-5)
    assert torch.allclose(ours[1], theirs[1])


@pytest.mark.parametrize("case", range(3))
def test_qat_activation_hook_tracks_ranges_in_training_only(case):
    g = torch.Generator().manual_seed(SEED + 80 + case)
    momentum = float(torch.rand(1, generator=g) * 0.8 + 0.1)
    lo0, hi0 = -float(torch.rand(1, generator=g)), float(torch.rand(1, generator=g) * 2 + 0.5)
    x = torch.randn(64, generator=g) * 2
    qat = learner("qat").QAT(3, 8, {"fc2": (lo0, hi0)}, momentum=momentum)
    qat.training = False
    with refused():
        qat.act("fc2", x)
    assert qat.ranges["fc2"] == pytest.approx((lo0, hi0))
    qat.training = True
    ours = grads(lambda t: qat.act("fc2", t), x, torch.ones_like(x))
    lo = (1 - momentum) * lo0 + momentum * float(x.min())
    hi = (1 - momentum) * hi0 + momentum * float(x.max())
    assert qat.ranges["fc2"] == pytest.approx((lo, hi), rel=1e-5)
    lo_, hi_ = min(lo, 0.0), max(hi, 0.0)
    scale = (hi_ - lo_) / 255
    zero = int(min(max(-round(lo_ / scale), 0), 255))
    theirs = grads(lambda t: FQ_TENSOR(t, scale, zero, 0, 255), x, torch.ones_like(x), False)
    assert torch.allclose(ours[0], theirs[0], atol=1e-5)
