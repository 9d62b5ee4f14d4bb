"""What the NumPy-only stages (descent, optimisers, init) share, without
importing PyTorch: common.py imports it, which costs each of those stages
two to eight seconds of `dvc repro` for nothing.

`learner_code`, `load_params` and `write_json` keep common.py's contract:
a stub's NotImplementedError is noted and the block skipped, and the stage
writes the notes as "not_implemented" in its metrics.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml


def load_params(path: str | Path = "params.yaml") -> dict[str, Any]:
    with open(path, encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@contextmanager
def learner_code(todo: list[str]) -> Iterator[None]:
    """Run a block that uses functions you write; a stub's NotImplementedError
    is noted in ``todo`` (see common.learner_code) and the block skipped."""
    try:
        yield
    except NotImplementedError as exc:
        message = str(exc) or "a function you write"
        todo.append(message)
        print(f"not implemented yet: {message}", file=sys.stderr)


def write_json(path: str | Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
