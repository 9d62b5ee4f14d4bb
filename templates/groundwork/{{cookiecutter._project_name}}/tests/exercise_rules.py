"""The rules the exercises' docstrings state, as code the tests share.

Read it: nothing here is secret. dlpath's hidden tests use the same rules
(from dlpath's own copy of this file, so editing this one changes nothing
but your visible tests, and `dlpath check` then says they were edited).

* **No Python loops** (`loop_free`): the function *and every function it
  calls that is defined in this project* (a helper in the same file, another
  exercise, a lambda) contain no for/while/comprehension, no recursion, and
  no np.vectorize, np.frompyfunc, np.apply_along_axis, map or np.fromiter.
  `lines_run` confirms it at run time: a vectorised function runs the same
  number of Python lines whatever the size of its input.
* **Derived, not differenced** (`derived_gradient`): a backward pass runs a
  few dozen Python lines and costs a few forward passes, whatever the size
  of the network. A numerical gradient needs two forward passes per
  parameter: on the networks the tests use (tens of thousands of
  parameters) it runs out of both budgets.
* **No borrowed autograd** (`no_autograd`): backward passes may not call
  PyTorch, JAX or another automatic differentiation library.
"""

from __future__ import annotations

import ast
import builtins
import importlib.abc
import inspect
import sys
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
         ast.GeneratorExp)
#: calls that hide a Python loop (they call a Python function once per element)
LOOP_CALLS = {"vectorize", "frompyfunc", "apply_along_axis", "apply_over_axes", "map",
              "fromiter", "fromfunction"}
#: automatic differentiation libraries a derived backward pass does not need
AUTOGRAD = ("torch", "jax", "jaxlib", "autograd", "tensorflow", "mxnet", "chainer",
            "tinygrad", "micrograd", "mlx", "theano", "paddle", "keras")


class RuleBroken(AssertionError):
    """A rule of the exercise is broken (the message says which, and where)."""


# ------------------------------------------------------------- call graph


def project_root() -> Path:
    """The project: the folder that holds the `exercises` package."""
    module = sys.modules.get("exercises")
    if module is not None and getattr(module, "__file__", None):
        return Path(module.__file__).resolve().parent.parent
    return Path.cwd().resolve()


def _source_tree(fn) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(fn)))
    except (OSError, TypeError, SyntaxError):
        return None


def _in_project(obj, root: Path) -> bool:
    try:
        path = Path(inspect.getsourcefile(obj) or "").resolve()
    except TypeError:
        return False
    return path.is_file() and root in path.parents and not any(
        part in ("site-packages", ".venv", "venv") for part in path.relative_to(root).parts)


def _resolve(node: ast.AST, namespace: dict):
    """The object an ast.Name or a chain of ast.Attribute names, or None."""
    if isinstance(node, ast.Name):
        if node.id in namespace:
            return namespace[node.id]
        return getattr(builtins, node.id, None)
    if isinstance(node, ast.Attribute):
        base = _resolve(node.value, namespace)
        if base is None:
            return None
        try:
            return inspect.getattr_static(base, node.attr)
        except AttributeError:
            return None
    return None


def _unwrap(obj):
    if isinstance(obj, (staticmethod, classmethod)):
        obj = obj.__func__
    if isinstance(obj, types.MethodType):
        obj = obj.__func__
    return obj


def _filled(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018 - an empty cell raises ValueError
    except ValueError:
        return False
    return True


def _namespace(fn: types.FunctionType) -> dict:
    namespace = dict(fn.__globals__)
    if fn.__closure__:
        namespace.update({var: cell.cell_contents for var, cell in
                          zip(fn.__code__.co_freevars, fn.__closure__, strict=True)
                          if _filled(cell)})
    return namespace


def _refs(fn: types.FunctionType, root: Path) -> list[types.FunctionType]:
    """The project functions ``fn`` names directly (a class: its methods)."""
    tree = _source_tree(fn)
    if tree is None:
        return []
    namespace, found = _namespace(fn), []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Name, ast.Attribute)):
            obj = _unwrap(_resolve(node, namespace))
            candidates = [_unwrap(v) for v in vars(obj).values()] if isinstance(obj, type) \
                else [obj]
            found += [c for c in candidates
                      if isinstance(c, types.FunctionType) and _in_project(c, root)]
    return found


def _key(fn) -> str:
    return f"{fn.__module__}.{fn.__qualname__}"


def _short(name: str) -> str:
    return name.split(".", 1)[1] if "." in name else name


def call_graph(fn, root: Path | None = None) -> dict[str, tuple[types.FunctionType, set[str]]]:
    """``fn`` and every function defined in the project that it refers to,
    directly or through others: {qualified name: (function, names it refers to)}."""
    root = (root or project_root()).resolve()
    graph: dict[str, tuple[types.FunctionType, set[str]]] = {}
    todo = [_unwrap(fn)]
    while todo:
        current = todo.pop()
        if not isinstance(current, types.FunctionType) or _key(current) in graph:
            continue
        refs = _refs(current, root)
        graph[_key(current)] = (current, {_key(r) for r in refs})
        todo.extend(refs)
    return graph


