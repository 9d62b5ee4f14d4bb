"""Fast checks of the model and its compressed variants (no pipeline run)."""

import pytest
import torch

from {{ cookiecutter._package_name }}.common import init_distributed, tensors, train_classifier
from {{ cookiecutter._package_name }}.compress import (
    prune_magnitude,
    quantize_dynamic,
    quantize_static,
    sparsity,
)
from {{ cookiecutter._package_name }}.data import digits, split
from {{ cookiecutter._package_name }}.evaluate import latencies
from {{ cookiecutter._package_name }}.model import DigitsMLP

# torch.ao.quantization warns that it is deprecated: the README says why it is used.
pytestmark = [
    pytest.mark.filterwarnings("ignore::DeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*(quantize_per|reduce_range).*:UserWarning"),
]


@pytest.fixture
def one_thread():
    """Small models train fastest, and steadiest on a busy machine, on one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


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


def test_quantized_model_still_classifies_digits(one_thread):
    x, y = digits()
    (xtr, ytr), _, (xte, yte) = split(x, y, val=0.1, test=0.2, seed=0)
    torch.manual_seed(0)
    model, _ = train_classifier(
        DigitsMLP(hidden=64), tensors(xtr, ytr), tensors(xte, yte),
        epochs=5, lr=0.005, batch_size=64, seed=0, dist=init_distributed(),
    )
    model.eval()
    xte, yte = torch.as_tensor(xte), torch.as_tensor(yte)
    int8 = quantize_static(model, torch.as_tensor(xtr[:256]), torch.backends.quantized.engine)
    with torch.inference_mode():
        fp32_acc = (model(xte).argmax(1) == yte).float().mean().item()
        int8_acc = (int8(xte).argmax(1) == yte).float().mean().item()
    assert fp32_acc > 0.9
    assert int8_acc > fp32_acc - 0.03


def test_latencies_times_every_variant_in_milliseconds():
    models = {"a": small_model(), "b": quantize_dynamic(small_model())}
    result = latencies(models, torch.rand(8, 1, 8, 8), warmup=1, repeats=3)
    assert set(result) == {"a", "b"}
    assert all(0 < ms < 1000 for ms in result.values())
