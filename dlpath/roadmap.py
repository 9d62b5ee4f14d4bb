"""The roadmap: packaged data (dlpath/data/roadmap.yaml), validated on load.

A learner may override it with a roadmap.yaml in the dlpath user directory
(rustlings-style: a local file overrides the packaged one).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from dlpath import resources
from dlpath.errors import DlpathError, ExitCode, UsageError

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Step:
    id: str
    title: str
    why: str
    do: str
    phase: str
    prerequisites: tuple[str, ...]
    effort: str
    milestone: str | None = None  # "template/milestone" ("*" = any template)
    #: a dlpath command that completes the step (challenge, credential, leaderboard)
    command: str | None = None

    @property
    def self_reported(self) -> bool:
        return self.milestone is None and self.command is None

    @property
    def template(self) -> str | None:
        """The template whose milestone completes this step ("*": any), if any."""
        return self.milestone.split("/", 1)[0] if self.milestone else None


@dataclass(frozen=True)
class Phase:
    id: str
    title: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Roadmap:
    phases: tuple[Phase, ...]
    source: Path

    @property
    def steps(self) -> list[Step]:
        return [s for p in self.phases for s in p.steps]

    def step(self, step_id: str) -> Step:
        for s in self.steps:
            if s.id == step_id:
                return s
        close = difflib.get_close_matches(step_id, [s.id for s in self.steps], n=1)
        raise UsageError(
            f"Unknown step '{step_id}'.",
            hint=f"Did you mean '{close[0]}'?" if close else "Run 'dlpath roadmap' to see them.",
        )


def _err(path: Path, where: str, problem: str) -> DlpathError:
    return DlpathError(f"{path}: {where}: {problem}", exit_code=ExitCode.USAGE)


_STEP_FIELDS = {"id", "title", "why", "do", "completion", "prerequisites", "effort"}
#: commands that complete a step when they succeed (completion: {command: NAME})
COMMANDS = ("challenge", "credential", "leaderboard")


def _step(raw: object, where: str, phase: str, path: Path) -> Step:
    if not isinstance(raw, dict):
        raise _err(path, where, "must be a mapping")
    for name in ("id", "title", "why", "do", "effort"):
        if not isinstance(raw.get(name), str) or not raw[name].strip():
            raise _err(path, f"{where}.{name}", "is required (a string)")
    where = f"steps[{raw['id']}]"
    unknown = sorted(set(raw) - _STEP_FIELDS)
    if unknown:
        raise _err(path, where, f"unknown field(s) {', '.join(unknown)}")
    completion = raw.get("completion")
    if not isinstance(completion, dict):
        raise _err(path, f"{where}.completion",
                   "is required: {milestone: TEMPLATE/MILESTONE} or {self_report: true}")
    milestone = completion.get("milestone")
    command = completion.get("command")
    if command is not None and command not in COMMANDS:
        raise _err(path, f"{where}.completion.command", f"must be one of {', '.join(COMMANDS)}")
    if milestone is None and command is None and completion.get("self_report") is not True:
        raise _err(path, f"{where}.completion",
                   "needs milestone, command or self_report: true")
    if milestone is not None and (not isinstance(milestone, str) or milestone.count("/") != 1
                                  or not all(milestone.split("/"))):
        raise _err(path, f"{where}.completion.milestone", "must be TEMPLATE/MILESTONE")
    prereqs = raw.get("prerequisites", [])
    if not isinstance(prereqs, list) or not all(isinstance(p, str) for p in prereqs):
        raise _err(path, f"{where}.prerequisites", "must be a list of step ids")
    return Step(id=raw["id"], title=raw["title"].strip(), why=" ".join(raw["why"].split()),
                do=" ".join(raw["do"].split()), phase=phase, prerequisites=tuple(prereqs),
                effort=raw["effort"].strip(), milestone=milestone, command=command)


def parse(data: object, path: Path) -> Roadmap:
    """Validate the roadmap; every error names the file and the field."""
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise _err(path, "format_version", f"must be {FORMAT_VERSION}")
    if not isinstance(data.get("phases"), list) or not data["phases"]:
        raise _err(path, "phases", "must be a non-empty list")
    phases, seen = [], set()
    for i, raw_phase in enumerate(data["phases"]):
        if not isinstance(raw_phase, dict) or not isinstance(raw_phase.get("id"), str):
            raise _err(path, f"phases[{i}].id", "is required (a string)")
        pid = raw_phase["id"]
        if not isinstance(raw_phase.get("title"), str) or not raw_phase["title"].strip():
            raise _err(path, f"phases[{pid}].title", "is required (a string)")
        raw_steps = raw_phase.get("steps")
        if not isinstance(raw_steps, list) or not raw_steps:
            raise _err(path, f"phases[{pid}].steps", "must be a non-empty list")
        steps = []
        for j, raw in enumerate(raw_steps):
            step = _step(raw, f"phases[{pid}].steps[{j}]", pid, path)
            if step.id in seen:
                raise _err(path, f"steps[{step.id}].id", f"'{step.id}' is used twice")
            seen.add(step.id)
            steps.append(step)
        phases.append(Phase(id=pid, title=raw_phase["title"].strip(), steps=tuple(steps)))
    roadmap = Roadmap(phases=tuple(phases), source=path)
    for s in roadmap.steps:
        for pre in s.prerequisites:
            if pre not in seen:
                raise _err(path, f"steps[{s.id}].prerequisites", f"unknown step '{pre}'")
    _check_acyclic(roadmap, path)
    return roadmap


def _check_acyclic(roadmap: Roadmap, path: Path) -> None:
    by_id = {s.id: s for s in roadmap.steps}
    state: dict[str, int] = {}

    def visit(step_id: str) -> None:
        if state.get(step_id) == 1:
            raise _err(path, f"steps[{step_id}].prerequisites", "form a cycle")
        if state.get(step_id) == 2:
            return
        state[step_id] = 1
        for pre in by_id[step_id].prerequisites:
            visit(pre)
        state[step_id] = 2

    for s in roadmap.steps:
        visit(s.id)


@lru_cache(maxsize=4)
def _load(path: Path) -> Roadmap:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise _err(path, "file", f"cannot read the roadmap: {exc}") from None
    return parse(data, path)


def load() -> Roadmap:
    local = resources.user_dir() / "roadmap.yaml"
    return _load(local if local.is_file() else resources.data_dir() / "roadmap.yaml")