def _where(name: str, fn) -> str:
    top = _short(_key(_unwrap(fn)))
    return "" if _short(name) == top else f" (in {_short(name)}, which {top} calls)"


# ------------------------------------------------------------- loops


def loop_free(fn, root: Path | None = None) -> None:
    """Raise RuleBroken when ``fn`` or a project function it calls loops in Python."""
    graph = call_graph(fn, root)
    top = _short(_key(_unwrap(fn)))
    for name, (current, _) in graph.items():
        tree = _source_tree(current)
        if tree is None:
            raise RuleBroken(f"cannot read the source of {_short(name)}")
        for node in ast.walk(tree):
            if isinstance(node, LOOPS):
                kind = {ast.For: "a for loop", ast.AsyncFor: "a for loop",
                        ast.While: "a while loop", ast.GeneratorExp: "a generator expression"
                        }.get(type(node), "a comprehension")
                raise RuleBroken(f"{top} uses {kind}{_where(name, fn)}: replace it with "
                                 "array operations")
            called = node.attr if isinstance(node, ast.Attribute) else \
                node.id if isinstance(node, ast.Name) else None
            if called in LOOP_CALLS:
                raise RuleBroken(f"{top} calls {called}, a Python loop in disguise"
                                 f"{_where(name, fn)}")
    for start in graph:  # recursion is a loop too
        seen, stack = set(), list(graph[start][1])
        while stack:
            current = stack.pop()
            if current == start:
                raise RuleBroken(f"{top}: {_short(start)} calls itself (directly or through "
                                 "other functions): recursion is a loop in disguise")
            if current not in seen and current in graph:
                seen.add(current)
                stack.extend(graph[current][1])


def forbid_names(fn, names: set[str], why: str, root: Path | None = None,
                 matmul: bool = False) -> None:
    """Raise RuleBroken when ``fn`` or a project function it calls names one of
    ``names`` (as a name or an attribute), or uses ``@`` when ``matmul``."""
    top = _short(_key(_unwrap(fn)))
    for name, (current, _) in call_graph(fn, root).items():
        tree = _source_tree(current)
        for node in ast.walk(tree) if tree is not None else ():
            used = node.attr if isinstance(node, ast.Attribute) else \
                node.id if isinstance(node, ast.Name) else None
            if used in names:
                raise RuleBroken(f"{top} uses {used}{_where(name, fn)}: {why}")
            if matmul and isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
                raise RuleBroken(f"{top} uses the @ operator{_where(name, fn)}: {why}")


# ------------------------------------------------------------- run-time budgets


class OverBudget(RuleBroken):
    """A call ran more Python lines, or for longer, than its budget."""


def lines_run(fn: Callable, *args, limit: int | None = None, seconds: float | None = None,
              **kwargs) -> tuple[int, object]:
    """(Python lines executed, result) of ``fn(*args, **kwargs)``, counting
    lines in every module. Past ``limit`` lines or ``seconds``, the call is
    stopped and OverBudget raised."""
    count = 0
    start = time.perf_counter()

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if limit is not None and count > limit:
                raise OverBudget(f"more than {limit} Python lines")
            if seconds is not None and count % 8 == 0 and \
                    time.perf_counter() - start > seconds:
                raise OverBudget(f"more than {seconds:.2g} s")
        return tracer

    old = sys.gettrace()
    sys.settrace(tracer)
    try:
        result = fn(*args, **kwargs)
    finally:
        sys.settrace(old)
    if seconds is not None and time.perf_counter() - start > seconds:
        raise OverBudget(f"more than {seconds:.2g} s")
    return count, result


def scales_with_input(fn: Callable, small: tuple, large: tuple, slack: int = 20) -> None:
    """Raise RuleBroken when ``fn(*large)`` runs more Python lines than
    ``fn(*small)`` (beyond ``slack``): a loop over the data somewhere."""
    few, _ = lines_run(fn, *small, limit=200_000)
    try:
        many, _ = lines_run(fn, *large, limit=few + slack + 1)
    except OverBudget:
        many = None
    if many is None or many > few + slack:
        name = getattr(fn, "__qualname__", "the function")
        raise RuleBroken(f"{name} runs more Python lines on a larger input than on a small "
                         "one: it loops over the data (in it, or in something it calls)")


def median_seconds(fn: Callable, *args, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2]


def _loop_distances(a, b):
    """The loop version of pairwise distances (the tests time this copy)."""
    import numpy as np

    out = np.zeros((len(a), len(b)))
    for i in range(len(a)):
        for j in range(len(b)):
            out[i, j] = np.sqrt(np.sum((a[i] - b[j]) ** 2))
    return out


