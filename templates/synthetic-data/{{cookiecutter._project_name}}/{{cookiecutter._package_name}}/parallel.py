"""Run independent jobs (renders, trainings of different seeds) on several
processes, one CPU thread each: small models train fastest that way.

On a GPU, or with ``workers: 1``, the jobs run one after another in this
process. Results come back in the order of the jobs, whatever the number of
workers, so a run is the same on 1 or 8 cores.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

from threadpoolctl import threadpool_limits

T = TypeVar("T")
_LIMITS: list = []


def limit_threads(threads: int | None) -> None:
    """At most ``threads`` CPU threads for PyTorch and for the BLAS/OpenMP
    libraries under NumPy and scikit-learn (on small problems extra threads
    only wait for each other, and on a busy machine they thrash).

    Stages that never train (``generate``) do not import PyTorch at all (it
    costs a stage about 2 s): if it is not loaded yet, the limit waits in
    OMP_NUM_THREADS, which PyTorch reads when it loads."""
    if threads:
        torch = sys.modules.get("torch")
        if torch is not None:
            torch.set_num_threads(int(threads))
        os.environ["OMP_NUM_THREADS"] = str(int(threads))
        _LIMITS.append(threadpool_limits(int(threads)))


def _on_gpu() -> bool:
    """Whether this process trains on a CUDA GPU (never, if it has not even
    loaded PyTorch: its jobs are NumPy work)."""
    torch = sys.modules.get("torch")
    return torch is not None and torch.cuda.is_available()


def _one_thread() -> None:
    limit_threads(1)


def run_all(fn: Callable[..., T], jobs: Iterable[tuple[Any, ...]], workers: int, *,
            warm_up: Callable[[], object] | None = None) -> list[T]:
    """``[fn(*job) for job in jobs]``, on up to ``workers`` processes.
    ``warm_up`` runs once in this process before the workers fork, so that
    they inherit what it loads (see fit.warm_up)."""
    jobs = list(jobs)
    if workers <= 1 or len(jobs) <= 1 or _on_gpu():
        return [fn(*job) for job in jobs]
    # fork is quick and safe here on Linux (nothing has started threads yet);
    # elsewhere spawn is the only safe choice.
    fork = sys.platform == "linux"
    if fork and warm_up is not None:
        warm_up()
    context = multiprocessing.get_context("fork" if fork else "spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context,
                             initializer=_one_thread) as pool:
        futures = [pool.submit(fn, *job) for job in jobs]
        return [f.result() for f in futures]
