"""Shared plumbing for every stage: params, seeding, devices, distributed
training, a standard training loop, and writing metrics.

Every stage runs on one process (``python -m {{ cookiecutter._package_name }}.train``)
or several (``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.train``):
the same code uses DistributedDataParallel when torchrun started it, with the
gloo backend on CPU and NCCL on GPUs.
"""

from __future__ import annotations

import csv
import json
import os
import random
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.distributed as torch_dist
import yaml
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from torch.utils.data.distributed import DistributedSampler


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def set_seed(seed: int) -> None:
    """Make a run repeatable: same seed, same numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")


def set_threads(params: dict[str, Any]) -> None:
    """Use ``params["threads"]`` CPU threads per process, when params sets it.

    Small models train fastest on one thread: more threads mostly add
    synchronisation, and on a busy machine they wait for each other. Use
    torchrun for parallelism instead (one thread per process).
    """
    if params.get("threads"):
        torch.set_num_threads(int(params["threads"]))


def pick_device(local_rank: int = 0) -> torch.device:
    """CUDA when there is a GPU, otherwise the CPU."""
    if torch.cuda.is_available():
        return torch.device("cuda", local_rank % torch.cuda.device_count())
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


def init_distributed() -> Dist:
    """Join the process group when launched by torchrun; a no-op otherwise."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    device = pick_device(local_rank)
    if world_size > 1 and not torch_dist.is_initialized():
        backend = "nccl" if device.type == "cuda" else "gloo"
        if device.type == "cuda":
            torch.cuda.set_device(device)
        torch_dist.init_process_group(backend=backend)
    return Dist(rank=rank, world_size=world_size, local_rank=local_rank, device=device)


def shutdown_distributed(dist: Dist) -> None:
    if dist.enabled and torch_dist.is_initialized():
        torch_dist.barrier()
        torch_dist.destroy_process_group()


def unwrap(model: nn.Module) -> nn.Module:
    return model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model


@contextmanager
def learner_code(todo: list[str]) -> Iterator[None]:
    """Run a block that uses functions you write.

    While one of them is still a stub, its ``NotImplementedError`` (whose
    message names the function, its file and its test) is noted in ``todo``
    and the rest of the block is skipped: the stage still succeeds, and
    writes ``"not_implemented": todo`` into its metrics, where ``dlpath
    check`` and ``dlpath next`` read what to write next.
    """
    try:
        yield
    except NotImplementedError as exc:
        message = str(exc) or "a function you write"
        todo.append(message)
        print(f"not implemented yet: {message}", file=sys.stderr)


def write_json(path: str | Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def write_csv(path: str | Path, rows: list[dict[str, Any]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def save_split(path: str | Path, x: np.ndarray, y: np.ndarray, **extra: np.ndarray) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=x, y=y, **extra)


def load_split(path: str | Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {key: data[key] for key in data.files}


def tensors(*arrays: np.ndarray) -> TensorDataset:
    """A dataset of float inputs and integer labels (the last array)."""
    *inputs, labels = arrays
    return TensorDataset(
        *(torch.as_tensor(a, dtype=torch.float32) for a in inputs),
        torch.as_tensor(labels, dtype=torch.long),
    )


def _loader(dataset: TensorDataset, batch_size: int, shuffle: bool, seed: int, dist: Dist):
    if dist.enabled:
        sampler = DistributedSampler(dataset, shuffle=shuffle, seed=seed)
        return DataLoader(dataset, batch_size=batch_size, sampler=sampler), sampler
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, generator=generator), None


@torch.no_grad()
def predict(model: nn.Module, dataset: TensorDataset, device: torch.device, batch_size: int = 512):
    """Logits for every example, in order, on the CPU."""
    model.eval()
    outputs = []
    for batch in DataLoader(dataset, batch_size=batch_size):
        *inputs, _ = (t.to(device) for t in batch)
        outputs.append(model(*inputs).cpu())
    return torch.cat(outputs)


def accuracy(model: nn.Module, dataset: TensorDataset, device: torch.device) -> float:
    logits = predict(model, dataset, device)
    labels = dataset.tensors[-1]
    return float((logits.argmax(dim=1) == labels).float().mean())


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
) -> tuple[nn.Module, list[dict[str, float]]]:
    """Train with Adam and cross-entropy; return the model and per-epoch history.

    Under torchrun each process sees its shard of the training set and DDP
    averages the gradients; the validation metrics are computed on the main
    process over the whole validation set.
    """
    model = model.to(dist.device)
    if dist.enabled:
        ids = [dist.device.index] if dist.device.type == "cuda" else None
        model = nn.parallel.DistributedDataParallel(model, device_ids=ids)
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimiser = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    loader, sampler = _loader(train_set, batch_size, shuffle=True, seed=seed, dist=dist)
    history = []
    for epoch in range(1, epochs + 1):
        if sampler is not None:
            sampler.set_epoch(epoch)
        model.train()
        total, count = 0.0, 0
        for batch in loader:
            *inputs, labels = (t.to(dist.device) for t in batch)
            optimiser.zero_grad()
            loss = loss_fn(model(*inputs), labels)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(labels)
            count += len(labels)
        core = unwrap(model)
        val_logits = predict(core, val_set, dist.device)
        val_labels = val_set.tensors[-1]
        history.append(
            {
                "epoch": epoch,
                "train_loss": round(total / max(count, 1), 6),
                "val_loss": round(float(nn.functional.cross_entropy(val_logits, val_labels)), 6),
                "val_acc": round(float((val_logits.argmax(1) == val_labels).float().mean()), 6),
            }
        )
    return unwrap(model), history


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
    ``data``/train.npz and val.npz, save the model, the metrics
    (metrics/<name>.json) and the training curve (metrics/<name>_log.csv).

    ``make_model`` builds the network from the `train` params; ``inputs`` names
    the arrays of the splits the model takes, in order (the labels are ``y``).
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
    )
    if dist.is_main:
        save_torch(model.cpu().state_dict(), model_path)
        write_csv(f"metrics/{name}_log.csv", history)
        write_json(f"metrics/{name}.json", {"val_acc": history[-1]["val_acc"],
                                            "device": str(dist.device),
                                            "processes": dist.world_size})
        print(f"{name}: val accuracy {history[-1]['val_acc']:.3f} on {dist.device}")
    shutdown_distributed(dist)
