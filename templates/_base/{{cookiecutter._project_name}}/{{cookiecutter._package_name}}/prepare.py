"""Stage `prepare`: train/val/test splits of scikit-learn's bundled digits."""

from .data import digits, split
from .stage import load_params, save_split


def main() -> None:
    params = load_params()
    x, y = digits()
    parts = split(x, y, params["prepare"]["val"], params["prepare"]["test"], params["seed"])
    for part, (xs, ys) in zip(("train", "val", "test"), parts, strict=True):
        save_split(f"data/prepared/{part}.npz", xs, ys)


if __name__ == "__main__":
    main()
