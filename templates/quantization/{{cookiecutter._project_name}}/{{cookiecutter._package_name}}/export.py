"""Stage `export`: the models in ONNX, run by ONNX Runtime, checked for parity.

* models/onnx/fp32.onnx: the fp32 model, exported by torch.onnx.
* models/onnx/int8.onnx (your QAT model) and models/onnx/int8_naive.onnx: the
  int8 specs written as ONNX "QDQ" graphs: every weight is stored as int8
  with its scales (a DequantizeLinear node in front of each Conv/Gemm), every
  activation passes a QuantizeLinear/DequantizeLinear pair with the scale and
  zero point your calibration chose. ONNX Runtime recognises the pattern and
  runs int8 kernels (QLinearConv, QGemm), just as PyTorch did.

Parity (metrics/onnx.json): on the test split, how often ONNX Runtime and
PyTorch predict the same class (``agreement``) and the largest difference
between their logits (``max_logit_error``). The two runtimes round
intermediate results a little differently, so int8 logits differ by about one
quantization step; predictions should agree on at least 99% of the images.
The latency study (stage `latency`) times ONNX Runtime beside PyTorch.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch

from .common import load_params, set_threads, write_json
from .engine import build_int8, is_placeholder, pick_engine
from .evaluation import accuracy, drop, load_xy, logits
from .model import load_fp32

OUT = Path("models/onnx")
OPSET = 17


def export_fp32(model: torch.nn.Module, path: Path, dynamo: bool = False) -> None:
    """torch.onnx.export with the weights inside the file (external_data=False:
    otherwise a separate .onnx.data file holds them, and the .onnx alone is
    a fraction of the model's size). ``dynamo=False`` uses the TorchScript
    exporter, which exports this model in well under a second; the newer
    torch.export-based one (``export.dynamo: true``, needs onnxscript) took
    about 15 s on a busy 2-core machine."""
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = ({"dynamic_shapes": ({0: torch.export.Dim("batch")},)} if dynamo
              else {"dynamic_axes": {"image": {0: "batch"}, "logits": {0: "batch"}}})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model.eval(), (torch.zeros(1, 1, 8, 8),), str(path), dynamo=dynamo,
                          external_data=False, verbose=False, input_names=["image"],
                          output_names=["logits"], opset_version=OPSET, **kwargs)


def qdq_graph(spec: dict):
    """An ONNX model (QDQ format) computing what engine.build_int8(spec) computes."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    nodes, inits = [], []

    def const(name: str, array: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(array, name))
        return name

    def qdq(x: str, name: str, scale: float, zero_point: int) -> str:
        s = const(f"{name}.scale", np.array(scale, dtype=np.float32))
        z = const(f"{name}.zero_point", np.array(zero_point, dtype=np.uint8))
        nodes.append(helper.make_node("QuantizeLinear", [x, s, z], [f"{name}.q"]))
        nodes.append(helper.make_node("DequantizeLinear", [f"{name}.q", s, z], [f"{name}.dq"]))
        return f"{name}.dq"

    def weight(name: str, layer: dict, in_scale: float) -> tuple[str, str]:
        q = layer["weight"].numpy().astype(np.int8)
        w_scale = layer["scale"].numpy().astype(np.float32)
        axis = {"axis": 0} if w_scale.size > 1 else {}
        shape = w_scale.shape if w_scale.size > 1 else ()
        ws = const(f"{name}.w_scale", w_scale.reshape(shape))
        wz = const(f"{name}.w_zero_point", np.zeros(shape, dtype=np.int8))
        nodes.append(helper.make_node("DequantizeLinear", [const(f"{name}.w_q", q), ws, wz],
                                      [f"{name}.w"], **axis))
        # The bias in int32, on the grid of (input scale x weight scale), as int8 kernels add it.
        b_scale = (np.float32(in_scale) * np.broadcast_to(w_scale, (q.shape[0],))).astype(
            np.float32)
        b_q = np.round(layer["bias"].numpy() / b_scale).astype(np.int32)
        bs = const(f"{name}.b_scale", b_scale)
        bz = const(f"{name}.b_zero_point", np.zeros(q.shape[0], dtype=np.int32))
        nodes.append(helper.make_node("DequantizeLinear", [const(f"{name}.b_q", b_q), bs, bz],
                                      [f"{name}.b"], axis=0))
        return f"{name}.w", f"{name}.b"

    layers, channels = spec["layers"], spec["sizes"]["channels"]
    x = qdq("image", "input", spec["input"]["scale"], spec["input"]["zero_point"])
    scale = spec["input"]["scale"]
    for name, pads, group in (("conv1", 1, 1), ("dw", 1, channels), ("pw", 0, 1)):
        w, b = weight(name, layers[name], scale)
        nodes.append(helper.make_node("Conv", [x, w, b], [f"{name}.y"], pads=[pads] * 4,
                                      group=group))
        nodes.append(helper.make_node("Relu", [f"{name}.y"], [f"{name}.relu"]))
        scale = layers[name]["out_scale"]
        x = qdq(f"{name}.relu", name, scale, layers[name]["out_zero_point"])
    nodes.append(helper.make_node("MaxPool", [x], ["pool"], kernel_shape=[2, 2], strides=[2, 2]))
    nodes.append(helper.make_node("Flatten", ["pool"], ["flat"], axis=1))
    x = qdq("flat", "flat", scale, layers["pw"]["out_zero_point"])
    for name, relu in (("fc1", True), ("fc2", False)):
        w, b = weight(name, layers[name], scale)
        out = f"{name}.y"
        nodes.append(helper.make_node("Gemm", [x, w, b], [out], transB=1))
        if relu:
            nodes.append(helper.make_node("Relu", [out], [f"{name}.relu"]))
            out = f"{name}.relu"
        scale = layers[name]["out_scale"]
        x = qdq(out, name, scale, layers[name]["out_zero_point"])
    nodes.append(helper.make_node("Identity", [x], ["logits"]))
    graph = helper.make_graph(
        nodes, "edgenet_int8",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["batch", 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", None])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="dlpath-quantization")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def session(path: Path, threads: int = 1):
    """An ONNX Runtime session on the CPU with ``threads`` threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run_session(sess, x: torch.Tensor) -> torch.Tensor:
    return torch.from_numpy(sess.run(None, {"image": x.numpy()})[0])


def parity(ours: torch.Tensor, theirs: torch.Tensor) -> dict[str, float]:
    return {"agreement": round(float((ours.argmax(1) == theirs.argmax(1)).float().mean()), 5),
            "max_logit_error": round(float((ours - theirs).abs().max()), 6)}


def main() -> None:
    import onnx

    params = load_params()
    set_threads(params)
    pick_engine(params["quantize"]["engine"])
    x_test, y_test = load_xy("test")
    fp32 = load_fp32()
    fp32_test = accuracy(fp32, x_test, y_test)
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.onnx*"):
        stale.unlink()
    export_fp32(fp32, OUT / "fp32.onnx", dynamo=params["export"]["dynamo"])
    metrics: dict = {"fp32": {"size_bytes": (OUT / "fp32.onnx").stat().st_size,
                              **parity(logits(fp32, x_test),
                                       run_session(session(OUT / "fp32.onnx"), x_test))}}
    for name in ("int8_naive", "int8"):
        spec = torch.load(f"models/{name}.pt", weights_only=True)
        if is_placeholder(spec):
            metrics.setdefault("not_implemented", []).extend(spec["not_implemented"])
            continue
        path = OUT / f"{name}.onnx"
        onnx.save(qdq_graph(spec), str(path))
        ours = run_session(session(path), x_test)
        acc = round(float((ours.argmax(1) == y_test).float().mean()), 5)
        metrics[name] = {"size_bytes": path.stat().st_size, "accuracy": acc,
                         "accuracy_drop": drop(fp32_test, acc),
                         **parity(ours, logits(build_int8(spec), x_test))}
    metrics["size_ratio"] = (round(metrics["int8"]["size_bytes"] / metrics["fp32"]["size_bytes"], 4)
                             if "int8" in metrics else None)
    if metrics["size_ratio"] is None:
        del metrics["size_ratio"]
    write_json("metrics/onnx.json", metrics)
    for name in ("fp32", "int8_naive", "int8"):
        if name in metrics:
            m = metrics[name]
            print(f"ONNX Runtime {name}: agrees with PyTorch on {m['agreement']:.2%} of the test "
                  f"images, max logit difference {m['max_logit_error']:.4f}, "
                  f"{m['size_bytes'] / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
