"""Per-channel weights and your observers (quantize.py), and the scheme that
puts them together (scheme.py).

Run: python -m pytest -q tests/test_calibrate.py
"""

import numpy as np
import pytest
import torch

from {{ cookiecutter._package_name }}.model import EdgeNet, fold
from {{ cookiecutter._package_name }}.quantize import dequantize, observe, quantize_weight
from {{ cookiecutter._package_name }}.scheme import calibrate, make_spec

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_per_channel_weights_match_torch():
    from torch.ao.quantization import PerChannelMinMaxObserver

    w = torch.randn(6, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    w[2] *= 0.01  # a channel with tiny weights
    q, scale, zero_point = quantize_weight(w, bits=4, per_channel=True)
    observer = PerChannelMinMaxObserver(ch_axis=0, dtype=torch.qint8, quant_min=-7, quant_max=7,
                                        qscheme=torch.per_channel_symmetric)
    observer(w)
    expected_scale, _ = observer.calculate_qparams()
    assert scale.shape == (6,) and torch.allclose(scale, expected_scale)
    assert zero_point.tolist() == [0] * 6
    assert q.abs().max() <= 7 and q.shape == w.shape
    # The tiny channel keeps its shape: 15 levels of its own, not all zeros.
    assert len(q[2].unique()) > 3


def test_per_tensor_weights_round_small_channels_away():
    w = torch.randn(6, 3, 3, 3, generator=torch.Generator().manual_seed(0))
    w[2] *= 0.01
    q, scale, _ = quantize_weight(w, bits=4, per_channel=False)
    assert scale.shape == (1,)
    assert (q[2] == 0).all()
    per_channel_error = (dequantize(*quantize_weight(w, 4), axis=0) - w)[2].abs().max()
    assert per_channel_error < w[2].abs().max() / 10


def test_minmax_and_percentile_observers():
    batches = [torch.randn(500, generator=torch.Generator().manual_seed(s)) for s in range(3)]
    batches[1][7] = 40.0  # one outlier
    lo, hi = observe(batches, "minmax")
    assert (lo, hi) == (float(torch.cat(batches).min()), 40.0)
    everything = torch.cat(batches).numpy()
    lo, hi = observe(batches, "percentile", 99.0)
    assert lo == pytest.approx(np.percentile(everything, 1.0), rel=1e-5)
    assert hi == pytest.approx(np.percentile(everything, 99.0), rel=1e-5)
    assert hi < 5  # the outlier no longer sets the range


def test_a_spec_holds_integers_and_scales_for_every_layer():
    torch.manual_seed(0)
    folded = fold(EdgeNet(channels=4, expand=8, hidden=16).eval())
    batches = [torch.rand(8, 1, 8, 8) for _ in range(2)]
    spec = make_spec(folded, calibrate(folded, batches, "minmax"), {"channels": 4, "expand": 8,
                     "hidden": 16}, weight_bits=3, act_bits=8)
    assert set(spec["layers"]) == {"conv1", "dw", "pw", "fc1", "fc2"}
    for layer in spec["layers"].values():
        assert layer["weight"].dtype == torch.int8 and layer["weight"].abs().max() <= 3
        assert layer["scale"].shape == (layer["weight"].shape[0],)
        assert 0 <= layer["out_zero_point"] <= 255
