"""Hidden tests of contrastive.py (kept inside dlpath; run by `dlpath check`).

Random shapes and seeds drawn at run time, compared with independent
computations; a failure says what property broke, never an expected value."""

import importlib
import json
import math
import secrets
from pathlib import Path

import numpy as np
import pytest
import torch

PKG = json.loads(Path(".dlpath/project.json").read_text(encoding="utf-8"))["package"]
contrastive = importlib.import_module(f"{PKG}.contrastive")
SEED = secrets.randbelow(2**31)


def rng(k):
    return np.random.default_rng([SEED, k])


def reference_hits(similarity, relevant, k):
    hits = []
    for row, rel in zip(similarity, relevant, strict=True):
        if not rel.any():
            hits.append(False)
            continue
        best = row[rel].max()
        hits.append(int((row > best).sum()) < k)
    return np.asarray(hits)


@pytest.mark.parametrize("case", range(8))
def test_hits_at_k_on_random_rankings(case):
    r = rng(case)
    queries, gallery = int(r.integers(1, 40)), int(r.integers(1, 60))
    similarity = r.standard_normal((queries, gallery)).astype(r.choice([np.float32, np.float64]))
    relevant = r.random((queries, gallery)) < r.choice([0.02, 0.1, 0.4])
    k = int(r.integers(1, gallery + 1))
    got = np.asarray(contrastive.hits_at_k(similarity, relevant, k))
    assert got.shape == (queries,), "one answer per query (row)"
    assert got.dtype == bool, "a boolean per query"
    assert (got == reference_hits(similarity, relevant, k)).all(), \
        "hits differ from the top-k of each row"


def reference_loss(img, txt, logit_scale):
    img, txt = img.double(), txt.double()
    scale = min(math.exp(float(logit_scale)), 100.0)
    logits = scale * img @ txt.T
    n = len(logits)
    rows = sum(torch.logsumexp(logits[i], 0) - logits[i, i] for i in range(n)) / n
    cols = sum(torch.logsumexp(logits[:, j], 0) - logits[j, j] for j in range(n)) / n
    return (rows + cols) / 2


def unit(x):
    return torch.nn.functional.normalize(x, dim=1)


@pytest.mark.parametrize("case", range(6))
def test_info_nce_on_random_batches(case):
    r = rng(100 + case)
    gen = torch.Generator().manual_seed(int(r.integers(2**31)))
    n, d = int(r.integers(2, 40)), int(r.integers(2, 24))
    img, txt = unit(torch.randn(n, d, generator=gen)), unit(torch.randn(n, d, generator=gen))
    txt = unit(txt + float(r.uniform(0, 3)) * img)  # some batches nearly matched
    logit_scale = torch.tensor(float(r.uniform(-1.0, 6.0)))
    got = contrastive.info_nce(img, txt, logit_scale)
    assert got.dim() == 0, "the loss is one number"
    assert abs(float(got) - float(reference_loss(img, txt, logit_scale))) < 1e-4, \
        "the loss differs from the mean of the two directions' cross-entropies"
    assert abs(float(got) - float(contrastive.info_nce(txt, img, logit_scale))) < 1e-5, \
        "swapping images and texts changes the loss: both directions count"


@pytest.mark.parametrize("case", range(4))
def test_the_gradient_reaches_the_temperature(case):
    r = rng(200 + case)
    gen = torch.Generator().manual_seed(int(r.integers(2**31)))
    n, d = int(r.integers(2, 20)), int(r.integers(2, 16))
    img, txt = unit(torch.randn(n, d, generator=gen)), unit(torch.randn(n, d, generator=gen))
    value = float(r.uniform(-1.0, 4.0))  # below the cap
    mine = torch.tensor(value, requires_grad=True)
    contrastive.info_nce(img, txt, mine).backward()
    theirs = torch.tensor(value, dtype=torch.float64, requires_grad=True)
    scale = theirs.exp()
    logits = scale * img.double() @ txt.double().T
    target = torch.arange(n)
    ((torch.nn.functional.cross_entropy(logits, target)
      + torch.nn.functional.cross_entropy(logits.T, target)) / 2).backward()
    assert mine.grad is not None, "no gradient reaches logit_scale"
    assert abs(float(mine.grad) - float(theirs.grad)) < 1e-4, \
        "the gradient with respect to logit_scale is wrong"
    capped = torch.tensor(math.log(100.0) + float(r.uniform(0.1, 3.0)), requires_grad=True)
    contrastive.info_nce(img, txt, capped).backward()
    assert capped.grad is not None and abs(float(capped.grad)) < 1e-7, \
        "past the cap, the temperature must stop changing"
