"""Your fusion (fusion.py): attention first, then the model.

Run: python -m pytest -q tests/test_fusion.py
"""

import math

import numpy as np
import torch

from {{ cookiecutter._package_name }}.fusion import BindingFusion, attend
from {{ cookiecutter._package_name }}.world import ANSWERS, HELD_OUT, make_dataset

CFG = {"cell": 8, "colour_dim": 8, "shape_dim": 12, "hidden": 16, "embed": 8, "dim": 16}


def batch(n=12, seed=0):
    data = make_dataset(n, np.random.default_rng(seed), cell=8, noise=0.03, colour_jitter=25,
                        mix={"colour": 1, "shape": 1, "count": 1}, held_out=HELD_OUT)
    return (torch.as_tensor(data["x"], dtype=torch.float32),
            torch.as_tensor(data["questions"], dtype=torch.float32),
            torch.as_tensor(data["y"]))


# --------------------------------------------------------------- attend


def test_attend_shapes_and_weights():
    query, keys, values = torch.randn(2, 3, 4), torch.randn(2, 5, 4), torch.randn(2, 5, 7)
    out, weights = attend(query, keys, values)
    assert out.shape == (2, 3, 7) and weights.shape == (2, 3, 5)
    assert (weights >= 0).all()
    torch.testing.assert_close(weights.sum(dim=-1), torch.ones(2, 3))


def test_attend_on_a_small_example():
    query = torch.tensor([[[2.0, 0.0]]])
    keys = torch.tensor([[[1.0, 0.0], [0.0, 1.0]]])
    values = torch.tensor([[[10.0], [20.0]]])
    out, weights = attend(query, keys, values)
    first = 1 / (1 + math.exp(-2 / math.sqrt(2)))  # the scores are 2/sqrt(2) and 0
    torch.testing.assert_close(weights, torch.tensor([[[first, 1 - first]]]))
    torch.testing.assert_close(out, torch.tensor([[[10 * first + 20 * (1 - first)]]]))


def test_a_query_that_matches_one_key_reads_its_value():
    keys = torch.eye(4)[None] * 30
    values = torch.arange(4.0).reshape(1, 4, 1)
    out, _ = attend(keys[:, 2:3], keys, values)
    assert abs(float(out) - 2.0) < 1e-3


# --------------------------------------------------------- BindingFusion


def test_one_logit_per_answer():
    images, questions, _ = batch()
    out = BindingFusion(CFG)(images, questions)
    assert out.shape == (12, len(ANSWERS)) and torch.isfinite(out).all()


def test_the_answer_depends_on_the_image_and_on_the_question():
    torch.manual_seed(0)
    model = BindingFusion(CFG).eval()
    images, questions, _ = batch()
    out = model(images, questions)
    assert not torch.allclose(out, model(images.roll(1, dims=0), questions))
    assert not torch.allclose(out, model(images, questions.roll(1, dims=0)))


def centred(z):
    return z - z.mean(dim=1, keepdim=True)


def test_the_question_and_the_image_interact():
    """A decision-level fusion scores image and question separately and adds
    the scores: swapping questions between two images then changes nothing
    that the sum of the two pairs can see. A fusion that binds is not a sum."""
    torch.manual_seed(0)
    model = BindingFusion(CFG).eval()
    images, questions, _ = batch()
    i1, i2, q1, q2 = images[:6], images[6:], questions[:6], questions[6:]
    with torch.no_grad():
        gap = (centred(model(i1, q1)) + centred(model(i2, q2))
               - centred(model(i1, q2)) - centred(model(i2, q1)))
    assert gap.abs().max() > 1e-4


def test_every_parameter_learns():
    """Every parameter gets a gradient from a batch with every kind of
    question (DistributedDataParallel, which `train` uses under torchrun,
    stops on parameters that never get one)."""
    images, questions, answers = batch(30)
    model = BindingFusion(CFG)
    torch.nn.functional.cross_entropy(model(images, questions), answers).backward()
    idle = [name for name, p in model.named_parameters() if p.grad is None]
    assert not idle, idle
