"""Hidden tests of curate.py (kept inside dlpath; run by `dlpath check`).

Data drawn at run time: groups of near duplicates compared with a brute-force
greedy pass; flipped labels in rendered digits and in random clusters.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from _project import module  # noqa: E402

curate = module("curate")
module("parallel").limit_threads(1)  # small models train fastest on one thread
RNG = np.random.default_rng()


def reference_near_duplicates(x: np.ndarray, radius: float) -> np.ndarray:
    flat = x.reshape(len(x), -1).astype(float)
    dist = np.sqrt(((flat[:, None] - flat[None]) ** 2).sum(-1))
    drop = np.zeros(len(x), bool)
    kept: list[int] = []
    for i in range(len(x)):
        if any(dist[i, k] < radius for k in kept):
            drop[i] = True
        else:
            kept.append(i)
    return drop


@pytest.mark.parametrize("trial", range(4))
def test_near_duplicates_match_a_brute_force_greedy_pass(trial):
    radius = float(RNG.uniform(0.2, 0.6))
    centres = RNG.random((int(RNG.integers(20, 60)), 64)) * 3  # far apart
    members = RNG.integers(0, len(centres), int(RNG.integers(80, 200)))
    # Either clearly inside the radius or clearly outside it.
    offsets = RNG.normal(0, 1, (len(members), 64))
    offsets *= (RNG.choice([0.0, 0.3, 2.5], len(members)) * radius
                / np.linalg.norm(offsets, axis=1))[:, None]
    x = (centres[members] + offsets).astype(np.float32).reshape(-1, 1, 8, 8)
    got = curate.near_duplicates(x, radius)
    assert got.shape == (len(x),) and got.dtype == bool
    np.testing.assert_array_equal(got, reference_near_duplicates(x, radius))


def test_suspects_find_flipped_labels_in_random_clusters():
    centres = RNG.random((10, 64)) * 2
    y_true = np.repeat(np.arange(10), int(RNG.integers(40, 80)))
    x = centres[y_true] + RNG.normal(0, RNG.uniform(0.2, 0.4), (len(y_true), 64))
    y = y_true.copy()
    wrong = RNG.random(len(y)) < RNG.uniform(0.05, 0.15)
    y[wrong] = (y[wrong] + RNG.integers(1, 10, wrong.sum())) % 10
    flagged = curate.suspects(x.astype(np.float32).reshape(-1, 1, 8, 8), y, 5,
                              int(RNG.integers(1000)))
    quality = curate.flag_quality(flagged, wrong)
    assert quality["recall"] >= 0.8 and quality["precision"] >= 0.8


def test_suspects_find_look_alike_labels_in_rendered_digits():
    generate = module("generate")
    cfg = {"styles": {"strokes": 0.9, "fonts": 0.1}, "pen": 7, "jitter": 0.05, "colour": 0.0,
           "factors": {"stroke": 0, "rotation": 0, "shear": 0, "aspect": 0, "elastic": 0}}
    data = generate.render(cfg, 1000, int(RNG.integers(1 << 30)))
    bad = generate.add_defects(data, {"mislabelled": float(RNG.uniform(0.1, 0.2)),
                                      "repeats": 0.0}, int(RNG.integers(1 << 30)))
    wrong = bad["y"] != bad["true_y"]
    quality = curate.flag_quality(curate.suspects(bad["x"], bad["y"], 3, 0), wrong)
    assert quality["recall"] >= 0.6 and quality["precision"] >= 0.6
