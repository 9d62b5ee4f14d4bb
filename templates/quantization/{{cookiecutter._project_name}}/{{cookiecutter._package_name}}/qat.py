"""Stage `qat`: quantization-aware training, and the int8 model you deploy.

Post-training quantization rounds the weights of a network that never saw
rounding. QAT fine-tunes the (BatchNorm-folded) network for a few epochs
*through* the rounding: every forward pass uses fake-quantized weights and
activations (quantized, then dequantized, in float), so the loss sees the
int8 model's errors and the weights move to where rounding hurts least. The
gradient flows through the rounding as if it were the identity (the
straight-through estimator in quantize.fake_quantize).

The result is quantized with your scheme (scheme.make_spec, with the
activation ranges QAT tracked) and saved as models/int8.pt: the int8 model
the latency study, the ONNX export and dlpath's checks use.
"""

# ruff: noqa: E501  (a TODO line names its function, file and test: it runs long)
from __future__ import annotations

import copy

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from .common import (
    EpochLog,
    adam,
    learner_code,
    load_params,
    pick_device,
    plot_curves,
    set_threads,
    write_csv,
    write_json,
)
from .engine import build_int8, pick_engine, placeholder, serialized_bytes
from .evaluation import accuracy, drop, load_xy, seed_all
from .model import FoldedNet, fold, load_fp32
from .plots import placeholder_png
from .quantize import fake_quantize, qparams  # noqa: F401  (the hooks you write use them)
from .scheme import calibrate, calibration_batches, make_spec, weight_levels


class QAT:
    """The fake quantization a FoldedNet trains through: pass ``weight`` and
    ``act`` as its forward hooks, ``net(x, weight=qat.weight, act=qat.act)``.

    ``ranges`` holds the current (lo, hi) of every activation point, starting
    from a calibration; in training (``self.training``) each batch moves them.
    """

    def __init__(self, weight_bits: int, act_bits: int, ranges: dict[str, tuple[float, float]],
                 momentum: float = 0.1):
        self.weight_bits, self.act_bits = weight_bits, act_bits
        self.ranges = {name: (float(lo), float(hi)) for name, (lo, hi) in ranges.items()}
        self.momentum = momentum
        self.training = True

    def weight(self, name: str, w: torch.Tensor) -> torch.Tensor:
        """``w`` fake-quantized on the symmetric ``weight_bits`` grid, one scale
        per output channel (axis 0) from the weight's current min and max,
        so that the gradient reaches ``w`` straight through the rounding."""
        ### BEGIN SOLUTION: QAT: fake-quantized weights (test: tests/test_qat.py)
        qmax = 2 ** (self.weight_bits - 1) - 1
        flat = w.detach().flatten(1)
        scale, zero_point = qparams(flat.amin(1), flat.amax(1), -qmax, qmax, symmetric=True)
        return fake_quantize(w, scale, zero_point, -qmax, qmax, axis=0)
        ### END SOLUTION

    def act(self, name: str, x: torch.Tensor) -> torch.Tensor:
        """Activation point ``name``: in training, first move its range an
        exponential moving average step (``momentum``) towards this batch's
        min and max; then return ``x`` fake-quantized on the unsigned
        ``act_bits`` grid over the range (in training and in evaluation)."""
        ### BEGIN SOLUTION: QAT: tracked activation ranges (test: tests/test_qat.py)
        lo, hi = self.ranges[name]
        if self.training:
            m = self.momentum
            lo = (1 - m) * lo + m * float(x.detach().min())
            hi = (1 - m) * hi + m * float(x.detach().max())
            self.ranges[name] = (lo, hi)
        qmax = 2 ** self.act_bits - 1
        scale, zero_point = qparams(torch.tensor([lo]), torch.tensor([hi]), 0, qmax)
        return fake_quantize(x, scale, zero_point, 0, qmax)
        ### END SOLUTION


@torch.no_grad()
def simulated_accuracy(net: FoldedNet, qat: QAT, x: torch.Tensor, y: torch.Tensor,
                       device: torch.device) -> float:
    training, qat.training = qat.training, False
    net.eval()
    hits = sum(int((net(b.to(device), weight=qat.weight, act=qat.act).argmax(1).cpu()
                    == t).sum()) for b, t in zip(x.split(512), y.split(512), strict=True))
    qat.training = training
    return hits / len(y)


