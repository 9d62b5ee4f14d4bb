"""Shared plumbing for every stage: params, seeding, devices, distributed
training, a standard training loop with per-epoch progress, curves and
resumable checkpoints, and writing metrics.

Every stage runs on one process (``python -m {{ cookiecutter._package_name }}.train``)
or several (``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.train``):
the same code uses DistributedDataParallel when torchrun started it, with the
gloo backend on CPU and NCCL on GPUs (one process per GPU).

What training writes, for a run called ``name`` (``train_stage`` does all of it):

* one line per epoch on stdout (``train epoch  3/20  train_loss 0.4123 ...``);
* ``dvclive/<name>/metrics.json`` (the last epoch) and
  ``dvclive/<name>/plots/metrics/*.tsv`` (one row per epoch), written with
  DVCLive, DVC's own logger, which ``dvc exp show``, ``dvc metrics`` and
  ``dvc plots`` read;
* ``plots/<name>_curves.png``: train and validation loss and accuracy;
* ``checkpoints/<name>/last.pt`` after every epoch (git-ignored), so that an
  interrupted run carries on where it stopped; removed when training ends.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import random
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as torch_dist
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler

# Re-exported: every stage reads its params and writes its metrics through common.
from .stage import (  # noqa: F401
    learner_code,
    load_params,
    load_split,
    save_split,
    write_csv,
    write_json,
)

# cuBLAS needs this before its first call to have deterministic matrix
# products on CUDA (see `deterministic`); it only reserves a little workspace.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
# DVCLive never talks to DVC Studio from a project stage unless you ask for it.
os.environ.setdefault("DVC_STUDIO_OFFLINE", "1")

DEVICE_ENV = "DLPATH_DEVICE"  # cpu, cuda or mps: overrides the automatic choice



def set_seed(seed: int) -> None:
    """Seed Python's, NumPy's and PyTorch's random generators (CPU and GPU).

    Same seed, same initial weights and the same random draws. Deterministic
    *kernels* are another matter: ``deterministic()`` turns them on, and
    ``train_classifier`` trains inside it.
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def deterministic(enabled: bool = True) -> Iterator[None]:
    """Run a block with PyTorch's deterministic algorithms, then restore the
    previous settings.

    Scoped on purpose: switched on for a whole process, it warns on every
    call of an operation without a deterministic version (int8 kernels among
    them) and skews latency measurements. Operations with no deterministic
    CUDA implementation still run, with a warning.
    """
    if not enabled:
        yield
        return
    before = (torch.are_deterministic_algorithms_enabled(),
              torch.is_deterministic_algorithms_warn_only_enabled(),
              torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark)
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = True, False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before[0], warn_only=before[1])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = before[2:]


def set_threads(params: dict[str, Any]) -> None:
    """Use ``params["threads"]`` CPU threads per process, when params sets it.

    Small models train fastest on one thread: more threads mostly add
    synchronisation, and on a busy machine they wait for each other. Use
    torchrun for parallelism instead (one thread per process).
    """
    if params.get("threads"):
        torch.set_num_threads(int(params["threads"]))


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def pick_device(local_rank: int = 0) -> torch.device:
    """An NVIDIA GPU when PyTorch sees one (``cuda:<local_rank>``), else Apple
    silicon's GPU (``mps``), else the CPU.

    ``DLPATH_DEVICE=cpu`` (or ``cuda``, ``mps``) in the environment overrides
    the choice: e.g. to compare a GPU run with a CPU one.
    """
    forced = os.environ.get(DEVICE_ENV, "").strip().lower()
    if forced and forced != "auto":
        kind = forced.split(":")[0]
        if kind not in ("cpu", "cuda", "mps"):
            raise SystemExit(f"{DEVICE_ENV}={forced!r}: use cpu, cuda, mps or auto.")
        if kind == "cuda" and not torch.cuda.is_available():
            raise SystemExit(f"{DEVICE_ENV}=cuda, but PyTorch sees no CUDA GPU "
                             "(is this PyTorch's CPU build?).")
        if kind == "mps" and not _mps_available():
            raise SystemExit(f"{DEVICE_ENV}=mps, but PyTorch's mps backend is not available.")
        return torch.device("cuda", local_rank) if kind == "cuda" else torch.device(kind)
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank)
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


