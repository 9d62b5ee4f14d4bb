"""Solution regions (dlpath.solutions): release, reference, and bad markers."""

from __future__ import annotations

import pytest

from dlpath import solutions

SOURCE = '''\
import torch


def quantize(x, scale):
    """Affine quantization."""
    ### BEGIN SOLUTION: affine quantization (test: tests/test_q.py)
    q = torch.round(x / scale)
    return q
    ### END SOLUTION


class Model:
    def forward(self, x):
        ### BEGIN SOLUTION
        return x * 2
        ### END SOLUTION


### BEGIN SOLUTION: which factors reach the model
FACTORS = ("rotation",)
### STUB
FACTORS = ()
### END SOLUTION
'''


def test_release_replaces_each_region_by_a_stub_naming_function_file_and_test():
    out = solutions.release(SOURCE, "proj/q.py")
    assert "torch.round" not in out and "x * 2" not in out and "rotation" not in out
    assert ('    raise NotImplementedError("TODO: affine quantization: write quantize() in '
            'proj/q.py; test: python -m pytest -q tests/test_q.py")') in out
    assert ('        raise NotImplementedError("TODO: Model.forward: write Model.forward() '
            'in proj/q.py")') in out
    assert "\nFACTORS = ()\n" in out
    assert "###" not in out
    compile(out, "q.py", "exec")


def test_reference_keeps_the_solution_and_drops_markers_and_stubs():
    out = solutions.reference(SOURCE)
    assert "q = torch.round(x / scale)\n    return q\n" in out
    assert "FACTORS = (\"rotation\",)" in out and "FACTORS = ()" not in out
    assert "###" not in out and "NotImplementedError" not in out


def test_a_text_without_regions_is_unchanged():
    assert solutions.release("x = 1\n", "a.py") == "x = 1\n"
    assert solutions.reference("x = 1\n") == "x = 1\n"


@pytest.mark.parametrize("text, problem", [
    ("### BEGIN SOLUTION\nx = 1\n", "without END SOLUTION"),
    ("x = 1\n### END SOLUTION\n", "without BEGIN SOLUTION"),
    ("### BEGIN SOLUTION\n### BEGIN SOLUTION\nx\n### END SOLUTION\n", "nested"),
    ("### BEGIN SOLUTION\n### END SOLUTION\n", "empty solution"),
    ("### BEGIN SOLUTIONS here\nx\n### END SOLUTION\n", "malformed marker"),
    ("### BEGIN SOLUTION\nx\n### STUB\ny\n### STUB\nz\n### END SOLUTION\n", "second"),
])
def test_malformed_regions_name_file_and_line(text, problem):
    with pytest.raises(solutions.SolutionError, match=problem) as info:
        solutions.parse(text, "t.py")
    assert "t.py:" in info.value.message


def test_quotes_in_the_todo_are_escaped():
    text = 'def f():\n    ### BEGIN SOLUTION: the "best" one\n    return 1\n    ### END SOLUTION\n'
    out = solutions.release(text, "a.py")
    compile(out, "a.py", "exec")
    ns: dict = {}
    exec(out, ns)
    with pytest.raises(NotImplementedError, match='the "best" one'):
        ns["f"]()
