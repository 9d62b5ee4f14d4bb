"""Stage `descent`: run your gradient descent (exercises/descent.py) on the
2-D loss surface set in params.yaml, and save a contour plot of its path.

Until the exercise is solved the stage still succeeds: it plots the surface
alone and records what is not implemented yet in metrics/descent.json, so
`dvc repro` works on a fresh project.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only: no window, no display needed

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from exercises import descent  # noqa: E402

from .stage import learner_code, load_params, write_json  # noqa: E402


def surface(params: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A, b and the start point of a bowl set in params.yaml.

    The bowl's axes are rotated by `angle` degrees and curved by the two
    eigenvalues, so `condition` = their ratio sets how narrow the valley is.
    """
    theta = np.deg2rad(params["angle"])
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    a = rot @ np.diag([params["curvature"], params["curvature"] / params["condition"]]) @ rot.T
    return a, np.array(params["b"], dtype=float), np.array(params["start"], dtype=float)


def summary(path: np.ndarray, a: np.ndarray, b: np.ndarray, tolerance: float = 1e-3) -> dict:
    """How a path ends: distance to the minimum, final loss, and the first step
    within `tolerance` of the minimum (the number of steps when never)."""
    minimum = np.linalg.solve(a, b)
    distances = np.linalg.norm(path - minimum, axis=1)
    finite = bool(np.isfinite(path[-1]).all())
    close = np.flatnonzero(distances < tolerance) if finite else np.array([], dtype=int)
    return {
        "steps": len(path) - 1,
        "final_loss": descent.loss(path[-1], a, b) if finite else None,
        "distance_to_minimum": float(distances[-1]) if finite else None,
        "converged": int(close.size > 0),
        "steps_to_converge": int(close[0]) if close.size else len(path) - 1,
    }


def plot_path(a: np.ndarray, b: np.ndarray, w0: np.ndarray, path: np.ndarray | None,
              label: str, out: Path) -> None:
    """The contour plot of the bowl with a path on it (or the bowl alone)."""
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
        shown = shown[(np.abs(shown - minimum) <= 2 * span).all(axis=1)]
        ax.plot(shown[:, 0], shown[:, 1], "o-", color="tab:red", markersize=3, label=label)
    else:
        ax.set_title(f"{label}: not implemented yet")
    ax.set_xlim(gx.min(), gx.max())
    ax.set_ylim(gy.min(), gy.max())
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=80)
    plt.close(fig)


def main() -> None:
    params = load_params()["descent"]
    a, b, w0 = surface(params)
    lr = float(params["lr"])
    metrics: dict = {
        "lr": lr,
        "lr_limit": float(2 / np.linalg.eigvalsh(a).max()),  # descent diverges above it
        "start_loss": descent.loss(w0, a, b),
        "min_loss": descent.loss(np.linalg.solve(a, b), a, b),
    }
    todo: list[str] = []
    path = None
    with np.errstate(over="ignore", invalid="ignore"), learner_code(todo):
        path = np.asarray(descent.descend(w0, a, b, lr, int(params["steps"])), dtype=float)
        metrics.update(summary(path, a, b))
    if todo:
        metrics["not_implemented"] = todo
    plot_path(a, b, w0, path, f"gradient descent, lr={lr}", Path("plots/descent.png"))
    write_json("metrics/descent.json", metrics)


if __name__ == "__main__":
    main()
