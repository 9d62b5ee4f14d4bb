"""dlpath's own measurement of a synthetic-data project (run by `dlpath check`
and `dlpath challenge` in a separate process, cwd = the project root).

* ``test.accuracy``: the mean accuracy of the synthetic-only models
  (``models/synthetic/model*.pt``) on dlpath's own copy of the locked real test
  split, loaded from scikit-learn (never from the project's files);
  ``test.seeds`` counts the models; ``test.min`` is the worst seed.
* ``leak.real_copies``: how many examples of the training data the pipeline
  wrote (``data/prepared/train.npz``, ``data/synthetic/dataset.npz``) are
  (near) copies of real test or dev digits: training on them is not
  synthetic-only, and training on test digits makes the test meaningless.
* ``challenge=True`` (``dlpath challenge``): the locked test digits *redrawn*
  under a shift no project was tuned on: each is blown up to a 32x32 bitmap,
  given a new slant, rotation and pen width drawn from ``seed``, and reduced
  to 8x8 again as the originals were. Fresh digits for every seed.
"""

from __future__ import annotations

from pathlib import Path

import _split
import numpy as np
from _project import module
from scipy import ndimage

COPY_RADIUS = 0.4


def redraw(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Real 8x8 digits -> the same digits by another hand (see the docstring)."""
    out = np.empty_like(x)
    for i, image in enumerate(x[:, 0]):
        big = ndimage.zoom(image, 4, order=1) > 0.5  # an approximate 32x32 bitmap
        padded = np.pad(big.astype(np.float32), 16)
        rotation = np.deg2rad(rng.uniform(-15, 15))
        shear = rng.uniform(-0.35, 0.35)
        cos, sin = np.cos(rotation), np.sin(rotation)
        matrix = np.array([[cos, -sin], [sin, cos]]) @ np.array([[1, 0], [shear, 1]])
        centre = (np.asarray(padded.shape) - 1) / 2
        moved = ndimage.affine_transform(padded, matrix, offset=centre - matrix @ centre, order=1)
        pen = int(rng.integers(-1, 2))
        if pen > 0:
            moved = ndimage.grey_dilation(moved, size=(2 * pen + 1,) * 2)
        elif pen < 0:
            moved = ndimage.grey_erosion(moved, size=(3, 3))
        ink = moved > 0.5
        if not ink.any():
            out[i] = x[i]
            continue
        rows, cols = np.nonzero(ink)
        crop = moved[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
        scale = 32 / crop.shape[0]
        width = int(np.clip(round(crop.shape[1] * scale), 1, 32))
        resized = ndimage.zoom(crop, (32 / crop.shape[0], width / crop.shape[1]), order=1)
        resized = resized[:32, :width]
        bitmap = np.zeros((32, 32), np.float32)
        left = (32 - resized.shape[1]) // 2
        bitmap[:resized.shape[0], left:left + resized.shape[1]] = resized
        out[i, 0] = (bitmap > 0.5).reshape(8, 4, 8, 4).sum(axis=(1, 3)) / 16.0
    return out


def copies(root: Path) -> int:
    from sklearn.neighbors import NearestNeighbors

    real = np.concatenate([_split.split("test")[0], _split.split("dev")[0]]).reshape(-1, 64)
    finder = NearestNeighbors(n_neighbors=1).fit(real)
    found = 0
    for rel in ("data/prepared/train.npz", "data/synthetic/dataset.npz"):
        path = root / rel
        if path.is_file():
            with np.load(path) as data:
                x = np.asarray(data["x"], dtype=np.float32).reshape(len(data["x"]), -1)
            found += int((finder.kneighbors(x)[0][:, 0] < COPY_RADIUS).sum())
    return found


def measure(root: Path, seed: int, challenge: bool = False) -> dict[str, float]:
    import torch

    torch.set_num_threads(1)
    fit = module("fit", root)
    paths = sorted((root / "models" / "synthetic").glob("model*.pt"))
    if not paths:
        return {"test.seeds": 0.0}
    x, y = _split.split("test")
    if challenge:
        x = redraw(x, np.random.default_rng(seed))
    accs = []
    for path in paths:
        state = torch.load(path, map_location="cpu", weights_only=True)
        accs.append(float((fit.predict(state, x) == y).mean()))
    return {"test.accuracy": round(float(np.mean(accs)), 4),
            "test.min": round(float(np.min(accs)), 4),
            "test.seeds": float(len(paths)),
            "leak.real_copies": float(copies(root))}
