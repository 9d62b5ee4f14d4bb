"""Stage `explain`: heatmaps (PNG) and arrays (NPZ) for a fixed set of test images.

The first `explain.examples` test images are always the same ones (the split
is seeded), so heatmaps from two runs or two experiments compare directly.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .attribution import METHODS, attribute, load_model  # noqa: E402
from .common import load_params, load_split, pick_device, set_threads  # noqa: E402


def heatmap_grid(images, attributions, labels, preds, title: str, path: Path) -> None:
    """Top row the images, bottom row their attributions (red for, blue against)."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.4 * n, 3.2), squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i, 0], cmap="gray")
        axes[0, i].set_title(f"y={labels[i]} p={preds[i]}", fontsize=7)
        limit = float(np.abs(attributions[i, 0]).max()) or 1.0
        axes[1, i].imshow(attributions[i, 0], cmap="bwr", vmin=-limit, vmax=limit)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    params = load_params()
    cfg = params["explain"]
    set_threads(params)
    model = load_model(device=pick_device())
    test = load_split("data/prepared/test.npz")
    x = torch.as_tensor(test["x"][: cfg["examples"]])
    y = test["y"][: cfg["examples"]]
    with torch.no_grad():
        preds = model(x.to(next(model.parameters()).device)).argmax(1).cpu()
    arrays = {}
    for method in METHODS:
        attr = attribute(model, x, preds, method, cfg["ig_steps"]).numpy()
        arrays[method] = attr
        heatmap_grid(x.numpy(), attr, y, preds.numpy(), method.replace("_", " "),
                     Path("figures") / f"{method}.png")
    out = Path("data/attributions.npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out, images=x.numpy(), labels=y, predictions=preds.numpy(), **arrays)
    print(f"wrote heatmaps of {len(x)} test images to figures/ and the arrays to {out}")


if __name__ == "__main__":
    main()
