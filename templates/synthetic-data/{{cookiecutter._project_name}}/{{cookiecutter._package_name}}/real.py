"""The real handwritten digits, split once for every project.

scikit-learn ships 1,797 real 8x8 digits. This project never trains its
synthetic model on them; it uses them in three fixed splits, each with one
job (the split is a constant, not a param: a split you can re-draw is a
split you can tune on):

* ``dev`` (30 per class, 300 digits): for tuning the generator. The dataset
  card shows them; per-class accuracy, the domain classifier, the ablation,
  the scaling curve and the curation effect are measured on them.
* ``pool`` (60 per class, 600 digits): the real data you could have labelled
  instead. The reference points train on it: the real-data oracle, the
  few-shot baselines, and fine-tuning a synthetic model on a few real digits.
* ``test`` (the other 897): **locked**. Only the stages that report
  (``baselines`` and ``evaluate``) read it, to report one number per model;
  no decision is ever made on it and no picture shows it.

The lock: the SHA-256 digests of the dev and test splits are written below.
``dev()`` and ``locked_test()`` check them, so a split that was changed
(a bigger dev split that eats into the test split, say) stops the pipeline
instead of reporting a number that no longer means what it says; and
``real_copies`` finds real digits (or near copies of them) inside training
data, which ``train`` refuses. dlpath's own check measures your models on
its own copy of this split.
"""

from __future__ import annotations

import hashlib
import importlib.util
import sys
from functools import cache
from pathlib import Path

import numpy as np

SPLIT_SEED = 1797
DEV_PER_CLASS = 30
POOL_PER_CLASS = 60
#: SHA-256 of each locked split (pixel counts 0..16 as bytes, then the labels)
DIGESTS = {
    "dev": "de0fe173708baf1656bf516aecf2922f69dd5bbd3ae95038b6d67c2cd39ae8f5",
    "test": "a1037e62599f20dc071dc04f1a4a14e12d37f9e7766c998efd2d62b53e3d6398",
}
#: the stages allowed to read the locked test split: they report, never decide
TEST_READERS = ("baselines", "evaluate")
#: training images closer than this to a real digit (Euclidean, 8x8 in [0, 1])
#: count as copies of it. Two different real digits are never this close (the
#: closest pair across splits: 0.51), nor is a rendered one (closest seen: 0.66);
#: a real digit with every pixel nudged by 1/16 still is (0.34-0.39).
COPY_RADIUS = 0.4


class LockError(SystemExit):
    """The protocol was broken: a changed split, or test digits read by a
    stage that must not see them. It stops the stage with one line (no
    traceback): there is nothing to debug, only something to undo."""

    def __init__(self, message: str):
        super().__init__(f"error: {message}")


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    """scikit-learn's digits: (images as ink counts 0..16, labels).

    Read from the file scikit-learn ships (``sklearn/datasets/data``) without
    importing scikit-learn, which would cost the stages that need nothing
    else from it about 1.5 s each; ``load_digits`` if the file is not where
    it is expected. The splits' digests check what was read either way."""
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.origin:
        file = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
        if file.is_file():
            table = np.loadtxt(file, delimiter=",")
            if table.shape == (1797, 65):
                return (table[:, :-1].reshape(-1, 8, 8).astype(np.uint8),
                        table[:, -1].astype(np.int64))
    from sklearn.datasets import load_digits

    bunch = load_digits()
    return bunch.images.astype(np.uint8), bunch.target.astype(np.int64)


@cache
def split_indices() -> dict[str, np.ndarray]:
    """The indices (into scikit-learn's digits) of each split, sorted."""
    _, labels = _digits()
    rng = np.random.default_rng(SPLIT_SEED)
    parts: dict[str, list[np.ndarray]] = {"dev": [], "pool": [], "test": []}
    for digit in range(10):
        order = rng.permutation(np.flatnonzero(labels == digit))
        parts["dev"].append(order[:DEV_PER_CLASS])
        parts["pool"].append(order[DEV_PER_CLASS:DEV_PER_CLASS + POOL_PER_CLASS])
        parts["test"].append(order[DEV_PER_CLASS + POOL_PER_CLASS:])
    return {name: np.sort(np.concatenate(idx)) for name, idx in parts.items()}


def digest(counts: np.ndarray, labels: np.ndarray) -> str:
    """SHA-256 of images as ink counts 0..16 (uint8) followed by their labels."""
    h = hashlib.sha256(np.ascontiguousarray(counts, dtype=np.uint8).tobytes())
    h.update(np.ascontiguousarray(labels, dtype=np.uint8).tobytes())
    return h.hexdigest()


def _split(name: str) -> tuple[np.ndarray, np.ndarray]:
    counts, labels = _digits()
    idx = split_indices()[name]
    if name in DIGESTS and digest(counts[idx], labels[idx]) != DIGESTS[name]:
        raise LockError(f"the real {name} split is not the locked one (its checksum differs): "
                        f"restore real.py (split_indices, SPLIT_SEED, *_PER_CLASS)")
    x = (counts[idx] / 16.0).astype(np.float32)[:, None, :, :]
    return x, labels[idx]


def dev() -> tuple[np.ndarray, np.ndarray]:
    """The development split: (N, 1, 8, 8) float32 in [0, 1], int64 labels."""
    return _split("dev")


def pool() -> tuple[np.ndarray, np.ndarray]:
    """The real training pool of the reference points (oracle, few-shot, fine-tuning)."""
    return _split("pool")


def running_stage() -> str:
    """The stage this process runs (``evaluate`` for ``python -m pkg.evaluate``)."""
    spec = getattr(sys.modules.get("__main__"), "__spec__", None)
    return spec.name.rsplit(".", 1)[-1] if spec is not None and spec.name else ""


def locked_test() -> tuple[np.ndarray, np.ndarray]:
    """The locked test split, for the stages that report (``TEST_READERS``)."""
    stage = running_stage()
    if stage not in TEST_READERS:
        raise LockError(f"the locked test split is read only by the {' and '.join(TEST_READERS)} "
                        f"stages, not by {stage or 'this process'}: tune on real.dev()")
    return _split("test")


def real_copies(x: np.ndarray, radius: float = COPY_RADIUS) -> dict[str, int]:
    """How many images of ``x`` are (near) copies of a real digit, per split."""
    from sklearn.neighbors import NearestNeighbors

    counts, _ = _digits()
    flat = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    found = {}
    for name, idx in split_indices().items():
        real = (counts[idx] / 16.0).reshape(len(idx), -1)
        dist, _ = NearestNeighbors(n_neighbors=1).fit(real).kneighbors(flat)
        found[name] = int((dist[:, 0] < radius).sum())
    return found
