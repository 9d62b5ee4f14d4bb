"""The packaged project templates and their manifests.

Layout under ``templates/``:

* ``_base/`` – the common base every template shares: ``cookiecutter.json``
  with the common questions, the project tree ``{{cookiecutter._project_name}}/``
  and Jinja partials under ``partials/`` (for READMEs and the like).
* ``<name>/`` – one template: ``template.yaml`` (its manifest),
  ``cookiecutter.json`` (its own questions, merged over the base's),
  ``rubric.yaml`` (its milestones) and a project tree whose files are laid
  over the base's (same path: the template's file wins).
"""

from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from dlpath.errors import DlpathError, UsageError
from dlpath.fsutil import load_yaml
from dlpath.resources import templates_dir

BASE = "_base"
PROJECT_DIR = "{{cookiecutter._project_name}}"
PARTIALS = "partials"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class Template:
    name: str
    version: str
    description: str
    phase: str
    step: str
    path: Path
    requires_dlpath: str = ">=0.1"
    next_commands: list[str] = field(default_factory=list)
    #: dlpath.declarations.Challenge / Leaderboard, where the manifest declares them
    challenge: Any = None
    leaderboard: Any = None

    @property
    def rubric_path(self) -> Path:
        return self.path / "rubric.yaml"


#: manifests read in this process, by folder, with the stat they were read at
_MANIFESTS: dict[Path, tuple[tuple[int, int, int], Template]] = {}


def _load_manifest(path: Path) -> Template:
    """The template in ``path``; its manifest is parsed again only when it
    changed (``dlpath check`` asks for its template from several places)."""
    try:
        st = (path / "template.yaml").stat()
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
    except OSError:
        stamp = None
    known = _MANIFESTS.get(path)
    if stamp is not None and known is not None and known[0] == stamp:
        return known[1]
    template = _parse_manifest(path)
    if stamp is not None:
        _MANIFESTS[path] = (stamp, template)
    return template


def _parse_manifest(path: Path) -> Template:
    manifest = path / "template.yaml"
    try:
        data = load_yaml(manifest.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise DlpathError(f"{manifest}: cannot read the template manifest: {exc}") from exc
    if data.get("format_version") != MANIFEST_FORMAT:
        raise DlpathError(f"{manifest}: format_version must be {MANIFEST_FORMAT}")
    challenge = board = None
    if data.get("challenge") is not None or data.get("leaderboard") is not None:
        from dlpath import declarations

        challenge, board = declarations.parse(
            manifest, declarations.load_text(manifest.read_text(encoding="utf-8"), manifest))
    try:
        return Template(
            name=path.name,
            version=str(data["version"]),
            description=str(data["description"]),
            phase=str(data["phase"]),
            step=str(data["step"]),
            path=path,
            requires_dlpath=str(data.get("requires_dlpath", ">=0.1")),
            next_commands=list(data.get("next_commands", [])),
            challenge=challenge,
            leaderboard=board,
        )
    except KeyError as exc:
        raise DlpathError(f"{manifest}: missing field {exc.args[0]!r}") from exc


def available() -> dict[str, Template]:
    root = templates_dir()
    found = {}
    for child in sorted(root.iterdir()):
        if child.is_dir() and child.name != BASE and (child / "template.yaml").is_file():
            found[child.name] = _load_manifest(child)
    return found


def get(name: str) -> Template:
    # Only the named template's manifest is read (``dlpath check`` asks for its
    # template several times; every manifest each time cost ~50 ms).
    root = templates_dir()
    if name != BASE and name in os.listdir(root) and (root / name / "template.yaml").is_file():
        return _load_manifest(root / name)
    templates = available()
    if name in templates:
        return templates[name]
    close = difflib.get_close_matches(name, list(templates), n=1, cutoff=0.5)
    hint = f"Did you mean '{close[0]}'?" if close else None
    names = ", ".join(templates)
    raise UsageError(
        f"Unknown template '{name}'. Available templates: {names}.",
        hint=hint or "Run 'dlpath templates' to see them with descriptions.",
    )
