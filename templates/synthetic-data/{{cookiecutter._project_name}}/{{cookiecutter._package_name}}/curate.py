"""Stage `curate`: measure the synthetic dataset's quality, clean it, split it,
and write its dataset card.

* class balance: examples per class, the smallest over the largest class, and
  the normalised entropy of the label distribution (1 = perfectly balanced);
* exact duplicates: identical 8x8 images (after the first of each);
* near duplicates: images whose nearest other image is within
  `curate.near_distance` (Euclidean, 8x8 in [0, 1]) without being an exact copy;
* label noise, estimated: how often a k-nearest-neighbours classifier,
  cross-validated so it never sees the example it judges, disagrees with the
  label. Disagreement flags mislabelled examples, and also hard ones: compare
  it with `generate.label_noise`, the noise the generator injected on purpose.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from .card import write_card
from .common import load_params, load_split, save_split, write_json


def balance(y: np.ndarray, classes: int = 10) -> dict:
    counts = np.bincount(y, minlength=classes)
    p = counts / counts.sum()
    entropy = -(p[p > 0] * np.log(p[p > 0])).sum() / np.log(classes)
    return {"counts": counts.tolist(), "min_over_max": round(float(counts.min() / counts.max()), 4),
            "entropy": round(float(entropy), 4)}


def exact_duplicates(x: np.ndarray) -> np.ndarray:
    """A mask of images identical to an earlier one."""
    keys = np.round(x.reshape(len(x), -1) * 16).astype(np.uint8)
    _, first = np.unique(keys, axis=0, return_index=True)
    mask = np.ones(len(x), bool)
    mask[first] = False
    return mask


def near_duplicates(x: np.ndarray, distance: float) -> np.ndarray:
    """A mask of images whose nearest other image is within ``distance`` but
    not identical (both images of a close pair are marked)."""
    flat = x.reshape(len(x), -1)
    dist, _ = NearestNeighbors(n_neighbors=2).fit(flat).kneighbors(flat)
    # Pixels are multiples of 1/16, so different images are at least 1/16
    # apart; below 1/32 is an exact copy up to rounding in the distance.
    return (dist[:, 1] >= 1 / 32) & (dist[:, 1] < distance)


def suspect_labels(x: np.ndarray, y: np.ndarray, folds: int, neighbours: int,
                   seed: int) -> np.ndarray:
    """A mask of examples whose cross-validated prediction disagrees with the label."""
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    predicted = cross_val_predict(KNeighborsClassifier(neighbours), x.reshape(len(x), -1), y,
                                  cv=cv)
    return predicted != y


def measure(data: dict[str, np.ndarray], cfg: dict, seed: int) -> tuple[dict, dict]:
    """The quality metrics, and the masks they come from."""
    x, y = data["x"], data["y"]
    masks = {
        "exact": exact_duplicates(x),
        "near": near_duplicates(x, cfg["near_distance"]),
        "suspect": suspect_labels(x, y, cfg["folds"], cfg["neighbours"], seed),
    }
    flipped = data["y"] != data["true_y"]
    suspect = masks["suspect"]
    metrics = {
        "examples": len(y),
        "balance": balance(y),
        "duplicates": {"exact": int(masks["exact"].sum()), "near": int(masks["near"].sum()),
                       "exact_fraction": round(float(masks["exact"].mean()), 4),
                       "near_fraction": round(float(masks["near"].mean()), 4)},
        "label_noise": {
            "estimated": round(float(suspect.mean()), 4),
            "injected": round(float(flipped.mean()), 4),
            # Of the flagged examples, how many really were mislabelled?
            "flag_precision": round(float(flipped[suspect].mean()) if suspect.any() else 0.0, 4),
            # Of the mislabelled examples, how many were flagged?
            "flag_recall": round(float(suspect[flipped].mean()) if flipped.any() else 1.0, 4),
        },
    }
    return metrics, masks


def main() -> None:
    params = load_params()
    cfg = params["curate"]
    data = load_split("data/synthetic/dataset.npz")
    metrics, masks = measure(data, cfg, params["seed"])
    drop = np.zeros(len(data["y"]), bool)
    if cfg["drop_duplicates"]:
        drop |= masks["exact"]
    if cfg["drop_suspects"]:
        drop |= masks["suspect"]
    keep = ~drop
    x_train, x_val, y_train, y_val = train_test_split(
        data["x"][keep], data["y"][keep], test_size=cfg["val"], random_state=params["seed"],
        stratify=data["y"][keep])
    save_split("data/prepared/train.npz", x_train, y_train)
    save_split("data/prepared/val.npz", x_val, y_val)
    metrics["kept"] = int(keep.sum())
    metrics["train"], metrics["val"] = len(y_train), len(y_val)
    write_json("metrics/curation.json", metrics)
    write_card(metrics, params, data)
    print(f"kept {keep.sum()} of {len(keep)}: {metrics['duplicates']['exact']} exact duplicates, "
          f"{metrics['label_noise']['estimated']:.1%} labels suspect; wrote DATASET_CARD.md")


if __name__ == "__main__":
    main()
