"""Hidden tests of exercise 5 (kept inside dlpath; run by `dlpath check`).

Random expressions, with shared subexpressions, built three times: from
the learner's Values, from PyTorch tensors (float64, autograd) and from
plain floats (for central differences). Every node's _backward must run
exactly once, after every node computed from it.
"""

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
from groundwork_support import rng  # noqa: E402

from exercises.autograd import Value, mlp_loss  # noqa: E402

CASES = range(6)
UNARY = ("tanh", "exp_tanh", "log1sq", "sq", "cube", "relu", "neg", "recip1sq")
BINARY = ("add", "mul", "sub", "div1sq", "radd", "rmul")


def _program(r):
    """A random expression: leaves, then operations on earlier nodes (drawn
    again until every node stays below 100 in size: finite differences need
    moderate numbers)."""
    while True:
        leaves = [float(v) for v in r.uniform(-1.5, 1.5, size=int(r.integers(2, 5)))]
        ops = []
        for i in range(int(r.integers(8, 20))):
            size = len(leaves) + i
            if r.random() < 0.5:
                ops.append((str(r.choice(UNARY)), int(r.integers(size)), None,
                            float(r.uniform(-2, 2))))
            else:
                ops.append((str(r.choice(BINARY)), int(r.integers(size)),
                            int(r.integers(size)), float(r.uniform(-2, 2))))
        try:
            _, nodes = _run(leaves, ops, "float")
        except (OverflowError, ValueError, ZeroDivisionError):
            continue
        if max(abs(v) for v in nodes) < 100:
            return leaves, ops


def _run(leaves, ops, lib):
    """Evaluate the program on ``leaves`` (Values, tensors or floats)."""
    tanh = {"value": lambda v: v.tanh(), "torch": torch.tanh, "float": math.tanh}[lib]
    exp = {"value": lambda v: v.exp(), "torch": torch.exp, "float": math.exp}[lib]
    log = {"value": lambda v: v.log(), "torch": torch.log, "float": math.log}[lib]
    relu = {"value": lambda v: v.relu(), "torch": torch.relu,
            "float": lambda v: max(0.0, v)}[lib]
    nodes = list(leaves)
    for op, i, j, c in ops:
        a = nodes[i]
        b = nodes[j] if j is not None else None
        nodes.append({
            "tanh": lambda: tanh(a), "exp_tanh": lambda: exp(tanh(a)),
            "log1sq": lambda: log(a * a + 1.0), "sq": lambda: a ** 2, "cube": lambda: a ** 3,
            "relu": lambda: relu(a + c), "neg": lambda: -a,
            "recip1sq": lambda: 1.0 / (a * a + 1.0),
            "add": lambda: a + b, "mul": lambda: a * b, "sub": lambda: a - b,
            "div1sq": lambda: a / (b * b + 1.0), "radd": lambda: c + a, "rmul": lambda: c * a,
        }[op]())
    total = nodes[-1]
    for node in nodes[len(leaves):-1]:  # every node reaches the output
        total = total + node * 0.5
    return total, nodes


@pytest.mark.parametrize("case", CASES)
def test_gradients_match_pytorch_autograd_on_random_expressions(case):
    leaves, ops = _program(rng(50, case))
    values = [Value(v) for v in leaves]
    out, _ = _run(values, ops, "value")
    out.backward()
    tensors = [torch.tensor(v, dtype=torch.float64, requires_grad=True) for v in leaves]
    expected, _ = _run(tensors, ops, "torch")
    expected.backward()
    assert out.data == pytest.approx(expected.item(), rel=1e-12, abs=1e-12)
    for v, t in zip(values, tensors, strict=True):
        want = 0.0 if t.grad is None else t.grad.item()  # None: a leaf the output ignores
        assert v.grad == pytest.approx(want, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("case", CASES)
def test_gradients_match_central_differences_on_random_expressions(case):
    leaves, ops = _program(rng(51, case))
    values = [Value(v) for v in leaves]
    out, _ = _run(values, ops, "value")
    out.backward()
    h = 1e-6
    for i, v in enumerate(values):
        up = list(leaves)
        up[i] += h
        down = list(leaves)
        down[i] -= h
        numeric = (_run(up, ops, "float")[0] - _run(down, ops, "float")[0]) / (2 * h)
        assert v.grad == pytest.approx(numeric, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_backward_runs_each_node_once_in_topological_order(case):
    leaves, ops = _program(rng(52, case))
    out, nodes = _run([Value(v) for v in leaves], ops, "value")
    graph, stack = {}, [out]
    while stack:
        node = stack.pop()
        if id(node) not in graph:
            graph[id(node)] = node
            stack.extend(node._prev)
    calls = []
    for node in graph.values():
        def spy(inner=node._backward, key=id(node)):
            calls.append(key)
            inner()
        node._backward = spy
    out.backward()
    inner_nodes = {key for key, node in graph.items() if node._prev}
    assert sorted(k for k in calls if k in inner_nodes) == sorted(inner_nodes)
    position = {key: i for i, key in enumerate(calls)}
    for key, node in graph.items():
        for child in node._prev:
            if id(child) in inner_nodes:
                assert position[id(child)] > position[key]


@pytest.mark.parametrize("case", range(3))
def test_the_network_loss_matches_pytorch(case):
    r = rng(53, case)
    d, h, k = (int(v) for v in r.integers(2, 5, size=3))
    w1, w2 = r.normal(size=(d, h)), r.normal(size=(h, k))
    x, y = r.normal(size=d), int(r.integers(k))
    weights = [[[Value(v) for v in row] for row in w] for w in (w1, w2)]
    loss = mlp_loss(list(x), y, weights)
    loss.backward()
    t1 = torch.tensor(w1, requires_grad=True)
    t2 = torch.tensor(w2, requires_grad=True)
    logits = torch.tanh(torch.tensor(x) @ t1) @ t2
    expected = torch.nn.functional.cross_entropy(logits[None], torch.tensor([y]))
    expected.backward()
    assert loss.data == pytest.approx(expected.item(), rel=1e-10)
    got = np.array([[v.grad for v in row] for row in weights[0]])
    np.testing.assert_allclose(got, t1.grad.numpy(), rtol=1e-8, atol=1e-12)
