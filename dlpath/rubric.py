"""Rubrics: the milestones ``dlpath check`` evaluates (see docs/rubric-format.md).

A rubric is YAML with a ``format_version``. It is validated when it is loaded,
and every error names the file, the line and the field. Paths in checks must
stay inside the project: one that leaves it is refused here, before anything
runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from dlpath import project, resources, templates
from dlpath.errors import DlpathError, ExitCode
from dlpath.fsutil import atomic_write_text, read_text_limited
from dlpath.project import META_DIR, RUBRIC_COPY

FORMAT_VERSION = 1
_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_OPS = {">=", "<=", ">", "<", "=="}

# kind -> (required arguments, optional arguments, arguments that are paths)
KINDS: dict[str, tuple[set[str], set[str], set[str]]] = {
    "file_exists": ({"path"}, set(), {"path"}),
    "file_matches": ({"path"}, {"pattern", "forbid", "min_count"}, {"path"}),
    "markdown_sections": ({"path", "sections"}, {"forbid"}, {"path"}),
    "git_commits": ({"min"}, set(), set()),
    "git_clean": (set(), set(), set()),
    "git_tag": (set(), {"pattern"}, set()),
    "dvc_tracked": ({"path"}, set(), {"path"}),
    "dvc_outputs_versioned": (set(), set(), set()),
    "dvc_stage": ({"name"}, set(), set()),
    "dvc_up_to_date": (set(), set(), set()),
    "dvc_pushed": (set(), set(), set()),
    "metric": ({"file", "key", "op", "value"}, {"tolerance"}, {"file"}),
    "metric_ratio": ({"file", "numerator", "denominator", "op", "value"}, set(), {"file"}),
    "params_changed": (set(), {"keys", "experiment"}, set()),
    "command": ({"run"}, {"timeout", "inputs", "uses_tests"}, {"inputs"}),
    "package_tests": ({"tests"}, {"timeout"}, {"tests"}),
    "probe": ({"key", "op", "value"}, {"reported", "timeout"}, set()),
}
#: kinds that run the learner's code: skipped by ``check --no-commands``
COMMAND_KINDS = {"command", "package_tests", "probe"}
#: the fields of a probe check's ``reported`` (required, optional)
_REPORTED = ({"file", "tolerance"}, {"key"})
_NUMBER = (int, float)
# argument -> (accepted types, what the error says)
_ARG_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    **{name: ((str,), "a string") for name in (
        "path", "pattern", "forbid", "name", "file", "key", "numerator", "denominator",
        "run", "tests", "op")},
    **{name: ((int,), "a non-negative integer") for name in ("min", "min_count")},
    **{name: (_NUMBER, "a number") for name in ("value", "tolerance", "timeout")},
    **{name: ((bool,), "true or false") for name in ("experiment", "uses_tests")},
    **{name: ((list,), "a list of strings") for name in ("keys", "inputs", "sections")},
    "reported": ((dict,), "a mapping with file, key and tolerance"),
}
_GLOB_CHARS = set("*?[")
_COMMON = {"id", "kind", "hint", "points", "visible", "__line__"}


class RubricError(DlpathError):
    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class Check:
    id: str
    kind: str
    args: dict[str, Any]
    hint: str
    points: int = 1
    visible: bool = True
    line: int = 0
    #: where the check is defined (for error messages), and the field path in it
    source: str = ""
    where: str = ""

    @property
    def runs_commands(self) -> bool:
        return self.kind in COMMAND_KINDS


@dataclass(frozen=True)
class Milestone:
    id: str
    title: str
    step: str
    checks: list[Check]
    placement: str = "middle"
    line: int = 0

    @property
    def max_score(self) -> int:
        return sum(c.points for c in self.checks)


@dataclass
class Rubric:
    milestones: list[Milestone]
    sources: list[Path] = field(default_factory=list)
    template: str | None = None

    def milestone(self, milestone_id: str) -> Milestone:
        for m in self.milestones:
            if m.id == milestone_id:
                return m
        ids = ", ".join(m.id for m in self.milestones)
        raise DlpathError(
            f"No milestone '{milestone_id}' in this project's rubric. Milestones: {ids}.",
            exit_code=ExitCode.USAGE,
        )


class _LineLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when present
    """A SafeLoader that records each mapping's line as ``__line__``."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - yaml API
        mapping = super().construct_mapping(node, deep=deep)
        mapping["__line__"] = node.start_mark.line + 1
        return mapping


