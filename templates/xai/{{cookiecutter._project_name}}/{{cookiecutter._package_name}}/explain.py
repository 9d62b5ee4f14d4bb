"""Stage `explain`: heatmaps (PNG) and arrays (NPZ) for a fixed set of test images."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

from .attribution import METHODS, attribute, load_model  # noqa: E402
from .common import load_params, load_split  # noqa: E402


def heatmap_grid(images, attributions, labels, preds, title: str, path: Path) -> None:
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(1.4 * n, 3.2))
    for i in range(n):
        axes[0, i].imshow(images[i, 0], cmap="gray")
        axes[0, i].set_title(f"y={labels[i]} p={preds[i]}", fontsize=7)
        limit = float(np.abs(attributions[i, 0]).max()) or 1.0
        axes[1, i].imshow(attributions[i, 0], cmap="bwr", vmin=-limit, vmax=limit)
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    params = load_params()
    cfg = params["explain"]
    model = load_model()
    test = load_split("data/prepared/test.npz")
    x = torch.as_tensor(test["x"][: cfg["examples"]])
    y = test["y"][: cfg["examples"]]
    with torch.no_grad():
        preds = model(x).argmax(1)
    out = Path("attributions")
    out.mkdir(exist_ok=True)
    arrays = {}
    for method in METHODS:
        attr = attribute(model, x, preds, method, cfg["ig_steps"]).numpy()
        arrays[method] = attr
        heatmap_grid(x.numpy(), attr, y, preds.numpy(), method.replace("_", " "),
                     out / f"{method}.png")
    np.savez_compressed(out / "attributions.npz", images=x.numpy(), labels=y,
                        predictions=preds.numpy(), **arrays)
    print(f"wrote {len(METHODS)} heatmap grids for {len(x)} examples to {out}/")


if __name__ == "__main__":
    main()
