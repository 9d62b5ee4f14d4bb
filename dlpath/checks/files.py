"""Check kinds that read files: ``file_exists``, ``file_matches``, ``markdown_sections``."""

from __future__ import annotations

import re

from dlpath.checks.base import FAIL, PASS, Context, Outcome
from dlpath.fsutil import is_within, read_text_limited


def file_exists(ctx: Context, path: str) -> Outcome:
    matches = [p for p in ctx.root.glob(path) if is_within(p, ctx.root)]
    if matches:
        return Outcome(PASS, f"found {matches[0].relative_to(ctx.root).as_posix()}")
    return Outcome(FAIL, f"no file matches {path}")


def file_matches(ctx: Context, path: str, pattern: str | None = None,
                 forbid: str | None = None, min_count: int = 1) -> Outcome:
    target = ctx.inside(path)
    if target is None:
        return Outcome(FAIL, f"{path} leads out of the project (a symlink)")
    if not target.is_file():
        return Outcome(FAIL, f"{path} does not exist" if not target.exists()
                       else f"{path} is not a regular file")
    text = read_text_limited(target)
    if forbid is not None:
        found = re.search(forbid, text, re.MULTILINE)
        if found:
            line = text.count("\n", 0, found.start()) + 1
            return Outcome(FAIL, f"{path}:{line} still holds {found.group(0)!r}")
    if pattern is not None:
        count = len(re.findall(pattern, text, re.MULTILINE))
        if count < min_count:
            return Outcome(FAIL, f"{path} matches /{pattern}/ {count} time(s), "
                                 f"needs {min_count}")
    return Outcome(PASS, f"{path} is as required")


def markdown_sections(ctx: Context, path: str, sections: list[str],
                      forbid: str = r"\bTODO\b") -> Outcome:
    """Every section heading (any level) is there with some text under it, and
    no section's text matches ``forbid`` (the template's TODO markers; text
    outside the sections, such as an introduction, may mention TODO)."""
    target = ctx.inside(path)
    if target is None:
        return Outcome(FAIL, f"{path} leads out of the project (a symlink)")
    if not target.is_file():
        return Outcome(FAIL, f"{path} does not exist" if not target.exists()
                       else f"{path} is not a regular file")
    text = read_text_limited(target)
    bodies: dict[str, str] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"^#{1,6}\s+(.+?)\s*#*\s*$", line)
        if heading:
            current = heading.group(1).strip().lower()
            bodies.setdefault(current, "")
        elif current is not None:
            bodies[current] += line + "\n"
    missing = [s for s in sections if s.lower() not in bodies]
    empty = [s for s in sections if s.lower() in bodies and not bodies[s.lower()].strip()]
    todo = [s for s in sections if re.search(forbid, bodies.get(s.lower(), ""))]
    problems = []
    if missing:
        problems.append(f"no section {', '.join(missing)}")
    if empty:
        problems.append(f"empty: {', '.join(empty)}")
    if todo:
        problems.append(f"still TODO: {', '.join(todo)}")
    if problems:
        return Outcome(FAIL, f"{path}: {'; '.join(problems)}")
    return Outcome(PASS, f"{path}: {', '.join(sections)} filled in")


