"""Find and import the project's package (its name is the learner's choice)."""

from __future__ import annotations

import importlib
import json
from pathlib import Path


def package_name(root: Path | None = None) -> str:
    root = root or Path.cwd()
    meta = root / ".dlpath" / "project.json"
    if meta.is_file():
        name = json.loads(meta.read_text(encoding="utf-8")).get("package")
        if name:
            return name
    for candidate in sorted(root.glob("*/randomise.py")):
        return candidate.parent.name
    raise RuntimeError(f"no project package found in {root}")


def module(name: str, root: Path | None = None):
    return importlib.import_module(f"{package_name(root)}.{name}")