def speedup(fn: Callable, n: int = 2000, d: int = 64, *, rows: int = 4, repeats: int = 5,
            rounds: int = 3, target: float = 20.0, seed: int = 0) -> float:
    """How many times faster fn(a, b) is than the loop version on two (n, d)
    arrays, both timed in this process.

    Each round times the two alternately, repeats times each, and compares
    the medians: a busy machine slows both alike. The loop runs on rows
    rows of a and is scaled up to n (each row costs it the same). A round
    below target is measured again, up to rounds times, and the best
    round counts. fn must also agree with the loop on those rows.
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    expected = _loop_distances(a[:rows], b)
    got = np.asarray(fn(a, b))
    if got.shape != (n, n) or not np.allclose(got[:rows], expected, rtol=1e-6, atol=1e-6):
        raise RuleBroken(f"{getattr(fn, '__qualname__', 'fn')} gives wrong distances on "
                         f"({n}, {d}) inputs")
    best = 0.0
    for _ in range(rounds):
        loop_times, fn_times = [], []
        for _ in range(repeats):
            start = time.perf_counter()
            _loop_distances(a[:rows], b)
            loop_times.append((time.perf_counter() - start) * n / rows)
            start = time.perf_counter()
            fn(a, b)
            fn_times.append(time.perf_counter() - start)
        loop_times.sort()
        fn_times.sort()
        best = max(best, loop_times[repeats // 2] / max(fn_times[repeats // 2], 1e-9))
        if best >= target or best < target / 2:  # no busy machine explains a factor of 2
            break
    return best


def derived_gradient(backward: Callable, args: tuple, forward: Callable, forward_args: tuple,
                     *, lines: int = 3000, forward_passes: float = 40.0):
    """Run ``backward(*args)`` within the budgets of a derived backward pass,
    with no autograd library importable: at most ``lines`` Python lines and
    the time of ``forward_passes`` calls of ``forward(*forward_args)`` (plus
    0.5 s for a busy machine). Returns its result; raises RuleBroken naming
    the budget otherwise."""
    assert_no_autograd(backward)
    forward(*forward_args)  # warm up
    budget = forward_passes * median_seconds(forward, *forward_args) + 0.5
    name = getattr(backward, "__qualname__", "backward")
    try:
        with no_autograd(name):
            _, result = lines_run(backward, *args, limit=lines, seconds=budget)
    except OverBudget as exc:
        raise RuleBroken(
            f"{name} took {exc} on a network with tens of thousands of parameters: a "
            "derived backward pass costs a few forward passes, finite differences two per "
            "parameter. Derive each gradient with the chain rule.") from None
    return result


# ------------------------------------------------------------- autograd libraries


def _root_name(name: str) -> str:
    return name.split(".", 1)[0]


class _Blocker(importlib.abc.MetaPathFinder):
    def __init__(self, who: str, libraries: tuple[str, ...]):
        self.who, self.libraries = who, libraries

    def find_spec(self, fullname, path, target=None):
        if _root_name(fullname) in self.libraries:
            raise ImportError(f"{self.who} may not use {fullname} here")
        return None


def borrowed_autograd(fn, root: Path | None = None) -> str | None:
    """The first automatic differentiation library that ``fn`` (or a project
    function it calls) refers to, as '<library> (in <function>)'."""
    for name, (current, _) in call_graph(fn, root).items():
        tree = _source_tree(current)
        namespace = _namespace(current)
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) \
                    else [node.module or ""]
                hit = next((m for m in modules if _root_name(m) in AUTOGRAD), None)
            elif isinstance(node, ast.Name) and node.id in namespace:
                value = namespace[node.id]
                module = value.__name__ if isinstance(value, types.ModuleType) else \
                    getattr(value, "__module__", None)
                hit = module if isinstance(module, str) and _root_name(module) in AUTOGRAD \
                    else None
            else:
                hit = None
            if hit:
                return f"{_root_name(hit)} (in {_short(name)})"
    return None


def assert_no_autograd(fn, root: Path | None = None) -> None:
    found = borrowed_autograd(fn, root)
    if found:
        name = getattr(fn, "__qualname__", "the function")
        raise RuleBroken(f"{name} may not use {found}: derive the gradient yourself")


@contextmanager
def no_autograd(who: str = "this function",
                libraries: tuple[str, ...] = AUTOGRAD) -> Iterator[None]:
    """Inside the block, importing one of libraries (the autograd
    libraries by default) raises RuleBroken."""
    hidden = {k: sys.modules.pop(k) for k in list(sys.modules) if _root_name(k) in libraries}
    blocker = _Blocker(who, libraries)
    sys.meta_path.insert(0, blocker)
    try:
        yield
    except ImportError as exc:
        if str(exc).endswith(" here") and " may not use " in str(exc):
            raise RuleBroken(f"{exc}: work it out with NumPy") from None
        raise
    finally:
        sys.meta_path.remove(blocker)
        sys.modules.update(hidden)
