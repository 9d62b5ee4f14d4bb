"""Where and how reproducibly a stage runs: seeds, deterministic kernels,
CPU threads, the device (CUDA, Apple's mps or the CPU) and, under torchrun,
the process group.

Every stage runs on one process (``python -m {{ cookiecutter._package_name }}.train``)
or several (``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.train``):
the same code uses DistributedDataParallel when torchrun started it, with the
gloo backend on CPU and NCCL on GPUs (one process per GPU).
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as torch_dist
from torch import nn

# cuBLAS needs this before its first call to have deterministic matrix
# products on CUDA (see `deterministic`); it only reserves a little workspace.
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

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
