"""Auditing a model with its explanations, written by you.

The `train_biased` model learned from the digits *as collected*, where each
class carries a scanner mark (markers.py). Its validation accuracy is
excellent. Is it reading the digit, or the mark? Two questions, two
functions:

1. ``marker_share``: how much of an explanation falls on the mark? Compare
   it with how much of the *image* is the mark (its share of the ink): an
   explanation that follows the model puts far more weight there than the
   ink does when the model relies on it.
2. ``remove_shortcut``: give the model a training set in which the mark no
   longer predicts the label, retrain (the `shortcut` stage does), and check
   that the share drops and accuracy on clean digits rises.
"""

from __future__ import annotations

import numpy as np


def marker_share(attributions: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The share of each example's attribution mass that lies on ``mask``.

    attributions: (N, 1, H, W) or (N, H, W), signed; mask: a boolean array
    of one image's shape (H, W) or one per example (N, H, W).

    Returns (N,) values in [0, 1]: the absolute attributions on the mask over
    the absolute attributions of the whole image; 0.0 for an example whose
    attributions are all zero (nothing to share out), never NaN.
    """
    ### BEGIN SOLUTION: the share of an explanation on the marker (test: tests/test_audit.py)
    a = np.abs(np.asarray(attributions, dtype=np.float64))
    n = len(a)
    mask = np.asarray(mask, dtype=bool)
    m = np.broadcast_to(mask, (n, *mask.shape[-2:])).reshape(n, -1)
    a = a.reshape(n, -1)
    on_mask = (a * m).sum(axis=1)
    total = a.sum(axis=1)
    return np.divide(on_mask, total, out=np.zeros_like(total), where=total > 0)
    ### END SOLUTION


def remove_shortcut(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A training set, made from ``x`` (N, 1, 8, 8) and labels ``y`` (N,), in
    which the scanner marks no longer tell the label.

    Keep the digits: the pixels outside the margins where the marks sit must
    not change, and keep (nearly) every example, with its label. Which pixels
    to change, and how, is your call: look at where the biased model's
    explanations fall (figures/shortcut.png), and at markers.py.

    Returns (x, y), new arrays (the inputs are left unchanged).
    """
    ### BEGIN SOLUTION: remove the shortcut from the training data (test: tests/test_audit.py)
    from .markers import marker_mask

    cleaned = np.array(x, copy=True)
    cleaned[..., marker_mask()] = 0.0
    return cleaned, np.array(y, copy=True)
    ### END SOLUTION
