"""Hidden tests of exercise 10 (kept inside dlpath; run by `dlpath check`).

Random shapes, strides and paddings against the definition (loops, written
here); col2im must be im2col's adjoint; no loop over images, channels or
pixels; conv_forward uses im2col; conv_backward is derived.
"""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng, rules  # noqa: E402

from exercises import conv  # noqa: E402

CASES = range(4)


def _size(h, k, stride, pad):
    return (h + 2 * pad - k) // stride + 1


def _reference_cols(x, kh, kw, stride, pad):
    n, c, h, w = x.shape
    oh, ow = _size(h, kh, stride, pad), _size(w, kw, stride, pad)
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    rows = []
    for i in range(n):
        for r in range(oh):
            for s in range(ow):
                rows.append(xp[i, :, r * stride:r * stride + kh, s * stride:s * stride + kw]
                            .reshape(-1))
    return np.array(rows)


def _reference_conv(x, w, b, stride, pad):
    n = x.shape[0]
    f, c, kh, kw = w.shape
    oh, ow = _size(x.shape[2], kh, stride, pad), _size(x.shape[3], kw, stride, pad)
    cols = _reference_cols(x, kh, kw, stride, pad)
    out = np.einsum("rk,fk->rf", cols, w.reshape(f, -1)) + b
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2)


def _problem(r):
    n, c, f = (int(v) for v in r.integers(1, 4, size=3))
    kh, kw = (int(v) for v in r.integers(1, 4, size=2))
    stride, pad = int(r.integers(1, 3)), int(r.integers(0, 2))
    h, w = int(r.integers(kh, kh + 6)), int(r.integers(kw, kw + 6))
    return (r.normal(size=(n, c, h, w)), r.normal(size=(f, c, kh, kw)), r.normal(size=f),
            stride, pad)


@pytest.mark.parametrize("case", CASES)
def test_im2col_on_random_shapes(case):
    x, w, _, stride, pad = _problem(rng(100, case))
    kh, kw = w.shape[2:]
    np.testing.assert_array_equal(conv.im2col(x, kh, kw, stride, pad),
                                  _reference_cols(x, kh, kw, stride, pad))


@pytest.mark.parametrize("case", CASES)
def test_col2im_is_the_adjoint_of_im2col(case):
    r = rng(101, case)
    x, w, _, stride, pad = _problem(r)
    kh, kw = w.shape[2:]
    cols = r.normal(size=_reference_cols(x, kh, kw, stride, pad).shape)
    back = conv.col2im(cols, x.shape, kh, kw, stride, pad)
    assert back.shape == x.shape
    # <im2col(x), cols> = <x, col2im(cols)> for every x and cols
    left = np.sum(_reference_cols(x, kh, kw, stride, pad) * cols)
    assert np.sum(x * back) == pytest.approx(left, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("case", CASES)
def test_conv_forward_on_random_shapes(case):
    x, w, b, stride, pad = _problem(rng(102, case))
    out, _ = conv.conv_forward(x, w, b, stride, pad)
    np.testing.assert_allclose(out, _reference_conv(x, w, b, stride, pad), rtol=1e-9,
                               atol=1e-10)


@pytest.mark.parametrize("case", CASES)
def test_conv_backward_on_random_shapes(case):
    r = rng(103, case)
    x, w, b, stride, pad = _problem(r)
    out, cache = conv.conv_forward(x, w, b, stride, pad)
    dout = r.normal(size=out.shape)
    dx, dw, db = conv.conv_backward(dout, cache)
    f = w.shape[0]
    cols = _reference_cols(x, w.shape[2], w.shape[3], stride, pad)
    d = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    np.testing.assert_allclose(dw, (d.T @ cols).reshape(w.shape), rtol=1e-9, atol=1e-10)
    np.testing.assert_allclose(db, d.sum(0), rtol=1e-9, atol=1e-10)
    # dx through the adjoint: <dout, conv(x + e) - conv(x)> = <dx, e> for every e
    e = r.normal(size=x.shape)
    change = _reference_conv(x + e, w, b, stride, pad) - _reference_conv(x, w, b, stride, pad)
    assert np.sum(dx * e) == pytest.approx(np.sum(dout * change), rel=1e-8, abs=1e-9)
    probe = r.normal(size=x.shape)
    change = _reference_conv(probe, w, np.zeros(f), stride, pad)
    assert np.sum(dx * probe) == pytest.approx(np.sum(dout * change), rel=1e-8, abs=1e-9)


@pytest.mark.parametrize("name", ["im2col", "col2im", "conv_forward", "conv_backward"])
def test_no_loop_over_images_or_pixels(name):
    r = rng(104)
    w, b = r.normal(size=(2, 3, 3, 3)), r.normal(size=2)

    def run(n, size):
        x = r.normal(size=(n, 3, size, size))
        if name == "im2col":
            return lambda: conv.im2col(x, 3, 3, 1, 1)
        if name == "col2im":
            cols = r.normal(size=(n * size * size, 27))
            return lambda: conv.col2im(cols, x.shape, 3, 3, 1, 1)
        if name == "conv_forward":
            return lambda: conv.conv_forward(x, w, b, 1, 1)
        _, cache = conv.conv_forward(x, w, b, 1, 1)
        dout = r.normal(size=(n, 2, size, size))
        return lambda: conv.conv_backward(dout, cache)

    small, large = run(1, 4), run(6, 18)
    small()
    rules.scales_with_input(lambda fn: fn(), (small,), (large,))


def test_conv_forward_uses_im2col(monkeypatch):
    calls = []
    real = conv.im2col
    monkeypatch.setattr(conv, "im2col", lambda *a, **k: calls.append(1) or real(*a, **k))
    r = rng(105)
    conv.conv_forward(r.normal(size=(2, 2, 5, 5)), r.normal(size=(3, 2, 3, 3)), np.zeros(3))
    assert calls


def test_conv_backward_is_derived_not_differenced():
    r = rng(106)
    n, c, f = int(r.integers(12, 20)), int(r.integers(6, 10)), int(r.integers(12, 20))
    x, w, b = r.normal(size=(n, c, 24, 24)), r.normal(size=(f, c, 3, 3)), r.normal(size=f)
    out, cache = conv.conv_forward(x, w, b, 1, 1)
    dout = r.normal(size=out.shape)
    dx, dw, db = rules.derived_gradient(conv.conv_backward, (dout, cache),
                                        conv.conv_forward, (x, w, b, 1, 1))
    np.testing.assert_allclose(db, dout.sum((0, 2, 3)), rtol=1e-9)
    assert dx.shape == x.shape and dw.shape == w.shape
