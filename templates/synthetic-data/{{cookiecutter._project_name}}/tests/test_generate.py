"""The renderer and the stages' helpers (glyphs.py, generate.py, ablation.py)."""

import numpy as np
import pytest

from {{ cookiecutter._package_name }}.ablation import conditions, reach
from {{ cookiecutter._package_name }}.evaluate import worth_in_real
from {{ cookiecutter._package_name }}.generate import LOOK_ALIKE, add_defects, render, render_one
from {{ cookiecutter._package_name }}.glyphs import (
    SKELETONS,
    colourise,
    draw,
    ink_of,
    to_digits_format,
)

PLAIN = {"styles": {"strokes": 1, "fonts": 1}, "pen": 7, "jitter": 0.05, "colour": 0.0,
         "factors": {"stroke": 0, "rotation": 0, "shear": 0, "aspect": 0, "elastic": 0}}


def test_renders_in_the_real_digits_format():
    data = render(PLAIN, 40, seed=0)
    assert data["x"].shape == (40, 1, 8, 8) and data["x"].dtype == np.float32
    assert 0 <= data["x"].min() and data["x"].max() <= 1
    # Values are counts of 16 pixels, as in the real digits.
    np.testing.assert_allclose(data["x"] * 16, np.round(data["x"] * 16), atol=1e-5)
    assert np.bincount(data["y"]).tolist() == [4] * 10
    assert data["rgb"].shape == (40, 32, 32, 3)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = render(PLAIN, 30, 3), render(PLAIN, 30, 3), render(PLAIN, 30, 4)
    np.testing.assert_array_equal(a["x"], b["x"])
    assert not np.array_equal(a["x"], c["x"])


@pytest.mark.parametrize("style", ["strokes", "fonts"])
def test_every_digit_fills_the_bitmap_height(style):
    rng = np.random.default_rng(0)
    for digit in SKELETONS:
        x8 = to_digits_format(draw(digit, style, rng, 0.05, 7))
        assert x8[0].sum() > 0 and x8[-1].sum() > 0, (style, digit)


def test_colour_never_reaches_the_model():
    glyph = draw(3, "strokes", np.random.default_rng(0), 0.0, 7)
    white_on_black = colourise(glyph, np.random.default_rng(0), 0.0)
    coloured = colourise(glyph, np.random.default_rng(1), 1.0)
    assert not np.array_equal(white_on_black, coloured)
    assert (np.abs(to_digits_format(ink_of(white_on_black))
                   - to_digits_format(ink_of(coloured))) > 0).mean() < 0.05


def test_defects_keep_the_truth():
    data = render(PLAIN, 200, seed=0)
    bad = add_defects(data, {"mislabelled": 0.2, "repeats": 0.1}, seed=0)
    repeated = bad["repeat_of"] >= 0
    assert repeated.sum() == 20
    np.testing.assert_array_equal(bad["x"][repeated], bad["x"][bad["repeat_of"][repeated]])
    wrong = bad["y"] != bad["true_y"]
    assert 0.1 < wrong.mean() < 0.3
    assert all(LOOK_ALIKE[t] == y
               for t, y in zip(bad["true_y"][wrong], bad["y"][wrong], strict=True))
    np.testing.assert_array_equal(bad["true_y"][~repeated], data["y"][~repeated])


def test_ablation_switches_off_one_factor_at_a_time():
    cfg = {**PLAIN, "colour": 0.5, "factors": {**PLAIN["factors"], "rotation": 10}}
    found = conditions(cfg)
    assert set(found) == {"all", "none", "-rotation", "-jitter", "-colour"}
    assert found["-rotation"]["factors"]["rotation"] == 0 and found["-colour"]["colour"] == 0
    assert found["none"]["jitter"] == 0 and found["all"] == cfg
    x = render_one(5, np.random.default_rng(0), PLAIN)[0]
    assert reach(x, x) == 0.0


def test_worth_in_real_interpolates_between_measured_sizes():
    curve = {"10": 0.5, "100": 0.8, "1000": 0.9}
    assert worth_in_real(0.8, curve) == (pytest.approx(100.0), "")
    n, bound = worth_in_real(0.85, curve)
    assert 100 < n < 1000 and bound == ""
    assert worth_in_real(0.95, curve) == (1000.0, "above")
    assert worth_in_real(0.2, curve) == (10.0, "below")
