"""dlpath's own measurement of a quantization project's models (the `probe`
check kind; see dlpath/checks/probe.py).

It rebuilds every model from the weights and quantization specs the pipeline
saved (models/*.pt, models/onnx/int8.onnx), with dlpath's own copy of the
template's model.py, engine.py and timing.py (never the project's code, which
a learner may have changed), and scores them on fresh images it draws itself:
the project's test split regenerated from scikit-learn's digits, each image
kept once and redrawn ``COPIES - 1`` times with a small random warp (a
quarter-pixel shift), contrast change and noise from ``seed``.
``challenge=True`` draws a shifted distribution instead (rotations, scaling,
thicker or thinner strokes, more noise).

What it measures (keys of the returned dict):

* ``fp32.accuracy``; ``naive.accuracy_drop``: the library's naive PTQ
  (per-tensor min-max weights, one calibration batch) of the learner's fp32
  model at the project's weight bits, made here;
* ``ptq.*``, ``int8.*``: the learner's PTQ and QAT specs on int8 kernels:
  accuracy, drop in points, size ratio, weight bits actually used, latency
  ratios to fp32 at batch 1 and 64 (lower quartiles of interleaved runs on
  one thread: on a busy machine the median mostly measures waiting);
* ``pruned.*``: the structurally pruned model: accuracy drop, parameter and
  size ratios, latency ratios to fp32 at batch 1 and 64;
* ``onnx.*``: the int8 ONNX graph in ONNX Runtime: agreement with the int8
  PyTorch model, max logit error, accuracy drop, batch-1 latency ratio.
"""

from __future__ import annotations

import importlib.util
import io
import math
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

HERE = Path(__file__).resolve().parent
TEMPLATE_PKG = HERE.parent / "{{cookiecutter._project_name}}" / "{{cookiecutter._package_name}}"
COPIES = 4
LAYERS = ("conv1", "dw", "pw", "fc1", "fc2")


def _load(name: str):
    """A module of the packaged template (model, engine, timing), by path."""
    key = f"dlpath_quantization_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, TEMPLATE_PKG / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[key] = module
    spec.loader.exec_module(module)
    return module


def _splits(params: dict) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(train images, test images, test labels), as the project's prepare stage
    splits scikit-learn's digits (same seed and fractions), never read from data/."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)[:, None, :, :]
    y = digits.target.astype(np.int64)
    seed, prep = params["seed"], params["prepare"]
    x_rest, x_test, y_rest, y_test = train_test_split(
        x, y, test_size=prep["test"], random_state=seed, stratify=y)
    x_train, _, _, _ = train_test_split(
        x_rest, y_rest, test_size=prep["val"] / (1 - prep["test"]), random_state=seed,
        stratify=y_rest)
    return torch.as_tensor(x_train), torch.as_tensor(x_test), torch.as_tensor(y_test)


