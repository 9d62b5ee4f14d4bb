"""The gap diagnostic: can a classifier tell synthetic digits from real ones?

Train a classifier to say "real" or "synthetic" (the digit's class does not
matter) and measure its cross-validated ROC AUC: 1.0 means every synthetic
digit gives itself away, 0.5 means the two are indistinguishable to it. As
the generator gets closer to real handwriting, the AUC falls. It needs only
unlabelled real data, and it says *that* the domains differ, not which
difference costs accuracy (the ablation says that).

The judge is a 10-nearest-neighbours vote: it asks whether a digit's closest
look-alikes are real or synthetic, which catches a generator that covers too
little of the real variety (its digits crowd together). A linear classifier
only sees average pixel differences (how much ink, and where) and hardly
moves as the generator improves.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.neighbors import KNeighborsClassifier


def domain_auc(synthetic: np.ndarray, real: np.ndarray, seed: int, repeats: int = 3) -> float:
    """Cross-validated AUC of a real-vs-synthetic classifier, averaged over
    ``repeats`` samples of as many synthetic digits as there are real ones."""
    rng = np.random.default_rng(seed)
    real = real.reshape(len(real), -1)
    synthetic = synthetic.reshape(len(synthetic), -1)
    aucs = []
    for r in range(repeats):
        pick = rng.choice(len(synthetic), min(len(real), len(synthetic)), replace=False)
        x = np.concatenate([real, synthetic[pick]])
        y = np.r_[np.ones(len(real)), np.zeros(len(pick))]
        judge = KNeighborsClassifier(10)
        cv = StratifiedKFold(5, shuffle=True, random_state=seed + r)
        score = cross_val_predict(judge, x, y, cv=cv, method="predict_proba")[:, 1]
        aucs.append(roc_auc_score(y, score))
    return float(np.mean(aucs))

