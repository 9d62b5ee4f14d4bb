"""Stage `optimisers`: gradient descent, momentum and Adam (your
exercises/optimisers.py) on the narrow bowl set in params.yaml; one contour
plot per optimiser in plots/optimisers/, and how fast each got there in
metrics/optimisers.json.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from exercises import optimisers

from .landscape import plot_path, summary, surface
from .stage import learner_code, load_params, write_json


def main() -> None:
    params = load_params()["optimisers"]
    a, b, w0 = surface(params)
    steps = int(params["steps"])
    runs = {
        "gd": (lambda: optimisers.SGD(lr=params["lr"]), f"gradient descent, lr={params['lr']}"),
        "momentum": (lambda: optimisers.Momentum(lr=params["lr"], beta=params["beta"]),
                     f"momentum, lr={params['lr']}, beta={params['beta']}"),
        "adam": (lambda: optimisers.Adam(lr=params["adam_lr"]), f"Adam, lr={params['adam_lr']}"),
    }
    metrics: dict = {"condition": float(params["condition"]),
                     "lr_limit": float(2 / np.linalg.eigvalsh(a).max())}
    todo: list[str] = []
    for name, (make, label) in runs.items():
        path = None
        with np.errstate(over="ignore", invalid="ignore"), learner_code(todo):
            path = optimisers.run(make(), w0, lambda w: a @ w - b, steps)
            metrics[name] = summary(path, a, b)
        plot_path(a, b, w0, path, label, Path(f"plots/optimisers/{name}.png"))
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/optimisers.json", metrics)


if __name__ == "__main__":
    main()