def _fail(path: Path, line: int, where: str, problem: str) -> RubricError:
    return RubricError(
        f"{path}:{line}: {where}: {problem}",
        hint=f"See {resources.doc('rubric-format.md')} for the rubric format.",
    )


def _confined(value: str) -> bool:
    posix = PurePosixPath(value.replace("\\", "/"))
    return bool(value) and not posix.is_absolute() and ".." not in posix.parts and not (
        len(value) > 1 and value[1] == ":"
    )


def _reported(path: Path, line: int, where: str, raw: dict[str, Any]) -> dict[str, Any]:
    """A probe check's ``reported``: the project's own figure to compare with."""
    line = raw.get("__line__", line)
    data = {k: v for k, v in raw.items() if k != "__line__"}
    required, optional = _REPORTED
    missing = sorted(required - set(data))
    if missing:
        raise _fail(path, line, where, f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise _fail(path, line, where, f"unknown field(s) {', '.join(unknown)}")
    for name in ("file", "key"):
        if name in data and (not isinstance(data[name], str) or not data[name]):
            raise _fail(path, line, f"{where}.{name}", "must be a non-empty string")
    tolerance = data["tolerance"]
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or tolerance < 0:
        raise _fail(path, line, f"{where}.tolerance", "must be a non-negative number")
    return data


def _path_values(kind: str, args: dict[str, Any]) -> list[tuple[str, list[str]]]:
    """Each path argument of a check with its value(s): ``(field, [paths])``."""
    _, _, path_args = KINDS[kind]
    found = []
    for name in sorted(path_args & set(args)):
        found.append((name, args[name] if isinstance(args[name], list) else [args[name]]))
    if isinstance(args.get("reported"), dict) and "file" in args["reported"]:
        found.append(("reported.file", [args["reported"]["file"]]))
    return found


def _check(path: Path, raw: Any, where: str, index: int) -> Check:
    if not isinstance(raw, dict):
        raise _fail(path, 0, f"{where}.checks[{index}]", "must be a mapping")
    line = raw.get("__line__", 0)
    kind = raw.get("kind")
    cid = raw.get("id", f"{str(kind).replace('_', '-')}-{index + 1}")
    field_at = f"{where}.checks[{cid}]"
    if kind not in KINDS:
        known = ", ".join(sorted(KINDS))
        raise _fail(path, line, f"{field_at}.kind", f"unknown kind {kind!r} (known: {known})")
    required, optional, _ = KINDS[kind]
    if not isinstance(cid, str) or not _ID.match(cid):
        raise _fail(path, line, f"{field_at}.id", "must match [a-z0-9-]+")
    missing = sorted(required - set(raw))
    if missing:
        raise _fail(path, line, f"{field_at}", f"missing argument(s) {', '.join(missing)}")
    unknown = sorted(set(raw) - required - optional - _COMMON)
    if unknown:
        raise _fail(path, line, f"{field_at}", f"unknown field(s) {', '.join(unknown)}")
    if not isinstance(raw.get("hint"), str) or not raw["hint"].strip():
        raise _fail(path, line, f"{field_at}.hint", "every check needs a hint (a string)")
    points = raw.get("points", 1)
    if not isinstance(points, int) or isinstance(points, bool) or points < 0:
        raise _fail(path, line, f"{field_at}.points", "must be a non-negative integer")
    visible = raw.get("visible", True)
    if not isinstance(visible, bool):
        raise _fail(path, line, f"{field_at}.visible", "must be true or false")
    args = {k: v for k, v in raw.items() if k not in _COMMON}
    for name, value in args.items():
        types, what = _ARG_TYPES[name]
        wrong = isinstance(value, bool) and bool not in types or not isinstance(value, types)
        if isinstance(value, list):
            wrong = wrong or not all(isinstance(v, str) and v for v in value)
        if wrong:
            raise _fail(path, line, f"{field_at}.{name}", f"must be {what}, got {value!r}")
    if "reported" in args:
        args["reported"] = _reported(path, line, f"{field_at}.reported", args["reported"])
    for name, values in _path_values(kind, args):
        for value in values:
            if not _confined(value):
                raise _fail(path, line, f"{field_at}.{name}",
                            f"path {value!r} leaves the project (absolute or '..')")
    if "op" in args and args["op"] not in _OPS:
        raise _fail(path, line, f"{field_at}.op", f"must be one of {' '.join(sorted(_OPS))}")
    if "value" in args and (isinstance(args["value"], bool)
                            or not isinstance(args["value"], (int, float))):
        raise _fail(path, line, f"{field_at}.value", "must be a number")
    for name in ("timeout", "min", "min_count", "tolerance"):
        if name in args and (isinstance(args[name], bool)
                             or not isinstance(args[name], (int, float)) or args[name] < 0):
            raise _fail(path, line, f"{field_at}.{name}", "must be a non-negative number")
    for name in ("pattern", "forbid"):
        if name in args and kind in ("file_matches", "markdown_sections"):
            try:
                re.compile(args[name])
            except (re.error, TypeError) as exc:
                raise _fail(path, line, f"{field_at}.{name}", f"not a valid regex: {exc}") from None
    return Check(id=cid, kind=kind, args=args, hint=raw["hint"].strip(), points=points,
                 visible=visible, line=line, source=str(path), where=field_at)


def parse(text: str, path: Path) -> list[Milestone]:
    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        raise _fail(path, line, "yaml", str(getattr(exc, "problem", exc))) from None
    if not isinstance(data, dict):
        raise _fail(path, 1, "rubric", "must be a mapping with format_version and milestones")
    if data.get("format_version") != FORMAT_VERSION:
        raise _fail(path, data.get("__line__", 1), "format_version",
                    f"must be {FORMAT_VERSION}, got {data.get('format_version')!r}")
    raw_milestones = data.get("milestones")
    if not isinstance(raw_milestones, list):
        raise _fail(path, data.get("__line__", 1), "milestones", "must be a list")
    milestones, seen = [], set()
    for i, raw in enumerate(raw_milestones):
        if not isinstance(raw, dict):
            raise _fail(path, 0, f"milestones[{i}]", "must be a mapping")
        line = raw.get("__line__", 0)
        mid = raw.get("id")
        if not isinstance(mid, str) or not _ID.match(mid):
            raise _fail(path, line, f"milestones[{i}].id", "must match [a-z0-9-]+")
        if mid in seen:
            raise _fail(path, line, f"milestones[{mid}].id", "is used twice")
        seen.add(mid)
        for name in ("title", "step"):
            if not isinstance(raw.get(name), str) or not raw[name].strip():
                raise _fail(path, line, f"milestones[{mid}].{name}", "is required (a string)")
        placement = raw.get("placement", "middle")
        if placement not in {"start", "middle", "end"}:
            raise _fail(path, line, f"milestones[{mid}].placement", "must be start, middle or end")
        raw_checks = raw.get("checks")
        if not isinstance(raw_checks, list) or not raw_checks:
            raise _fail(path, line, f"milestones[{mid}].checks", "must be a non-empty list")
        checks = [_check(path, c, f"milestones[{mid}]", j) for j, c in enumerate(raw_checks)]
        ids = [c.id for c in checks]
        dupes = sorted({c for c in ids if ids.count(c) > 1})
        if dupes:
            raise _fail(path, line, f"milestones[{mid}].checks", f"duplicate id(s) {dupes}")
        milestones.append(Milestone(id=mid, title=raw["title"].strip(), step=raw["step"].strip(),
                                    checks=checks, placement=placement, line=line))
    return milestones


def load_file(path: Path) -> list[Milestone]:
    try:
        text = read_text_limited(path)
    except OSError as exc:
        raise RubricError(f"{path}: cannot read the rubric ({exc.strerror or exc}).") from None
    return parse(text, path)


def _ordered(base: list[Milestone], own: list[Milestone]) -> list[Milestone]:
    """Common milestones placed `start` first, the template's own next, `end` last."""
    ids = {m.id for m in own}
    clash = ids & {m.id for m in base}
    if clash:
        raise RubricError(f"Template milestones reuse common milestone id(s): {sorted(clash)}")
    start = [m for m in base if m.placement == "start"]
    end = [m for m in base if m.placement != "start"]
    return [*start, *own, *end]


def for_template(template: templates.Template) -> Rubric:
    base_path = template.path.parent / templates.BASE / "rubric.yaml"
    base = load_file(base_path) if base_path.is_file() else []
    own = load_file(template.rubric_path) if template.rubric_path.is_file() else []
    sources = [p for p in (base_path, template.rubric_path) if p.is_file()]
    return Rubric(milestones=_ordered(base, own), sources=sources, template=template.name)


def _static_prefix(pattern: str) -> str:
    """The part of a glob before its first wildcard component."""
    parts = []
    for part in PurePosixPath(pattern).parts:
        if _GLOB_CHARS & set(part):
            break
        parts.append(part)
    return "/".join(parts)


def confine(the_rubric: Rubric, root: Path, template_dir: Path | None = None) -> None:
    """Refuse a rubric whose ``package_tests`` paths lead out of the
    template's folder through a symlink.

    Absolute paths and '..' are refused when the file is parsed. A symlink
    *inside the project* is the learner's business: one that stays inside is
    followed, one that leads out makes the check that meets it fail with a
    message (see dlpath.checks), never the whole rubric.
    """
    from dlpath.fsutil import is_within

    if template_dir is None:
        return
    for m in the_rubric.milestones:
        for c in m.checks:
            for name, values in _path_values(c.kind, c.args):
                if name != "tests":
                    continue
                for value in values:
                    if not is_within(template_dir / _static_prefix(value), template_dir):
                        raise _fail(Path(c.source), c.line, f"{c.where}.{name}",
                                    f"path {value!r} leaves the template's folder through "
                                    "a symlink")


def load_for_project(root: Path, meta: project.ProjectMeta | None = None) -> Rubric:
    """The rubric that governs ``root``: its template's (with the common
    milestones) for a dlpath project (``meta``, default: the project's
    metadata), else a hand-written .dlpath/rubric.yaml (``Rubric.template``
    is None then). Every path in it is confined to ``root`` (see
    :func:`confine`)."""
    if meta is None:
        meta = project.load_meta(root)
    if meta is not None:
        template = templates.get(meta.template)
        the_rubric = for_template(template)
        confine(the_rubric, root, template.path)
        return the_rubric
    local = root / META_DIR / RUBRIC_COPY
    if local.is_file():
        the_rubric = Rubric(milestones=load_file(local), sources=[local])
        confine(the_rubric, root)
        return the_rubric
    raise RubricError(
        f"'{root}' was not created by dlpath and has no rubric.",
        hint="Create a project with 'dlpath new TEMPLATE NAME', or write a rubric to "
        f".dlpath/rubric.yaml in this directory (format: {resources.doc('rubric-format.md')}).",
    )


def _as_data(milestones: list[Milestone], visible_only: bool) -> dict[str, Any]:
    out = []
    for m in milestones:
        checks = []
        for c in m.checks:
            if visible_only and not c.visible:
                continue
            checks.append({"id": c.id, "kind": c.kind, **c.args, "points": c.points,
                           "hint": c.hint})
        out.append({"id": m.id, "title": m.title, "step": m.step, "checks": checks})
    return {"format_version": FORMAT_VERSION, "milestones": out}


def write_visible_copy(template: templates.Template, root: Path) -> None:
    rubric = for_template(template)
    if not rubric.milestones:
        return
    hidden = sum(1 for m in rubric.milestones for c in m.checks if not c.visible)
    header = (
        "# The visible checks of this project's milestones, for you to read.\n"
        f"# `dlpath check` runs the rubric packaged with dlpath, which also holds {hidden}\n"
        "# hidden check(s); editing this copy changes nothing except to be reported as\n"
        "# tampering.\n"
    )
    text = header + yaml.safe_dump(_as_data(rubric.milestones, visible_only=True),
                                   sort_keys=False, allow_unicode=True, width=100)
    atomic_write_text(root / META_DIR / RUBRIC_COPY, text)
