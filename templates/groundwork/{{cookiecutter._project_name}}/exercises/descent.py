"""Exercise 8: gradient descent on a 2-D loss surface.

Training a network is walking downhill on a loss landscape with millions of
dimensions. Two dimensions are enough to see its geometry. Take the
quadratic bowl

    loss(w) = 1/2 w.T A w - b.T w        (A symmetric, positive definite)

Its minimum w* is where the gradient vanishes. Gradient descent repeats

    w <- w - lr * gradient(w)

The level sets of the loss are ellipses whose axes are A's eigenvectors.
When A's eigenvalues differ a lot (a badly *conditioned* problem), the bowl
is a long narrow valley: a learning rate small enough for the steep
direction crawls along the flat one, and one slightly too large bounces from
wall to wall. Descent diverges once lr > 2 / (largest eigenvalue of A).
This is why we normalise inputs (exercise 6), and why momentum and Adam
exist (exercise 9).

The `descent` stage of this project's pipeline (`dvc repro`) runs your
`descend` with the settings in params.yaml and saves a contour plot of its
path to plots/descent.png. Try lr values near 2 / largest eigenvalue:
`dvc exp run --set-param descent.lr=0.45`.

Run the tests:  python -m pytest -q tests/test_descent.py
Check it:       dlpath check -m descent      (stuck? dlpath hint descent)
"""

from __future__ import annotations

import numpy as np


def loss(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> float:
    """The quadratic loss 1/2 w.T A w - b.T w (given)."""
    return float(0.5 * w @ a @ w - b @ w)


def gradient(w: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The gradient of `loss` at w, for a symmetric A: a vector shaped like w."""
    ### BEGIN SOLUTION: the gradient of a quadratic (test: tests/test_descent.py)
    return a @ w - b
    ### END SOLUTION


def descend(w0: np.ndarray, a: np.ndarray, b: np.ndarray, lr: float, steps: int) -> np.ndarray:
    """Run `steps` steps of gradient descent from w0.

    Return the path: an array of shape (steps + 1, 2) whose first row is w0
    and whose row t is the point after t steps. Do not change w0.
    """
    ### BEGIN SOLUTION: gradient descent (test: tests/test_descent.py)
    w = np.array(w0, dtype=float)
    path = [w.copy()]
    for _ in range(steps):
        w = w - lr * gradient(w, a, b)
        path.append(w.copy())
    return np.array(path)
    ### END SOLUTION
