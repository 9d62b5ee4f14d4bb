"""What every stage agrees on: the seeds a model is trained with, where a
seed's model is saved, and which stages may run under torchrun.

Every answerer is trained ``seeds`` times (seed, seed+1, ...): one run says
little when a reseed moves accuracy by a few points, so the margins the
milestones judge are means over the seeds.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any


def seeds(params: dict[str, Any]) -> list[int]:
    """The seeds of every training run: ``seed``, ``seed + 1``, ... (``seeds`` of them)."""
    count = int(params.get("seeds", 3))
    if count < 1:
        raise SystemExit(f"params.yaml: seeds = {count}; train at least one (3 to compare)")
    return [int(params["seed"]) + k for k in range(count)]


def one_process(stage: str) -> None:
    """Stop with a clear message when torchrun started several processes for a
    stage that runs on one (they would all write the same files)."""
    if int(os.environ.get("WORLD_SIZE", "1")) > 1:
        raise SystemExit(f"stage {stage} runs on one process; torchrun is for the baselines "
                         "and train stages (python -m ...train runs on one process too)")


def model_path(folder: str | Path, name: str, k: int) -> Path:
    """Where the k-th seed's model called ``name`` is saved."""
    return Path(folder) / f"{name}_seed{k}.pt"
