"""The learner's progress across projects: ``progress.json`` in the per-user
dlpath directory (platformdirs; ``DLPATH_HOME`` overrides it).

Versioned with migrations; written atomically; a file that cannot be read is
backed up beside itself and reported, never silently dropped.

Format 2::

    {"format_version": 2,
     "steps": {"<step id>": {"done_at": "<iso time>"}},
     "next_calls": 12}

Format 1 (the first layout) was ``{"format_version": 1, "done": ["<step id>", ...]}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlpath import resources
from dlpath.fsutil import atomic_write_json

FORMAT_VERSION = 2


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    stamp = data.get("updated") or "1970-01-01T00:00:00+00:00"
    return {"format_version": 2, "steps": {s: {"done_at": stamp} for s in data.get("done", [])},
            "next_calls": 0}


#: from-version -> function returning the next version's data
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


@dataclass
class Progress:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_calls: int = 0
    warnings: list[str] = field(default_factory=list)

    def is_done(self, step_id: str) -> bool:
        return step_id in self.steps

    def to_json(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "steps": self.steps,
                "next_calls": self.next_calls}


def migrate(data: dict[str, Any]) -> dict[str, Any]:
    version = data.get("format_version")
    while version != FORMAT_VERSION:
        if version not in MIGRATIONS:
            raise ValueError(f"unknown format_version {version!r}")
        data = MIGRATIONS[version](data)
        version = data["format_version"]
    return data


def _backup(path: Path) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
    target = path.with_name(f"{path.name}.corrupt-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.corrupt-{stamp}-{n}")
    path.rename(target)
    return target


def load(path: Path | None = None) -> Progress:
    path = path or resources.progress_file()
    if not path.exists():
        return Progress()
    try:
        data = migrate(json.loads(path.read_text(encoding="utf-8")))
        return Progress(steps=dict(data["steps"]), next_calls=int(data.get("next_calls", 0)))
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        backup = _backup(path)
        return Progress(warnings=[
            f"Your progress file could not be read ({exc}); it was kept as {backup} "
            "and progress starts afresh."
        ])


def save(progress: Progress, path: Path | None = None) -> None:
    atomic_write_json(path or resources.progress_file(), progress.to_json())


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
