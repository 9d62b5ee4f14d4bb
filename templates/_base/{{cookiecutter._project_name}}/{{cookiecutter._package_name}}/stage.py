"""The contract every stage keeps, without PyTorch (the NumPy-only stages of
groundwork import this alone and start in a fraction of a second): read
``params.yaml``, run the learner's code (``learner_code``: a stub's
NotImplementedError is noted, the block skipped, and the stage still
succeeds), write metrics as JSON or CSV, and save or load a data split as
NumPy arrays (``save_split``, ``load_split``).

``common`` re-exports them all, so a stage that already imports common
need not import this too.
"""

from __future__ import annotations

import csv
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
    """Run a block that uses functions you write.

    While one of them is still a stub, its ``NotImplementedError`` (whose
    message names the function, its file and its test) is noted in ``todo``
    and the rest of the block is skipped: the stage still succeeds, and
    writes ``"not_implemented": todo`` into its metrics, where ``dlpath
    check`` and ``dlpath next`` read what to write next.
    """
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


def write_csv(path: str | Path, rows: list[dict[str, Any]]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def save_split(path: str | Path, x, y, **extra) -> None:
    """Arrays ``x``, ``y`` (and any ``extra``) in one compressed ``.npz``."""
    import numpy as np

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, x=x, y=y, **extra)


def load_split(path: str | Path) -> dict:
    """Every array of a ``.npz`` written by ``save_split``, by name."""
    import numpy as np

    with np.load(path) as data:
        return {key: data[key] for key in data.files}
