"""Stage `baselines`: two models that see only one modality each.

The image-only model never reads the question, the text-only model never
sees the image. How well they do tells you how much of the task one modality
answers on its own; the fused model (stage `train`) has to beat both.
"""

from __future__ import annotations

from .common import train_stage
from .models import ANSWERERS


def main() -> None:
    for name in ("image_only", "text_only"):
        model, inputs = ANSWERERS[name]
        train_stage(model, f"models/{name}.pt", inputs=inputs, data="data/generated",
                    name=name)


if __name__ == "__main__":
    main()
