"""Stage `train`: the fp32 baseline.

Runs on one process, or on several under torchrun (DistributedDataParallel).
"""

from __future__ import annotations

from .common import train_stage
from .model import DigitsMLP


def main() -> None:
    train_stage(lambda cfg: DigitsMLP(cfg["hidden"]), "models/fp32.pt")


if __name__ == "__main__":
    main()
