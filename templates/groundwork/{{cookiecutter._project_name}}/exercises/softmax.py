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

The numerical trap: exp(1000) overflows to inf, and inf / inf is nan. But
softmax does not change when the same constant is subtracted from every
logit, so subtract the row's maximum first: the largest exponent becomes
exp(0) = 1. For the log, use log-sum-exp:

    log softmax(z)_i = (z_i - m) - log(sum_j exp(z_j - m)),   m = max_j z_j

and never take log(softmax(z)) directly (a probability that underflows to
0 gives -inf).

All functions work on the last axis, so they accept one vector (k,) or a
batch (n, k).

Run the tests:  python -m pytest -q tests/test_softmax.py
Check it:       dlpath check -m softmax
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Probabilities along the last axis; finite even for logits like 1000 or -1000."""
    raise NotImplementedError("TODO: subtract the max along the last axis, exp, normalise")


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log(softmax(z)) computed with the log-sum-exp trick (never log of a softmax)."""
    raise NotImplementedError("TODO: (z - m) - log(sum(exp(z - m)))")


def cross_entropy(logits: np.ndarray, labels: np.ndarray) -> float:
    """Mean cross-entropy of integer labels (n,) under logits (n, k), as a float."""
    raise NotImplementedError("TODO: pick -log_softmax at each true label, average")
