"""Exercise 9: momentum and Adam on an ill-conditioned bowl.

Exercise 8 showed plain gradient descent zig-zagging down a narrow valley:
the learning rate has to suit the steepest direction, so progress along the
flat one crawls. Two fixes power almost every network trained today.

Momentum (Polyak, 1964) keeps a velocity: a running sum of past gradients
that decays by a factor beta at every step, and moves along it. Gradients
that keep pointing the same way (along the valley) add up; gradients that
flip sign (across the valley) cancel out. In PyTorch's convention:

    v <- beta * v + gradient          (v starts at 0)
    w <- w - lr * v

Adam (Kingma & Ba, 2015) keeps two running averages per coordinate: of the
gradient (the first moment, m, with factor beta1) and of its square (the
second moment, s, with factor beta2); each is an average, so the new
gradient enters with weight (1 - beta). It steps along m divided by the
square root of s, so every coordinate moves at a similar speed whatever
the scale of its gradient. Both averages start at 0, which biases them
towards 0 in the first steps: divide each by (1 - beta ** t), t the number
of steps taken so far, counting this one, before using it. eps is added to
the square root of s, never inside it. These are the conventions of the
paper's Algorithm 1 and of torch.optim.Adam: the tests compare your
optimisers with PyTorch's, step by step.

Both optimisers work on a dict of parameters (name -> array) and a dict of
gradients with the same names and shapes, like torch.optim: `step` updates
the arrays of `params` in place (`params[name] -= ...`) and keeps its state
(v, m, s, t) between calls. The network of exercise 11 trains with them.

The `optimisers` stage (`dvc repro`) runs gradient descent, momentum and
Adam on a bowl whose condition number is set in params.yaml and plots each
path: plots/optimisers/*.png.

Run the tests:  python -m pytest -q tests/test_optimisers.py
Check it:       dlpath check -m optimisers      (stuck? dlpath hint optimisers)
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


class SGD:
    """Plain gradient descent, for comparison (given)."""

    def __init__(self, lr: float):
        self.lr = lr

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, grad in grads.items():
            params[name] -= self.lr * grad


class Momentum:
    """Gradient descent with momentum (PyTorch's SGD with momentum=beta)."""

    def __init__(self, lr: float, beta: float = 0.9):
        self.lr, self.beta = lr, beta
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        ### BEGIN SOLUTION: momentum (test: tests/test_optimisers.py)
        for name, grad in grads.items():
            v = self.beta * self.velocity.get(name, 0.0) + grad
            self.velocity[name] = v
            params[name] -= self.lr * v
        ### END SOLUTION


class Adam:
    """Adam with bias correction (torch.optim.Adam's defaults)."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999,
                 eps: float = 1e-8):
        self.lr, self.beta1, self.beta2, self.eps = lr, beta1, beta2, eps
        self.t = 0
        self.m: dict[str, np.ndarray] = {}
        self.s: dict[str, np.ndarray] = {}

    def step(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        ### BEGIN SOLUTION: Adam (test: tests/test_optimisers.py)
        self.t += 1
        for name, grad in grads.items():
            m = self.beta1 * self.m.get(name, 0.0) + (1 - self.beta1) * grad
            s = self.beta2 * self.s.get(name, 0.0) + (1 - self.beta2) * grad * grad
            self.m[name], self.s[name] = m, s
            m_hat = m / (1 - self.beta1 ** self.t)
            s_hat = s / (1 - self.beta2 ** self.t)
            params[name] -= self.lr * m_hat / (np.sqrt(s_hat) + self.eps)
        ### END SOLUTION


def run(optimiser, w0: np.ndarray, gradient: Callable[[np.ndarray], np.ndarray],
        steps: int) -> np.ndarray:
    """The path (steps + 1, len(w0)) of `optimiser` from w0 (given)."""
    params = {"w": np.array(w0, dtype=float)}
    path = [params["w"].copy()]
    for _ in range(steps):
        optimiser.step(params, {"w": gradient(params["w"])})
        path.append(params["w"].copy())
    return np.array(path)
