"""What a failed hidden test may tell the learner: which of their functions
it exercised and the test's name, never its expected values (otter-grader's
rule).

``describe`` reads the names of the failing tests from pytest's summary
lines, then each test's source (dlpath's packaged test file) for the
project functions it calls: attributes of project modules it imports
(``backprop.backward``) and names imported from them (``Value``).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

_FAILED = re.compile(r"^(?:FAILED|ERROR) \S*?::(\w+)", re.MULTILINE)
MAX_TESTS = 3


def failing_tests(output: str) -> list[str]:
    """The failing test functions named in pytest's output, in order, once each."""
    return list(dict.fromkeys(_FAILED.findall(output)))


def _module_file(root: Path, dotted: str) -> str | None:
    base = root.joinpath(*dotted.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate.relative_to(root).as_posix()
    return None


def _project_names(tree: ast.Module, root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """(module aliases -> file, imported names -> file) for the project
    modules the test file imports."""
    modules: dict[str, str] = {}
    names: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                found = _module_file(root, alias.name)
                if found:
                    modules[alias.asname or alias.name] = found
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                found = _module_file(root, f"{node.module}.{alias.name}")
                if found:  # from exercises import backprop
                    modules[alias.asname or alias.name] = found
                elif _module_file(root, node.module):  # from exercises.autograd import Value
                    names[alias.asname or alias.name] = _module_file(root, node.module)
    return modules, names


def functions_used(test_file: Path, root: Path) -> dict[str, list[tuple[str, str]]]:
    """{test function: [(project function, its file), ...]} for a test file."""
    try:
        tree = ast.parse(test_file.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return {}
    modules, names = _project_names(tree, root)
    used: dict[str, list[tuple[str, str]]] = {}
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not node.name.startswith("test"):
            continue
        found: dict[tuple[str, str], None] = {}
        for sub in ast.walk(node):
            if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                    and sub.value.id in modules:
                found[(sub.attr, modules[sub.value.id])] = None
            elif isinstance(sub, ast.Name) and sub.id in names:
                found[(sub.id, names[sub.id])] = None
        used[node.name] = list(found)
    return used


def describe(test_file: Path, output: str, root: Path) -> str | None:
    """"in backward() (exercises/backprop.py): test_backward_on_random_networks
    failed", or None when pytest's output names no failing test."""
    tests = failing_tests(output)
    if not tests:
        return None
    used = functions_used(test_file, root)
    functions: dict[tuple[str, str], None] = {}
    for test in tests:
        for pair in used.get(test, []):
            functions[pair] = None
    by_file: dict[str, list[str]] = {}
    for name, file in functions:
        by_file.setdefault(file, []).append(f"{name}()")
    where = "; ".join(f"{', '.join(fns)} in {file}" for file, fns in by_file.items())
    shown = ", ".join(tests[:MAX_TESTS]) + (f" and {len(tests) - MAX_TESTS} more"
                                            if len(tests) > MAX_TESTS else "")
    return (f"{where}: " if where else "") + f"{shown} failed"
