"""Stage `train`: the CNN, trained on the curated synthetic data only.

Runs on one process, or on several under torchrun (DistributedDataParallel).
"""

from __future__ import annotations

from .cnn import DigitsCNN
from .common import train_stage


def main() -> None:
    train_stage(lambda cfg: DigitsCNN(cfg["channels"]), "models/cnn.pt")


if __name__ == "__main__":
    main()
