"""Int8 models from a quantization *spec*, on PyTorch's int8 CPU kernels.

A spec is what a quantization scheme decides, as plain tensors and numbers
(saved with torch.save, loaded with weights_only=True)::

    {"format": 1, "weight_bits": 3, "act_bits": 8, "sizes": {...},
     "input": {"scale": s, "zero_point": z},
     "layers": {"conv1": {"weight": int8 tensor,        # the integers
                          "scale": (out,) or (1,) float, # per channel or per tensor
                          "zero_point": same shape, int,
                          "bias": float tensor,
                          "out_scale": s, "out_zero_point": z}, ...}}

Your functions in quantize.py make the integers and the scales; this module
only packs them into PyTorch's quantized modules (``torch.ao.nn.quantized``),
whose kernels (x86/fbgemm on Intel and AMD, qnnpack on ARM) do the int8
arithmetic. Quantized kernels run on the CPU only: everything here is on the
CPU.

Like model.py, this file imports nothing from the project (only torch), so
dlpath's checks use their own copy of it to rebuild your saved specs.
"""

from __future__ import annotations

import io
import warnings

import torch
from torch import nn
from torch.nn import functional as F

# torch.ao.quantization's eager mode is marked deprecated in favour of torchao
# (the README says why it is used here); its warnings are noise for a learner.
warnings.filterwarnings("ignore", message=r".*(torch\.ao\.quantization|quantize_per|quantized|"
                                          r"reduce_range|TypedStorage).*")
warnings.filterwarnings("ignore", category=DeprecationWarning)

from torch.ao.nn import intrinsic as nni  # noqa: E402
from torch.ao.nn import quantized as nnq  # noqa: E402
from torch.ao.nn.intrinsic import quantized as nniq  # noqa: E402

#: engines in order of preference: x86 (fbgemm's successor) on Intel/AMD,
#: qnnpack on ARM (Apple Silicon, phones, a Raspberry Pi)
ENGINES = ("x86", "fbgemm", "qnnpack")


def pick_engine(preferred: str = "auto") -> str:
    """Select the int8 engine this machine supports, and return its name.

    ``preferred`` (params.yaml quantize.engine) wins when this PyTorch build
    supports it; "auto" takes the first of ENGINES that it supports.
    """
    supported = list(torch.backends.quantized.supported_engines)
    if preferred != "auto" and preferred in supported:
        choice = preferred
    else:
        choice = next((e for e in ENGINES if e in supported), None)
        if choice is None:
            raise RuntimeError(f"this PyTorch has no int8 CPU engine (supported: {supported})")
    torch.backends.quantized.engine = choice
    return choice


def placeholder(todo: list[str]) -> dict:
    """What a stage saves where a model would go while your code is a TODO, so
    the pipeline still runs (and dlpath says what to write)."""
    return {"not_implemented": list(todo)}


def is_placeholder(obj) -> bool:
    return isinstance(obj, dict) and "not_implemented" in obj


def _qweight(layer: dict) -> torch.Tensor:
    """PyTorch's quantized weight tensor holding exactly the spec's integers."""
    q = layer["weight"].to(torch.int8)
    scale, zp = layer["scale"].double().flatten(), layer["zero_point"].long().flatten()
    if scale.numel() == 1:
        return torch._make_per_tensor_quantized_tensor(q, float(scale), int(zp))
    return torch._make_per_channel_quantized_tensor(q, scale, zp, 0)


