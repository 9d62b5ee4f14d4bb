"""Stage `train`: the fp32 baseline EdgeNet.

Runs on one process, or on several under torchrun (DistributedDataParallel),
on a GPU when there is one. The model is saved on the CPU: quantized models
run there.
"""

from __future__ import annotations

from .common import train_stage
from .model import EdgeNet


def main() -> None:
    train_stage(lambda cfg: EdgeNet(cfg["channels"], cfg["expand"], cfg["hidden"]),
                "models/fp32.pt")


if __name__ == "__main__":
    main()
