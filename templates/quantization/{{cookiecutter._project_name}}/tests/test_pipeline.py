"""The parts of the pipeline you do not write: BatchNorm folding, int8
models from a spec, the engine choice, ONNX export, timing. They run in
seconds, on a GPU machine too (quantized models run on the CPU)."""

import importlib.util

import pytest
import torch

from {{ cookiecutter._package_name }}.common import (
    init_distributed,
    pick_device,
    tensors,
    train_classifier,
)
from {{ cookiecutter._package_name }}.engine import ENGINES, build_int8, library_ptq, pick_engine
from {{ cookiecutter._package_name }}.evaluation import accuracy
from {{ cookiecutter._package_name }}.model import EdgeNet, fold
from {{ cookiecutter._package_name }}.timing import ratio, summary, time_interleaved

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
SIZES = {"channels": 4, "expand": 8, "hidden": 16}


def small_model() -> EdgeNet:
    torch.manual_seed(0)
    model = EdgeNet(**SIZES)
    with torch.no_grad():  # BatchNorm statistics that are not the identity
        for bn in (model.bn1, model.bn2, model.bn3):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
    return model.eval()


def test_folding_batchnorm_keeps_the_outputs():
    model = small_model()
    x = torch.rand(8, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(fold(model)(x), model(x), atol=1e-5)


def test_the_engine_follows_the_platform():
    supported = torch.backends.quantized.supported_engines
    engine = pick_engine("auto")
    assert engine in supported and engine in ENGINES
    assert torch.backends.quantized.engine == engine
    assert pick_engine("no-such-engine") == engine  # falls back, never fails


def test_the_library_int8_model_keeps_8_bit_accuracy_and_runs_on_int8_kernels():
    pick_engine("auto")
    model = small_model()
    x = torch.rand(64, 1, 8, 8)
    spec = library_ptq(fold(model), list(x.split(32)), SIZES, weight_bits=8)
    int8 = build_int8(spec)
    assert "quantized" in type(int8.fc1).__module__
    with torch.inference_mode():
        cosine = torch.nn.functional.cosine_similarity(int8(x).flatten(), model(x).flatten(), 0)
    assert cosine > 0.98


def test_train_on_the_device_then_quantize_on_the_cpu():
    """Training uses the GPU when there is one; int8 kernels run on the CPU:
    the model has to move (this failed on CUDA before)."""
    x, y = torch.rand(128, 1, 8, 8), torch.randint(0, 10, (128,))
    dist = init_distributed()
    assert dist.device.type == pick_device().type
    model, _ = train_classifier(small_model().train(), tensors(x.numpy(), y.numpy()),
                                tensors(x.numpy(), y.numpy()), epochs=1, lr=0.01, batch_size=32,
                                seed=0, dist=dist)
    model = model.cpu().eval()
    pick_engine("auto")
    int8 = build_int8(library_ptq(fold(model), [x[:32]], SIZES, weight_bits=8))
    assert 0.0 <= accuracy(int8, x, y) <= 1.0


@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None,
                    reason="onnxruntime is not installed")
def test_the_int8_onnx_graph_agrees_with_pytorch(tmp_path):
    import onnx

    from {{ cookiecutter._package_name }}.export import export_fp32, qdq_graph, run_session, session

    pick_engine("auto")
    model = small_model()
    x = torch.rand(32, 1, 8, 8)
    spec = library_ptq(fold(model), [x], SIZES, weight_bits=8)
    onnx.save(qdq_graph(spec), str(tmp_path / "int8.onnx"))
    with torch.inference_mode():
        ours = build_int8(spec)(x)
    theirs = run_session(session(tmp_path / "int8.onnx"), x)
    assert (theirs - ours).abs().max() <= 2 * spec["layers"]["fc2"]["out_scale"] + 1e-6
    export_fp32(model, tmp_path / "fp32.onnx")
    assert not (tmp_path / "fp32.onnx.data").exists()  # the weights are inside the file
    with torch.inference_mode():
        expected = model(x)
    assert torch.allclose(run_session(session(tmp_path / "fp32.onnx"), x), expected, atol=1e-4)


def test_timing_reports_medians_and_spread():
    times = time_interleaved({"a": lambda: sum(range(100)), "b": lambda: sum(range(1000))},
                             repeats=5, warmup=1)
    assert all(len(t) == 5 * 3 for t in times.values())  # block of 4, first call dropped
    s = summary(times["a"])
    assert s["q1_ms"] <= s["median_ms"] <= s["q3_ms"] and s["iqr_ms"] >= 0
    assert ratio(times, "a", "a") == 1.0
