"""What the hidden tests of the groundwork exercises share (no test_ prefix:
pytest does not collect it).

* ``rules``: dlpath's own copy of the project's tests/exercise_rules.py (the
  packaged template file, never the learner's copy, which they may edit).
* ``SEED``: drawn at run time, so no answer can be fitted to the hidden
  inputs: ``dlpath check`` draws one per run (``DLPATH_SEED``); run any
  other way, it comes from :mod:`secrets`. Set DLPATH_SEED to replay a run.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RULES_FILE = HERE.parent / "{{cookiecutter._project_name}}" / "tests" / "exercise_rules.py"
SEED = int(os.environ.get("DLPATH_SEED") or secrets.randbits(32))


def _load_rules():
    name = "dlpath_groundwork_rules"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, RULES_FILE)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


rules = _load_rules()


def rng(*key: int) -> np.random.Generator:
    """A generator for one test case: the run's seed and the case's key."""
    return np.random.default_rng([SEED, *key])
