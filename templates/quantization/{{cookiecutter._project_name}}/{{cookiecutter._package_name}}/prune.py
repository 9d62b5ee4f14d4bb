"""Stage `prune`: structured pruning that makes the network smaller and faster.

Zeroing individual weights (unstructured pruning, torch.nn.utils.prune) keeps
every matrix its full size: the file is as big and a dense kernel multiplies
the zeros just the same. The stage shows it with the library's magnitude
pruning as a baseline. *Structured* pruning removes whole channels and
neurons, so the layers themselves shrink: fewer bytes, fewer
multiply-adds, less time.

You write which units to keep and the surgery that builds the narrower
EdgeNet; the stage fine-tunes each pruned network for a few epochs (the
accuracy that pruning costs mostly comes back), at every fraction in
`prune.amounts` for a sparsity-accuracy curve, and keeps the one at
`prune.amount` as models/pruned.pt. Choose the amount on the validation
accuracy; the test accuracy is reported.
"""

# ruff: noqa: E501  (a TODO line names its function, file and test: it runs long)
from __future__ import annotations

import copy

import torch
from torch.nn.utils import prune as torch_prune

from .common import (
    init_distributed,
    learner_code,
    load_params,
    set_threads,
    tensors,
    train_classifier,
    write_csv,
    write_json,
)
from .engine import placeholder, serialized_bytes
from .evaluation import accuracy, drop, load_xy, seed_all
from .model import EdgeNet, fold, load_fp32
from .plots import line_plot, placeholder_png
from .timing import ratio, time_interleaved


def keep_top(scores: torch.Tensor, amount: float) -> torch.Tensor:
    """Indices of the units to keep when a fraction ``amount`` of them goes:
    the ``n - round(amount * n)`` units with the highest ``scores`` (at least
    one), in increasing index order (so the kept units stay in their order).
    """
    ### BEGIN SOLUTION: which units to keep (test: tests/test_prune.py)
    n = scores.numel()
    k = max(1, n - round(amount * n))
    return torch.sort(torch.topk(scores, k).indices).values
    ### END SOLUTION


def prune_structured(model: EdgeNet, amount: float) -> EdgeNet:
    """A narrower copy of ``model``: remove the fraction ``amount`` of the
    pointwise conv's output channels (``pw`` with its BatchNorm ``bn3``) and
    of fc1's neurons, the least important ones, and slice every weight that
    reads or writes them, so the layers really shrink.

    Keep conv1 and the depthwise conv (with bn1 and bn2) as they are. Mind what fc1 reads: the
    flattened (expand, 4, 4) max-pool output, 16 features per pw channel.
    How to score a unit's importance is your choice (say why in a comment):
    after a BatchNorm, the conv's own weight norm says little, since BN
    rescales its output anyway.
    """
    ### BEGIN SOLUTION: structured pruning: remove channels and neurons (test: tests/test_prune.py)
    model = copy.deepcopy(model).cpu().eval()
    # A pw channel matters as much as BN lets it through: |gamma| (network slimming).
    channels = keep_top(model.bn3.weight.detach().abs(), amount)
    # A neuron of fc1 matters by the weights into it and out of it.
    neurons = keep_top(model.fc1.weight.detach().abs().sum(1)
                       * model.fc2.weight.detach().abs().sum(0), amount)
    sizes = model.sizes
    small = EdgeNet(channels=sizes["channels"], expand=len(channels), hidden=len(neurons),
                    classes=model.fc2.out_features)
    features = (channels[:, None] * 16 + torch.arange(16)).flatten()
    state = model.state_dict()
    new = {key: value.clone() for key, value in state.items()
           if key.split(".")[0] in ("conv1", "bn1", "dw", "bn2")}
    new["pw.weight"] = state["pw.weight"][channels].clone()
    for key in ("weight", "bias", "running_mean", "running_var"):
        new[f"bn3.{key}"] = state[f"bn3.{key}"][channels].clone()
    new["bn3.num_batches_tracked"] = state["bn3.num_batches_tracked"].clone()
    new["fc1.weight"] = state["fc1.weight"][neurons][:, features].clone()
    new["fc1.bias"] = state["fc1.bias"][neurons].clone()
    new["fc2.weight"] = state["fc2.weight"][:, neurons].clone()
    new["fc2.bias"] = state["fc2.bias"].clone()
    small.load_state_dict(new)
    return small.eval()
    ### END SOLUTION


