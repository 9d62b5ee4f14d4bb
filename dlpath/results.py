"""The results of ``dlpath check`` recorded in a project: ``.dlpath/state.json``.

``check`` writes it, ``next`` reads it. Format (format_version 1)::

    {
      "format_version": 1,
      "milestones": {
        "<milestone id>": {
          "first_passed": "2026-11-24T10:00:00+00:00" | null,
          "fail_count": 2,                 # evaluations in which it did not pass
          "last": {
            "at": "...", "status": "pass" | "fail",
            "score": 3, "max_score": 4,
            "failed_checks": [{"id": "...", "hint": "..."}]
          }
        }
      },
      "cache": {"<check key>": {"inputs": "<sha256>", "status": "...", "message": "..."},
                "dvc": {"key": "<fingerprint>", "outs": [...], "status": {...}, ...}}
    }

(The cache entries are written by dlpath.checks: command results, and DVC's
answers with the fingerprint of what they depend on; see docs/rubric-format.md.)

Writes hold a file lock and replace the file atomically, so two ``check``
runs at once never leave it half-written.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dlpath.fsutil import atomic_write_json
from dlpath.project import META_DIR, STATE_FILE

FORMAT_VERSION = 1


def state_path(root: Path) -> Path:
    return root / META_DIR / STATE_FILE


def empty() -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "milestones": {}, "cache": {}}


def load(root: Path) -> dict[str, Any]:
    """The recorded state; an unreadable file counts as none (it is only a record
    and a cache: the next ``check`` rebuilds it)."""
    path = state_path(root)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return empty()
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        return empty()
    data.setdefault("milestones", {})
    data.setdefault("cache", {})
    return data


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    from filelock import FileLock

    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock", timeout=60):
        yield


def update(root: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the state under the lock and write it atomically."""
    with _locked(root):
        state = load(root)
        change(state)
        atomic_write_json(state_path(root), state)
    return state
