"""Exercise 10 (exercises/conv.py). Run: python -m pytest -q tests/test_conv.py"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # however pytest imports this file
from exercise_rules import derived_gradient, scales_with_input  # noqa: E402

from exercises import conv  # noqa: E402


def loops_conv(x, w, b, stride, pad):
    """The definition, with six loops (slow; for the tests only)."""
    n, c, h, width = x.shape
    f, _, kh, kw = w.shape
    oh, ow = conv.output_size(h, kh, stride, pad), conv.output_size(width, kw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((n, f, oh, ow))
    for i in range(n):
        for k in range(f):
            for r in range(oh):
                for s in range(ow):
                    patch = xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                    out[i, k, r, s] = np.sum(patch * w[k]) + b[k]
    return out


def test_im2col_layout():
    x = np.arange(2 * 1 * 3 * 3, dtype=float).reshape(2, 1, 3, 3)
    cols = conv.im2col(x, 2, 2)
    assert cols.shape == (2 * 2 * 2, 1 * 2 * 2)
    np.testing.assert_array_equal(cols[0], [0, 1, 3, 4])      # image 0, top-left
    np.testing.assert_array_equal(cols[3], [4, 5, 7, 8])      # image 0, bottom-right
    np.testing.assert_array_equal(cols[4], [9, 10, 12, 13])   # image 1, top-left
    padded = conv.im2col(x[:1], 3, 3, stride=2, pad=1)
    assert padded.shape == (4, 9)
    np.testing.assert_array_equal(padded[0], [0, 0, 0, 0, 0, 1, 0, 3, 4])


def test_col2im_adds_overlapping_copies():
    x = np.ones((1, 1, 3, 3))
    back = conv.col2im(conv.im2col(x, 2, 2), x.shape, 2, 2)
    np.testing.assert_array_equal(back[0, 0], [[1, 2, 1], [2, 4, 2], [1, 2, 1]])


@pytest.mark.parametrize("stride, pad", [(1, 0), (1, 1), (2, 1)])
def test_forward_matches_the_definition(stride, pad):
    rng = np.random.default_rng(stride + pad)
    x, w, b = rng.normal(size=(2, 3, 7, 6)), rng.normal(size=(4, 3, 3, 3)), rng.normal(size=4)
    out, _ = conv.conv_forward(x, w, b, stride, pad)
    np.testing.assert_allclose(out, loops_conv(x, w, b, stride, pad), rtol=1e-10, atol=1e-10)


def test_backward_against_central_differences():
    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 2, 5, 5)), rng.normal(size=(3, 2, 3, 3)), rng.normal(size=3)
    dout = rng.normal(size=(2, 3, 3, 3))  # stride 2, pad 1
    _, cache = conv.conv_forward(x, w, b, 2, 1)
    dx, dw, db = conv.conv_backward(dout, cache)

    def numeric(array, h=1e-6):
        grad = np.zeros_like(array)
        for idx in np.ndindex(array.shape):
            old = array[idx]
            array[idx] = old + h
            up = np.sum(dout * conv.conv_forward(x, w, b, 2, 1)[0])
            array[idx] = old - h
            down = np.sum(dout * conv.conv_forward(x, w, b, 2, 1)[0])
            array[idx] = old
            grad[idx] = (up - down) / (2 * h)
        return grad

    np.testing.assert_allclose(dx, numeric(x), atol=1e-6)
    np.testing.assert_allclose(dw, numeric(w), atol=1e-6)
    np.testing.assert_allclose(db, numeric(b), atol=1e-6)


def test_no_loop_over_images_or_pixels():
    rng = np.random.default_rng(4)
    w, b = rng.normal(size=(2, 3, 3, 3)), rng.normal(size=2)
    small, large = rng.normal(size=(1, 3, 5, 5)), rng.normal(size=(8, 3, 20, 20))
    scales_with_input(lambda x: conv.conv_forward(x, w, b, 1, 1), (small,), (large,))
    dsmall = rng.normal(size=(1, 2, 5, 5))
    dlarge = rng.normal(size=(8, 2, 20, 20))
    scales_with_input(lambda x, d: conv.conv_backward(d, conv.conv_forward(x, w, b, 1, 1)[1]),
                      (small, dsmall), (large, dlarge))


def test_forward_uses_im2col(monkeypatch):
    calls = []
    real = conv.im2col
    monkeypatch.setattr(conv, "im2col", lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(5)
    conv.conv_forward(rng.normal(size=(1, 1, 4, 4)), rng.normal(size=(1, 1, 2, 2)), np.zeros(1))
    assert calls, "conv_forward must turn the convolution into a matrix product with im2col"


def test_backward_is_derived_not_differenced():
    rng = np.random.default_rng(6)
    x, w, b = rng.normal(size=(16, 8, 24, 24)), rng.normal(size=(16, 8, 3, 3)), np.zeros(16)
    out, cache = conv.conv_forward(x, w, b, 1, 1)
    dx, dw, db = derived_gradient(conv.conv_backward, (rng.normal(size=out.shape), cache),
                                  conv.conv_forward, (x, w, b, 1, 1))
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
