"""What a generated project records about itself: ``.dlpath/project.json``.

``check``, ``next`` and a later template update read it to know which
template (and which version) made the project, with which answers, and which
files the checks depend on (their checksums at generation, for tamper
detection).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath.errors import DlpathError
from dlpath.fsutil import atomic_write_json, sha256_file

META_DIR = ".dlpath"
META_FILE = "project.json"
#: The visible part of the rubric, copied into the project for the learner to read.
RUBRIC_COPY = "rubric.yaml"
#: Results of ``dlpath check`` (milestone history and the command-check cache).
STATE_FILE = "state.json"
FORMAT_VERSION = 1
#: Files whose edits are reported as tampering, relative to the project root.
PROTECTED_GLOBS = ("tests/**/*.py", f"{META_DIR}/{RUBRIC_COPY}")


@dataclass
class ProjectMeta:
    template: str
    template_version: str
    dlpath_version: str
    created: str
    answers: dict[str, Any] = field(default_factory=dict)
    checksums: dict[str, str] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    #: the project's Python package folder (None in projects made before 0.2)
    package: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "template": self.template,
            "template_version": self.template_version,
            "dlpath_version": self.dlpath_version,
            "created": self.created,
            "answers": self.answers,
            "checksums": self.checksums,
            **({"package": self.package} if self.package else {}),
        }


def meta_path(root: Path) -> Path:
    return root / META_DIR / META_FILE


def protected_files(root: Path) -> list[Path]:
    files: set[Path] = set()
    for pattern in PROTECTED_GLOBS:
        files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def checksums(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): sha256_file(p) for p in protected_files(root)}


def write_meta(root: Path, meta: ProjectMeta) -> None:
    atomic_write_json(meta_path(root), meta.to_json())


def load_meta(root: Path) -> ProjectMeta | None:
    """The project's metadata, or None where dlpath did not create ``root``."""
    path = meta_path(root)
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise DlpathError(
                f"{path}: unsupported format_version {data.get('format_version')!r}",
                hint="Upgrade dlpath: pip install -U dlpath",
            )
        return ProjectMeta(
            template=data["template"],
            template_version=data["template_version"],
            dlpath_version=data["dlpath_version"],
            created=data["created"],
            answers=data.get("answers", {}),
            checksums=data.get("checksums", {}),
            package=data.get("package"),
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DlpathError(
            f"{path}: the project metadata is damaged ({exc}).",
            hint="Restore it from git: git checkout -- .dlpath/project.json",
        ) from exc


def find_root(start: Path) -> Path | None:
    """The nearest directory at or above ``start`` that dlpath created."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if meta_path(candidate).is_file():
            return candidate
    return None


def tampered(root: Path, meta: ProjectMeta) -> list[str]:
    """Protected files edited (or removed) since the project was generated."""
    changed = []
    for rel, digest in sorted(meta.checksums.items()):
        path = root / rel
        if not path.is_file() or sha256_file(path) != digest:
            changed.append(rel)
    return changed
