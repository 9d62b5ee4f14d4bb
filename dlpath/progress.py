"""The learner's progress across projects: ``progress.json`` in the per-user
dlpath directory (platformdirs; ``DLPATH_HOME`` overrides it).

Versioned with migrations (:data:`MIGRATIONS` maps a version to the function
that lifts it one version up); written atomically; a file that cannot be
read is moved aside to ``progress.json.corrupt-<time>`` and reported, never
silently dropped.

Format 4 (current)::

    {"format_version": 4,
     "steps": {"<step id>": {"done_at": "<iso time>", "by": "learner" | "check"
                             | "challenge" | "credential" | "leaderboard"}},
     "next_calls": 12,
     "practice": {"<step id>": {"fail_count": 3, "last_failed": "<iso time>",
                                "reviews": 1, "last_review": "<iso time>" | null}},
     "challenges": {"<template>": {"passed_at": "<iso time>" | null, "due_months": 12,
                                   "last": {<one run>}, "history": [{<one run>}, ...]}}}

A challenge run (dlpath.challenge) records ``at``, ``seed``, ``commit``,
``project``, ``passed`` and the ``scores`` beside the learner's ``test`` figures.

``practice`` holds the concepts whose checks failed more than once: they come
back as short review items on a spaced schedule (see dlpath.tutor).
Format 3 had no ``challenges``; format 2 had no ``practice``; format 1 was
``{"format_version": 1, "done": ["<step id>", ...], "updated": "<iso time>"}``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from dlpath import resources
from dlpath.errors import DlpathError
from dlpath.fsutil import atomic_write_json

FORMAT_VERSION = 4


def _v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    stamp = data.get("updated") or "1970-01-01T00:00:00+00:00"
    done = data.get("done", [])
    if not isinstance(done, list):
        raise ValueError("'done' must be a list of step ids")
    return {"format_version": 2, "steps": {s: {"done_at": stamp} for s in done},
            "next_calls": 0}


def _v2_to_v3(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "format_version": 3, "practice": {}}


def _v3_to_v4(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "format_version": 4, "challenges": {}}


#: from-version -> function returning the data in the next version
MIGRATIONS: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {
    1: _v1_to_v2, 2: _v2_to_v3, 3: _v3_to_v4}


@dataclass
class Progress:
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    next_calls: int = 0
    practice: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: challenges on fresh data, per template (dlpath.challenge)
    challenges: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: problems met while loading (a corrupt file), for the CLI to show
    warnings: list[str] = field(default_factory=list)
    #: the version the file was in before migration (None: no file)
    loaded_version: int | None = None

    def is_done(self, step_id: str) -> bool:
        return step_id in self.steps

    def to_json(self) -> dict[str, Any]:
        return {"format_version": FORMAT_VERSION, "steps": self.steps,
                "next_calls": self.next_calls, "practice": self.practice,
                "challenges": self.challenges}


class NewerFormat(DlpathError):
    """A progress file written by a newer dlpath: never overwrite it."""


def migrate(data: Any) -> dict[str, Any]:
    """Lift ``data`` to the current format, one version at a time."""
    if not isinstance(data, dict):
        raise ValueError("the file does not hold a JSON object")
    version = data.get("format_version")
    if isinstance(version, int) and version > FORMAT_VERSION:
        raise NewerFormat(
            f"Your progress file is format {version}, newer than this dlpath knows "
            f"({FORMAT_VERSION}); it was left as it is.",
            hint="Upgrade dlpath: pip install -U dlpath",
        )
    while version != FORMAT_VERSION:
        if version not in MIGRATIONS:
            raise ValueError(f"unknown format_version {version!r}")
        data = MIGRATIONS[version](data)
        version = data["format_version"]
    return data


def _validate(data: dict[str, Any]) -> None:
    for name in ("steps", "practice", "challenges"):
        if not isinstance(data.get(name), dict) or not all(
                isinstance(v, dict) for v in data[name].values()):
            raise ValueError(f"'{name}' must map step ids to objects")
    if isinstance(data.get("next_calls"), bool) or not isinstance(data.get("next_calls", 0), int):
        raise ValueError("'next_calls' must be an integer")


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
        raw = json.loads(path.read_text(encoding="utf-8"))
        version = raw.get("format_version") if isinstance(raw, dict) else None
        data = migrate(raw)
        _validate(data)
        return Progress(steps=dict(data["steps"]), next_calls=int(data.get("next_calls", 0)),
                        practice=dict(data["practice"]), challenges=dict(data["challenges"]),
                        loaded_version=version)
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        backup = _backup(path)
        return Progress(warnings=[
            f"Your progress file could not be read ({exc}); it was kept as {backup} "
            "and progress starts afresh. Mark self-reported steps again with "
            "'dlpath done STEP'; checked ones come back with 'dlpath check'."
        ])
    except OSError as exc:
        raise DlpathError(f"Cannot read your progress file {path}: {exc.strerror}.",
                          hint=f"Check its permissions: ls -l {path}") from None


def save(progress: Progress, path: Path | None = None) -> None:
    path = path or resources.progress_file()
    resources.usable_user_dir(path.parent)
    atomic_write_json(path, progress.to_json())


@contextmanager
def transaction(path: Path | None = None) -> Iterator[Progress]:
    """Load, change and save the progress under a file lock, so that
    concurrent ``dlpath done``/``next`` calls never lose each other's updates
    (read-modify-write in one critical section)."""
    from filelock import FileLock, Timeout

    path = path or resources.progress_file()
    resources.usable_user_dir(path.parent)
    try:
        with FileLock(str(path) + ".lock", timeout=60):
            progress = load(path)
            yield progress
            save(progress, path)
    except Timeout:
        raise DlpathError(f"Another dlpath command has held {path}.lock for a minute.",
                          hint="Wait for it to finish; if none is running, delete the lock "
                               "file.") from None


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")