def parameter_count(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def zero_smallest(model: EdgeNet, amount: float) -> EdgeNet:
    """The library's unstructured magnitude pruning, made permanent: the
    baseline that zeroes weights and saves nothing."""
    model = copy.deepcopy(model)
    for module in (model.conv1, model.dw, model.pw, model.fc1, model.fc2):
        torch_prune.l1_unstructured(module, name="weight", amount=amount)
        torch_prune.remove(module, "weight")
    return model.eval()


def main() -> None:
    params = load_params()
    cfg = params["prune"]
    set_threads(params)
    seed_all(params["seed"])
    fp32 = load_fp32()
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = (
        load_xy(p) for p in ("train", "val", "test"))
    fp32_test, fp32_size = accuracy(fp32, x_test, y_test), serialized_bytes(fp32)
    # Latency of the models as deployed: BatchNorm folded into the convolutions.
    one, fp32_folded = x_test[:1], fold(fp32)

    zeroed = zero_smallest(fp32, cfg["amount"])
    zeroed_folded = fold(zeroed)
    with torch.inference_mode():
        times = time_interleaved({"fp32": lambda: fp32_folded(one),
                                  "zeroed": lambda: zeroed_folded(one)},
                                 repeats=cfg["repeats"], warmup=5,
                                     budget_s=5)
    metrics: dict = {
        "fp32": {"accuracy": fp32_test, "parameters": parameter_count(fp32),
                 "size_bytes": fp32_size},
        "unstructured": {"amount": cfg["amount"], "accuracy": accuracy(zeroed, x_test, y_test),
                         "size_ratio": round(serialized_bytes(zeroed) / fp32_size, 4),
                         "latency_ratio_b1": round(ratio(times, "zeroed", "fp32"), 4)}}
    curve: list[dict] = []
    todo: list[str] = []
    with learner_code(todo):
        kept = {}
        for amount in sorted({*cfg["amounts"], cfg["amount"]}):
            pruned = prune_structured(fp32, amount)
            before = accuracy(pruned, x_val, y_val)
            tuned, _ = train_classifier(
                pruned, tensors(x_train.numpy(), y_train.numpy()),
                tensors(x_val.numpy(), y_val.numpy()), epochs=cfg["finetune_epochs"],
                lr=cfg["lr"], batch_size=cfg["batch_size"], seed=params["seed"],
                dist=init_distributed(), name=f"prune{amount:.2f}")
            tuned = tuned.cpu().eval()
            kept[amount] = tuned
            curve.append({"amount": amount,
                          "sparsity": round(1 - parameter_count(tuned) / parameter_count(fp32), 4),
                          "val_before_finetune": before,
                          "val_after_finetune": accuracy(tuned, x_val, y_val),
                          "test": accuracy(tuned, x_test, y_test)})
        fns = {"fp32": lambda: fp32_folded(one)}
        folded = {f"{a}": fold(m) for a, m in kept.items()}
        fns.update({name: (lambda m=m: m(one)) for name, m in folded.items()})
        with torch.inference_mode():
            times = time_interleaved(fns, repeats=cfg["repeats"], warmup=5,
                                     budget_s=5)
        for row in curve:
            row["latency_ratio_b1"] = round(ratio(times, f"{row['amount']}", "fp32"), 4)
        chosen = kept[cfg["amount"]]
        row = next(r for r in curve if r["amount"] == cfg["amount"])
        metrics["pruned"] = {
            "amount": cfg["amount"], "accuracy": row["test"],
            "accuracy_drop": drop(fp32_test, row["test"]), "sizes": chosen.sizes,
            "parameters": parameter_count(chosen),
            "param_ratio": round(parameter_count(chosen) / parameter_count(fp32), 4),
            "size_ratio": round(serialized_bytes(chosen) / fp32_size, 4),
            "latency_ratio_b1": row["latency_ratio_b1"]}
        torch.save(chosen.state_dict(), "models/pruned.pt")
        print(f"pruned {cfg['amount']:.0%} of channels and neurons: test accuracy "
              f"{row['test']:.4f} ({drop(fp32_test, row['test']):+.2f} points), "
              f"{metrics['pruned']['param_ratio']:.2f}x the parameters, "
              f"{row['latency_ratio_b1']:.2f}x the batch-1 latency")
    if todo:
        torch.save(placeholder(todo), "models/pruned.pt")
        metrics["not_implemented"] = todo
    u = metrics["unstructured"]
    print(f"zeroing {cfg['amount']:.0%} of the weights instead: {u['size_ratio']:.2f}x the size, "
          f"{u['latency_ratio_b1']:.2f}x the latency")
    metrics["curve_points"] = len(curve)
    write_json("metrics/prune.json", metrics)
    write_csv("metrics/sparsity.csv", curve or [{"amount": 0.0, "sparsity": 0.0,
                                                 "val_before_finetune": None,
                                                 "val_after_finetune": None, "test": None,
                                                 "latency_ratio_b1": None}])
    if curve:
        line_plot(curve, "sparsity", ["val_before_finetune", "val_after_finetune"],
                  "plots/sparsity.png", title="Structured pruning: accuracy against sparsity",
                  xlabel="fraction of parameters removed", ylabel="validation accuracy")
    else:
        placeholder_png("plots/sparsity.png", todo)


if __name__ == "__main__":
    main()
