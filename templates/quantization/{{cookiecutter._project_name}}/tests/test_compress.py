"""Fast checks of the model and its compressed variants (no pipeline run)."""

import torch

from {{ cookiecutter._package_name }}.compress import (
    prune_magnitude,
    quantize_dynamic,
    quantize_static,
    sparsity,
)
from {{ cookiecutter._package_name }}.model import DigitsMLP


def small_model():
    torch.manual_seed(0)
    return DigitsMLP(hidden=32).eval()


def test_model_maps_images_to_ten_logits():
    assert small_model()(torch.rand(5, 1, 8, 8)).shape == (5, 10)


def test_static_quantization_keeps_outputs_close():
    model = small_model()
    x = torch.rand(64, 1, 8, 8)
    quantized = quantize_static(model, x, torch.backends.quantized.engine)
    assert ".quantized." in type(quantized.fc2).__module__
    with torch.inference_mode():
        fp32, int8 = model(x).flatten(), quantized(x).flatten()
    assert torch.nn.functional.cosine_similarity(fp32, int8, dim=0) > 0.95


def test_dynamic_quantization_replaces_linear_layers():
    quantized = quantize_dynamic(small_model())
    assert "quantized" in type(quantized.fc1).__module__


def test_pruning_zeroes_the_requested_fraction():
    pruned = prune_magnitude(small_model(), amount=0.5)
    assert abs(sparsity(pruned) - 0.5) < 0.01
    assert not hasattr(pruned.fc1, "weight_orig")  # made permanent
