"""Hidden tests of fusion.py (kept inside dlpath; run by `dlpath check`).

Random shapes and seeds drawn at run time, compared with independent
computations; a failure says what property broke, never an expected value."""

import importlib
import json
import secrets
from pathlib import Path

import numpy as np
import pytest
import torch

PKG = json.loads(Path(".dlpath/project.json").read_text(encoding="utf-8"))["package"]
fusion = importlib.import_module(f"{PKG}.fusion")
world = importlib.import_module(f"{PKG}.world")
SEED = secrets.randbelow(2**31)


def rng(k):
    return np.random.default_rng([SEED, k])


def reference_attention(query, keys, values):
    q, k, v = (t.double() for t in (query, keys, values))
    scores = torch.einsum("nqd,nrd->nqr", q, k) / np.sqrt(k.shape[-1])
    weights = torch.exp(scores - scores.amax(dim=-1, keepdim=True))
    weights = weights / weights.sum(dim=-1, keepdim=True)
    return torch.einsum("nqr,nre->nqe", weights, v), weights


@pytest.mark.parametrize("k", range(6))
def test_attend_on_random_batches(k):
    r = rng(k)
    n, q, regions, d, e = (int(r.integers(1, hi)) for hi in (5, 5, 13, 33, 17))
    gen = torch.Generator().manual_seed(int(r.integers(2**31)))
    scale = float(r.choice([0.3, 1.0, 4.0]))
    query = scale * torch.randn(n, q, d, generator=gen)
    keys = torch.randn(n, regions, d, generator=gen)
    values = torch.randn(n, regions, e, generator=gen)
    out, weights = fusion.attend(query, keys, values)
    want_out, want_weights = reference_attention(query, keys, values)
    assert tuple(out.shape) == (n, q, e) and tuple(weights.shape) == (n, q, regions), \
        "attend returns (N, Q, e) outputs and (N, Q, R) weights"
    assert torch.allclose(weights.double(), want_weights, atol=1e-5), \
        "the weights are not the softmax over the keys of the scaled dot products"
    assert torch.allclose(out.double(), want_out, atol=1e-4), \
        "the output is not the weighted sum of the values"
    sdpa = torch.nn.functional.scaled_dot_product_attention(query, keys, values)
    assert torch.allclose(out, sdpa, atol=1e-4), "attend disagrees with PyTorch's attention"


def test_attend_passes_gradients_to_query_keys_and_values():
    gen = torch.Generator().manual_seed(SEED)
    tensors = [torch.randn(2, 3, 4, generator=gen, requires_grad=True),
               torch.randn(2, 5, 4, generator=gen, requires_grad=True),
               torch.randn(2, 5, 6, generator=gen, requires_grad=True)]
    fusion.attend(*tensors)[0].square().sum().backward()
    copies = [t.detach().double().requires_grad_() for t in tensors]
    reference_attention(*copies)[0].square().sum().backward()
    for mine, want in zip(tensors, copies, strict=True):
        assert mine.grad is not None, "a gradient does not reach every input"
        assert torch.allclose(mine.grad.double(), want.grad, atol=1e-4), \
            "the gradients differ from those of scaled dot-product attention"


def config(r):
    return {"cell": 8, "colour_dim": int(r.integers(3, 17)), "shape_dim": int(r.integers(3, 33)),
            "hidden": int(r.integers(8, 65)), "embed": int(r.integers(2, 17)),
            "dim": int(r.integers(8, 65))}


def batch(r, n):
    data = world.make_dataset(n, r, cell=8, noise=0.03, colour_jitter=25,
                              mix={"colour": 1, "shape": 1, "count": 1},
                              held_out=world.HELD_OUT, combos="any")
    return (torch.as_tensor(data["x"], dtype=torch.float32),
            torch.as_tensor(data["questions"], dtype=torch.float32),
            torch.as_tensor(data["y"]))


@pytest.mark.parametrize("k", range(3))
def test_the_model_follows_its_config_and_answers_each_example_on_its_own(k):
    r = rng(100 + k)
    torch.manual_seed(int(r.integers(2**31)))
    model = fusion.BindingFusion(config(r)).eval()
    images, questions, _ = batch(r, 9)
    with torch.no_grad():
        out = model(images, questions)
        assert tuple(out.shape) == (9, len(world.ANSWERS)) and torch.isfinite(out).all(), \
            "one finite logit per answer and example"
        alone = torch.cat([model(images[i:i + 1], questions[i:i + 1]) for i in range(9)])
    assert torch.allclose(out, alone, atol=1e-4), \
        "an answer depends on the other examples of its batch"


@pytest.mark.parametrize("k", range(3))
def test_image_and_question_interact(k):
    r = rng(200 + k)
    torch.manual_seed(int(r.integers(2**31)))
    model = fusion.BindingFusion(config(r)).eval()
    images, questions, _ = batch(r, 16)
    i1, i2, q1, q2 = images[:8], images[8:], questions[:8], questions[8:]

    def centred(z):
        return z - z.mean(dim=1, keepdim=True)

    with torch.no_grad():
        gap = (centred(model(i1, q1)) + centred(model(i2, q2))
               - centred(model(i1, q2)) - centred(model(i2, q1)))
        image_matters = not torch.allclose(model(i1, q1), model(i2, q1), atol=1e-6)
        question_matters = not torch.allclose(model(i1, q1), model(i1, q2), atol=1e-6)
    assert image_matters and question_matters, "the answer ignores one modality"
    assert gap.abs().max() > 1e-5, "image and question scores are only added (decision level)"


def test_every_parameter_gets_a_gradient():
    r = rng(300)
    torch.manual_seed(int(r.integers(2**31)))
    model = fusion.BindingFusion(config(r))
    images, questions, answers = batch(r, 60)
    torch.nn.functional.cross_entropy(model(images, questions), answers).backward()
    assert all(p.grad is not None for p in model.parameters()), \
        "some parameters never get a gradient (DDP under torchrun stops on them)"
