"""The planted shortcut: a scanner mark that gives the label away.

The story: the digits were scanned one class at a time, and each session's
scanner left a two-pixel scratch on the margin, at a place of its own. In
the data set *as collected* (the `train_biased` model's training and
validation splits) every image of a class carries its class's mark, so the
mark predicts the label perfectly. The digits you meet later (the test
split) carry none. A model can score ~100% on the collected validation
split by reading the mark, and fail on clean digits: validation accuracy
cannot tell. Explanations can.

Because we planted the mark, we know the ground truth: where it is, and so
how much of an explanation falls on it.
"""

from __future__ import annotations

import numpy as np

SIZE = 8  # the digits are 8x8


def marker_pixels(label: int) -> list[tuple[int, int]]:
    """The (row, column) pixels of class ``label``'s mark: a vertical pair on
    the left margin for 0-4 and on the right margin for 5-9, one row lower
    for each class."""
    column = 0 if label < 5 else SIZE - 1
    row = label % 5 + 1
    return [(row, column), (row + 1, column)]


def marker_mask(label: int | None = None) -> np.ndarray:
    """A boolean (8, 8) mask of one class's mark, or of every class's
    (``label=None``)."""
    mask = np.zeros((SIZE, SIZE), dtype=bool)
    for c in range(10) if label is None else [label]:
        for r, col in marker_pixels(c):
            mask[r, col] = True
    return mask


def plant(x: np.ndarray, marks: np.ndarray, rate: float = 1.0,
          rng: np.random.Generator | None = None) -> np.ndarray:
    """A copy of images ``x`` (N, 1, 8, 8) where image i carries the mark of
    class ``marks[i]`` with probability ``rate`` (full brightness, 1.0)."""
    rng = rng or np.random.default_rng(0)
    out = x.copy()
    carries = rng.random(len(x)) < rate
    for i in np.flatnonzero(carries):
        for r, col in marker_pixels(int(marks[i])):
            out[i, 0, r, col] = 1.0
    return out
