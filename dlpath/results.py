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

The file is git-ignored and lives in the project, so the project could write
it: it carries ``"mac"``, an HMAC-SHA256 of its content and of the project's
path under a per-user key kept in dlpath's per-user folder (``state.key``,
created on first use, never in a project). A state whose MAC does not
validate (edited, copied from another project or account, written by an
older dlpath), or whose content does not have the types above, is discarded
with a warning: dlpath re-runs what it had cached. Grader mode never reads it.

Writes hold a file lock and replace the file atomically, so two ``check``
runs at once never leave it half-written.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from dlpath.fsutil import atomic_write_json, read_text_limited
from dlpath.project import META_DIR, STATE_FILE

FORMAT_VERSION = 1


def state_path(root: Path) -> Path:
    return root / META_DIR / STATE_FILE


def empty() -> dict[str, Any]:
    return {"format_version": FORMAT_VERSION, "milestones": {}, "cache": {}}


#: where the per-user key lives, relative to dlpath's per-user folder
KEY_FILE = "state.key"
_key_memo: dict[str, bytes | None] = {}


def _key() -> bytes | None:
    """The per-user MAC key (created on first use), or None where dlpath's
    per-user folder cannot hold one (then nothing cached is trusted)."""
    from dlpath.resources import user_dir

    path = user_dir() / KEY_FILE
    if str(path) in _key_memo:
        return _key_memo[str(path)]
    key = None
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32))
            key = bytes.fromhex(path.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            key = None
    if key is not None and len(key) < 16:
        key = None
    _key_memo[str(path)] = key
    return key


def _mac(root: Path, data: dict[str, Any], key: bytes) -> str:
    body = {k: v for k, v in data.items() if k != "mac"}
    text = json.dumps([str(root.resolve()), body], sort_keys=True, default=str)
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def _valid(data: Any) -> str | None:
    """What is wrong with a state's shape, or None."""
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        return "an unknown format"
    milestones, cache = data.get("milestones", {}), data.get("cache", {})
    if not isinstance(milestones, dict) or not all(
            isinstance(v, dict) for v in milestones.values()):
        return "'milestones' is not a mapping of milestones"
    for entry in milestones.values():
        if not isinstance(entry.get("fail_count", 0), int) or not isinstance(
                entry.get("last") or {}, dict) or not isinstance(
                entry.get("first_passed") or "", str):
            return "a milestone entry has the wrong types"
    if not isinstance(cache, dict) or not all(isinstance(v, dict) for v in cache.values()):
        return "'cache' is not a mapping"
    return None


def load(root: Path, warnings: list[str] | None = None) -> dict[str, Any]:
    """The recorded state; an unreadable, ill-typed or unauthenticated file
    counts as none (it is only a record and a cache: the next ``check``
    rebuilds it), with a line in ``warnings`` saying so."""
    path = state_path(root)
    try:
        text = read_text_limited(path)
    except FileNotFoundError:
        return empty()
    except (OSError, ValueError) as exc:
        _warn(warnings, f"{path} could not be read ({exc.__class__.__name__}); "
                        "its cached results were ignored")
        return empty()
    try:
        data = json.loads(text)
    except ValueError:
        _warn(warnings, f"{path} is not valid JSON; its cached results were discarded")
        return empty()
    problem = _valid(data)
    if problem is not None:
        _warn(warnings, f"{path} has {problem}; its cached results were discarded")
        return empty()
    key = _key()
    if key is None:
        from dlpath.resources import user_dir

        _warn(warnings, f"dlpath cannot keep its key in {user_dir()}: results recorded in "
                        f"{path} are not reused")
        return empty()
    if not isinstance(data.get("mac"), str) or not hmac.compare_digest(
            data["mac"], _mac(root, data, key)):
        _warn(warnings, f"{path} was not written by dlpath for this project and account "
                        "(or was edited); its cached results were discarded")
        return empty()
    data.setdefault("milestones", {})
    data.setdefault("cache", {})
    data.pop("mac", None)
    return data


def _warn(warnings: list[str] | None, line: str) -> None:
    if warnings is not None:
        warnings.append(line)


@contextmanager
def _locked(root: Path) -> Iterator[None]:
    from dlpath.fsutil import file_lock

    path = state_path(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(path.with_name(path.name + ".lock"), timeout=60):
        yield


def update(root: Path, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    """Apply ``change`` to the state under the lock and write it atomically."""
    with _locked(root):
        state = load(root)
        change(state)
        key = _key()
        written = dict(state)
        if key is not None:
            written["mac"] = _mac(root, written, key)
        atomic_write_json(state_path(root), written)
    return state