def fresh_images(x: torch.Tensor, y: torch.Tensor, seed: int, challenge: bool = False):
    """``COPIES`` redrawn versions of every image: a random affine warp, a
    contrast change and pixel noise. Small for a check; a shifted
    distribution for a challenge (rotation up to 10 degrees, 0.9-1.1 scale,
    half-pixel shifts, strokes thickened or thinned, more noise)."""
    gen = torch.Generator().manual_seed(seed)
    x, y = x.repeat(COPIES, 1, 1, 1), y.repeat(COPIES)
    n = len(x)

    def uniform(lo: float, hi: float) -> torch.Tensor:
        return lo + (hi - lo) * torch.rand(n, generator=gen)

    if challenge:
        angle, scale, shift = uniform(-0.17, 0.17), uniform(0.9, 1.1), 0.12
        gain, noise = uniform(0.75, 1.15), 0.04
    else:
        angle, scale, shift = uniform(-0.035, 0.035), uniform(0.98, 1.02), 0.06
        gain, noise = uniform(0.9, 1.1), 0.02
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, uniform(-shift, shift)], 1),
                         torch.stack([sin, cos, uniform(-shift, shift)], 1)], 1)
    grid = torch.nn.functional.affine_grid(theta, list(x.shape), align_corners=False)
    out = torch.nn.functional.grid_sample(x, grid, align_corners=False, padding_mode="zeros")
    if challenge:  # thicker (dilate) or thinner (erode) strokes for a third of the images each
        kind = torch.randint(0, 3, (n,), generator=gen)
        pool = torch.nn.functional.max_pool2d
        thick = pool(out, 3, stride=1, padding=1)
        thin = -pool(-out, 3, stride=1, padding=1)
        out = torch.where((kind == 1).view(-1, 1, 1, 1), 0.5 * (out + thick), out)
        out = torch.where((kind == 2).view(-1, 1, 1, 1), 0.5 * (out + thin), out)
    out = out * gain.view(-1, 1, 1, 1) + noise * torch.randn(out.shape, generator=gen)
    if not challenge:  # the first copy of every image is the image itself
        out[: n // COPIES] = x[: n // COPIES]
    return out.clamp(0, 1), y


@torch.inference_mode()
def _logits(model, x: torch.Tensor) -> torch.Tensor:
    return torch.cat([model(b) for b in x.split(512)])


def _acc(out: torch.Tensor, y: torch.Tensor) -> float:
    return float((out.argmax(1) == y).float().mean())


def _check_spec(spec, where: str) -> None:
    """A spec with the shape engine.build_int8 expects, integers in int8."""
    try:
        ok = spec["format"] == 1 and set(spec["layers"]) == set(LAYERS)
        for name in LAYERS:
            layer = spec["layers"][name]
            ok = ok and layer["weight"].dtype == torch.int8
            ok = ok and all(math.isfinite(float(v)) for v in layer["scale"].flatten())
            ok = ok and math.isfinite(float(layer["out_scale"]))
    except (KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"{where} is not a quantization spec ({exc})") from None
    if not ok:
        raise ValueError(f"{where} is not a quantization spec with int8 weights")


def weight_bits(spec: dict) -> int:
    """Bits a symmetric signed grid needs for the largest integer any weight uses."""
    levels = max(int(spec["layers"][n]["weight"].abs().max()) for n in LAYERS)
    return 1 + math.ceil(math.log2(levels + 1))


def _serialized(model: torch.nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


def measure(root: Path, seed: int, challenge: bool = False) -> dict:
    torch.set_num_threads(1)
    torch.manual_seed(seed)
    model_mod, engine, timing = _load("model"), _load("engine"), _load("timing")
    engine.pick_engine("auto")
    if not (root / "models" / "fp32.pt").is_file():
        return {"not_implemented": ["there is no models/fp32.pt yet: run `dvc repro` first"]}
    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    x_train, x_test, y_test = _splits(params)
    x, y = fresh_images(x_test, y_test, seed, challenge)
    bits = int(params["quantize"]["weight_bits"])

    out: dict = {}
    notes: dict[str, list[str]] = {}  # key prefix: the stubs its keys wait for

    def note(prefixes: tuple[str, ...], *texts: str) -> None:
        for prefix in prefixes:
            notes.setdefault(prefix, []).extend(t for t in map(str, texts)
                                                if t not in notes[prefix])

    fp32 = model_mod.EdgeNet.from_state_dict(
        torch.load(root / "models/fp32.pt", map_location="cpu", weights_only=True))
    # fp32 as deployed: BatchNorm folded (same outputs; int8 gets no credit for folding).
    folded = model_mod.fold(fp32)
    fp32_acc = _acc(_logits(folded, x), y)
    fp32_bytes = _serialized(folded)
    out["fp32.accuracy"] = fp32_acc
    out["images"] = float(len(y))

    def drop(acc: float) -> float:
        return round((fp32_acc - acc) * 100, 3)

    naive = engine.build_int8(engine.library_ptq(folded, [x_train[:32]], fp32.sizes, bits, 8))
    out["naive.accuracy_drop"] = drop(_acc(_logits(naive, x), y))

    models = {"fp32": folded}
    for key, file in (("ptq", "int8_ptq.pt"), ("int8", "int8.pt")):
        spec = torch.load(root / "models" / file, map_location="cpu", weights_only=True)
        if isinstance(spec, dict) and "not_implemented" in spec:
            note((f"{key}.",) if key == "ptq" else ("int8.", "onnx."), *spec["not_implemented"])
            continue
        _check_spec(spec, f"models/{file}")
        model = engine.build_int8(spec)
        acc = _acc(_logits(model, x), y)
        out[f"{key}.accuracy"] = acc
        out[f"{key}.accuracy_drop"] = drop(acc)
        out[f"{key}.weight_bits"] = float(weight_bits(spec))
        out[f"{key}.size_ratio"] = round(_serialized(model) / fp32_bytes, 4)
        models[key] = model

    pruned_state = torch.load(root / "models/pruned.pt", map_location="cpu", weights_only=True)
    if isinstance(pruned_state, dict) and "not_implemented" in pruned_state:
        note(("pruned.",), *pruned_state["not_implemented"])
    else:
        pruned = model_mod.EdgeNet.from_state_dict(pruned_state)
        out["pruned.accuracy_drop"] = drop(_acc(_logits(pruned, x), y))
        count = sum(p.numel() for p in pruned.parameters())
        out["pruned.param_ratio"] = round(count / sum(p.numel() for p in fp32.parameters()), 4)
        pruned = model_mod.fold(pruned)
        out["pruned.size_ratio"] = round(_serialized(pruned) / fp32_bytes, 4)
        models["pruned"] = pruned

    onnx_file = root / "models/onnx/int8.onnx"
    fns = {}
    if "int8" in models and onnx_file.is_file():
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads, options.inter_op_num_threads = 1, 1
        options.log_severity_level = 3
        session = ort.InferenceSession(str(onnx_file), options,
                                       providers=["CPUExecutionProvider"])
        theirs = torch.cat([torch.from_numpy(session.run(None, {"image": b.numpy()})[0])
                            for b in x.split(512)])
        ours = _logits(models["int8"], x)
        out["onnx.agreement"] = float((theirs.argmax(1) == ours.argmax(1)).float().mean())
        out["onnx.max_logit_error"] = float((theirs - ours).abs().max())
        out["onnx.accuracy_drop"] = drop(_acc(theirs, y))
        image = x[:1].numpy()
        fns["onnx"] = lambda: session.run(None, {"image": image})
    elif "int8" in models:
        note(("onnx.",), "models/onnx/int8.onnx is missing: run the export stage (dvc repro)")

    if challenge:  # a challenge judges accuracy on shifted data: no timing
        if notes:
            out["not_implemented"] = notes
        return out
    # Latency: interleaved runs on one thread, judged on the lower quartile.
    single, batch = x[:1], x[:64]
    with torch.inference_mode():
        for name, model in models.items():
            fns[name] = (lambda m=model: m(single))
        times = timing.time_interleaved(fns, repeats=150, warmup=20, budget_s=20, at_least=30)
        for name in fns:
            if name != "fp32":
                out[f"{name}.latency_ratio_b1"] = round(timing.ratio(times, name, "fp32", 0.25), 4)
        # At batch 64 the arithmetic dominates; at batch 1 on a model this
        # small, PyTorch's per-layer overhead does, on every variant alike.
        wide = {name: (lambda m=models[name]: m(batch))
                for name in ("fp32", "int8", "pruned") if name in models}
        if len(wide) > 1:
            big = timing.time_interleaved(wide, repeats=20, warmup=5, budget_s=20, at_least=8)
            for name in wide:
                if name != "fp32":
                    out[f"{name}.latency_ratio_b64"] = round(
                        timing.ratio(big, name, "fp32", 0.25), 4)
    if notes:
        out["not_implemented"] = notes
    return out
