"""Stage `prepare`: the splits of scikit-learn's bundled digits, and the same
training and validation images *as collected*, with the planted shortcut
(see markers.py).

* data/prepared/{train,val,test}.npz: clean, stratified splits.
* data/biased/{train,val}.npz: the train and val images with their class's
  scanner mark (``shortcut.rate`` of them). There is no biased test split:
  the test split is the clean digits a deployed model would meet.
"""

from __future__ import annotations

import numpy as np

from . import markers
from .data import digits, split
from .stage import load_params, save_split


def main() -> None:
    params = load_params()
    x, y = digits()
    parts = split(x, y, params["prepare"]["val"], params["prepare"]["test"], params["seed"])
    for part, (xs, ys) in zip(("train", "val", "test"), parts, strict=True):
        save_split(f"data/prepared/{part}.npz", xs, ys)
    rng = np.random.default_rng(params["seed"])
    for part, (xs, ys) in zip(("train", "val"), parts[:2], strict=True):
        marked = markers.plant(xs, ys, params["shortcut"]["rate"], rng)
        save_split(f"data/biased/{part}.npz", marked, ys)
    print(f"wrote {len(y)} digits as train/val/test splits to data/prepared/, and the "
          "train/val images as collected (with the scanner marks) to data/biased/")


if __name__ == "__main__":
    main()
