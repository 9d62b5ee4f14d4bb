"""Exercise 5: models as computational graphs: a tiny autograd engine.

PyTorch never "knows" the derivative of your model. Every operation on a
tensor records a node in a graph: which operation, which inputs. When you
call loss.backward(), PyTorch walks that graph from the loss back to the
inputs, and at each node applies the local rule of that one operation (the
chain rule of exercise 4, done by the machine). This file builds the same
engine for single numbers, in the spirit of Andrej Karpathy's micrograd.

A `Value` holds a number (`data`), the gradient of the final output with
respect to it (`grad`, 0 until backward runs), the Values it was computed
from (`_prev`), and `_backward`: a function that, once `out.grad` is known,
adds this operation's contribution to the grads of its inputs. The forward
pass of every operation is given; you write each `_backward` and the
engine's `backward`.

    a = Value(2.0); b = Value(-3.0)
    c = a * b + a            # a graph of two operations; a is used twice
    c.backward()
    a.grad, b.grad           # (-2.0, 2.0): dc/da = b + 1, dc/db = a

Two things make it work on any graph:

* a value used in several places receives a gradient from each: they add up;
* a node's `_backward` may only run once the gradient of everything computed
  from it is complete: walk the graph in reverse *topological order*.

The rules (the tests check them): gradients agree with finite differences
and with PyTorch's autograd on random expressions, and `backward` runs each
node's `_backward` exactly once.

Run the tests:  python -m pytest -q tests/test_autograd.py
Check it:       dlpath check -m autograd      (stuck? dlpath hint autograd)
"""

from __future__ import annotations

import math


class Value:
    """A number in a computational graph (given: the forward passes)."""

    def __init__(self, data: float, _prev: tuple[Value, ...] = (), _op: str = ""):
        self.data = float(data)
        self.grad = 0.0
        self._prev = _prev
        self._op = _op
        self._backward = lambda: None

    def __repr__(self) -> str:
        return f"Value(data={self.data:.6g}, grad={self.grad:.6g})"

    @staticmethod
    def _wrap(other) -> Value:
        return other if isinstance(other, Value) else Value(other)

    def __add__(self, other) -> Value:
        other = self._wrap(other)
        out = Value(self.data + other.data, (self, other), "+")

        def _backward():
            ### BEGIN SOLUTION: the local rule of a sum (test: tests/test_autograd.py)
            self.grad += out.grad
            other.grad += out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __mul__(self, other) -> Value:
        other = self._wrap(other)
        out = Value(self.data * other.data, (self, other), "*")

        def _backward():
            ### BEGIN SOLUTION: the local rule of a product (test: tests/test_autograd.py)
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def __pow__(self, exponent: float) -> Value:
        """self ** exponent, for a constant (int or float) exponent."""
        if not isinstance(exponent, (int, float)):
            raise TypeError("only constant exponents are supported")
        out = Value(self.data ** exponent, (self,), f"**{exponent}")

        def _backward():
            ### BEGIN SOLUTION: the local rule of a power (test: tests/test_autograd.py)
            self.grad += exponent * self.data ** (exponent - 1) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def tanh(self) -> Value:
        t = math.tanh(self.data)
        out = Value(t, (self,), "tanh")

        def _backward():
            ### BEGIN SOLUTION: the local rule of tanh (test: tests/test_autograd.py)
            self.grad += (1.0 - t * t) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def exp(self) -> Value:
        out = Value(math.exp(self.data), (self,), "exp")

        def _backward():
            ### BEGIN SOLUTION: the local rule of exp (test: tests/test_autograd.py)
            self.grad += out.data * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    def log(self) -> Value:
        out = Value(math.log(self.data), (self,), "log")

        def _backward():
            ### BEGIN SOLUTION: the local rule of log (test: tests/test_autograd.py)
            self.grad += out.grad / self.data
            ### END SOLUTION

        out._backward = _backward
        return out

    def relu(self) -> Value:
        out = Value(max(0.0, self.data), (self,), "relu")

        def _backward():
            ### BEGIN SOLUTION: the local rule of relu (test: tests/test_autograd.py)
            self.grad += (self.data > 0) * out.grad
            ### END SOLUTION

        out._backward = _backward
        return out

    # Everything else is built from the operations above (given).
    def __neg__(self) -> Value:
        return self * -1.0

    def __sub__(self, other) -> Value:
        return self + (-self._wrap(other))

    def __truediv__(self, other) -> Value:
        return self * self._wrap(other) ** -1

    def __radd__(self, other) -> Value:
        return self + other

    def __rmul__(self, other) -> Value:
        return self * other

    def __rsub__(self, other) -> Value:
        return self._wrap(other) - self

    def __rtruediv__(self, other) -> Value:
        return self._wrap(other) / self

    def backward(self) -> None:
        """Fill in .grad of every Value this one was computed from
        (d self / d value), with self.grad = 1. Assumes every grad in the
        graph starts at 0. Each node's _backward runs exactly once, after
        every node computed from it."""
        ### BEGIN SOLUTION: backward in reverse topological order (test: tests/test_autograd.py)
        order: list[Value] = []
        seen: set[int] = set()
        stack: list[tuple[Value, bool]] = [(self, False)]
        while stack:  # depth-first, without recursion: deep graphs are fine
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in seen:
                continue
            seen.add(id(node))
            stack.append((node, True))
            stack.extend((child, False) for child in node._prev if id(child) not in seen)
        self.grad = 1.0
        for node in reversed(order):
            node._backward()
        ### END SOLUTION


def mlp_loss(x: list[float], y: int, weights: list[list[list[Value]]]) -> Value:
    """The cross-entropy of a small tanh network on one example, built from
    Values (given): the same computation as exercise 4, as a graph."""
    activations = [Value(v) for v in x]
    for layer, w in enumerate(weights):
        z = [sum((a * w_ij for a, w_ij in zip(activations, column, strict=True)), Value(0.0))
             for column in zip(*w, strict=True)]
        activations = z if layer == len(weights) - 1 else [v.tanh() for v in z]
    peak = max(v.data for v in activations)
    total = sum(((v - peak).exp() for v in activations), Value(0.0))
    return total.log() - (activations[y] - peak)
