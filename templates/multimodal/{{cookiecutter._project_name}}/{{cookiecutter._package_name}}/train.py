"""Stage `train`: the late-fusion model, which reads the image and the question.

Runs on one process, or on several under torchrun (DistributedDataParallel):
``torchrun --nproc_per_node=2 -m {{ cookiecutter._package_name }}.train``.
"""

from __future__ import annotations

from .common import train_stage
from .models import ANSWERERS


def main() -> None:
    model, inputs = ANSWERERS["fused"]
    train_stage(model, "models/fused.pt", inputs=inputs, data="data/generated")


if __name__ == "__main__":
    main()
