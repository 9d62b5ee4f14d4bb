"""Reference solution: exercises/vectors.py."""

from __future__ import annotations

import numpy as np


def dot(u, v):
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if u.shape != v.shape or u.ndim != 1:
        raise ValueError(f"dot needs two vectors of the same length, got {u.shape} and {v.shape}")
    return float(np.sum(u * v))


def cosine_similarity(u, v):
    nu, nv = np.sqrt(dot(u, u)), np.sqrt(dot(v, v))
    if nu == 0 or nv == 0:
        raise ValueError("the cosine of a zero vector is undefined")
    return dot(u, v) / (nu * nv)


def project(u, onto):
    onto = np.asarray(onto, dtype=float)
    return dot(u, onto) / dot(onto, onto) * onto


def dense(x, w, b):
    if x.ndim != 2 or w.ndim != 2 or x.shape[1] != w.shape[0]:
        raise ValueError(f"x is {x.shape} but w is {w.shape}")
    if b.shape != (w.shape[1],):
        raise ValueError(f"b is {b.shape} but w is {w.shape}")
    return x @ w + b
