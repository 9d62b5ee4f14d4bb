"""Exercise 5 (exercises/autograd.py). Run: python -m pytest -q tests/test_autograd.py"""

import math

import pytest

from exercises.autograd import Value, mlp_loss


def test_the_example_of_the_docstring():
    a, b = Value(2.0), Value(-3.0)
    c = a * b + a
    c.backward()
    assert c.data == -4.0 and c.grad == 1.0
    assert (a.grad, b.grad) == (pytest.approx(-2.0), pytest.approx(2.0))


@pytest.mark.parametrize("op, derivative", [
    (lambda v: v.tanh(), lambda x: 1 - math.tanh(x) ** 2),
    (lambda v: v.exp(), math.exp),
    (lambda v: v.log(), lambda x: 1 / x),
    (lambda v: v ** 3, lambda x: 3 * x ** 2),
    (lambda v: v.relu(), lambda x: float(x > 0)),
    (lambda v: 1 / v, lambda x: -1 / x ** 2),
    (lambda v: 2 - v, lambda x: -1.0),
])
def test_each_operation_has_its_local_rule(op, derivative):
    x = Value(0.7)
    op(x).backward()
    assert x.grad == pytest.approx(derivative(0.7))


def test_a_value_used_twice_collects_both_gradients():
    x = Value(3.0)
    y = x * x + x  # dy/dx = 2x + 1
    y.backward()
    assert x.grad == pytest.approx(7.0)


def test_every_node_runs_its_backward_once_after_all_its_users():
    x = Value(0.5)
    a = x.tanh()
    b = a * a          # a feeds b and c: a's gradient must be complete before a runs
    c = a * 3.0
    out = b + c
    calls = []
    for name, node in {"a": a, "b": b, "c": c, "out": out}.items():
        def spy(inner=node._backward, name=name):
            calls.append(name)
            inner()
        node._backward = spy
    out.backward()
    assert sorted(calls) == ["a", "b", "c", "out"]
    assert calls.index("a") > max(calls.index("b"), calls.index("c"))
    t = math.tanh(0.5)
    assert x.grad == pytest.approx((2 * t + 3) * (1 - t * t))


def test_a_deep_chain():
    x = Value(0.1)
    y = x
    for _ in range(300):
        y = y * 1.01 + 0.0
    y.backward()
    assert x.grad == pytest.approx(1.01 ** 300)


def test_the_network_of_exercise_4_as_a_graph():
    weights = [[[Value(0.3), Value(-0.2)], [Value(0.1), Value(0.4)]],
               [[Value(0.5), Value(-0.5)], [Value(-0.3), Value(0.2)]]]
    loss = mlp_loss([1.0, -1.0], 1, weights)
    loss.backward()
    w = weights[0][0][0]
    h = 1e-6
    old = w.data
    w.data = old + h
    up = mlp_loss([1.0, -1.0], 1, weights).data
    w.data = old - h
    down = mlp_loss([1.0, -1.0], 1, weights).data
    w.data = old
    assert w.grad == pytest.approx((up - down) / (2 * h), rel=1e-6)
