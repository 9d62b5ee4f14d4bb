"""Stage `init`: the spread of the activations, layer after layer, of a deep
network initialised with each scheme of exercises/init.py, with tanh and
with ReLU: plots/init.png and metrics/init.json (the spread at the last
layer, and its ratio to the first layer's).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from exercises import init  # noqa: E402

from .stage import learner_code, load_params, write_json  # noqa: E402


def main() -> None:
    cfg = load_params()["init"]
    metrics: dict = {}
    todo: list[str] = []
    fig, axes = plt.subplots(1, len(init.ACTIVATIONS), figsize=(10, 4), sharey=True)
    for ax, activation in zip(axes, init.ACTIVATIONS, strict=True):
        for scheme in init.SCHEMES:
            with learner_code(todo):
                spread = init.experiment(scheme, activation, depth=cfg["depth"],
                                         width=cfg["width"], batch=cfg["batch"], seed=cfg["seed"])
                shown = np.clip(np.nan_to_num(spread, nan=np.inf), 1e-30, 1e30)
                ax.semilogy(np.arange(1, len(spread) + 1), shown, "o-", markersize=3,
                            label=scheme)
                metrics.setdefault(activation, {})[scheme] = {
                    "last": float(shown[-1]), "ratio": float(shown[-1] / shown[0])}
        ax.set_title(f"{activation}")
        ax.set_xlabel("layer")
        if ax is axes[0]:
            ax.set_ylabel("standard deviation of the activations")
        if ax.lines:
            ax.legend()
        else:
            ax.text(0.5, 0.5, "exercises/init.py:\nnot implemented yet", ha="center",
                    transform=ax.transAxes)
    out = Path("plots/init.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    plt.close(fig)
    if todo:
        metrics["not_implemented"] = sorted(set(todo))
    write_json("metrics/init.json", metrics)


if __name__ == "__main__":
    main()
