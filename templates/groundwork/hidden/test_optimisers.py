"""Hidden tests of exercise 9 (kept inside dlpath; run by `dlpath check`).

Step by step against torch.optim (float64) on random parameters, random
gradients and random hyperparameters.
"""

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng  # noqa: E402

from exercises import optimisers  # noqa: E402

CASES = range(5)


def _compare(ours, make_theirs, r, steps):
    shapes = {f"p{i}": tuple(int(s) for s in r.integers(1, 5, size=int(r.integers(1, 3))))
              for i in range(int(r.integers(1, 4)))}
    params = {name: r.normal(size=shape) for name, shape in shapes.items()}
    tensors = {name: torch.tensor(value.copy(), requires_grad=True)
               for name, value in params.items()}
    theirs = make_theirs(list(tensors.values()))
    for _ in range(steps):
        grads = {name: r.normal(size=shape) * r.choice([0.01, 1.0, 30.0])
                 for name, shape in shapes.items()}
        ours.step(params, grads)
        for name, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[name])
        theirs.step()
        for name, tensor in tensors.items():
            np.testing.assert_allclose(params[name], tensor.detach().numpy(), rtol=1e-9,
                                       atol=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_momentum_matches_torch_sgd_with_momentum(case):
    r = rng(90, case)
    lr, beta = float(r.uniform(0.001, 0.5)), float(r.uniform(0.0, 0.99))
    _compare(optimisers.Momentum(lr=lr, beta=beta),
             lambda ps: torch.optim.SGD(ps, lr=lr, momentum=beta), r, int(r.integers(2, 12)))


@pytest.mark.parametrize("case", CASES)
def test_adam_matches_torch_adam(case):
    r = rng(91, case)
    lr = float(r.uniform(0.0005, 0.5))
    betas = (float(r.uniform(0.5, 0.95)), float(r.uniform(0.9, 0.9999)))
    eps = float(r.choice([1e-8, 1e-6, 1e-3]))
    _compare(optimisers.Adam(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps),
             lambda ps: torch.optim.Adam(ps, lr=lr, betas=betas, eps=eps), r,
             int(r.integers(2, 12)))
