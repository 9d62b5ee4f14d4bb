"""``dlpath check --output FILE``: write a results document without changing
the grade of the project it describes, and without losing a learner's file.

Outside the project (where every grader wrapper writes: ``/autograder/results``,
an exercism output directory, ``$RUNNER_TEMP``, ``/grade/results``) the file is
simply written. Inside the project's git work tree it would be a new untracked
file, and the next ``dlpath check`` would fail ``clean-tree`` on it (and see
new input for its command cache). So there the file is listed in git's
per-clone ignore list, ``.git/info/exclude`` (never committed, changes no
tracked file), under a dlpath line; that list also records which files dlpath
wrote. A file inside the project is only overwritten when dlpath wrote it:
never a tracked file, never a learner's own file, never git's, DVC's or
dlpath's own files.
"""

from __future__ import annotations

from pathlib import Path

from dlpath.errors import DlpathError, ExitCode, UsageError
from dlpath.fsutil import atomic_write_text

MARK = "# dlpath check --output: results files, never part of the project (docs/check-json.md)"
_RESERVED = (".git", ".dvc", ".dlpath")
_OUTSIDE = "Write the results outside the project, e.g. --output ../results.json."


def write(text: str, output: Path, project: Path | None) -> str | None:
    """Write ``text`` to ``output``; return a note for the learner, or None."""
    target = output.expanduser().absolute()
    target = target.parent.resolve() / target.name  # a symlinked file is replaced, not followed
    if target.is_dir():
        raise UsageError(f"--output {output}: is a directory.",
                         hint="Name a file, e.g. --output results.json.")
    note = None
    if project is not None:
        note = _claim(target, output, project.resolve())
    try:
        atomic_write_text(target, text)
    except OSError as exc:
        raise DlpathError(f"Could not write {output}: {exc.strerror or exc}.",
                          hint="Choose a writable place for --output.",
                          exit_code=ExitCode.USAGE) from None
    return note


def _work_tree(project: Path) -> Path | None:
    from dlpath import vcs

    if not vcs.git_available():
        return None
    try:
        top = vcs.git_output(project, "rev-parse", "--show-toplevel").strip()
    except DlpathError:
        return None
    return Path(top).resolve() if top else None


def _claim(target: Path, shown: Path, project: Path) -> str | None:
    """Check that ``target`` may be written for ``project``, and have git ignore it."""
    from dlpath import vcs

    top = _work_tree(project)
    inside = [base for base in (project, top) if base is not None and _within(target, base)]
    if not inside:
        return None
    first = target.relative_to(inside[0]).parts[0]
    if first in _RESERVED:
        raise UsageError(f"--output {shown}: that is inside {first}/, which belongs to "
                         "git, DVC or dlpath.", hint=_OUTSIDE)
    if top is None or not _within(target, top):
        # No git here to record what dlpath wrote: never overwrite.
        if target.exists() or target.is_symlink():
            raise UsageError(f"--output {shown}: the file exists in the project.", hint=_OUTSIDE)
        return None
    rel = target.relative_to(top).as_posix()
    exclude = Path(top, vcs.git_output(top, "rev-parse", "--git-path", "info/exclude").strip())
    exclude = exclude.parent.resolve() / exclude.name
    pattern = "/" + _escape(rel)
    ours = pattern in _ours(exclude)
    if vcs.git_output(top, "ls-files", "-z", "--", rel).strip("\0"):
        raise UsageError(f"--output {shown}: git tracks that file; the results would replace it.",
                         hint=_OUTSIDE)
    if (target.exists() or target.is_symlink()) and not ours:
        raise UsageError(f"--output {shown}: the file exists and dlpath did not write it.",
                         hint="Choose another name, or " + _OUTSIDE[0].lower() + _OUTSIDE[1:])
    if ours:
        return None
    _record(exclude, pattern)
    where = exclude.relative_to(top).as_posix() if _within(exclude, top) else str(exclude)
    return (f"{rel} is listed in {where} (git's per-clone ignore list), so the results file "
            "never changes the grade (clean-tree).")


def _within(path: Path, base: Path) -> bool:
    """``path`` (its parent resolved, itself not followed) lies in ``base``."""
    return path == base or base in path.parents


def _escape(rel: str) -> str:
    """A path as a literal gitignore pattern."""
    out = "".join("\\" + ch if ch in "*?[]\\!#" else ch for ch in rel)
    return out[:-1] + "\\ " if out.endswith(" ") else out


def _ours(exclude: Path) -> set[str]:
    try:
        lines = exclude.read_text(encoding="utf-8").splitlines()
    except OSError:
        return set()
    found, inside = set(), False
    for line in lines:
        if line == MARK:
            inside = True
        elif inside and line.startswith("/"):
            found.add(line)
        else:
            inside = False
    return found


def _record(exclude: Path, pattern: str) -> None:
    try:
        text = exclude.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    lines = text.splitlines()
    if MARK in lines:
        # Keep one block: the new pattern goes right after the last of ours.
        at = lines.index(MARK) + 1
        while at < len(lines) and lines[at].startswith("/"):
            at += 1
        lines.insert(at, pattern)
    else:
        lines += [MARK, pattern]
    atomic_write_text(exclude, "\n".join(lines) + "\n")
