"""How alike are two explanations? The measures of Adebayo et al. (2018),
"Sanity Checks for Saliency Maps", computed per example and averaged:

* Spearman rank correlation of the signed maps: do the same pixels speak
  for and against the class?
* Spearman rank correlation of the absolute maps: do the same pixels matter,
  whatever the sign? (Heatmaps are often shown this way.)
* SSIM (structural similarity) of the maps scaled to [0, 1]: do the pictures
  *look* alike?

Written with numpy only (scipy and scikit-image give the same numbers but
take seconds to import).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

MEASURES = ("spearman", "spearman_abs", "ssim")


def ranks(values: np.ndarray) -> np.ndarray:
    """Ranks 0..n-1 of ``values``, ties sharing their average rank (as Spearman needs)."""
    order = np.argsort(values, kind="stable")
    positions = np.empty(len(values))
    positions[order] = np.arange(len(values))
    _, groups = np.unique(values, return_inverse=True)
    return (np.bincount(groups, positions) / np.bincount(groups))[groups]


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation: the Pearson correlation of the ranks;
    0.0 when either side is constant."""
    ra, rb = ranks(a) - (len(a) - 1) / 2, ranks(b) - (len(b) - 1) / 2
    denominator = np.sqrt((ra * ra).sum() * (rb * rb).sum())
    return float((ra * rb).sum() / denominator) if denominator else 0.0


def _unit(image: np.ndarray) -> np.ndarray:
    """|image| scaled so that its largest value is 1 (all zeros stay zeros)."""
    image = np.abs(image)
    top = image.max()
    return image / top if top > 0 else image


def ssim(a: np.ndarray, b: np.ndarray, window: int = 3) -> float:
    """Mean structural similarity of two 2-D maps (absolute values scaled to
    [0, 1]) over every ``window`` x ``window`` patch, with the usual constants
    (Wang et al., 2004) for a data range of 1."""
    c1, c2 = 0.01**2, 0.03**2
    pa = sliding_window_view(_unit(a), (window, window))
    pb = sliding_window_view(_unit(b), (window, window))
    ma, mb = pa.mean(axis=(-1, -2)), pb.mean(axis=(-1, -2))
    va, vb = pa.var(axis=(-1, -2)), pb.var(axis=(-1, -2))
    cov = ((pa - ma[..., None, None]) * (pb - mb[..., None, None])).mean(axis=(-1, -2))
    s = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma**2 + mb**2 + c1) * (va + vb + c2))
    return float(s.mean())


def similarity(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    """Each measure, averaged over the examples of two (N, 1, H, W) sets of maps."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    pairs = list(zip(a.reshape(len(a), -1), b.reshape(len(b), -1), strict=True))
    shape = a.shape[-2:]
    return {
        "spearman": float(np.mean([spearman(x, y) for x, y in pairs])),
        "spearman_abs": float(np.mean([spearman(np.abs(x), np.abs(y)) for x, y in pairs])),
        "ssim": float(np.mean([ssim(x.reshape(shape), y.reshape(shape)) for x, y in pairs])),
    }
