"""Fast checks of the renderer, the curation measures and the card (no pipeline run)."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.card import render_card, tile
from {{ cookiecutter._package_name }}.curate import (
    balance,
    exact_duplicates,
    measure,
    near_duplicates,
)
from {{ cookiecutter._package_name }}.data import digits
from {{ cookiecutter._package_name }}.render import (
    SKELETONS,
    class_sizes,
    draw_glyph,
    normalise,
    render_dataset,
    to_digits_format,
)

CFG = {"n": 60, "styles": {"strokes": 1, "fonts": 1}, "stroke": [6, 11], "jitter": 0.1,
       "crossed_sevens": 0.5, "rotation": 10, "shear": 0.2, "size": [30, 32], "colour": 0.5,
       "noise": 0.02, "imbalance": 1.0, "label_noise": 0.0}


def test_renders_in_the_real_digits_format():
    data = render_dataset(CFG, np.random.default_rng(0))
    real_x, _ = digits()
    assert data["x"].shape[1:] == real_x.shape[1:] == (1, 8, 8)
    assert data["x"].dtype == np.float32 and 0 <= data["x"].min() and data["x"].max() <= 1
    # Values are counts of 16 pixels, as in the real digits.
    np.testing.assert_allclose(data["x"] * 16, np.round(data["x"] * 16), atol=1e-5)
    assert data["rgb"].shape == (60, 32, 32, 3) and set(np.unique(data["style"])) == {0, 1}
    np.testing.assert_array_equal(data["y"], data["true_y"])  # no label noise asked


def test_same_seed_same_data_other_seed_other_data():
    a = render_dataset(CFG, np.random.default_rng(3))
    b = render_dataset(CFG, np.random.default_rng(3))
    c = render_dataset(CFG, np.random.default_rng(4))
    np.testing.assert_array_equal(a["x"], b["x"])
    assert not np.array_equal(a["x"], c["x"])


@pytest.mark.parametrize("style", ["strokes", "fonts"])
def test_every_digit_fills_the_bitmap_height(style):
    rng = np.random.default_rng(0)
    for digit in SKELETONS:
        bitmap = normalise(draw_glyph(digit, style, rng, CFG), 32)
        rows = np.flatnonzero((bitmap > 127).any(axis=1))
        assert rows.min() <= 1 and rows.max() >= 30, (style, digit)


def test_colour_does_not_change_the_digit():
    grey = np.zeros((32, 32), np.uint8)
    grey[4:28, 12:20] = 255
    white_on_black = np.repeat(grey[..., None], 3, axis=2)
    blue_on_yellow = np.where(grey[..., None] > 0, [20, 20, 200], [240, 230, 40]).astype(np.uint8)
    np.testing.assert_array_equal(to_digits_format(white_on_black),
                                  to_digits_format(blue_on_yellow))
    assert to_digits_format(white_on_black)[1, 3] == 1.0  # a block fully inside the bar


def test_class_sizes_and_balance():
    assert class_sizes(100, 1.0).tolist() == [10] * 10
    sizes = class_sizes(1000, 10.0)
    assert sizes.sum() == 1000 and sizes[0] == pytest.approx(10 * sizes[-1], rel=0.1)
    assert balance(np.repeat(np.arange(10), 5))["entropy"] == 1.0
    assert balance(np.repeat(np.arange(10), sizes))["min_over_max"] < 0.15


def test_duplicates_are_found():
    x = np.random.default_rng(0).random((6, 1, 8, 8)).astype(np.float32)
    x[3] = x[0]          # an exact copy
    x[5] = x[1] + 0.01   # a near copy
    assert exact_duplicates(x).tolist() == [False, False, False, True, False, False]
    near = near_duplicates(x, 0.5)
    assert near[1] and near[5] and not near[0] and not near[3]


def test_label_noise_estimate_notices_flipped_labels():
    cfg = {**CFG, "n": 400, "styles": {"strokes": 1}, "label_noise": 0.2}
    data = render_dataset(cfg, np.random.default_rng(0))
    metrics, _ = measure(data, {"near_distance": 0.5, "folds": 5, "neighbours": 10}, seed=0)
    noise = metrics["label_noise"]
    assert 0.1 < noise["injected"] < 0.3
    assert noise["flag_recall"] > 0.5 and noise["estimated"] >= noise["injected"] * 0.5


def test_card_has_every_section_and_the_picture():
    data = render_dataset(CFG, np.random.default_rng(0))
    metrics, _ = measure(data, {"near_distance": 0.5, "folds": 3, "neighbours": 3}, seed=0)
    text = render_card({**metrics, "kept": 50, "train": 40, "val": 10}, CFG, data["style"])
    for section in ("What it is", "How it was generated", "Quality", "Known limitations"):
        assert f"\n## {section}\n" in text
    assert "![examples](figures/examples.png)" in text
    assert tile(np.zeros((6, 4, 4, 3)), 2, 3).shape == (2 * 6 + 2, 3 * 6 + 2, 3)
