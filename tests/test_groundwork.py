"""The groundwork template's exercises, proven in three states (LEARNING.md):

* fresh: every visible and hidden test fails (the stubs), the project's own
  pytest and ruff are green (stubs are skipped, not failed);
* reference (the solution regions): every visible and hidden test passes;
* shortcuts: a hard-coded answer fails each exercise's hidden tests, and the
  cheapest way around each rule fails it: a finite-difference or
  autograd-borrowed backward (backprop, batch norm, convolution), a loop
  hidden in a helper (or in recursion), a correct but slow vectorise, a
  library dot product, a network trained by scikit-learn.

Hidden tests run as ``dlpath check`` runs them: from dlpath's package, with
the project as working directory and on PYTHONPATH, seeds drawn at run time.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dlpath import checker, groundwork, solutions, templates
from dlpath import hidden as hidden_module
from tests.conftest import make_project
from tests.template_helpers import assert_project_tests_and_ruff_pass, replace_function, solve

HIDDEN = templates.get("groundwork").path / "hidden"
IDS = [e.id for e in groundwork.load()]


def pytest_run(root: Path, files: list[Path | str], *, todo_fails: bool = True,
               seed: int | None = None) -> tuple[int, int, str]:
    """Run pytest on ``files`` as `dlpath check` does (cwd and PYTHONPATH = the
    project, stubs count as failures); return (passed, failed, output)."""
    env = {**os.environ, "PYTHONPATH": str(root), "PYTHONDONTWRITEBYTECODE": "1"}
    if todo_fails:
        env["DLPATH_TODO"] = "fail"
    if seed is not None:
        env["DLPATH_SEED"] = str(seed)
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(root),
         "-c", os.devnull, *map(str, files)],
        cwd=root, env=env, capture_output=True, text=True, timeout=600)
    summary = proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""

    def count(word: str) -> int:
        found = re.search(rf"(\d+) {word}", summary)
        return int(found.group(1)) if found else 0

    return count("passed"), count("failed") + count("error"), proc.stdout + proc.stderr


def hidden(ids=IDS) -> list[Path]:
    return [HIDDEN / f"test_{i}.py" for i in ids]


def copy_exercises(root: Path, where: Path) -> Path:
    """A light copy of a project (exercises, tests, metadata) for a planted shortcut."""
    dest = where / root.name
    for part in ("exercises", "tests", ".dlpath"):
        shutil.copytree(root / part, dest / part,
                        ignore=shutil.ignore_patterns("__pycache__", "state.json*"))
    return dest


def failed_tests(output: str) -> set[str]:
    return set(re.findall(r"^(?:FAILED|ERROR) \S*?::(\w+)", output, re.MULTILINE))


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    return make_project("groundwork", tmp_path_factory.mktemp("gw-fresh"), name="gw",
                        git=False, dvc=False)


@pytest.fixture(scope="module")
def solved(tmp_path_factory) -> Path:
    root = make_project("groundwork", tmp_path_factory.mktemp("gw-solved"), name="gw",
                        git=False, dvc=False)
    solve(root)
    return root


# ------------------------------------------------------------------ the template


def test_every_exercise_has_a_file_with_regions_visible_tests_hidden_tests_and_hints(fresh):
    tree = templates.get("groundwork").path / templates.PROJECT_DIR
    for e in groundwork.load():
        lf = groundwork.learner_file(e)
        assert lf.regions(), e.file
        assert all(r.test == e.test for r in lf.regions()), e.file
        assert (fresh / e.file).read_text() == groundwork.starting_text(e)  # reset relies on it
        assert (tree / e.test).is_file() and (HIDDEN / f"test_{e.id}.py").is_file()
        assert len(e.hints) == 3 and all(len(h) > 60 for h in e.hints)
        # hints are words, never code
        assert not any(re.search(r"np\.|\bdef |\breturn\b|\bimport\b|axis=|keepdims|\[:|"
                                 r"\.T\b|@|\.sum\(", h) for h in e.hints), e.id
    assert not list(fresh.rglob("hidden")) and not list(fresh.rglob("groundwork_support.py"))


def test_hidden_test_names_are_unique_and_name_what_they_test():
    names: dict[str, str] = {}
    for path in hidden():
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                assert node.name not in names, (node.name, path.name, names.get(node.name))
                names[node.name] = path.name


def test_hidden_tests_draw_their_seed_at_run_time():
    assert "secrets.randbits" in (HIDDEN / "groundwork_support.py").read_text()
    for path in hidden():
        text = path.read_text()
        assert "from groundwork_support import rng" in text, path.name
        assert not re.search(r"default_rng\(\[?\d", text), path.name  # no seed of its own


def test_exercise_docstrings_give_no_derivations():
    """The backward formulas live in the hint levels, not in the stubs."""
    for e in groundwork.load():
        released = groundwork.starting_text(e)
        assert "d_z2 = (softmax(z2) - one_hot(y)) / n" not in released
        assert "dx     = (1 / N)" not in released and "Its gradient is A w - b" not in released
    backprop = groundwork.starting_text(groundwork.get("backprop"))
    assert "a1.T @" not in backprop and "1 - a1 ** 2" not in backprop


# ------------------------------------------------------------------ fresh and reference


def test_fresh_project_fails_every_visible_and_hidden_test_but_its_own_pytest_is_green(fresh):
    passed, failed, out = pytest_run(fresh, [fresh / "tests" / f"test_{i}.py" for i in IDS])
    assert passed == 0 and failed >= 75, out[-3000:]
    passed, failed, out = pytest_run(fresh, hidden())
    assert passed == 0 and failed >= 150, out[-3000:]
    assert_project_tests_and_ruff_pass(fresh)


def test_reference_passes_every_visible_and_hidden_test(solved):
    passed, failed, out = pytest_run(solved, [solved / "tests" / f"test_{i}.py" for i in IDS])
    assert failed == 0 and passed >= 75, out[-3000:]
    passed, failed, out = pytest_run(solved, hidden())
    assert failed == 0 and passed >= 150, out[-3000:]


@pytest.mark.slow
def test_reference_passes_the_hidden_tests_whatever_the_seed(solved):
    for seed in (1, 2**31 - 1):
        passed, failed, out = pytest_run(solved, hidden(), seed=seed)
        assert failed == 0 and passed >= 150, out[-3000:]


@pytest.mark.slow
def test_reference_project_tests_and_ruff_pass(solved):
    assert_project_tests_and_ruff_pass(solved)


def test_check_reports_hidden_failures_by_function_never_by_value(fresh, solved):
    report = checker.evaluate(solved, milestone="softmax", record=False)
    assert report.status == "pass", [(c.id, c.message, c.output) for c in report.all_checks]
    report = checker.evaluate(fresh, milestone="softmax", record=False)
    visible, hidden_check = report.all_checks
    assert visible.status == hidden_check.status == "fail"
    assert hidden_check.message.startswith("hidden check failed: ")
    assert "cross_entropy() in exercises/softmax.py" in hidden_check.message
    assert "test_cross_entropy_on_random_labels" in hidden_check.message
    assert hidden_check.output == "" and "assert" not in hidden_check.message


# ------------------------------------------------------------------ hard-coded answers

#: for each exercise, its functions answering what the visible tests expect,
#: whatever they are asked
HARD_CODED = {
    "vectors": ("dot", "def dot(u, v):\n    return 32.0\n"),
    "vectorise": ("pairwise_distances",
                  "def pairwise_distances(a, b):\n"
                  "    return np.array([[0.0, 10.0, 5.0], [5.0, 5.0, 0.0]])\n"),
    "softmax": ("cross_entropy", "def cross_entropy(logits, labels):\n"
                                 "    return float(np.log(4))\n"),
    "backprop": ("backward", "def backward(params, cache):\n"
                             "    return {k: np.zeros_like(v) for k, v in params.items()}\n"),
    "autograd": ("Value.backward", "def backward(self):\n    self.grad = 1.0\n"),
    "batchnorm": ("batchnorm_backward",
                  "def batchnorm_backward(dout, cache):\n"
                  "    return np.zeros_like(dout), np.zeros(dout.shape[1]), dout.sum(axis=0)\n"),
    "init": ("init_weights", "def init_weights(fan_in, fan_out, scheme, rng):\n"
                             "    return rng.normal(0.0, 0.01, size=(fan_in, fan_out))\n"),
    "descent": ("gradient", "def gradient(w, a, b):\n    return np.array([-3.0, -1.0])\n"),
    "optimisers": ("Adam.step", "def step(self, params, grads):\n"
                                "    for name, grad in grads.items():\n"
                                "        params[name] -= self.lr * np.sign(grad)\n"),
    "conv": ("conv_backward", "def conv_backward(dout, cache):\n"
                              "    x_shape, cols, w, stride, pad = cache\n"
                              "    return np.zeros(x_shape), np.zeros_like(w), "
                              "dout.sum(axis=(0, 2, 3))\n"),
    "network": ("predict", "def predict(params, x):\n    return np.zeros(len(x), dtype=int)\n"),
}


def test_every_exercise_has_a_hard_coded_shortcut():
    assert sorted(HARD_CODED) == sorted(IDS)


@pytest.mark.slow
@pytest.mark.parametrize("exercise", IDS)
def test_a_hard_coded_answer_fails_the_hidden_tests(solved, tmp_path, exercise):
    function, source = HARD_CODED[exercise]
    root = copy_exercises(solved, tmp_path)
    replace_function(root, f"exercises/{exercise}.py", function, source)
    passed, failed, out = pytest_run(root, hidden([exercise]))
    assert failed >= 1, out[-3000:]
    used = hidden_module.functions_used(HIDDEN / f"test_{exercise}.py", root)
    top = function.split(".")[0]
    assert any(top in {f for f, _ in used[test]} for test in failed_tests(out)), out[-3000:]


# ------------------------------------------------------------------ shortcuts

FD_BACKPROP = '''
def backward(params, cache):
    x, y = cache["x"], cache["y"]
    return {name: numerical_gradient(lambda: forward(params, x, y)[0], params[name])
            for name in PARAMS}
'''
TORCH_BACKPROP = '''
def backward(params, cache):
    import torch

    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    x = torch.tensor(cache["x"])
    z2 = torch.tanh(x @ t["w1"] + t["b1"]) @ t["w2"] + t["b2"]
    torch.nn.functional.cross_entropy(z2, torch.tensor(cache["y"])).backward()
    return {k: v.grad.numpy() for k, v in t.items()}
'''
BN_FORWARD_KEEPING_X = '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = ((x - mu) ** 2).mean(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta, {
        "x": x.copy(), "gamma": gamma, "beta": beta, "eps": eps}
'''
FD_BATCHNORM = '''
def batchnorm_backward(dout, cache):
    x, gamma, beta, eps = cache["x"].copy(), cache["gamma"], cache["beta"], cache["eps"]

    def loss():
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        return float(np.sum(dout * (gamma * (x - mu) / np.sqrt(var + eps) + beta)))

    dx = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + 1e-6
        up = loss()
        x[index] = old - 1e-6
        down = loss()
        x[index] = old
        dx[index] = (up - down) / 2e-6
    x_hat = (x - x.mean(0)) / np.sqrt(x.var(0) + eps)
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
'''
TORCH_BATCHNORM = '''
def batchnorm_backward(dout, cache):
    from torch import autograd, tensor

    x = tensor(cache["x"], requires_grad=True)
    g = tensor(cache["gamma"], requires_grad=True)
    b = tensor(cache["beta"], requires_grad=True)
    mu = x.mean(0)
    var = ((x - mu) ** 2).mean(0)
    out = g * (x - mu) / (var + cache["eps"]).sqrt() + b
    grads = autograd.grad(out, (x, g, b), tensor(dout))
    return tuple(t.numpy() for t in grads)
'''
FD_CONV = '''
def conv_backward(dout, cache):
    x_shape, cols, w, stride, pad = cache
    f, _, kh, kw = w.shape
    d_out = dout.transpose(0, 2, 3, 1).reshape(-1, f)
    dw = (d_out.T @ cols).reshape(w.shape)
    x = col2im(cols, x_shape, kh, kw, stride, pad) / col2im(np.ones_like(cols), x_shape, kh,
                                                           kw, stride, pad)
    dx = np.zeros(x_shape)
    for index in np.ndindex(x_shape):
        old = x[index]
        x[index] = old + 1e-6
        up = np.sum(dout * conv_forward(x, w, np.zeros(f), stride, pad)[0])
        x[index] = old - 1e-6
        down = np.sum(dout * conv_forward(x, w, np.zeros(f), stride, pad)[0])
        x[index] = old
        dx[index] = (up - down) / 2e-6
    return dx, dw, d_out.sum(axis=0)
'''
HELPER_LOOP = '''
def pairwise_distances(a, b):
    return _distances(a, b)


def _distances(a, b):
    out = np.empty((len(a), len(b)))
    for i in range(len(a)):
        out[i] = np.sqrt(((b - a[i]) ** 2).sum(axis=1))
    return out
'''
RECURSION = '''
def pairwise_distances(a, b):
    if len(a) == 0:
        return np.zeros((0, len(b)))
    first = np.sqrt(((b - a[0]) ** 2).sum(axis=1))[None, :]
    return np.concatenate([first, pairwise_distances(a[1:], b)])
'''
LIBRARY_LOOP = '''
def pairwise_distances(a, b):
    from functools import reduce

    return np.sqrt(reduce(lambda acc, i: acc + (a[:, None, i] - b[None, :, i]) ** 2,
                          range(a.shape[1]), np.zeros((len(a), len(b)))))
'''
SLOW_BUT_CORRECT = '''
def pairwise_distances(a, b):
    import time

    start = time.perf_counter()
    squared = (a * a).sum(axis=1)[:, None] + (b * b).sum(axis=1)[None, :] - 2.0 * (a @ b.T)
    out = np.sqrt(np.maximum(squared, 0.0))
    # 80 times the work: clearly under the 20x bar, so one round of timing decides.
    time.sleep(80 * (time.perf_counter() - start))
    return out
'''
LIBRARY_DOT = '''
def dot(u, v):
    u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
    if u.shape != v.shape:
        raise ValueError("lengths differ")
    return _inner(u, v)


def _inner(u, v):
    return float(u @ v)
'''
SKLEARN_TRAIN = '''
def train(x, y, *, hidden, epochs, batch_size, optimiser, seed=0, classes=10):
    from sklearn.neural_network import MLPClassifier

    model = MLPClassifier((hidden,), activation="tanh", max_iter=epochs * 10,
                          random_state=seed).fit(x, y)
    params = {"w1": model.coefs_[0], "b1": model.intercepts_[0],
              "w2": model.coefs_[1], "b2": model.intercepts_[1]}
    return params, [float(model.loss_)] * epochs
'''

#: (exercise, [(function, planted source)], a hidden test that must fail, what its message says)
SHORTCUTS = {
    "finite-difference backprop": ("backprop", [("backward", FD_BACKPROP)],
                                   "test_backward_is_derived_not_differenced", None),
    "torch backprop": ("backprop", [("backward", TORCH_BACKPROP)],
                       "test_backward_is_derived_not_differenced", "may not use torch"),
    "finite-difference batchnorm": ("batchnorm", [("batchnorm_forward", BN_FORWARD_KEEPING_X),
                                                  ("batchnorm_backward", FD_BATCHNORM)],
                                    "test_batchnorm_backward_is_derived_not_differenced",
                                    "Python lines"),
    "torch batchnorm": ("batchnorm", [("batchnorm_forward", BN_FORWARD_KEEPING_X),
                                      ("batchnorm_backward", TORCH_BATCHNORM)],
                        "test_batchnorm_backward_is_derived_not_differenced",
                        "may not use torch"),
    "finite-difference conv": ("conv", [("conv_backward", FD_CONV)],
                               "test_conv_backward_is_derived_not_differenced", None),
    "loop in a helper": ("vectorise", [("pairwise_distances", HELPER_LOOP)],
                         "test_no_python_loop_in_the_function_or_what_it_calls",
                         "in vectorise._distances, which vectorise.pairwise_distances calls"),
    "recursion": ("vectorise", [("pairwise_distances", RECURSION)],
                  "test_no_python_loop_in_the_function_or_what_it_calls", "recursion"),
    "loop in a library call": ("vectorise", [("pairwise_distances", LIBRARY_LOOP)],
                               "test_no_python_loop_in_the_function_or_what_it_calls",
                               "loops over the data"),
    "slow but correct": ("vectorise", [("pairwise_distances", SLOW_BUT_CORRECT)],
                         "test_pairwise_distances_is_20_times_faster_than_the_loop", None),
    "library dot product": ("vectors", [("dot", LIBRARY_DOT)],
                            "test_dot_uses_no_library_dot_product",
                            "in vectors._inner, which vectors.dot calls"),
    "scikit-learn training": ("network", [("train", SKLEARN_TRAIN)],
                              "test_train_runs_your_forward_and_backward_and_the_optimiser_per_"
                              "minibatch", "may not use sklearn"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SHORTCUTS))
def test_the_cheapest_shortcut_fails_its_hidden_rule(solved, tmp_path, name):
    exercise, plants, must_fail, says = SHORTCUTS[name]
    root = copy_exercises(solved, tmp_path)
    for function, source in plants:
        replace_function(root, f"exercises/{exercise}.py", function, source)
    # Only the test that must catch it: the rest of the file is proven elsewhere.
    passed, failed, out = pytest_run(root, [f"{hidden([exercise])[0]}::{must_fail}"])
    assert must_fail in failed_tests(out), out[-4000:]
    if says:
        assert says in out, out[-4000:]


@pytest.mark.slow
def test_a_shortcut_fails_the_milestone_and_the_check_names_the_function(solved, tmp_path):
    from tests.template_helpers import assert_milestone_fails

    root = make_project("groundwork", tmp_path, name="gw", git=False, dvc=False)
    solutions.apply_reference(root, ["exercises/softmax.py", "exercises/backprop.py"])
    replace_function(root, "exercises/backprop.py", "backward", FD_BACKPROP)
    failing = assert_milestone_fails(root, "backprop", check="hidden-tests",
                                     mentions=("backward()", "in exercises/backprop.py",
                                               "test_backward_is_derived_not_differenced"))
    hidden_check = next(c for c in failing if c.id == "hidden-tests")
    assert hidden_check.output == ""
