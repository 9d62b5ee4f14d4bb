"""Hidden tests of per-channel weight quantization and the observers
(quantize.py), with fresh random inputs on every run and PyTorch's
quantizers refused while the learner's code runs."""

import sys
from functools import partial
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
import quant_support  # noqa: E402
from quant_support import SEED, learner  # noqa: E402

# What this module's learner code may not call, besides quant_support.QUANTIZERS.
refused = partial(quant_support.refused, tensor_methods=("int_repr",))

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
TORCH_QUANTIZE_PER_CHANNEL = torch.quantize_per_channel
TORCH_QUANTIZE_PER_TENSOR = torch.quantize_per_tensor


def expected_weight(w: torch.Tensor, bits: int, per_channel: bool):
    from torch.ao.quantization import MinMaxObserver, PerChannelMinMaxObserver

    qmax = 2 ** (bits - 1) - 1
    if per_channel:
        obs = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, quant_min=-qmax,
                                       quant_max=qmax, qscheme=torch.per_channel_symmetric)
        obs(w)
        scale, zero = obs.calculate_qparams()
        q = TORCH_QUANTIZE_PER_CHANNEL(w, scale.double(), zero, 0, torch.qint8)
    else:
        obs = MinMaxObserver(dtype=torch.qint8, quant_min=-qmax, quant_max=qmax,
                             qscheme=torch.per_tensor_symmetric)
        obs(w)
        scale, zero = obs.calculate_qparams()
        q = TORCH_QUANTIZE_PER_TENSOR(w, float(scale), int(zero), torch.qint8)
    return q.int_repr().long().clamp(-qmax, qmax), scale.reshape(-1)


@pytest.mark.parametrize("case", range(8))
def test_weights_per_channel_and_per_tensor_on_random_layers(case):
    g = torch.Generator().manual_seed(SEED + case)
    shape = ([int(torch.randint(1, 20, (1,), generator=g)), int(torch.randint(1, 9, (1,),
              generator=g))] + ([3, 3] if case % 2 else []))
    w = torch.randn(shape, generator=g) * torch.rand(shape[0], *[1] * (len(shape) - 1),
                                                     generator=g) * 3
    bits = int(torch.randint(2, 9, (1,), generator=g))
    per_channel = case % 4 != 3
    with refused():
        q, scale, zero = learner("quantize").quantize_weight(w, bits, per_channel=per_channel)
    expected_q, expected_scale = expected_weight(w, bits, per_channel)
    assert q.shape == w.shape
    assert scale.shape == ((shape[0],) if per_channel else (1,))
    assert torch.allclose(scale.float(), expected_scale.float(), rtol=1e-5)
    assert (zero == 0).all()
    diff = (q.long() - expected_q).abs()
    assert diff.max() <= 1 and (diff > 0).float().mean() <= 0.002


@pytest.mark.parametrize("case", range(5))
def test_observers_on_random_batches(case):
    g = torch.Generator().manual_seed(SEED + 100 + case)
    batches = [torch.randn(int(torch.randint(1, 300, (1,), generator=g)), 3, generator=g)
               * 2 + 1 for _ in range(int(torch.randint(1, 5, (1,), generator=g)))]
    batches[0].view(-1)[0] = float(torch.rand(1, generator=g) * 100 + 20)  # an outlier
    values = torch.cat([b.flatten() for b in batches]).numpy().astype(np.float64)
    observe = learner("quantize").observe
    p = float(torch.empty(1).uniform_(90, 99.999, generator=g))
    with refused():
        minmax = observe(batches, "minmax")
        lo, hi = observe(batches, "percentile", p)
    assert minmax == pytest.approx((values.min(), values.max()), rel=1e-6)
    assert lo == pytest.approx(np.percentile(values, 100 - p), rel=1e-4, abs=1e-5)
    assert hi == pytest.approx(np.percentile(values, p), rel=1e-4, abs=1e-5)
