"""Stage `generate`: render the synthetic dataset from `generate` in params.yaml."""

from __future__ import annotations

import numpy as np

from .common import load_params, save_split
from .render import render_dataset


def main() -> None:
    params = load_params()
    data = render_dataset(params["generate"], np.random.default_rng(params["seed"]))
    save_split("data/synthetic/dataset.npz", **data)
    print(f"rendered {len(data['y'])} synthetic digits to data/synthetic/dataset.npz")


if __name__ == "__main__":
    main()
