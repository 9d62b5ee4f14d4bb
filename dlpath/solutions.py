"""Solution regions: one source for the learner's stub and the reference solution.

As in nbgrader, a template's Python file marks the code the learner writes::

    def quantize(x, scale, zero_point):
        \"\"\"...the concept, the shapes, never the formula...\"\"\"
        ### BEGIN SOLUTION: affine quantization (test: tests/test_quantize.py)
        q = torch.round(x / scale) + zero_point
        return q.clamp(-128, 127)
        ### END SOLUTION

``dlpath new`` releases the file: each region becomes a stub that raises
``NotImplementedError("TODO: affine quantization: write quantize() in
pkg/quantize.py; test: python -m pytest -q tests/test_quantize.py")``, so a
learner (and ``dlpath check``/``next``) always knows which function to write
and which test to run. The reference is the same file with the markers
removed. A region may give its own stub (a default the pipeline can run
with), after a ``### STUB`` line::

        ### BEGIN SOLUTION: which factors reach the model
        FACTORS = ("rotation", "slant", "stroke")
        ### STUB
        FACTORS = ()
        ### END SOLUTION

Files with regions hold no Jinja (a test makes sure), so the packaged
template file *is* the reference for every project, whatever its answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from dlpath.errors import DlpathError

BEGIN = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?::[ \t]*(?P<todo>.*?))?"
    r"(?:[ \t]*\(test:[ \t]*(?P<test>[^)]+)\))?[ \t]*$"
)
STUB = re.compile(r"^[ \t]*### STUB[ \t]*$")
END = re.compile(r"^[ \t]*### END SOLUTION[ \t]*$")
_DEF = re.compile(r"^(?P<indent>[ \t]*)(?:async[ \t]+)?(?:def|class)[ \t]+(?P<name>\w+)")
MARKER = "### BEGIN SOLUTION"


class SolutionError(DlpathError):
    """A template file whose solution regions are malformed (a template bug)."""


@dataclass(frozen=True)
class Region:
    #: 1-based line numbers of the BEGIN and END markers in the template file
    begin: int
    end: int
    indent: str
    #: the enclosing function, dotted with its class (``Quantizer.forward``), or None
    function: str | None
    todo: str
    test: str | None
    solution: tuple[str, ...]
    stub: tuple[str, ...] | None

    def message(self, rel: str) -> str:
        where = f"write {self.function}() in {rel}" if self.function else f"complete {rel}"
        test = f"; test: python -m pytest -q {self.test}" if self.test else ""
        return f"TODO: {self.todo}: {where}{test}"

    def stub_lines(self, rel: str) -> list[str]:
        if self.stub is not None:
            return list(self.stub)
        message = self.message(rel).replace("\\", "\\\\").replace('"', '\\"')
        line = f'{self.indent}raise NotImplementedError("{message}")'
        if len(line) > 99:  # the project's ruff allows 100 characters
            line += "  # noqa: E501"
        return [f"{self.indent}# TODO: {self.todo} (your code replaces the line below)\n",
                line + "\n"]


def _enclosing(lines: list[str], index: int, indent: str) -> str | None:
    """The dotted name of the def/class around line ``index`` (0-based)."""
    names: list[str] = []
    limit = len(indent.expandtabs())
    for i in range(index - 1, -1, -1):
        found = _DEF.match(lines[i])
        if found and len(found.group("indent").expandtabs()) < limit:
            names.append(found.group("name"))
            limit = len(found.group("indent").expandtabs())
            if limit == 0:
                break
    return ".".join(reversed(names)) or None


def parse(text: str, source: str = "<text>") -> list[Region]:
    """Every region of ``text``; a SolutionError names the file and line of a bad one."""
    lines = text.splitlines(keepends=True)
    regions: list[Region] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        begin = BEGIN.match(line.rstrip("\r\n"))
        if begin is None:
            if END.match(line) or STUB.match(line):
                raise SolutionError(f"{source}:{i + 1}: {line.strip()} without BEGIN SOLUTION")
            if MARKER in line:
                raise SolutionError(f"{source}:{i + 1}: malformed marker: {line.strip()}")
            i += 1
            continue
        start, solution, stub = i, [], None
        i += 1
        while i < len(lines) and not END.match(lines[i]):
            if BEGIN.match(lines[i].rstrip("\r\n")):
                raise SolutionError(f"{source}:{i + 1}: nested BEGIN SOLUTION "
                                    f"(the region at line {start + 1} is still open)")
            if STUB.match(lines[i]):
                if stub is not None:
                    raise SolutionError(f"{source}:{i + 1}: a second ### STUB in one region")
                stub = []
            elif stub is not None:
                stub.append(lines[i])
            else:
                solution.append(lines[i])
            i += 1
        if i == len(lines):
            raise SolutionError(f"{source}:{start + 1}: BEGIN SOLUTION without END SOLUTION")
        indent = begin.group("indent")
        function = _enclosing(lines, start, indent)
        todo = (begin.group("todo") or "").strip() or (function or "this part")
        if not any(s.strip() for s in solution):
            raise SolutionError(f"{source}:{start + 1}: an empty solution region")
        regions.append(Region(begin=start + 1, end=i + 1, indent=indent, function=function,
                              todo=todo, test=(begin.group("test") or "").strip() or None,
                              solution=tuple(solution),
                              stub=tuple(stub) if stub is not None else None))
        i += 1
    return regions


def _rebuild(text: str, regions: list[Region], replace) -> str:
    lines = text.splitlines(keepends=True)
    out: list[str] = []
    pos = 0
    for r in regions:
        out.extend(lines[pos:r.begin - 1])
        out.extend(replace(r))
        pos = r.end
    out.extend(lines[pos:])
    return "".join(out)


def release(text: str, rel: str, source: str | None = None) -> str:
    """The learner's version: every region replaced by its stub."""
    regions = parse(text, source or rel)
    return _rebuild(text, regions, lambda r: r.stub_lines(rel)) if regions else text


