"""Stage `curate`: measure the synthetic dataset, clean it, split it, and
write its dataset card.

What a generator gets wrong, and how this stage finds it:

* repeats and near-repeats (``near_duplicates``, you write it): the same
  picture twice teaches nothing new and weighs twice in the loss; keep one
  of each group;
* wrong labels (``suspects``, you write it): a classifier that never saw the
  example judges its label; an example whose label it finds improbable is a
  suspect. It also flags renders that no longer look like their digit (a 6
  rotated into a 0): drop those too;
* class balance (measured here).

The generator knows the truth (``true_y``, ``repeat_of``), so this stage can
say how precise your flags are; a real dataset would not tell you.
"""

from __future__ import annotations

import numpy as np
from sklearn.model_selection import train_test_split

from .card import write_card
from .common import learner_code, load_params, load_split, save_split, write_json
from .gap import domain_auc
from .parallel import limit_threads
from .real import dev


def near_duplicates(x: np.ndarray, radius: float) -> np.ndarray:
    """Which examples to drop as (near) duplicates: a boolean mask, shape (N,).

    Two examples are near duplicates when their images (flattened, values in
    [0, 1]) are within Euclidean distance ``radius`` of each other (exact
    copies included). Keep the *first* example of each group (in index
    order) and drop every later one that is within ``radius`` of an example
    you keep. Never drop an example that has no near duplicate.

    Hint: ``sklearn.neighbors.NearestNeighbors(radius=...)`` finds every
    neighbour within a radius; then one pass in index order decides.
    """
    ### BEGIN SOLUTION: near-duplicate handling (test: tests/test_curate.py)
    from sklearn.neighbors import NearestNeighbors

    flat = x.reshape(len(x), -1)
    neighbours = NearestNeighbors(radius=radius).fit(flat).radius_neighbors(
        flat, return_distance=False)
    drop = np.zeros(len(x), bool)
    for i in range(len(x)):
        if not drop[i]:
            later = neighbours[i][neighbours[i] > i]
            drop[later] = True
    return drop
    ### STUB
    # TODO: near-duplicate handling (your code replaces the lines below)
    raise NotImplementedError(
        "TODO: near-duplicate handling: write near_duplicates() in curate.py; "
        "test: python -m pytest -q tests/test_curate.py")
    ### END SOLUTION


def suspects(x: np.ndarray, y: np.ndarray, folds: int, seed: int) -> np.ndarray:
    """Which examples to drop as probably mislabelled: a boolean mask, shape (N,).

    Judge each label with a model that never saw the example: split the data
    into ``folds`` stratified folds (shuffled with ``seed``), train a judge on
    the other folds, and predict each held-out example's class probabilities
    (``fit.train`` and ``fit.probabilities`` train and apply this project's
    CNN; any classifier will do, the better the judge the better the flags).

    Then decide which disagreements mean a *wrong label* rather than a *hard
    example*. Randomised renders are often hard: the judge is unsure, and
    dropping them throws away the variety you rendered them for. And here the
    wrong labels are systematic (a share of 7s called 1, of 4s called 9...),
    so a judge trained on them learns some of the confusion too: compare each
    probability with what that class *usually* gets. "Confident learning"
    (Northcutt et al., 2021) flags an example labelled i when its judge gives
    another class j at least the average probability that examples labelled
    j get for j, and prefers j to i.

    ``metrics/curation.json`` scores your flags against the generator's truth
    (``label_noise.precision``: flags that were right; ``recall``: wrong labels
    flagged), and ``metrics/train.json`` says what dropping them did to the
    real dev digits: ``curation_log_loss_drop`` (how much less cross-entropy
    the models trained on curated data have) and ``curation_effect`` (their
    accuracy, which wrong labels hardly move: see train.py).
    """
    ### BEGIN SOLUTION: which suspects to drop (test: tests/test_curate.py)
    from sklearn.model_selection import StratifiedKFold

    from .fit import Recipe, probabilities, train

    judge = Recipe(steps=300, lr=0.004, batch_size=64, channels=16)
    proba = np.zeros((len(y), 10))
    cv = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for k, (rest, held_out) in enumerate(cv.split(x.reshape(len(x), -1), y)):
        weights, _ = train(x[rest], y[rest], judge, seed + k)
        proba[held_out] = probabilities(weights, x[held_out])
    usual = np.array([proba[y == c, c].mean() if (y == c).any() else 1.0 for c in range(10)])
    other = proba.copy()
    other[np.arange(len(y)), y] = -1.0  # the best *other* class
    best = other.argmax(1)
    return (other[np.arange(len(y)), best] >= usual[best]) & (proba.argmax(1) != y)
    ### STUB
    # TODO: which suspects to drop (your code replaces the lines below)
    raise NotImplementedError(
        "TODO: which suspects to drop: write suspects() in curate.py; "
        "test: python -m pytest -q tests/test_curate.py")
    ### END SOLUTION


