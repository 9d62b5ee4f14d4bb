"""Exercise 1: vectors, matrices and the dot product.

A neural network layer is nothing more than a matrix product followed by a
simple function. Before any theory, get fluent with the one operation
everything is made of: the dot product.

    dot(u, v) = u[0]*v[0] + u[1]*v[1] + ... + u[n-1]*v[n-1]

It measures how much two vectors point the same way: divided by both lengths
it is the cosine of the angle between them (1 = same direction, 0 =
orthogonal, -1 = opposite). A dense layer computes one dot product per
(input row, output unit) pair, which is exactly the matrix product X @ W.

Shapes are the grammar of deep learning: a batch X of n inputs with d_in
features is (n, d_in); the weights W are (d_in, d_out); the bias b is
(d_out,) and is *broadcast* over the n rows. Check every shape before you
compute anything, and say clearly what is wrong when they do not fit.

Run the tests:  python -m pytest -q tests/test_vectors.py
Check it:       dlpath check -m vectors      (stuck? dlpath hint vectors)
"""

from __future__ import annotations

import numpy as np


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """The dot product of two 1-D vectors of the same length, as a float.

    Write it from its definition: multiply element by element, then sum.
    Rule (the tests check it): no np.dot, np.inner, np.vdot, np.matmul,
    np.einsum, np.tensordot or @, here or in a helper you call: the point is
    to see what they do. Raise ValueError when the lengths differ.
    """
    ### BEGIN SOLUTION: the dot product from its definition (test: tests/test_vectors.py)
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if u.ndim != 1 or v.ndim != 1 or u.shape != v.shape:
        raise ValueError(f"dot needs two 1-D vectors of the same length, got {u.shape} "
                         f"and {v.shape}")
    return float((u * v).sum())
    ### END SOLUTION


def cosine_similarity(u: np.ndarray, v: np.ndarray) -> float:
    """cos(angle between u and v) = dot(u, v) / (|u| |v|), where |u| = sqrt(dot(u, u)).

    Raise ValueError if either vector has length zero (the angle is undefined).
    """
    ### BEGIN SOLUTION: cosine similarity (test: tests/test_vectors.py)
    norms = np.sqrt(dot(u, u)) * np.sqrt(dot(v, v))
    if norms == 0:
        raise ValueError("the angle with a zero-length vector is undefined")
    return dot(u, v) / norms
    ### END SOLUTION


def project(u: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """The vector projection of u onto the direction of `onto`: the multiple
    of `onto` closest to u. What is left, u - project(u, onto), is orthogonal
    to `onto` (its dot product with `onto` is 0)."""
    ### BEGIN SOLUTION: vector projection (test: tests/test_vectors.py)
    return dot(u, onto) / dot(onto, onto) * np.asarray(onto, dtype=float)
    ### END SOLUTION


def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A dense (fully connected) layer without activation: x @ w + b.

    x is (n, d_in), w is (d_in, d_out), b is (d_out,); the result is (n, d_out).
    Raise ValueError naming the shapes when they do not fit together (for
    example "x is (4, 3) but w is (2, 5)").
    """
    ### BEGIN SOLUTION: a dense layer with shape checks (test: tests/test_vectors.py)
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x is {x.shape} but w is {w.shape}: x must be (n, d_in) and w "
                         "(d_in, d_out)")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b is {b.shape} but w is {w.shape}: b must be (d_out,)")
    return x @ w + b
    ### END SOLUTION