def reference(text: str, source: str = "<text>") -> str:
    """The reference solution: the markers (and any stub) removed."""
    regions = parse(text, source)
    return _rebuild(text, regions, lambda r: list(r.solution)) if regions else text


def has_regions(text: str) -> bool:
    return MARKER in text


# ------------------------------------------------------------ templates


def _project_rel(template_rel: PurePosixPath, package: str) -> str:
    parts = [package if p == "{{cookiecutter._package_name}}" else p
             for p in template_rel.parts]
    if any("{{" in p for p in parts):
        raise SolutionError(f"{template_rel}: only the package folder may be templated "
                            f"in the path of a file with solution regions")
    return PurePosixPath(*parts).as_posix()


@dataclass(frozen=True)
class LearnerFile:
    """A file of a template that holds solution regions."""

    #: the packaged template file (the reference, with its markers)
    source: Path
    #: where it lands in a project, with the package folder filled in
    rel: str

    def regions(self) -> list[Region]:
        return parse(self.source.read_text(encoding="utf-8"), str(self.source))

    def released(self) -> str:
        return release(self.source.read_text(encoding="utf-8"), self.rel, str(self.source))

    def reference(self) -> str:
        return reference(self.source.read_text(encoding="utf-8"), str(self.source))


def learner_files(template_name: str, package: str) -> list[LearnerFile]:
    """The files of ``template_name`` (its own and the base's) that hold regions,
    as they land in a project whose package is ``package``. The template's own
    file wins over the base's at the same path, as in ``dlpath new``."""
    from dlpath import resources, templates

    found: dict[str, LearnerFile] = {}
    roots = (resources.templates_dir() / templates.BASE,
             templates.get(template_name).path)
    for tree in (r / templates.PROJECT_DIR for r in roots):
        if not tree.is_dir():
            continue
        for path in sorted(tree.rglob("*.py")):
            rel_template = PurePosixPath(path.relative_to(tree).as_posix())
            if "__pycache__" in rel_template.parts:
                continue
            rel = _project_rel(rel_template, package)
            found.pop(rel, None)  # the template's own file replaces the base's
            if has_regions(path.read_text(encoding="utf-8")):
                found[rel] = LearnerFile(source=path, rel=rel)
    return [found[k] for k in sorted(found)]


def release_tree(root: Path) -> list[str]:
    """Replace every region under a freshly rendered project ``root`` by its
    stub, in place; return the files changed (relative, POSIX)."""
    changed = []
    for path in sorted(root.rglob("*.py")):
        if ".git" in path.parts or ".dvc" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if not has_regions(text):
            continue
        rel = path.relative_to(root).as_posix()
        path.write_text(release(text, rel), encoding="utf-8")
        changed.append(rel)
    return changed


def apply_reference(root: Path, only: list[str] | None = None) -> list[str]:
    """Write the reference solution over the learner files of the project at
    ``root`` (all of them, or those whose project path is in ``only``).
    For dlpath's own tests and a maintainer's checks: it overwrites learner
    work without a backup."""
    from dlpath import project

    meta = project.load_meta(root)
    if meta is None:
        raise DlpathError(f"'{root}' was not made by dlpath new.")
    package = package_of(root)
    written = []
    for lf in learner_files(meta.template, package):
        if only is not None and lf.rel not in only:
            continue
        (root / lf.rel).write_text(lf.reference(), encoding="utf-8")
        written.append(lf.rel)
    return written


def package_of(root: Path) -> str:
    """The project's package folder (recorded by ``dlpath new``; for projects
    made before it was recorded, derived from the folder name as ``new`` does)."""
    from dlpath import project
    from dlpath.project import package_name

    meta = project.load_meta(root)
    if meta is not None and meta.package:
        return meta.package
    return package_name(root.name)
