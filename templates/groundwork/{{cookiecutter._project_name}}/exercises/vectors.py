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
Check it:       dlpath check -m vectors
"""

from __future__ import annotations

import numpy as np


def dot(u: np.ndarray, v: np.ndarray) -> float:
    """The dot product of two 1-D vectors of the same length, as a float.

    Write it from its definition: multiply element by element, then sum
    (no np.dot, np.inner or @ here: the point is to see what they do).
    Raise ValueError when the lengths differ.
    """
    raise NotImplementedError("TODO: multiply u and v element by element and sum")


def cosine_similarity(u: np.ndarray, v: np.ndarray) -> float:
    """cos(angle between u and v) = dot(u, v) / (|u| |v|), where |u| = sqrt(dot(u, u)).

    Raise ValueError if either vector has length zero (the angle is undefined).
    """
    raise NotImplementedError("TODO: dot product divided by the two norms")


def project(u: np.ndarray, onto: np.ndarray) -> np.ndarray:
    """The vector projection of u onto the direction of `onto`:

        (dot(u, onto) / dot(onto, onto)) * onto

    What is left, u - project(u, onto), is orthogonal to `onto`.
    """
    raise NotImplementedError("TODO: scale `onto` by dot(u, onto) / dot(onto, onto)")


def dense(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
    """A dense (fully connected) layer without activation: x @ w + b.

    x is (n, d_in), w is (d_in, d_out), b is (d_out,); the result is (n, d_out).
    Raise ValueError naming the shapes when they do not fit together (for
    example "x is (4, 3) but w is (2, 5)").
    """
    raise NotImplementedError("TODO: check the shapes, then x @ w + b")
