"""Exercise 3: a numerically stable softmax, and cross-entropy.

Softmax turns a vector of scores (logits) into probabilities:

    softmax(z)_i = exp(z_i) / sum_j exp(z_j)

Cross-entropy comes from information theory. If an event has probability p,
observing it carries -log p units of *surprise*. The cross-entropy of the
true labels under the model is the average surprise the model feels when it
sees the right answers:

    H = mean over examples of -log softmax(z)[true class]

A perfect, confident model is never surprised (H = 0); a model that spreads
probability evenly over k classes pays log k per example. Minimising H is
maximising the likelihood of the data.

The numerical trap: exp(1000) overflows to inf, and inf / inf is nan; a
probability that underflows to 0 has log -inf. Softmax does not change when
the same constant is added to every logit of a row: find the constant that
makes overflow impossible, and compute log-probabilities without ever taking
the log of a probability.

All functions work on the last axis, so they accept one vector (k,) or a
batch (n, k).

Run the tests:  python -m pytest -q tests/test_softmax.py
Check it:       dlpath check -m softmax      (stuck? dlpath hint softmax)
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis; finite even for logits like 1000 or -1000."""
    ### BEGIN SOLUTION: a stable softmax (test: tests/test_softmax.py)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)
    ### END SOLUTION


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log(softmax(z)), accurate where softmax(z) underflows to 0 (-1000 stays -1000)."""
    ### BEGIN SOLUTION: log-softmax with the log-sum-exp trick (test: tests/test_softmax.py)
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    ### END SOLUTION


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of integer labels (n,) under logits (n, k), as a float."""
    ### BEGIN SOLUTION: cross-entropy (test: tests/test_softmax.py)
    logp = log_softmax(logits)
    return float(-logp[np.arange(len(labels)), labels].mean())
    ### END SOLUTION
