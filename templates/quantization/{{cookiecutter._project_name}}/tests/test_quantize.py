"""Your affine quantization against PyTorch's own quantizer (quantize.py).

Run: python -m pytest -q tests/test_quantize.py
"""

import pytest
import torch

from {{ cookiecutter._package_name }}.quantize import EPS, dequantize, qparams, quantize

# torch.ao.quantization warns that it is deprecated: the README says why it is used.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_an_affine_range_covers_the_integers_and_keeps_zero_exact():
    scale, zero_point = qparams(torch.tensor([-1.0]), torch.tensor([3.0]), 0, 255)
    assert scale.dtype == torch.float32 and zero_point.dtype == torch.int64
    assert scale.item() == pytest.approx(4.0 / 255)
    assert zero_point.item() == 64  # the integer that stands for 0.0: round(1.0 / scale)
    # A range that does not include zero is widened to include it.
    scale, zero_point = qparams(torch.tensor([2.0]), torch.tensor([5.0]), 0, 255)
    assert scale.item() == pytest.approx(5.0 / 255) and zero_point.item() == 0


def test_a_symmetric_range_has_zero_point_zero():
    scale, zero_point = qparams(torch.tensor([-0.5, -2.0]), torch.tensor([1.0, 0.5]), -7, 7,
                                symmetric=True)
    assert torch.allclose(scale, torch.tensor([1.0 / 7, 2.0 / 7]))
    assert zero_point.tolist() == [0, 0]


def test_an_empty_range_does_not_divide_by_zero():
    scale, _ = qparams(torch.tensor([0.0]), torch.tensor([0.0]), 0, 255)
    assert scale.item() == pytest.approx(EPS)


def test_qparams_match_torch_observers():
    from torch.ao.quantization import MinMaxObserver

    x = torch.randn(1000, generator=torch.Generator().manual_seed(0)) * 3 + 1
    observer = MinMaxObserver(dtype=torch.quint8)
    observer(x)
    expected_scale, expected_zero = observer.calculate_qparams()
    scale, zero_point = qparams(x.min().reshape(1), x.max().reshape(1), 0, 255)
    assert torch.allclose(scale, expected_scale)
    assert zero_point.item() == expected_zero.item()


def test_quantize_per_tensor_matches_torch():
    x = torch.randn(4, 5, 6, generator=torch.Generator().manual_seed(1)) * 2
    q = quantize(x, torch.tensor(0.02), torch.tensor(100), 0, 255)
    expected = torch.quantize_per_tensor(x, 0.02, 100, torch.quint8).int_repr()
    assert q.shape == x.shape and not q.is_floating_point()
    assert torch.equal(q.long(), expected.long())  # saturated at 0 and 255 too


def test_quantize_per_channel_matches_torch():
    x = torch.randn(3, 4, 5, generator=torch.Generator().manual_seed(2))
    scales, zeros = torch.tensor([0.01, 0.05, 0.2]), torch.tensor([0, 3, -2])
    for axis in (0, 2):
        s = scales if axis == 0 else torch.linspace(0.01, 0.1, 5)
        z = zeros if axis == 0 else torch.zeros(5, dtype=torch.int64)
        expected = torch.quantize_per_channel(x, s.double(), z, axis, torch.qint8).int_repr()
        assert torch.equal(quantize(x, s, z, -128, 127, axis=axis).long(), expected.long())


def test_dequantize_is_within_half_a_step_inside_the_range():
    x = torch.rand(200, generator=torch.Generator().manual_seed(3)) * 4 - 1
    scale, zero_point = qparams(x.min().reshape(1), x.max().reshape(1), 0, 255)
    back = dequantize(quantize(x, scale, zero_point, 0, 255), scale, zero_point)
    assert back.dtype == torch.float32
    assert (back - x).abs().max() <= scale.item() / 2 + 1e-6
    assert dequantize(torch.tensor([zero_point.item()]), scale, zero_point).item() == 0.0
