"""The training loop every template shares (``train_classifier``, and
``train_stage``, the `train` stage built on it), and the small data helpers
around it (``tensors``, ``predict``, ``accuracy``).

What training writes, for a run called ``name`` (``train_stage`` does all of it):

* one line per epoch, DVCLive's files and ``plots/<name>_curves.png``
  (``progress.EpochLog``);
* ``checkpoints/<name>/last.pt`` after every epoch (git-ignored), so that an
  interrupted run carries on where it stopped; removed when training ends.

Seeds, devices and torchrun live in ``devices.py``; params, metrics and data
splits in ``stage.py``. ``common`` re-exports both and ``progress``, so a stage
imports all it needs from here.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as torch_dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

# Re-exported: every stage imports what it needs from common.
from .devices import (  # noqa: F401
    DEVICE_ENV,
    Dist,
    deterministic,
    init_distributed,
    pick_device,
    set_seed,
    set_threads,
    shutdown_distributed,
    unwrap,
)
from .progress import EpochLog, plot_curves  # noqa: F401
from .stage import (  # noqa: F401
    learner_code,
    load_params,
    load_split,
    save_split,
    write_csv,
    write_json,
)


def tensors(*arrays: np.ndarray) -> TensorDataset:
    """A dataset of float inputs and integer labels (the last array)."""
    *inputs, labels = arrays
    return TensorDataset(
        *(torch.as_tensor(a, dtype=torch.float32) for a in inputs),
        torch.as_tensor(labels, dtype=torch.long),
    )


def model_device(model: nn.Module) -> torch.device:
    """Where the model's parameters are (the CPU for a model without any)."""
    for tensor in model.parameters():
        return tensor.device
    return torch.device("cpu")


@torch.no_grad()
def predict(model: nn.Module, dataset: TensorDataset, device: torch.device | None = None,
            batch_size: int = 512) -> torch.Tensor:
    """Logits for every example, in order, on the CPU.

    The model runs on ``device`` (it is moved there) or, without one, where it
    already is; the inputs follow it. It is left in eval mode.
    """
    if device is None:
        device = model_device(model)
    else:
        model.to(device)
    model.eval()
    outputs = []
    for batch in DataLoader(dataset, batch_size=batch_size):
        *inputs, _ = (t.to(device) for t in batch)
        outputs.append(model(*inputs).float().cpu())
    return torch.cat(outputs)


def accuracy(model: nn.Module, dataset: TensorDataset, device: torch.device | None = None) -> float:
    logits = predict(model, dataset, device)
    labels = dataset.tensors[-1]
    return float((logits.argmax(dim=1) == labels).float().mean())


# ------------------------------------------------------------------ training


def best_epoch(history: list[dict[str, float]]) -> dict[str, float]:
    """The epoch whose weights training keeps: the highest validation accuracy,
    ties broken by the lower validation loss, then the earlier epoch."""
    return max(history, key=lambda row: (row["val_acc"], -row["val_loss"], -row["epoch"]))


def _epoch_seeds(seed: int, epoch: int, rank: int) -> tuple[int, int]:
    """Two seeds for one epoch of one process: the global generator's
    (dropout, augmentation) and the shuffling's. Reseeding every epoch makes
    a resumed run draw exactly what an uninterrupted one would."""
    first, second = np.random.SeedSequence([seed, epoch, rank]).generate_state(2)
    return int(first), int(second)


def _fingerprint(model: nn.Module, datasets: tuple[TensorDataset, ...],
                 settings: dict[str, Any], loss_fn: Any) -> str:
    """What a checkpoint must match to be resumed: the settings, the model's
    code, architecture and initial weights, the loss, and the data."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True, default=str).encode())
    digest.update(repr(model).encode())
    loss_code = type(loss_fn) if isinstance(loss_fn, nn.Module) else loss_fn
    for code in (type(model), loss_code):
        try:
            digest.update(inspect.getsource(code).encode())
        except (OSError, TypeError):
            digest.update(getattr(code, "__qualname__", type(code).__name__).encode())
    if isinstance(loss_fn, nn.Module):  # e.g. CrossEntropyLoss(label_smoothing=0.1)
        options = {k: v for k, v in vars(loss_fn).items()
                   if not k.startswith("_") and isinstance(v, (int, float, str, bool, type(None)))}
        digest.update(json.dumps(options, sort_keys=True).encode())
    tensors_ = [*model.state_dict().values(), *(t for d in datasets for t in d.tensors)]
    for tensor in tensors_:
        flat = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(str((tuple(tensor.shape), tensor.dtype)).encode())
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


class Checkpoint:
    """``checkpoints/<name>/last.pt``: everything needed to carry on after an
    interruption. Resumed only when its fingerprint matches this run's."""

    def __init__(self, name: str, fingerprint: str):
        self.path = Path("checkpoints") / name / "last.pt"
        self.fingerprint = fingerprint

    def load(self, device: torch.device, verbose: bool = True) -> dict[str, Any] | None:
        if not self.path.is_file():
            return None
        why = None
        try:
            state = torch.load(self.path, map_location=device, weights_only=True)
        except Exception as exc:  # cut short, or written by another PyTorch
            state, why = None, f"unreadable ({type(exc).__name__})"
        if state is not None and state.get("fingerprint") != self.fingerprint:
            state, why = None, "it comes from another run (other params, data or model code)"
        if why and verbose:
            print(f"ignoring {self.path}: {why}; starting over", flush=True)
        return state

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_suffix(".partial")
        torch.save({"fingerprint": self.fingerprint, **state}, partial)
        os.replace(partial, self.path)  # never a half-written last.pt

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        for folder in (self.path.parent, self.path.parent.parent):
            try:
                folder.rmdir()
            except OSError:
                break


