"""Exercise 2: vectorised NumPy instead of Python loops.

The real bottleneck for beginners is rarely the maths: it is Python loops
over array elements. Each loop iteration runs in the interpreter; one NumPy
expression runs the same arithmetic in compiled code over whole arrays,
often 100 times faster, and reads closer to the formula.

The tools:

* broadcasting: arrays of shapes (n, 1) and (1, m) combine into (n, m)
  without copying; a (d,) vector is applied to every row of (n, d);
* reductions along an axis: x.sum(axis=1), x.mean(axis=0, keepdims=True);
* algebra that removes a loop altogether: expand what you compute until
  the expensive part is a single matrix product (BLAS does those at full
  speed);
* fancy indexing: an integer array picks rows of another array.

The rules (the tests check both):

* no Python loops in these functions *or in anything they call in this
  project*: no for, while, comprehensions, recursion, np.vectorize,
  np.apply_along_axis, map;
* `pairwise_distances` is at least 20 times faster than the loop version
  on two (2000, 64) arrays (the tests time both, several times, and compare
  the medians). Broadcasting to an (n, m, d) array has no loop, but it
  moves 2 GB through memory and lands close to that bar; one matrix
  product clears it many times over.

Time them yourself: python -m timeit -s "..." or time.perf_counter.

Run the tests:  python -m pytest -q tests/test_vectorise.py
Check it:       dlpath check -m vectorise      (stuck? dlpath hint vectorise)
"""

from __future__ import annotations

import numpy as np


def pairwise_distances_loop(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distances between every row of a (n, d) and of b (m, d): (n, m).

    The slow, obvious version, for comparison (given; the tests time their
    own copy of it).
    """
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = np.sqrt(np.sum((a[i] - b[j]) ** 2))
    return out


def pairwise_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The same (n, m) matrix as pairwise_distances_loop, without loops, and
    at least 20 times faster on (2000, 64) inputs.

    Rounding can make a tiny squared distance come out negative: make sure a
    point's distance to itself is 0, never nan.
    """
    ### BEGIN SOLUTION: pairwise distances with one matrix product (test: tests/test_vectorise.py)
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    return np.sqrt(np.maximum(squared, 0.0))
    ### END SOLUTION


def one_hot(labels: np.ndarray, num_classes: int) -> np.ndarray:
    """Integer labels (n,) -> a float (n, num_classes) matrix with one 1 per row.

    Raise ValueError if a label is negative or >= num_classes.
    """
    ### BEGIN SOLUTION: one-hot encoding by indexing (test: tests/test_vectorise.py)
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must be in [0, {num_classes}), got {labels.min()} to "
                         f"{labels.max()}")
    return np.eye(num_classes)[labels]
    ### END SOLUTION


def standardise(x: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    """Each column of x (n, d) shifted to mean 0 and scaled to standard deviation 1.

    Divide by sqrt(variance + eps) so a constant column does not divide by zero.
    """
    ### BEGIN SOLUTION: standardising columns (test: tests/test_vectorise.py)
    mean = x.mean(axis=0, keepdims=True)
    return (x - mean) / np.sqrt(x.var(axis=0, keepdims=True) + eps)
    ### END SOLUTION
