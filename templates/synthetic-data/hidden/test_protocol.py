"""Hidden checks of the protocol (kept inside dlpath; run by `dlpath check`).

The real digits reach the project through real.py only: dev for tuning, the
pool for the reference points, the locked test split for the reporting
stages. Code that loads the real digits by another door, or reads the test
split anywhere else, is tuning on (or training on) the test split.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # dlpath imports tests by path
import _split  # noqa: E402
from _project import module, package_name  # noqa: E402

#: modules allowed to load scikit-learn's digits: real.py, and the base's data.py
#: and prepare.py (the other templates' split stage; no stage here runs it)
LOADERS = {"real.py", "data.py", "prepare.py"}
#: modules allowed to call real.locked_test()
TEST_READERS = {"baselines.py", "evaluate.py"}
DOORS = {"load_digits", "fetch_openml", "digits"}


def sources() -> list[Path]:
    root = Path.cwd() / package_name()
    return sorted(p for p in root.rglob("*.py") if "__pycache__" not in p.parts)


def called_names(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            f = node.func
            names.add(f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", ""))
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.update(f"import:{node.module}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            names.update(f"import:{a.name}" for a in node.names)
    return names


def test_real_digits_come_through_real_py_only():
    offenders = []
    for path in sources():
        if path.name in LOADERS:
            continue
        names = called_names(ast.parse(path.read_text(encoding="utf-8")))
        doors = sorted(n for n in names if n in DOORS or n.startswith("import:sklearn.datasets"))
        if doors:
            offenders.append(f"{path.name}: {', '.join(doors)}")
    assert not offenders, ("real digits loaded outside real.py (use real.dev() to tune): "
                           + "; ".join(offenders))


def test_only_the_reporting_stages_read_the_locked_test_split():
    offenders = [p.name for p in sources() if p.name not in TEST_READERS | {"real.py"}
                 and "locked_test" in called_names(ast.parse(p.read_text(encoding="utf-8")))]
    assert not offenders, f"locked_test() called in {', '.join(offenders)}: tune on real.dev()"


def test_the_splits_are_the_locked_ones():
    real = module("real")
    mine = _split.indices()
    theirs = real.split_indices()
    for name in ("dev", "pool", "test"):
        assert np.array_equal(np.sort(theirs[name]), mine[name]), (
            f"real.py's {name} split is not the locked one: restore real.py")