def _cpu_copy(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def autocast(amp: bool, device: torch.device):
    """bf16 autocast on CUDA GPUs that support it when ``amp``; a no-op
    elsewhere (for your own training loop: ``with autocast(amp, device): ...``
    around the forward pass and the loss)."""
    if amp and device.type == "cuda" and torch.cuda.is_bf16_supported():
        return torch.autocast("cuda", dtype=torch.bfloat16)
    return nullcontext()


def adam(parameters: Iterable[torch.Tensor], lr: float,
         weight_decay: float = 0.0) -> torch.optim.Adam:
    """The optimiser of every training in this project: Adam, updating all
    the parameters in one call per operation (``foreach``) instead of a
    Python loop over them, which PyTorch only does by default on CUDA. The
    same arithmetic, bit for bit, and about 10% less time per CPU step of a
    small CNN."""
    return torch.optim.Adam(parameters, lr=lr, weight_decay=weight_decay, foreach=True)


def train_classifier(
    model: nn.Module,
    train_set: TensorDataset,
    val_set: TensorDataset,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    seed: int,
    dist: Dist,
    weight_decay: float = 0.0,
    loss_fn: Callable[..., torch.Tensor] | None = None,
    name: str = "train",
    amp: bool = False,
    record: bool = False,
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train with Adam; return the model with its best validation weights, on
    the CPU in eval mode, and the per-epoch history.

    Prints one line per epoch (train loss, validation loss and accuracy,
    seconds; ``*`` marks a new best). ``val_loss`` is the plain cross-entropy
    whatever ``loss_fn`` trains with. ``amp=True`` trains in bf16 autocast on
    a CUDA GPU (ignored elsewhere). ``record=True`` also writes
    ``dvclive/<name>/`` and ``plots/<name>_curves.png``, and keeps
    ``checkpoints/<name>/last.pt`` so that a run interrupted after epoch k
    resumes at epoch k+1 and ends with what an uninterrupted run gives.

    Under torchrun (``dist.enabled``) ``batch_size`` is per process (the
    effective batch is ``batch_size * world_size``), each process trains on
    its shard, DDP averages the gradients, the reported train loss is
    averaged over all processes, and every process validates on the whole
    validation set (so all keep the same best epoch); only the main process
    prints and writes files.
    """
    device = dist.device
    core = model.to(device)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimiser = adam(core.parameters(), lr, weight_decay)
    settings = {"name": name, "epochs": epochs, "lr": lr, "batch_size": batch_size, "seed": seed,
                "weight_decay": weight_decay, "amp": amp, "world_size": dist.world_size}
    checkpoint = (Checkpoint(name, _fingerprint(core, (train_set, val_set), settings, loss_fn))
                  if record else None)
    log = EpochLog(name, epochs=epochs, record=record, enabled=dist.is_main,
                   show=("train_loss", "val_loss", "val_acc"))
    best_state, start = _cpu_copy(core), 1
    state = checkpoint.load(device, verbose=dist.is_main) if checkpoint else None
    if state is not None:
        core.load_state_dict(state["model"])
        optimiser.load_state_dict(state["optimiser"])
        best_state = {k: v.cpu() for k, v in state["best"].items()}
        log.replay(state["history"])
        start = int(state["epoch"]) + 1
        if dist.is_main:
            print(f"{name}: resuming after epoch {state['epoch']}/{epochs} from "
                  f"{checkpoint.path} (delete it to start over)", flush=True)
    if amp and device.type == "cuda" and not torch.cuda.is_bf16_supported() and dist.is_main:
        print(f"{name}: this GPU has no bf16 support: training in fp32", flush=True)
    net = core
    if dist.enabled:
        ids = [device.index] if device.type == "cuda" else None
        net = nn.parallel.DistributedDataParallel(core, device_ids=ids)
    if dist.enabled:
        sampler = DistributedSampler(train_set, shuffle=True, seed=seed)
        generator = None
        loader = DataLoader(train_set, batch_size=batch_size, sampler=sampler)
    else:
        sampler, generator = None, torch.Generator()
        loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, generator=generator)
    val_labels = val_set.tensors[-1]
    log.start()
    with deterministic():
        for epoch in range(start, epochs + 1):
            global_seed, shuffle_seed = _epoch_seeds(seed, epoch, dist.rank)
            torch.manual_seed(global_seed)
            if generator is not None:
                generator.manual_seed(shuffle_seed)
            if sampler is not None:
                sampler.set_epoch(epoch)
            net.train()
            # Summed on the device and read once per epoch: reading a GPU
            # number every batch would wait for the GPU every batch.
            loss_sum = torch.zeros((), device=device)
            correct = torch.zeros((), device=device)
            count = 0
            for batch in loader:
                *inputs, labels = (t.to(device, non_blocking=True) for t in batch)
                optimiser.zero_grad(set_to_none=True)
                with autocast(amp, device):
                    outputs = net(*inputs)
                    loss = loss_fn(outputs, labels)
                loss.backward()
                optimiser.step()
                loss_sum += loss.detach().float() * len(labels)
                correct += (outputs.detach().argmax(1) == labels).sum()
                count += len(labels)
            sums = torch.stack([loss_sum, correct.float(),
                                torch.tensor(float(count), device=device)])
            if dist.enabled:
                torch_dist.all_reduce(sums)
            loss_sum, correct, count = sums.tolist()
            val_logits = predict(core, val_set, device)
            row = {"train_loss": loss_sum / max(count, 1), "train_acc": correct / max(count, 1),
                   "val_loss": float(nn.functional.cross_entropy(val_logits, val_labels)),
                   "val_acc": float((val_logits.argmax(1) == val_labels).float().mean())}
            rounded = {k: round(v, 6) for k, v in row.items()}
            improved = best_epoch([*log.history, {"epoch": epoch, **rounded}])["epoch"] == epoch
            if improved:
                best_state = _cpu_copy(core)
            log.epoch(epoch, note="  *" if improved else "", **row)
            if checkpoint is not None and dist.is_main:
                checkpoint.save({"epoch": epoch, "model": core.state_dict(),
                                 "optimiser": optimiser.state_dict(), "best": best_state,
                                 "history": log.history})
    core.load_state_dict(best_state)
    kept = best_epoch(log.history) if log.history else None
    log.close(mark=kept and kept["epoch"])
    if checkpoint is not None and dist.is_main:
        checkpoint.remove()
    if kept and dist.is_main:
        print(f"{name}: kept the weights of epoch {kept['epoch']} "
              f"(val_acc {kept['val_acc']:.4f}, val_loss {kept['val_loss']:.4f})", flush=True)
    return core.cpu().eval(), log.history


def save_torch(obj: Any, path: str | Path) -> None:
    """torch.save, creating the parent directory first."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)


def train_stage(
    make_model: Callable[[dict[str, Any]], nn.Module],
    model_path: str,
    *,
    inputs: tuple[str, ...] = ("x",),
    data: str = "data/prepared",
    name: str = "train",
) -> None:
    """The `train` stage every template shares: read params, train on
    ``data``/train.npz and val.npz, save the best-validation model, its
    metrics (metrics/<name>.json), the per-epoch record (dvclive/<name>/) and
    the curves (plots/<name>_curves.png).

    ``make_model`` builds the network from the `train` params; ``inputs`` names
    the arrays of the splits the model takes, in order (the labels are ``y``).
    ``train.amp: true`` in params.yaml trains in bf16 on a CUDA GPU.
    """
    params = load_params()
    cfg = params["train"]
    set_threads(params)
    set_seed(params["seed"])
    dist = init_distributed()
    train = load_split(f"{data}/train.npz")
    val = load_split(f"{data}/val.npz")
    model, history = train_classifier(
        make_model(cfg),
        tensors(*(train[k] for k in inputs), train["y"]),
        tensors(*(val[k] for k in inputs), val["y"]),
        epochs=cfg["epochs"], lr=cfg["lr"], batch_size=cfg["batch_size"],
        weight_decay=cfg.get("weight_decay", 0.0), seed=params["seed"], dist=dist,
        name=name, amp=bool(cfg.get("amp", False)), record=True,
    )
    if dist.is_main:
        kept = best_epoch(history)
        save_torch(model.state_dict(), model_path)
        write_json(f"metrics/{name}.json", {"val_acc": kept["val_acc"],
                                            "best_epoch": kept["epoch"],
                                            "device": str(dist.device),
                                            "processes": dist.world_size})
        print(f"{name}: val accuracy {kept['val_acc']:.3f} on {dist.device}; "
              f"saved {model_path}")
    shutdown_distributed(dist)
