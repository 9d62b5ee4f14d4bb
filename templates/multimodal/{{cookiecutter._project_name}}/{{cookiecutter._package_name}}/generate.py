"""Stage `generate`: the paired image-and-text dataset, and a figure of examples.

Train, validation and test splits are drawn independently from the same
seeded generator, so a seed always gives the same data.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from .common import load_params, save_split  # noqa: E402
from .world import ANSWERS, decode, make_dataset  # noqa: E402

SPLITS = ("train", "val", "test")


def examples_figure(data: dict[str, np.ndarray], path: Path, n: int = 8) -> None:
    fig, axes = plt.subplots(1, n, figsize=(1.9 * n, 2.8), squeeze=False)
    for i, ax in enumerate(axes[0]):
        ax.imshow(data["x"][i].transpose(1, 2, 0))
        question = decode(data["questions"][i]).replace(" is ", "\nis ")
        ax.set_title(f"{question}\n-> {ANSWERS[data['y'][i]]}", fontsize=7)
        ax.axis("off")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    params = load_params()
    cfg = params["generate"]
    rng = np.random.default_rng(params["seed"])
    for split in SPLITS:
        data = make_dataset(cfg[split], rng, cell=cfg["cell"], noise=cfg["noise"],
                            jitter=cfg["colour_jitter"], mix=cfg["mix"])
        save_split(f"data/generated/{split}.npz", **data)
        if split == "test":
            examples_figure(data, Path("figures/examples.png"))
        print(f"{split}: {len(data['y'])} image-question-answer-caption examples")


if __name__ == "__main__":
    main()
