"""Fast checks of the data generator, the models and the metrics (no pipeline run)."""

import numpy as np
import pytest
import torch

from {{ cookiecutter._package_name }}.contrastive import recall_at
from {{ cookiecutter._package_name }}.evaluate import scores
from {{ cookiecutter._package_name }}.models import ANSWERERS, DualEncoder, info_nce
from {{ cookiecutter._package_name }}.world import (
    ANSWERS,
    KINDS,
    Scene,
    ask,
    decode,
    encode,
    make_dataset,
    shape_mask,
)

CFG = {"channels": 4, "embed": 4, "dim": 8}


def small(seed=0, n=12):
    return make_dataset(n, np.random.default_rng(seed), cell=8, noise=0.03, jitter=10,
                        mix={"colour": 1, "shape": 1, "count": 1})


def test_dataset_shapes_and_ranges():
    data = small()
    assert data["x"].shape == (12, 3, 24, 24) and data["x"].dtype == np.uint8
    assert data["y"].max() < len(ANSWERS) and data["kind"].max() < len(KINDS)
    assert data["questions"].shape[0] == data["captions"].shape[0] == 12


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = small(1), small(1), small(2)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    assert not np.array_equal(a["x"], c["x"])


def test_the_same_question_has_different_answers_for_different_images():
    rng = np.random.default_rng(0)
    red = ask(Scene((("square", "red", 0),)), "colour", rng)
    blue = ask(Scene((("square", "blue", 8),)), "colour", rng)
    assert red == ("what colour is the square ?", "red")
    assert blue == ("what colour is the square ?", "blue")
    two = Scene((("square", "red", 0), ("circle", "blue", 4)))
    assert ask(two, "count", rng) == ("how many shapes are there ?", "two")
    with pytest.raises(ValueError, match="unknown question kind"):
        ask(two, "size", rng)


def test_caption_names_every_shape_in_reading_order():
    scene = Scene((("cross", "green", 8), ("circle", "red", 0)))
    assert scene.caption() == "red circle top left and green cross bottom right"
    assert decode(encode(scene.caption(), 15)) == scene.caption()
    with pytest.raises(ValueError):
        encode(scene.caption(), 3)


def test_shape_masks_differ():
    masks = {s: shape_mask(s, 6) for s in ("circle", "square", "triangle", "cross")}
    assert all(m.any() and not m.all() for m in masks.values())
    assert len({m.tobytes() for m in masks.values()}) == 4


def test_answerers_give_one_logit_per_answer():
    data = small()
    for model_class, inputs in ANSWERERS.values():
        batch = [torch.as_tensor(data[k], dtype=torch.float32) for k in inputs]
        assert model_class(CFG)(*batch).shape == (12, len(ANSWERS))


def test_info_nce_is_low_for_matching_pairs_and_high_for_shuffled():
    emb = torch.nn.functional.normalize(torch.randn(8, 16), dim=1)
    assert info_nce(emb, emb, 0.05) < info_nce(emb, emb.roll(1, dims=0), 0.05)
    model = DualEncoder(CFG)
    data = small()
    image = model.embed_images(torch.as_tensor(data["x"], dtype=torch.float32))
    assert torch.allclose(image.norm(dim=1), torch.ones(12), atol=1e-5)


def test_recall_counts_identical_captions_as_hits():
    similarity = np.array([[0.1, 0.9, 0.0], [0.2, 0.1, 0.7], [0.0, 0.3, 0.8]])
    same = np.eye(3, dtype=bool)
    # Row 0 ranks column 1 first, row 1 column 2, row 2 its own column.
    assert recall_at(similarity, same, ks=(1, 2)) == {"recall_at_1": 0.3333,
                                                      "recall_at_2": 0.6667}
    same[0, 1] = same[1, 0] = True  # captions 0 and 1 read the same
    assert recall_at(similarity, same, ks=(1,))["recall_at_1"] == 0.6667


def test_margins_compare_the_fused_model_with_the_better_baseline():
    correct = {"image_only": np.array([1, 0, 0, 0], bool),
               "text_only": np.array([1, 1, 0, 0], bool),
               "fused": np.array([1, 1, 1, 0], bool)}
    metrics, rows = scores(correct, np.array([0, 0, 1, 2]))
    assert metrics["fusion"]["margin_over_best_baseline"] == 0.25
    assert metrics["fusion"]["margin_over_image_only"] == 0.5
    assert [r["kind"] for r in rows] == list(KINDS) and rows[1]["fused"] == 1.0