class Int8EdgeNet(nn.Module):
    """EdgeNet on int8 kernels: quantize the input, five int8 layers (ReLU
    fused into the first four), dequantize the logits."""

    def __init__(self, spec: dict):
        super().__init__()
        sizes, layers = spec["sizes"], spec["layers"]
        c, e, h = sizes["channels"], sizes["expand"], sizes["hidden"]
        classes = layers["fc2"]["weight"].shape[0]
        self.quant = nnq.Quantize(float(spec["input"]["scale"]),
                                  int(spec["input"]["zero_point"]), torch.quint8)
        self.conv1 = nniq.ConvReLU2d(1, c, 3, padding=1)
        self.dw = nniq.ConvReLU2d(c, c, 3, padding=1, groups=c)
        self.pw = nniq.ConvReLU2d(c, e, 1)
        self.fc1 = nniq.LinearReLU(e * 16, h)
        self.fc2 = nnq.Linear(h, classes)
        self.dequant = nnq.DeQuantize()
        for name in ("conv1", "dw", "pw", "fc1", "fc2"):
            module, layer = getattr(self, name), layers[name]
            module.set_weight_bias(_qweight(layer), layer["bias"].float())
            module.scale = float(layer["out_scale"])
            module.zero_point = int(layer["out_zero_point"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(self.conv1(self.quant(x)))
        x = F.max_pool2d(self.pw(x), 2).flatten(1)
        return self.dequant(self.fc2(self.fc1(x)))


def build_int8(spec: dict) -> Int8EdgeNet:
    """The int8 model a spec describes (CPU, eval mode)."""
    return Int8EdgeNet(spec).eval()


def serialized_bytes(model: nn.Module) -> int:
    """Bytes of the model's weights as torch.save writes them: what you ship."""
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return buffer.tell()


# --------------------------------------------------- the library's quantizer


class _Stubbed(nn.Module):
    """A FoldedNet's layers laid out the way torch.ao.quantization's eager mode
    wants them: QuantStub, fused Conv/Linear+ReLU modules, DeQuantStub."""

    def __init__(self, folded: nn.Module):
        super().__init__()
        from torch.ao.quantization import DeQuantStub, QuantStub

        self.quant, self.dequant = QuantStub(), DeQuantStub()
        self.conv1 = nni.ConvReLU2d(folded.conv1, nn.ReLU())
        self.dw = nni.ConvReLU2d(folded.dw, nn.ReLU())
        self.pw = nni.ConvReLU2d(folded.pw, nn.ReLU())
        self.fc1 = nni.LinearReLU(folded.fc1, nn.ReLU())
        self.fc2 = folded.fc2

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(self.conv1(self.quant(x)))
        x = F.max_pool2d(self.pw(x), 2).flatten(1)
        return self.dequant(self.fc2(self.fc1(x)))


def spec_from_torchao(qmodel: nn.Module, sizes: dict, weight_bits: int, act_bits: int) -> dict:
    """Read a torch.ao-converted model back into a spec."""
    layers = {}
    for name in ("conv1", "dw", "pw", "fc1", "fc2"):
        module = getattr(qmodel, name)
        w = module.weight()
        if w.qscheme() in (torch.per_channel_affine, torch.per_channel_symmetric):
            scale, zp = w.q_per_channel_scales().float(), w.q_per_channel_zero_points()
        else:
            scale, zp = torch.tensor([w.q_scale()]), torch.tensor([w.q_zero_point()])
        layers[name] = {"weight": w.int_repr().clone(), "scale": scale, "zero_point": zp.long(),
                        "bias": module.bias().detach().float().clone(),
                        "out_scale": float(module.scale),
                        "out_zero_point": int(module.zero_point)}
    return {"format": 1, "weight_bits": weight_bits, "act_bits": act_bits, "sizes": dict(sizes),
            "input": {"scale": float(qmodel.quant.scale),
                      "zero_point": int(qmodel.quant.zero_point)},
            "layers": layers}


def library_ptq(folded: nn.Module, calibration: list[torch.Tensor], sizes: dict,
                weight_bits: int = 8, act_bits: int = 8, per_channel: bool = False) -> dict:
    """Post-training quantization with the library's own observers
    (torch.ao.quantization, min-max): the baseline your scheme has to beat."""
    from torch.ao import quantization as tq

    qmax = 2 ** (weight_bits - 1) - 1
    if per_channel:
        weight = tq.PerChannelMinMaxObserver.with_args(
            dtype=torch.qint8, qscheme=torch.per_channel_symmetric, quant_min=-qmax,
            quant_max=qmax)
    else:
        weight = tq.MinMaxObserver.with_args(
            dtype=torch.qint8, qscheme=torch.per_tensor_symmetric, quant_min=-qmax,
            quant_max=qmax)
    act = tq.MinMaxObserver.with_args(dtype=torch.quint8, quant_min=0,
                                      quant_max=2 ** act_bits - 1)
    import copy

    model = _Stubbed(copy.deepcopy(folded).cpu().eval()).eval()
    model.qconfig = tq.QConfig(activation=act, weight=weight)
    prepared = tq.prepare(model)
    with torch.inference_mode():
        for batch in calibration:
            prepared(batch)
    return spec_from_torchao(tq.convert(prepared), sizes, weight_bits, act_bits)
