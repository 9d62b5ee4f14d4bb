"""dlpath's own measurement of the learner's trained NumPy network
(exercise 11), run by the ``probe`` check kind in an isolated process.

It reads only the weights the `network` stage saved (models/network.npz:
w1, b1, w2, b2) and params.yaml (the split's seed and fractions); it never
runs the learner's code and never reads the project's data/. It rebuilds
the test split from scikit-learn's bundled digits itself, the way the
project's `prepare` stage makes it (stratified, by the same seed), and
computes the network (tanh, then the logits) with its own NumPy.

``challenge=True`` (``dlpath challenge``) measures on shifted digits drawn
from ``seed``: each test image half-moved by a pixel, lighter or darker, with
faint noise (the reference network keeps about 83%; a whole-pixel shift
would drop a dense network to about 40%: it has no notion of translation).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import yaml

MODEL = "models/network.npz"
PARAMS = ("w1", "b1", "w2", "b2")


def _test_split(root: Path) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    params = yaml.safe_load((root / "params.yaml").read_text(encoding="utf-8"))
    bunch = load_digits()
    images = (bunch.images / 16.0).astype(np.float32)
    _, x_test, _, y_test = train_test_split(
        images, bunch.target, test_size=params["prepare"]["test"], random_state=params["seed"],
        stratify=bunch.target)
    return x_test.astype(np.float64), y_test


def _shifted(images: np.ndarray, seed: int) -> np.ndarray:
    """Each image half-moved by one pixel in a random direction (averaged with
    its shifted copy), its ink 20% lighter or darker, faint noise on top."""
    rng = np.random.default_rng(seed)
    out = np.empty_like(images)
    moves = rng.integers(-1, 2, size=(len(images), 2))
    for i, (dy, dx) in enumerate(moves):  # one small image at a time: a probe, not a lesson
        out[i] = 0.5 * images[i] + 0.5 * np.roll(images[i], (int(dy), int(dx)), axis=(0, 1))
    out *= rng.uniform(0.8, 1.2, size=(len(images), 1, 1))
    return np.clip(out + rng.normal(0.0, 0.05, size=out.shape), 0.0, 1.0)


def measure(root: Path, seed: int, challenge: bool = False) -> dict:
    path = root / MODEL
    if not path.is_file():
        return {"not_implemented": [f"{MODEL} does not exist yet: run dvc repro"]}
    with np.load(path) as saved:
        if "not_implemented" in saved.files:
            return {"not_implemented": [str(n) for n in saved["not_implemented"]]}
        weights = {name: np.asarray(saved[name], dtype=np.float64) for name in PARAMS}
    images, labels = _test_split(root)
    if challenge:
        images = _shifted(images, seed)
    x = images.reshape(len(images), -1)
    hidden = np.tanh(x @ weights["w1"] + weights["b1"])
    predictions = (hidden @ weights["w2"] + weights["b2"]).argmax(axis=1)
    return {"numpy.test_accuracy": float((predictions == labels).mean())}