@dataclass(frozen=True)
class Dist:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def _distributed_device(local_rank: int) -> torch.device:
    """One process per GPU under torchrun; CPU processes (gloo) without CUDA.

    Apple's mps backend has no distributed support: several processes there
    train on the CPU.
    """
    forced = os.environ.get(DEVICE_ENV, "").strip().lower()
    if forced == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    gpus = torch.cuda.device_count()
    here = int(os.environ.get("LOCAL_WORLD_SIZE", local_rank + 1))
    if here > gpus or local_rank >= gpus:
        raise SystemExit(
            f"torchrun started {here} processes on this machine, but PyTorch sees {gpus} "
            f"GPU(s): DDP needs one GPU per process. Use --nproc_per_node={gpus}, or train "
            f"{here} processes on the CPU with {DEVICE_ENV}=cpu.")
    return torch.device("cuda", local_rank)


def init_distributed() -> Dist:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if world_size == 1:
        return Dist(rank=rank, world_size=1, local_rank=local_rank, device=pick_device())
    device = _distributed_device(local_rank)
    if not torch_dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch_dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return Dist(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def shutdown_distributed(dist: Dist) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model



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


# --------------------------------------------------------------- epoch logging


class _LiveFiles:
    """The files DVCLive writes, written by hand: the same names and format.

    Used where DVCLive cannot be: when it is not installed (a GPU node with
    PyTorch but without DVC), or outside a DVC project, where DVCLive would
    run ``dvc init`` in the enclosing git repository.
    """

    def __init__(self, folder: Path):
        self.folder = folder
        self.summary: dict[str, Any] = {}
        (folder / "metrics.json").unlink(missing_ok=True)
        shutil.rmtree(folder / "plots" / "metrics", ignore_errors=True)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        series = self.folder / "plots" / "metrics"
        series.mkdir(parents=True, exist_ok=True)
        for key, value in metrics.items():
            path = series / f"{key}.tsv"
            new = not path.exists()
            with path.open("a", encoding="utf-8", newline="") as fh:
                if new:
                    fh.write(f"step\t{key}{os.linesep}")
                fh.write(f"{step}\t{value}{os.linesep}")
        self.summary.update(metrics)
        self.summary["step"] = step
        with (self.folder / "metrics.json").open("w", encoding="utf-8") as fh:
            json.dump(self.summary, fh, indent=4)
            fh.write("\n")

    def end(self) -> None:
        pass


class _DVCLive:
    def __init__(self, folder: Path):
        from dvclive import Live

        # dvcyaml=False: never rewrite dvc.yaml (the stage declares the files);
        # save_dvc_exp=False: a plain `python -m ...` is not a DVC experiment.
        self.live = Live(dir=folder.as_posix(), dvcyaml=False, save_dvc_exp=False)

    def log(self, step: int, metrics: dict[str, float]) -> None:
        self.live.step = step
        for key, value in metrics.items():
            self.live.log_metric(key, value)
        self.live.next_step()

    def end(self) -> None:
        self.live.end()


def _in_dvc_project() -> bool:
    here = Path.cwd().resolve()
    return any((folder / ".dvc").is_dir() for folder in (here, *here.parents))


def _writer(folder: Path) -> _LiveFiles | _DVCLive:
    if os.environ.get("DLPATH_DVCLIVE", "1") != "0" and _in_dvc_project():
        try:
            return _DVCLive(folder)
        except ImportError:
            pass
    return _LiveFiles(folder)


def _family(key: str) -> str:
    """``train_loss`` and ``val_loss`` share a panel: ``loss``."""
    for prefix in ("train_", "val_", "test_"):
        if key.startswith(prefix):
            return key[len(prefix):]
    return key


def plot_curves(history: list[dict[str, float]], path: str | Path, title: str = "",
                mark: int | None = None) -> Path:
    """A PNG with one panel per quantity (loss, acc, ...), train and
    validation curves together, against the epoch; ``mark`` draws a line at
    one epoch (the one whose weights were kept)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [k for k in history[0] if k not in ("epoch", "seconds")]
    families: dict[str, list[str]] = {}
    for key in keys:
        families.setdefault(_family(key), []).append(key)
    fig, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.2),
                             squeeze=False)
    epochs = [row["epoch"] for row in history]
    for ax, (family, members) in zip(axes[0], families.items(), strict=True):
        for key in members:
            ax.plot(epochs, [row[key] for row in history], marker="o", markersize=3,
                    label=key.split("_")[0] if key != family else key)
        if mark is not None:
            ax.axvline(mark, color="grey", linestyle="--", linewidth=1, label=f"kept ({mark})")
        ax.set_xlabel("epoch")
        ax.set_ylabel(family)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


class EpochLog:
    """Per-epoch progress of a training loop, for any loop.

    Each ``log.epoch(...)`` prints one line (``name epoch  3/20  train_loss
    0.4123  val_acc 0.9120  1.2s``). With ``record=True`` the same numbers go
    to ``dvclive/<name>/`` (DVCLive's files) and ``close()`` draws
    ``plots/<name>_curves.png``::

        with deterministic(), EpochLog("contrastive", epochs=cfg["epochs"], record=True) as log:
            for epoch in range(1, cfg["epochs"] + 1):
                loss = ...  # one epoch of training (``with autocast(amp, device):`` for bf16)
                log.epoch(epoch, train_loss=loss)

    ``show`` limits the keys printed (everything is recorded); ``enabled=False``
    (every process but the main one under torchrun) makes it silent.
    """

    def __init__(self, name: str = "train", *, epochs: int | None = None, record: bool = False,
                 show: tuple[str, ...] | None = None, enabled: bool = True):
        self.name, self.epochs, self.show = name, epochs, show
        self.enabled, self.record = enabled, record and enabled
        self.history: list[dict[str, float]] = []
        self._writer = _writer(Path("dvclive") / name) if self.record else None
        self._last = time.perf_counter()

    @property
    def png(self) -> Path:
        return Path("plots") / f"{self.name}_curves.png"

    def __enter__(self) -> EpochLog:
        return self.start()

    def start(self) -> EpochLog:
        """Start the clock of the first epoch (it runs from the log's creation)."""
        self._last = time.perf_counter()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        self.close(plot=exc_type is None)

    def epoch(self, epoch: int, *, seconds: float | None = None, note: str = "",
              **metrics: float) -> dict[str, float]:
        """Record one epoch; ``seconds`` defaults to the time since the last call."""
        now = time.perf_counter()
        seconds = now - self._last if seconds is None else seconds
        self._last = now
        values = {key: round(float(value), 6) for key, value in metrics.items()}
        row = {"epoch": epoch, **values, "seconds": round(seconds, 3)}
        self.history.append(row)
        if self.enabled:
            print(self.format(row) + note, flush=True)
        if self._writer is not None:
            self._writer.log(epoch, values)
        return row

    def replay(self, history: list[dict[str, float]]) -> None:
        """Record epochs of an earlier, interrupted run without printing them."""
        for row in history:
            self.history.append(dict(row))
            if self._writer is not None:
                self._writer.log(int(row["epoch"]),
                                 {k: v for k, v in row.items() if k not in ("epoch", "seconds")})

    def format(self, row: dict[str, float]) -> str:
        total = f"/{self.epochs}" if self.epochs else ""
        width = len(str(self.epochs or row["epoch"]))
        parts = [f"{self.name} epoch {row['epoch']:>{width}}{total}"]
        parts += [f"{key} {value:.4f}" for key, value in row.items()
                  if key not in ("epoch", "seconds") and (self.show is None or key in self.show)]
        parts.append(f"{row['seconds']:.1f}s")
        return "  ".join(parts)

    def close(self, plot: bool = True, mark: int | None = None) -> None:
        """Finish the record; draw the PNG unless ``plot`` is false (``mark``:
        an epoch to highlight)."""
        if self._writer is not None:
            self._writer.end()
            self._writer = None
            if plot and self.history:
                plot_curves(self.history, self.png, title=self.name, mark=mark)


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
    # foreach: each update step in one call over all the parameters, not a
    # Python loop over them (PyTorch's default on CUDA only); the same
    # arithmetic, bit for bit, and about 10% less time per CPU step here.
    optimiser = torch.optim.Adam(core.parameters(), lr=lr, weight_decay=weight_decay,
                                 foreach=True)
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
