"""Tests of the shared plumbing: they run in seconds, without the pipeline."""

import numpy as np
import torch
from torch import nn

from {{ cookiecutter._package_name }} import common, data


def test_pick_device_matches_cuda_availability():
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert common.pick_device().type == expected


def test_seed_makes_runs_repeatable():
    common.set_seed(3)
    first = torch.randn(5)
    common.set_seed(3)
    assert torch.equal(first, torch.randn(5))


def test_split_round_trip(tmp_path):
    x, y = data.digits()
    assert x.shape == (1797, 1, 8, 8) and 0.0 <= x.min() and x.max() <= 1.0
    (xtr, ytr), (xva, yva), (xte, yte) = data.split(x, y, val=0.2, test=0.2, seed=0)
    assert len(xtr) + len(xva) + len(xte) == len(x)
    common.save_split(tmp_path / "s.npz", xte, yte)
    loaded = common.load_split(tmp_path / "s.npz")
    np.testing.assert_array_equal(loaded["y"], yte)


def test_training_loop_learns_a_separable_problem():
    common.set_seed(0)
    x = np.random.default_rng(0).normal(size=(256, 4)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    dist = common.init_distributed()
    model, history = common.train_classifier(
        nn.Linear(4, 2), common.tensors(x, y), common.tensors(x, y),
        epochs=20, lr=0.05, batch_size=32, seed=0, dist=dist,
    )
    assert history[-1]["val_acc"] > 0.95
    assert history[-1]["train_loss"] < history[0]["train_loss"]
