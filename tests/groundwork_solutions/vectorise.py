"""Reference solution: exercises/vectorise.py."""

from __future__ import annotations

import numpy as np


def pairwise_distances_loop(a, b):
    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = np.sqrt(np.sum((a[i] - b[j]) ** 2))
    return out


def pairwise_distances(a, b):
    sq = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2 * a @ b.T
    return np.sqrt(np.clip(sq, 0, None))


def one_hot(labels, num_classes):
    labels = np.asarray(labels)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"labels must lie in [0, {num_classes})")
    return np.eye(num_classes)[labels]


def standardise(x, eps=1e-8):
    return (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + eps)
