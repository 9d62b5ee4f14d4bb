"""Figures every stage shares: heatmaps on one colour scale, with a colour bar.

One scale per method across every image of a figure, so that a pale map
means a weak attribution, not a map rescaled to look strong. Signed maps
(Integrated Gradients) use a diverging palette centred on zero: red speaks
for the class, blue against. Positive-only maps (Grad-CAM) use a sequential
one from zero.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def scale(maps: np.ndarray) -> tuple[str, float, float]:
    """(colour map, vmin, vmax) shared by ``maps``: symmetric around zero when
    any value is negative; the 99th percentile of |value| as the limit, so one
    extreme pixel does not wash out the rest."""
    values = np.abs(np.asarray(maps, dtype=np.float64)).ravel()
    limit = float(np.percentile(values, 99)) if values.size else 1.0
    limit = limit or float(values.max(initial=0.0)) or 1.0
    if (np.asarray(maps) < 0).any():
        return "RdBu_r", -limit, limit
    return "inferno", 0.0, limit


def heatmap_rows(path: Path, images: np.ndarray, rows: list[tuple[str, np.ndarray]],
                 titles: list[str], suptitle: str, outline: np.ndarray | None = None,
                 one_scale: bool = False) -> None:
    """Top row the images; then one row per (name, maps) on a shared scale per
    row (across every row with ``one_scale``: rows of the same method to
    compare), with its colour bar. ``outline`` (H, W) boolean draws a box
    around those pixels in every panel (where the planted marks are)."""
    n = len(images)
    if n == 0:
        fig, ax = plt.subplots(figsize=(4, 1))
        ax.axis("off")
        ax.text(0.5, 0.5, suptitle, ha="center", va="center", fontsize=9)
        save(fig, path)
        return
    size = (1.25 * n + 1.2, 1.35 * (1 + len(rows)) + 0.5)
    fig, axes = plt.subplots(1 + len(rows), n, figsize=size, squeeze=False)
    for i in range(n):
        axes[0, i].imshow(images[i, 0], cmap="gray", vmin=0, vmax=1)
        axes[0, i].set_title(titles[i], fontsize=7)
    axes[0, 0].set_ylabel("input", fontsize=8)
    common = scale(np.concatenate([m for _, m in rows])) if one_scale and rows else None
    for r, (name, maps) in enumerate(rows, start=1):
        cmap, vmin, vmax = common or scale(maps)
        for i in range(n):
            shown = axes[r, i].imshow(maps[i, 0], cmap=cmap, vmin=vmin, vmax=vmax)
        axes[r, 0].set_ylabel(name, fontsize=8)
        fig.colorbar(shown, ax=list(axes[r, :]), fraction=0.02, pad=0.01)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        if outline is not None:
            for row, col in zip(*np.nonzero(outline), strict=True):
                ax.add_patch(plt.Rectangle((col - 0.5, row - 0.5), 1, 1, fill=False,
                                           edgecolor="lime", linewidth=0.6))
    fig.suptitle(suptitle, fontsize=9)
    save(fig, path)


def save(fig, path: Path) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
