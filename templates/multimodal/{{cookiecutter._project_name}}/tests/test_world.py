"""The world is fair: every question has an answer in its image, the splits
keep the held-out pairs where they belong, and a seed gives the same data."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.common import load_params
from {{ cookiecutter._package_name }}.world import (
    ANSWER_KIND,
    ANSWERS,
    HELD_OUT,
    KINDS,
    MIN_DISTANCE,
    SHAPES,
    Scene,
    ask,
    check_world,
    closest_shapes,
    decode,
    encode,
    example_digests,
    ideal_answers,
    make_split,
    mask_distance,
    parse_combos,
    shape_mask,
    sizes,
)

CFG = {"train": 40, "val": 20, "test": 30, "compositional": 30, "cell": 8, "noise": 0.03,
       "colour_jitter": 25, "max_objects": 4, "held_out": list(HELD_OUT),
       "mix": {"colour": 0.4, "shape": 0.4, "count": 0.2}}


@pytest.mark.parametrize("cell", [8, 9, 10])
def test_every_shape_differs_from_every_other_at_every_drawn_size(cell):
    for size in sizes(cell):
        masks = {s: shape_mask(s, size) for s in SHAPES}
        assert all(m.any() and not m.all() for m in masks.values())
        assert len({m.tobytes() for m in masks.values()}) == len(SHAPES)
    distance, a, b = closest_shapes(cell)
    assert distance >= MIN_DISTANCE, (a, b)


def test_the_distance_between_masks_ignores_where_they_sit():
    square = shape_mask("square", 6)
    padded = np.zeros((8, 8), dtype=bool)
    padded[2:, 1:7] = square
    assert mask_distance(square, padded) == 0
    assert mask_distance(square, shape_mask("circle", 6)) > 0


def test_a_cell_too_small_for_its_shapes_is_refused():
    with pytest.raises(ValueError, match="cannot be told apart|differ in only"):
        check_world({**CFG, "cell": 6})
    with pytest.raises(ValueError, match="COLOUR SHAPE"):
        parse_combos(["circle red"])
    check_world(load_params()["generate"])  # the project's own settings are fine


def test_a_world_without_held_out_pairs_is_refused():
    with pytest.raises(ValueError, match="held_out is empty"):
        check_world({**CFG, "held_out": []})


def test_splits_keep_held_out_pairs_out_and_the_compositional_split_asks_about_them():
    held = parse_combos(HELD_OUT)
    for split in ("train", "val", "test"):
        data = make_split(split, 0, CFG)
        assert not data["novel"].any()
        for caption in data["captions"]:
            words = decode(caption).split()
            objects = {(words[i + 1], words[i]) for i in range(0, len(words), 5)}
            assert not objects & held, decode(caption)
    novel = make_split("compositional", 0, CFG)
    assert novel["novel"].all()
    assert set(novel["kind"]) <= {KINDS.index("colour"), KINDS.index("shape")}


def test_the_ideal_observer_answers_every_question():
    for split in ("test", "compositional"):
        data = make_split(split, 3, CFG)
        assert (ideal_answers(data["x"], data["questions"], 8) == data["y"]).all()


def test_same_seed_same_split_and_splits_are_independent():
    a, b = make_split("test", 1, CFG), make_split("test", 1, CFG)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    other = make_split("test", 2, CFG)
    assert not np.array_equal(a["x"], other["x"])
    bigger = make_split("test", 1, {**CFG, "train": 400})  # another split's size
    np.testing.assert_array_equal(a["x"], bigger["x"])
    digests = example_digests(a["x"], a["questions"], a["y"])
    assert len(set(digests.tolist())) == len(digests)


def test_questions_answers_and_captions():
    rng = np.random.default_rng(0)
    two = Scene((("square", "red", 0), ("circle", "blue", 4)))
    assert ask(two, "count", rng)[:2] == ("how many shapes are there ?", "two")
    question, answer, cell = ask(two, "colour", rng, about=[("circle", "blue", 4)])
    assert (question, answer, cell) == ("what colour is the circle ?", "blue", 4)
    assert ANSWER_KIND[ANSWERS.index(answer)] == KINDS.index("colour")
    with pytest.raises(ValueError, match="unknown question kind"):
        ask(two, "size", rng)
    scene = Scene((("cross", "green", 8), ("circle", "red", 0)))
    assert scene.caption() == "red circle top left and green cross bottom right"
    assert decode(encode(scene.caption(), 19)) == scene.caption()
