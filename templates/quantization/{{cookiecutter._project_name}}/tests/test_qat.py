"""Fake quantization and QAT (quantize.py, qat.py).

Run: python -m pytest -q tests/test_qat.py
"""

import pytest
import torch

from {{ cookiecutter._package_name }}.model import EdgeNet, fold
from {{ cookiecutter._package_name }}.qat import QAT
from {{ cookiecutter._package_name }}.quantize import fake_quantize

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def test_fake_quantize_matches_torch_forward_and_backward():
    x = (torch.randn(300, generator=torch.Generator().manual_seed(0)) * 3).requires_grad_()
    reference = x.detach().clone().requires_grad_()
    out = fake_quantize(x, torch.tensor(0.05), torch.tensor(10), 0, 255)
    expected = torch.fake_quantize_per_tensor_affine(reference, 0.05, 10, 0, 255)
    assert torch.allclose(out, expected, atol=1e-6)
    out.sum().backward()
    expected.sum().backward()
    # Straight through where the value fits the grid, zero where it saturated.
    assert torch.equal(x.grad, reference.grad)
    assert 0 < x.grad.sum() < len(x)


def test_fake_quantize_per_channel_matches_torch():
    w = torch.randn(4, 9, generator=torch.Generator().manual_seed(1)).requires_grad_()
    scale, zero = torch.tensor([0.1, 0.2, 0.05, 0.3]), torch.zeros(4, dtype=torch.int64)
    out = fake_quantize(w, scale, zero, -3, 3, axis=0)
    expected = torch.fake_quantize_per_channel_affine(w.detach(), scale, zero.int(), 0, -3, 3)
    assert torch.allclose(out, expected, atol=1e-6)


def test_qat_weights_are_fake_quantized_per_channel_and_learn():
    w = torch.randn(5, 8, generator=torch.Generator().manual_seed(2)).requires_grad_()
    qat = QAT(weight_bits=3, act_bits=8, ranges={"fc1": (0.0, 1.0)})
    out = qat.weight("fc1", w)
    for row, original in zip(out.detach(), w.detach(), strict=True):
        step = original.abs().max() / 3
        assert len(row.unique()) <= 7
        assert torch.allclose(row / step, torch.round(row / step), atol=1e-4)
    out.sum().backward()
    assert w.grad is not None and w.grad.abs().sum() > 0


def test_qat_tracks_activation_ranges_only_in_training():
    qat = QAT(weight_bits=3, act_bits=8, ranges={"fc1": (0.0, 1.0)}, momentum=0.5)
    x = torch.linspace(0, 3, 100)
    qat.training = False
    qat.act("fc1", x)
    assert qat.ranges["fc1"] == pytest.approx((0.0, 1.0))
    qat.training = True
    qat.act("fc1", x)
    assert qat.ranges["fc1"] == pytest.approx((0.0, 2.0))  # halfway from 1 to 3
    out = qat.act("fc1", x)
    assert len(out.unique()) <= 256 and out.max() <= qat.ranges["fc1"][1] + 1e-6


def test_a_few_qat_steps_lower_the_loss():
    torch.manual_seed(0)
    net = fold(EdgeNet(channels=4, expand=8, hidden=32).eval())
    x, y = torch.rand(64, 1, 8, 8), torch.randint(0, 10, (64,))
    qat = QAT(3, 8, {name: (0.0, 4.0) for name in ("input", "conv1", "dw", "pw", "fc1")}
              | {"fc2": (-4.0, 4.0)})
    optimiser = torch.optim.Adam(net.parameters(), lr=0.01)
    losses = []
    for _ in range(30):
        optimiser.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x, weight=qat.weight, act=qat.act), y)
        loss.backward()
        optimiser.step()
        losses.append(float(loss))
    assert losses[-1] < losses[0]
