"""Your retrieval pieces (contrastive.py): recall@k, then the InfoNCE loss.

Run: python -m pytest -q tests/test_contrastive.py
"""

import math

import numpy as np
import torch

from {{ cookiecutter._package_name }}.contrastive import MAX_SCALE, hits_at_k, info_nce


def test_hits_at_k_on_a_small_example():
    similarity = np.array([[0.1, 0.9, 0.0], [0.2, 0.1, 0.7], [0.0, 0.3, 0.8]])
    relevant = np.eye(3, dtype=bool)
    # Row 0 ranks column 1 first, row 1 column 2, row 2 its own column.
    assert hits_at_k(similarity, relevant, 1).tolist() == [False, False, True]
    assert hits_at_k(similarity, relevant, 2).tolist() == [True, False, True]
    assert hits_at_k(similarity, relevant, 3).all()


def test_identical_captions_count_as_hits():
    similarity = np.array([[0.1, 0.9, 0.0], [0.2, 0.1, 0.7], [0.0, 0.3, 0.8]])
    relevant = np.eye(3, dtype=bool)
    relevant[0, 1] = relevant[1, 0] = True  # captions 0 and 1 read the same
    assert hits_at_k(similarity, relevant, 1).tolist() == [True, False, True]


def test_a_query_without_a_relevant_item_never_hits():
    similarity = np.random.default_rng(0).random((4, 6))
    relevant = np.zeros((4, 6), dtype=bool)
    relevant[1, 2] = True
    assert hits_at_k(similarity, relevant, 6).tolist() == [False, True, False, False]


def unit(x):
    return torch.nn.functional.normalize(x, dim=1)


def test_info_nce_on_two_pairs():
    img = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    txt = torch.tensor([[1.0, 0.0], [0.6, 0.8]])
    scale = torch.tensor(math.log(2.0))
    # logits 2 * cosine: rows [2, 1.2], [0, 1.6]; columns [2, 0], [1.2, 1.6]
    rows = [math.log1p(math.exp(1.2 - 2)), math.log1p(math.exp(0 - 1.6))]
    cols = [math.log1p(math.exp(0 - 2)), math.log1p(math.exp(1.2 - 1.6))]
    expected = (sum(rows) / 2 + sum(cols) / 2) / 2
    assert abs(float(info_nce(img, txt, scale)) - expected) < 1e-5


def test_info_nce_is_symmetric_and_prefers_matching_pairs():
    torch.manual_seed(0)
    a, b = unit(torch.randn(8, 16)), unit(torch.randn(8, 16))
    scale = torch.tensor(2.0)
    torch.testing.assert_close(info_nce(a, b, scale), info_nce(b, a, scale))
    assert info_nce(a, a, scale) < info_nce(a, a.roll(1, dims=0), scale)


def test_the_temperature_is_learnt_and_capped():
    torch.manual_seed(1)
    a, b = unit(torch.randn(6, 8)), unit(torch.randn(6, 8))
    scale = torch.tensor(1.0, requires_grad=True)
    info_nce(a, a, scale).backward()
    assert scale.grad is not None and float(scale.grad) < 0  # sharper helps matching pairs
    big = torch.tensor(math.log(10 * MAX_SCALE), requires_grad=True)
    capped = info_nce(a, b, big)
    torch.testing.assert_close(capped, info_nce(a, b, torch.tensor(math.log(MAX_SCALE))))
    capped.backward()
    assert float(big.grad) == 0.0
