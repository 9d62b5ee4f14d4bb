"""What a project's protected files should hold, and which ones were changed.

The reference is the template itself, not checksums kept in the project
(which the project can change): the template dlpath ships, rendered with the
answers and package the project recorded (``scaffold.render_reference``).
Local checks keep the rendering in dlpath's per-user cache folder, keyed on
the template's files, its version, dlpath's version, the answers and the
package; grader mode renders afresh into a temporary folder.

Protected, and reported as tampering when changed:

* every file the reference has under ``tests/`` (edited or deleted), and the
  visible rubric copy ``.dlpath/rubric.yaml``;
* anything that changes how pytest collects or runs, or how Python starts,
  that the reference does not have: a ``conftest.py`` anywhere, ``pytest.ini``,
  a ``[pytest]`` section in ``tox.ini`` or ``[tool:pytest]`` in ``setup.cfg``,
  a pytest table in ``pyproject.toml`` that differs from the reference's,
  ``sitecustomize.py``/``usercustomize.py``, and ``.pth`` files at the root;
* ``.dlpath/project.json`` where its template or answers differ from the
  first commit's, or where it was deleted from a project whose first commit
  had it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath import __version__, project
from dlpath.fsutil import read_text_limited, sha256_file
from dlpath.gitstate import GitState

#: files that change how Python starts or pytest collects, wherever they are
HOOK_NAMES = ("conftest.py", "sitecustomize.py", "usercustomize.py")
#: configuration files at the root that pytest reads
PYTEST_CONFIGS = ("pytest.ini", ".pytest.ini", "tox.ini", "setup.cfg", "pyproject.toml")
_SKIP_DIRS = {".git", ".dvc", "__pycache__", "node_modules", "site-packages", ".tox",
              ".mypy_cache", ".ruff_cache", ".pytest_cache"}
#: bump when what the cached rendering holds changes
REFERENCE_FORMAT = 1


@dataclass
class Findings:
    """Protected files changed since the template rendered them."""

    tampered: list[str] = field(default_factory=list)
    #: why the comparison is weaker than usual (no reference could be rendered)
    notes: list[str] = field(default_factory=list)


def _template_fingerprint(template_name: str) -> str:
    from dlpath import templates
    from dlpath.resources import templates_dir

    digest = hashlib.sha256()
    for folder in (templates_dir() / templates.BASE, templates.get(template_name).path):
        for dirpath, dirs, files in os.walk(folder):
            dirs[:] = sorted(d for d in dirs if d != "__pycache__")
            for name in sorted(files):
                path = Path(dirpath, name)
                st = path.stat()
                digest.update(f"{path.relative_to(folder)}:{st.st_size}:{st.st_mtime_ns}\0"
                              .encode())
    return digest.hexdigest()


def _key(meta: project.ProjectMeta, package: str) -> str:
    data = [REFERENCE_FORMAT, __version__, meta.template, meta.template_version, package,
            meta.answers, _template_fingerprint(meta.template)]
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _package(root: Path, meta: project.ProjectMeta) -> str:
    if meta.package:
        return meta.package
    from dlpath.project import package_name

    return package_name(root.name)


@contextmanager
def rendered(root: Path, meta: project.ProjectMeta, *, fresh: bool = False):
    """The project's template rendered with its recorded answers (a folder).

    Kept in the per-user cache unless ``fresh`` (grader mode) or the cache
    folder cannot be written; then rendered into a temporary folder.
    """
    package = _package(root, meta)
    if not fresh:
        try:
            from dlpath.resources import user_dir

            cache = user_dir() / "cache" / "reference" / _key(meta, package)
            if (cache / "done").is_file():
                yield cache / "project"
                return
            cache.parent.mkdir(parents=True, exist_ok=True)
            work = Path(tempfile.mkdtemp(prefix=".render-", dir=cache.parent))
            try:
                from dlpath.scaffold import render_reference

                out = render_reference(meta.template, meta.answers, package, work)
                out.rename(work / "project")
                (work / "done").write_text("")
                try:
                    work.rename(cache)
                except OSError:  # another check rendered it meanwhile
                    shutil.rmtree(work, ignore_errors=True)
            except BaseException:
                shutil.rmtree(work, ignore_errors=True)
                raise
            yield cache / "project"
            return
        except OSError:
            pass  # an unwritable cache: render into a temporary folder
    with tempfile.TemporaryDirectory(prefix="dlpath-reference-") as tmp:
        from dlpath.scaffold import render_reference

        yield render_reference(meta.template, meta.answers, package, Path(tmp))


def _walk(root: Path):
    """Every file under ``root`` a Python or pytest run could pick up (not in
    hidden folders, caches or virtual environments)."""
    for dirpath, dirs, files in os.walk(root):
        here = Path(dirpath)
        if "pyvenv.cfg" in files:
            dirs[:] = []
            continue
        dirs[:] = [d for d in dirs if d not in _SKIP_DIRS and not d.startswith(".")]
        for name in files:
            yield here / name


def _pytest_section(path: Path) -> str | None:
    """The pytest configuration a root config file holds, as text (None: none)."""
    try:
        text = read_text_limited(path)
    except OSError:
        return "unreadable"
    if path.name == "pyproject.toml":
        return _toml_pytest(text)
    if path.name in ("pytest.ini", ".pytest.ini"):
        return text
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return "unreadable"
    name = "tool:pytest" if path.name == "setup.cfg" else "pytest"
    return json.dumps(dict(parser[name]), sort_keys=True) if parser.has_section(name) else None


def _toml_pytest(text: str) -> str | None:
    """The ``[tool.pytest...]`` tables of a pyproject.toml, normalised."""
    try:
        import tomllib
    except ImportError:  # Python 3.10: the tables' lines as they are
        import re

        blocks = re.findall(r"^\[+\s*tool\.pytest[^\n]*\n(?:(?!\[)[^\n]*\n?)*", text, re.M)
        return "\n".join(blocks) or None
    try:
        tool = tomllib.loads(text).get("tool", {})
    except tomllib.TOMLDecodeError:
        return "unreadable"
    section = tool.get("pytest") if isinstance(tool, dict) else None
    return json.dumps(section, sort_keys=True) if section is not None else None


def _same(mine: Path, theirs: Path) -> bool:
    try:
        return mine.is_file() and theirs.is_file() and sha256_file(mine) == sha256_file(theirs)
    except OSError:  # a FIFO or an unreadable file is not the reference's file
        return False


def compare(root: Path, ref: Path) -> list[str]:
    """Protected files of ``root`` that differ from the reference ``ref``."""
    changed: set[str] = set()
    ref_tests = ref / "tests"
    if ref_tests.is_dir():
        for path in ref_tests.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(ref).as_posix()
                if not _same(root / rel, path):
                    changed.add(rel)
    copy = f"{project.META_DIR}/{project.RUBRIC_COPY}"
    if (ref / copy).is_file() and not _same(root / copy, ref / copy):
        changed.add(copy)
    for path in _walk(root):
        rel = path.relative_to(root).as_posix()
        at_root = path.parent == root
        if path.name in HOOK_NAMES or (at_root and path.suffix == ".pth"):
            if not _same(path, ref / rel):
                changed.add(rel)
    for name in PYTEST_CONFIGS:
        mine, theirs = root / name, ref / name
        if _same(mine, theirs):  # the same bytes: the same section (no TOML parsed)
            continue
        ours = _pytest_section(mine) if mine.exists() else None
        reference = _pytest_section(theirs) if theirs.is_file() else None
        if ours != reference:
            changed.add(name)
    return sorted(changed)


def first_commit_meta(root: Path, git: GitState | None = None
                      ) -> tuple[str, dict[str, Any]] | None:
    """``.dlpath/project.json`` as the project's first commit holds it
    (``git``: the evaluation's git answers, else asked here)."""
    git = git or GitState(root)
    if not git.available:
        return None
    try:
        first = git.first_commit()
        data = json.loads(git.blob(first, f"{project.META_DIR}/{project.META_FILE}"))
    except (Exception, IndexError):
        return None
    return (first, data) if isinstance(data, dict) else None


def expected_tests(path: Path) -> list[str]:
    """The test functions a test file defines (``test_*`` at module level and
    in ``Test*`` classes, as ``Class::test``): what a run must report passed."""
    import ast

    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, ValueError):
        return []
    names = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                node.name.startswith("test"):
            names.append(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.extend(f"{node.name}::{item.name}" for item in node.body
                         if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
                         and item.name.startswith("test"))
    return names
