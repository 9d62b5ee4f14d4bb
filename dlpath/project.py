"""What a generated project records about itself: ``.dlpath/project.json``.

``check``, ``next`` and a later template update read it to know which
template (and which version) made the project, with which answers, and which
files the checks depend on (their checksums at generation, for tamper
detection).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath.errors import DlpathError
from dlpath.fsutil import atomic_write_json, read_text_limited, sha256_file

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


def meta_from_json(data: Any) -> ProjectMeta:
    """A ProjectMeta from project.json's content (KeyError/TypeError when it
    lacks a field or has the wrong types; DlpathError for a newer format)."""
    if not isinstance(data, dict):
        raise TypeError("not a JSON object")
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise DlpathError(
            f"unsupported format_version {version!r}"
            + (" (made by a newer dlpath)" if newer else ""),
            hint="Upgrade dlpath: pip install -U dlpath",
        )
    answers, checksums = data.get("answers", {}), data.get("checksums", {})
    if not isinstance(answers, dict) or not isinstance(checksums, dict):
        raise TypeError("answers and checksums must be objects")
    fields = [data["template"], data["template_version"], data["dlpath_version"],
              data["created"]]
    if not all(isinstance(f, str) for f in fields):
        raise TypeError("template, template_version, dlpath_version, created must be strings")
    package = data.get("package")
    if package is not None and not isinstance(package, str):
        raise TypeError("package must be a string")
    return ProjectMeta(template=fields[0], template_version=fields[1],
                       dlpath_version=fields[2], created=fields[3], answers=answers,
                       checksums=checksums, package=package)


def load_meta(root: Path) -> ProjectMeta | None:
    """The project's metadata, or None where dlpath did not create ``root``."""
    path = meta_path(root)
    if not path.is_file():
        return None
    try:
        return meta_from_json(json.loads(read_text_limited(path)))
    except DlpathError as exc:
        raise DlpathError(f"{path}: {exc.message}", hint=exc.hint) from None
    except (ValueError, KeyError, TypeError, AttributeError, OSError) as exc:
        raise DlpathError(
            f"{path}: the project metadata is damaged ({exc}).",
            hint="Restore it from git: git checkout -- .dlpath/project.json",
        ) from exc


def version_tuple(text: str) -> tuple[int, ...]:
    """``"0.10.2"`` -> (0, 10, 2); what is not a number counts as 0."""
    import re

    return tuple(int(n) for n in re.findall(r"\d+", str(text).split("+")[0])[:3]) or (0,)


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


def package_name(name: str) -> str:
    """The Python package name inside the project: ``my-proj.v2`` -> ``my_proj_v2``.
    (Here, not in dlpath.scaffold: checking a project must not import the
    renderer and Jinja.)"""
    return re.sub(r"[^0-9a-zA-Z_]", "_", name).lower()
