"""Loading rubrics (see docs/rubric-format.md).

NOTE: minimal for now; validation with file/line/field errors and the check
engine are the subject of issue 5.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from dlpath.fsutil import atomic_write_text
from dlpath.project import META_DIR, RUBRIC_COPY

FORMAT_VERSION = 1


def visible_part(data: dict) -> dict:
    """The rubric with hidden checks removed (what the learner may read)."""
    milestones = []
    for milestone in data.get("milestones", []):
        checks = [c for c in milestone.get("checks", []) if c.get("visible", True)]
        milestones.append({**milestone, "checks": checks})
    return {**data, "milestones": milestones}


def write_visible_copy(template, root: Path) -> None:
    if not template.rubric_path.is_file():
        return
    data = yaml.safe_load(template.rubric_path.read_text(encoding="utf-8")) or {}
    header = (
        "# The visible checks of this project's milestones, for you to read.\n"
        "# `dlpath check` runs the rubric packaged with dlpath (it may hold hidden checks);\n"
        "# editing this copy changes nothing except to be reported as tampering.\n"
    )
    text = header + yaml.safe_dump(visible_part(data), sort_keys=False, allow_unicode=True)
    atomic_write_text(root / META_DIR / RUBRIC_COPY, text)
