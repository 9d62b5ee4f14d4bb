"""What counts as an attempt at a milestone: a change of the learner's files.

``dlpath check`` records a milestone's failure as a new attempt (its
``fail_count`` grows) only when the files the learner writes for it changed
since the last check; checking the same code again, or a milestone whose
files are still the released stubs, is no attempt. ``dlpath next`` uses the
same fingerprint to tell when its advice comes from a check older than the
learner's last edit.

A milestone's files, most precise first:

1. the learner files (with solution regions, dlpath.solutions) whose regions
   name one of the milestone's test files (``(test: tests/test_x.py)``):
   the functions written *for* this milestone;
2. the files its command checks list as ``inputs``, tests excepted;
3. every file git sees in the project (by path, size and modification time)
   and the commit checked out: any change is a new attempt.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from dlpath import project, rubric, solutions
from dlpath.errors import DlpathError
from dlpath.gitstate import GitState

#: folders never part of an attempt (outputs, caches, environments)
_SKIP = {".git", ".dvc", ".dlpath", "__pycache__", ".venv", "venv", ".pytest_cache",
         ".ruff_cache", "data", "models", "dvclive"}


@dataclass(frozen=True)
class Attempt:
    #: a digest of the milestone's files as they are now
    fingerprint: str
    #: every file the learner writes for it is still the released stub
    untouched: bool = False


def _tests_of(milestone: rubric.Milestone) -> set[str]:
    found = set()
    for c in milestone.checks:
        for item in [c.args.get("run", ""), *(c.args.get("inputs") or [])]:
            found.update(w for w in str(item).split() if w.startswith("tests/"))
    return found


def _inputs(root: Path, milestone: rubric.Milestone) -> list[Path]:
    patterns = [p for c in milestone.checks for p in (c.args.get("inputs") or [])
                if not p.startswith("tests/")]
    if not patterns:
        return []
    files = set()
    for pattern in patterns:
        files.update(p for p in root.glob(pattern) if p.is_file())
    return sorted(files)


def _learner_files(root: Path, meta: project.ProjectMeta | None
                   ) -> list[tuple[solutions.LearnerFile, set[str]]]:
    """The project's learner files, each with the tests its regions name."""
    if meta is None:
        return []
    try:
        files = solutions.learner_files(meta.template, solutions.package_of(root))
        return [(lf, {r.test for r in lf.regions() if r.test}) for lf in files]
    except Exception:  # an unknown template or a broken install: no precise answer
        return []


def _own(milestone: rubric.Milestone, learner: list[tuple[solutions.LearnerFile, set[str]]]
         ) -> list[solutions.LearnerFile]:
    tests = _tests_of(milestone)
    return [lf for lf, named in learner
            if any(fnmatch.fnmatch(n, t) for n in named for t in tests)] if tests else []


def _digest_contents(root: Path, paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        try:
            digest.update(hashlib.sha256(path.read_bytes()).digest())
        except OSError:
            digest.update(b"<missing>")
    return digest.hexdigest()


def _walk(root: Path):
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d not in _SKIP]
        for name in files:
            yield os.path.relpath(os.path.join(folder, name), root)


def _tree_digest(root: Path, git: GitState) -> str:
    """Path, size and mtime of every file git sees (or, without git, every file
    outside the skipped folders), and the commit checked out."""
    digest = hashlib.sha256()
    try:  # through vcs: no fsmonitor, no hooks, whatever the repository configures
        names = sorted(git.listed())
        head = git.head()
        if head is not None:  # else no commit yet
            digest.update(f"{head}\n".encode())
    except DlpathError:
        names = sorted(_walk(root))
    for name in names:
        try:
            st = (root / name).stat()
        except OSError:
            continue
        digest.update(f"{name}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def attempts(root: Path, milestones: list[rubric.Milestone],
             meta: project.ProjectMeta | None, git: GitState | None = None
             ) -> dict[str, Attempt]:
    """The fingerprint of each milestone's files in the project at ``root`` now
    (``git``: the evaluation's git answers, else asked here)."""
    git = git or GitState(root)
    found: dict[str, Attempt] = {}
    tree: str | None = None
    learner = _learner_files(root, meta)
    for milestone in milestones:
        own = _own(milestone, learner)
        if own:
            paths = [root / lf.rel for lf in own]
            untouched = all(p.is_file() and p.read_text(encoding="utf-8", errors="replace")
                            == lf.released() for p, lf in zip(paths, own, strict=True))
            found[milestone.id] = Attempt(_digest_contents(root, paths), untouched)
            continue
        inputs = _inputs(root, milestone)
        if inputs:
            found[milestone.id] = Attempt(_digest_contents(root, inputs))
            continue
        tree = tree or _tree_digest(root, git)
        found[milestone.id] = Attempt(tree)
    return found
