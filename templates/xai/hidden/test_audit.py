"""Hidden tests of marker_share() and remove_shortcut() (kept inside dlpath;
run by `dlpath check`), on inputs drawn from a seed chosen at run time."""

import importlib
import json
import secrets
from pathlib import Path

import numpy as np
import pytest

SEED = secrets.randbelow(2**31)
PACKAGE = json.loads(Path(".dlpath/project.json").read_text(encoding="utf-8"))["package"]
audit = importlib.import_module(f"{PACKAGE}.audit")


def marks(label):
    """dlpath's own copy of where each class's scanner mark sits."""
    column = 0 if label < 5 else 7
    return [(label % 5 + 1, column), (label % 5 + 2, column)]


def all_marks():
    mask = np.zeros((8, 8), dtype=bool)
    for c in range(10):
        for r, col in marks(c):
            mask[r, col] = True
    return mask


@pytest.mark.parametrize("k", range(4))
def test_marker_share_matches_a_reference_on_random_maps(k):
    rng = np.random.default_rng(SEED + k)
    n, h, w = (int(v) for v in rng.integers(1, 9, size=3))
    a = rng.normal(size=(n, 1, h, w)) * rng.random((n, 1, 1, 1))
    a[rng.random(n) < 0.3] = 0.0  # some empty maps
    per_example = k % 2 == 1
    mask = rng.random((n, h, w) if per_example else (h, w)) < 0.3
    full = np.broadcast_to(mask, (n, h, w))
    total = np.abs(a).reshape(n, -1).sum(1)
    on = (np.abs(a)[:, 0] * full).reshape(n, -1).sum(1)
    expected = np.where(total > 0, on / np.where(total > 0, total, 1), 0.0)
    got = np.asarray(audit.marker_share(a, mask), dtype=float)
    assert got.shape == (n,) and np.isfinite(got).all()
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(audit.marker_share(a[:, 0], mask), expected, rtol=1e-6, atol=1e-9)


def digits_with_marks(rng, n):
    from sklearn.datasets import load_digits

    bunch = load_digits()
    pick = rng.permutation(len(bunch.target))[:n]
    x = (bunch.images[pick] / 16.0).astype(np.float32)[:, None]
    y = bunch.target[pick].astype(np.int64)
    rate = rng.uniform(0.8, 1.0)
    for i in np.flatnonzero(rng.random(n) < rate):
        for r, col in marks(int(y[i])):
            x[i, 0, r, col] = 1.0
    return x, y


def link(x, y):
    """For each class c: P(c's mark | label c) - P(c's mark | another label); the largest."""
    worst = 0.0
    for c in range(10):
        present = np.array([all(img[0, r, col] >= 0.99 for r, col in marks(c)) for img in x])
        if (y == c).any() and (y != c).any():
            worst = max(worst, present[y == c].mean() - present[y != c].mean())
    return worst


def test_remove_shortcut_breaks_every_classs_link_and_keeps_the_digits():
    rng = np.random.default_rng(SEED + 100)
    x, y = digits_with_marks(rng, int(rng.integers(300, 600)))
    before_x, before_y = x.copy(), y.copy()
    assert link(x, y) > 0.7
    cleaned, labels = audit.remove_shortcut(x, y)
    cleaned, labels = np.asarray(cleaned), np.asarray(labels)
    assert np.array_equal(x, before_x) and np.array_equal(y, before_y), "inputs changed"
    assert cleaned.shape[1:] == x.shape[1:] and len(cleaned) == len(labels)
    assert len(labels) >= 0.9 * len(y)
    assert link(cleaned, labels) <= 0.1
    if len(labels) == len(y):
        assert np.array_equal(labels, y)
        outside = ~all_marks()
        assert np.array_equal(cleaned[..., outside], x[..., outside])
