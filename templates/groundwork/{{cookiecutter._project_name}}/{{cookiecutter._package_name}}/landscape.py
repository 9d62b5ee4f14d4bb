"""Stage `descent`: run your gradient descent (exercises/descent.py) on the
2-D loss surface set in params.yaml, and save a contour plot of its path.

Until the exercise is solved the stage still succeeds: it plots the surface
alone and records `solved: 0` in metrics/descent.json, so `dvc repro` works
on a fresh project.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import yaml  # noqa: E402

from exercises import descent  # noqa: E402


def surface(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """A, b, the start point and the learning rate from params.yaml.

    The bowl's axes are rotated by `angle` degrees and curved by the two
    eigenvalues, so `condition` = their ratio sets how narrow the valley is.
    """
    theta = np.deg2rad(params["angle"])
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    a = rot @ np.diag([params["curvature"], params["curvature"] / params["condition"]]) @ rot.T
    return a, np.array(params["b"], dtype=float), np.array(params["start"], dtype=float), \
        float(params["lr"])


def run(params: dict) -> tuple[np.ndarray | None, dict]:
    a, b, w0, lr = surface(params)
    minimum = np.linalg.solve(a, b)
    metrics = {
        "lr": lr,
        "lr_limit": float(2 / np.linalg.eigvalsh(a).max()),  # descent diverges above it
        "start_loss": descent.loss(w0, a, b),
        "min_loss": descent.loss(minimum, a, b),
    }
    try:
        path = np.asarray(descent.descend(w0, a, b, lr, int(params["steps"])), dtype=float)
    except NotImplementedError:
        return None, {**metrics, "solved": 0}
    final = path[-1]
    return path, {
        **metrics,
        "solved": 1,
        "steps": len(path) - 1,
        "final_loss": descent.loss(final, a, b) if np.isfinite(final).all() else None,
        "distance_to_minimum": float(np.linalg.norm(final - minimum)),
        "converged": int(bool(np.linalg.norm(final - minimum) < 1e-3)),
    }


def plot(params: dict, path: np.ndarray | None, out: Path) -> None:
    a, b, w0, _ = surface(params)
    minimum = np.linalg.solve(a, b)
    span = max(3.0, float(np.abs(w0 - minimum).max()) * 1.3)
    gx, gy = np.meshgrid(np.linspace(minimum[0] - span, minimum[0] + span, 200),
                         np.linspace(minimum[1] - span, minimum[1] + span, 200))
    points = np.stack([gx, gy], axis=-1)
    z = 0.5 * np.einsum("...i,ij,...j->...", points, a, points) - points @ b
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.contour(gx, gy, z, levels=25, cmap="viridis")
    ax.plot(*minimum, "k*", markersize=12, label="minimum")
    if path is not None:
        shown = path[np.isfinite(path).all(axis=1)]
        ax.plot(shown[:, 0], shown[:, 1], "o-", color="tab:red", markersize=3,
                label=f"gradient descent, lr={params['lr']}")
    else:
        ax.set_title("exercises/descent.py is not solved yet")
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main() -> None:
    with open("params.yaml", encoding="utf-8") as fh:
        params = yaml.safe_load(fh)["descent"]
    path, metrics = run(params)
    plot(params, path, Path("plots/descent.png"))
    Path("metrics").mkdir(exist_ok=True)
    Path("metrics/descent.json").write_text(json.dumps(metrics, indent=2) + "\n")


if __name__ == "__main__":
    main()
