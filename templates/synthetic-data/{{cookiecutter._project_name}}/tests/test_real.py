"""The real digits' splits and their lock (real.py): fixed, disjoint, checked."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }} import real


def test_three_disjoint_splits_cover_the_real_digits():
    idx = real.split_indices()
    sizes = {name: len(i) for name, i in idx.items()}
    assert sizes == {"dev": 300, "pool": 600, "test": 897}
    together = np.concatenate(list(idx.values()))
    assert len(np.unique(together)) == 1797
    x, y = real.dev()
    assert x.shape == (300, 1, 8, 8) and np.bincount(y).tolist() == [30] * 10
    assert real.pool()[0].shape == (600, 1, 8, 8)


def test_the_locked_test_split_is_for_the_reporting_stages_only():
    with pytest.raises(real.LockError, match="read only by the baselines and evaluate"):
        real.locked_test()


def test_a_changed_split_is_refused(monkeypatch):
    monkeypatch.setattr(real, "DEV_PER_CLASS", 31)
    real.split_indices.cache_clear()
    try:
        with pytest.raises(real.LockError, match="checksum differs"):
            real.dev()
    finally:
        real.split_indices.cache_clear()


def test_copies_of_real_digits_are_found():
    x, _ = real.dev()
    half = np.indices((8, 8)).sum(axis=0) % 2 == 0  # every other pixel
    nudged = np.where(half, np.clip(x[:5] + 1 / 16, 0, 1), x[:5])
    assert real.real_copies(np.concatenate([x[:3], nudged]))["dev"] == 8
    assert real.real_copies(np.zeros((2, 1, 8, 8), np.float32)) == {"dev": 0, "pool": 0,
                                                                      "test": 0}