def balance(y: np.ndarray, classes: int = 10) -> dict:
    counts = np.bincount(y, minlength=classes)
    p = counts / counts.sum()
    entropy = -(p[p > 0] * np.log(p[p > 0])).sum() / np.log(classes)
    return {"counts": counts.tolist(), "min_over_max": round(float(counts.min() / counts.max()), 4),
            "entropy": round(float(entropy), 4)}


def flag_quality(flagged: np.ndarray, truth: np.ndarray) -> dict:
    """How many flags were right (precision), and how many true cases were flagged (recall)."""
    return {"flagged": int(flagged.sum()), "true": int(truth.sum()),
            "precision": round(float(truth[flagged].mean()) if flagged.any() else 0.0, 4),
            "recall": round(float(flagged[truth].mean()) if truth.any() else 1.0, 4)}


def curate(data: dict[str, np.ndarray], cfg: dict, seed: int, todo: list[str]):
    """(mask of examples to keep, metrics): your two steps, where written."""
    x, y = data["x"], data["y"]
    keep = np.ones(len(y), bool)
    metrics: dict = {"examples": len(y), "balance": balance(y)}
    with learner_code(todo):
        dups = near_duplicates(x, cfg["near_radius"])
        keep &= ~dups
        metrics["duplicates"] = {**flag_quality(dups, data["repeat_of"] >= 0),
                                 "fraction": round(float(dups.mean()), 4)}
    with learner_code(todo):
        # Judge the labels of what is left (a repeat would vouch for its twin).
        judged = np.zeros(len(y), bool)
        judged[keep] = suspects(x[keep], y[keep], cfg["folds"], seed)
        keep &= ~judged
        metrics["label_noise"] = {**flag_quality(judged, data["y"] != data["true_y"]),
                                  "estimated": round(float(judged.mean()), 4)}
    metrics["kept"] = int(keep.sum())
    metrics["kept_wrong_labels"] = int((data["y"] != data["true_y"])[keep].sum())
    metrics["kept_repeats"] = int((data["repeat_of"] >= 0)[keep].sum())
    return keep, metrics


def main() -> None:
    params = load_params()
    limit_threads(params.get("threads"))
    cfg = params["curate"]
    data = load_split("data/synthetic/dataset.npz")
    todo: list[str] = []
    keep, metrics = curate(data, cfg, params["seed"], todo)
    x_train, x_val, y_train, y_val = train_test_split(
        data["x"][keep], data["y"][keep], test_size=cfg["val"], random_state=params["seed"],
        stratify=data["y"][keep])
    save_split("data/prepared/train.npz", x_train, y_train)
    save_split("data/prepared/val.npz", x_val, y_val)
    dev_x, _ = dev()
    metrics["domain_auc"] = round(domain_auc(x_train, dev_x, params["seed"]), 4)
    metrics["train"], metrics["val"] = len(y_train), len(y_val)
    if todo:
        metrics["not_implemented"] = todo
    write_json("metrics/curation.json", metrics)
    write_card(metrics, params, data)
    print(f"kept {metrics['kept']} of {len(keep)}; domain classifier AUC (synthetic vs real "
          f"dev) {metrics['domain_auc']:.3f}; wrote DATASET_CARD.md")


if __name__ == "__main__":
    main()
