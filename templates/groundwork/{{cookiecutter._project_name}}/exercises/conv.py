"""Exercise 10: convolution as one matrix product (im2col), forward and backward.

A convolutional layer slides F small filters, each (C, KH, KW), over an
image batch x of shape (N, C, H, W) and takes a dot product at every
position (with `stride` between positions and `pad` zeros around the
border):

    out[n, f, r, s] = b[f] + sum over c, i, j of
                      w[f, c, i, j] * x_padded[n, c, r * stride + i, s * stride + j]

    out: (N, F, OH, OW),  OH = (H + 2 pad - KH) // stride + 1  (OW alike)

Written as six nested loops it is hopelessly slow in Python. The trick
every fast library used first: copy every receptive field (the C*KH*KW
numbers one output looks at) into a row of a matrix, `im2col`, and the
whole convolution becomes ONE matrix product with the filters reshaped to
(F, C*KH*KW). The backward pass is then the backward pass of a matrix
product (exercise 4), plus `col2im`: sending each column entry back to the
pixel it was copied from, where receptive fields overlap the contributions
add up (im2col copies, so its backward pass sums).

The layout of im2col's result (the tests rely on it):

    row    (n * OH + r) * OW + s        one output position of one image
    column (c * KH + i) * KW + j        one input the filter looks at there
    value  x_padded[n, c, r * stride + i, s * stride + j]

The rules (the tests check them): no loop over images, channels or pixels
(a loop over the KH * KW offsets of the kernel is fine); conv_forward uses
im2col; conv_backward is derived, not differenced, and uses no automatic
differentiation library.

Run the tests:  python -m pytest -q tests/test_conv.py
Check it:       dlpath check -m conv      (stuck? dlpath hint conv)
"""

from __future__ import annotations

import numpy as np


def output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """OH (or OW) of a convolution (given)."""
    return (size + 2 * pad - kernel) // stride + 1


def im2col(x: np.ndarray, kh: int, kw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The receptive fields of x (N, C, H, W) as rows: (N*OH*OW, C*KH*KW)."""
    ### BEGIN SOLUTION: im2col (test: tests/test_conv.py)
    n, c, h, w = x.shape
    oh, ow = output_size(h, kh, stride, pad), output_size(w, kw, stride, pad)
    padded = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, oh, ow, c, kh, kw), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            window = padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride]
            cols[:, :, :, :, i, j] = window.transpose(0, 2, 3, 1)
    return cols.reshape(n * oh * ow, c * kh * kw)
    ### END SOLUTION


def col2im(cols: np.ndarray, x_shape: tuple[int, int, int, int], kh: int, kw: int,
           stride: int = 1, pad: int = 0) -> np.ndarray:
    """The adjoint of im2col: an (N, C, H, W) array where each entry of
    `cols` is added to the pixel im2col copied it from (padding dropped)."""
    ### BEGIN SOLUTION: col2im (test: tests/test_conv.py)
    n, c, h, w = x_shape
    oh, ow = output_size(h, kh, stride, pad), output_size(w, kw, stride, pad)
    blocks = cols.reshape(n, oh, ow, c, kh, kw)
    padded = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            padded[:, :, i:i + stride * oh:stride, j:j + stride * ow:stride] += \
                blocks[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return padded[:, :, pad:pad + h, pad:pad + w]
    ### END SOLUTION


def conv_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray, stride: int = 1, pad: int = 0):
    """x (N, C, H, W), w (F, C, KH, KW), b (F,) -> (out (N, F, OH, OW), cache),
    with one matrix product over im2col's rows. The cache holds what
    conv_backward needs."""
    ### BEGIN SOLUTION: convolution forward with im2col (test: tests/test_conv.py)
    n, _, h, width = x.shape
    f, _, kh, kw = w.shape
    oh, ow = output_size(h, kh, stride, pad), output_size(width, kw, stride, pad)
    cols = im2col(x, kh, kw, stride, pad)
    out = cols @ w.reshape(f, -1).T + b
    return out.reshape(n, oh, ow, f).transpose(0, 3, 1, 2), (x.shape, cols, w, stride, pad)
    ### END SOLUTION


def conv_backward(dout: np.ndarray, cache) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Given d loss / d out (N, F, OH, OW), return (dx, dw, db), shaped like x, w and b."""
    ### BEGIN SOLUTION: convolution backward (test: tests/test_conv.py)
    x_shape, cols, w, stride, pad = cache
    f, _, kh, kw = w.shape
    d_out = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (d_out.T @ cols).reshape(w.shape)
    db = d_out.sum(axis=0)
    dx = col2im(d_out @ w.reshape(f, -1), x_shape, kh, kw, stride, pad)
    return dx, dw, db
    ### END SOLUTION
