"""Exercise 2: vectorised NumPy instead of Python loops.

The real bottleneck for beginners is rarely the maths: it is Python loops
over array elements. Each loop iteration runs in the interpreter; one NumPy
expression runs the same arithmetic in compiled code over whole arrays,
often 100 times faster, and reads closer to the formula.

The tools:

* broadcasting: arrays of shapes (n, 1, d) and (1, m, d) combine into
  (n, m, d) without copying; a (d,) vector is applied to every row of (n, d);
* reductions along an axis: x.sum(axis=1), x.mean(axis=0, keepdims=True);
* algebra that removes a loop altogether, e.g. the squared distance
  |a - b|^2 = |a|^2 + |b|^2 - 2 a.b, so all pairwise distances need one
  matrix product;
* fancy indexing: eye[labels] picks rows of an identity matrix.

The functions below must not use Python loops (no for, while or
comprehensions): the tests read their source to make sure.
`pairwise_distances_loop` is the slow version, for comparison: time both
on (2000, 64) arrays with %timeit or time.perf_counter.

Run the tests:  python -m pytest -q tests/test_vectorise.py
Check it:       dlpath check -m vectorise
"""

from __future__ import annotations

import numpy as np


def pairwise_distances_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of a (n, d) and of b (m, d): (n, m).

    The slow, obvious version (given; do not change it).
    """
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = np.sqrt(np.sum((a[i] - b[j]) ** 2))
    return out


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same (n, m) matrix as pairwise_distances_loop, without loops.

    Use |a|^2 + |b|^2 - 2 a.b (one matrix product). Rounding can make a tiny
    squared distance negative: clip at 0 before the square root.
    """
    raise NotImplementedError("TODO: squared norms, one matrix product, clip, sqrt")


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer labels (n,) -> a float (n, num_classes) matrix with one 1 per row.

    Raise ValueError if a label is negative or >= num_classes.
    """
    raise NotImplementedError("TODO: index the rows of an identity matrix")


def standardise(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Each column of x (n, d) shifted to mean 0 and scaled to standard deviation 1.

    Divide by sqrt(variance + eps) so a constant column does not divide by zero.
    """
    raise NotImplementedError("TODO: subtract the column means, divide by the column std")