def train_qat(net: FoldedNet, qat: QAT, train: tuple[torch.Tensor, torch.Tensor],
              val: tuple[torch.Tensor, torch.Tensor], *, epochs: int, lr: float,
              batch_size: int, seed: int, device: torch.device) -> list[dict]:
    """Fine-tune ``net`` through ``qat``'s fake quantization, one line per
    epoch (train loss, validation accuracy of the simulated int8 model; ``*``
    marks a new best); keep the best epoch's weights and ranges (or the
    starting point, if no epoch beats it)."""
    net.to(device)
    optimiser = adam(net.parameters(), lr)
    loader = DataLoader(TensorDataset(*train), batch_size=batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))
    best = (simulated_accuracy(net, qat, *val, device),
            (copy.deepcopy(net.state_dict()), dict(qat.ranges)))
    log = EpochLog("qat", epochs=epochs)
    for epoch in range(1, epochs + 1):
        total, count = 0.0, 0
        net.train()
        qat.training = True
        for xb, yb in loader:
            xb, yb = xb.to(device), yb.to(device)
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(net(xb, weight=qat.weight, act=qat.act), yb)
            loss.backward()
            optimiser.step()
            total, count = total + float(loss.detach()) * len(yb), count + len(yb)
        val_acc = simulated_accuracy(net, qat, *val, device)
        better = val_acc >= best[0]
        log.epoch(epoch, train_loss=total / count, val_acc=val_acc, note=" *" if better else "")
        if better:
            best = (val_acc, (copy.deepcopy(net.state_dict()), dict(qat.ranges)))
    net.load_state_dict(best[1][0])
    qat.ranges = best[1][1]
    qat.training = False
    return log.history


def main() -> None:
    params = load_params()
    q, cfg = params["quantize"], params["qat"]
    set_threads(params)
    seed_all(params["seed"])
    pick_engine(q["engine"])
    fp32 = load_fp32()
    folded, sizes = fold(fp32), fp32.sizes
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        load_xy(p) for p in ("train", "val", "test"))
    fp32_test, fp32_size = accuracy(folded, x_test, y_test), serialized_bytes(folded)
    metrics: dict = {"fp32": {"accuracy": fp32_test, "size_bytes": fp32_size}}
    history: list[dict] = []
    todo: list[str] = []
    with learner_code(todo):
        batches = calibration_batches(x_train, q["calibration_batches"], q["batch_size"])
        qat = QAT(q["weight_bits"], q["activation_bits"],
                  calibrate(folded, batches, q["observer"], q["percentile"]), cfg["momentum"])
        history = train_qat(folded, qat, (x_train, y_train), (x_val, y_val),
                            epochs=cfg["epochs"], lr=cfg["lr"], batch_size=cfg["batch_size"],
                            seed=params["seed"], device=pick_device())
        folded = folded.cpu().eval()
        spec = make_spec(folded, qat.ranges, sizes, q["weight_bits"], q["activation_bits"])
        int8 = build_int8(spec)
        test = accuracy(int8, x_test, y_test)
        size = serialized_bytes(int8)
        metrics["int8"] = {
            "accuracy": test, "accuracy_drop": drop(fp32_test, test),
            "val_accuracy": accuracy(int8, x_val, y_val),
            "simulated_val_accuracy": round(simulated_accuracy(folded, qat, x_val, y_val,
                                                               torch.device("cpu")), 5),
            "size_bytes": size, "size_ratio": round(size / fp32_size, 4),
            "weight_levels": weight_levels(spec)}
        torch.save(spec, "models/int8.pt")
        print(f"QAT int8: test accuracy {test:.4f} ({drop(fp32_test, test):+.2f} points lost), "
              f"{size / fp32_size:.2f}x the fp32 size")
    if todo:
        torch.save(placeholder(todo), "models/int8.pt")
        metrics["not_implemented"] = todo
    write_json("metrics/qat.json", metrics)
    write_csv("metrics/qat_log.csv", history or [{"epoch": 0, "train_loss": None,
                                                  "val_acc": None, "seconds": None}])
    if history:
        plot_curves(history, "plots/qat_curves.png", title="QAT (simulated int8 validation)")
    else:
        placeholder_png("plots/qat_curves.png", todo)


if __name__ == "__main__":
    main()
