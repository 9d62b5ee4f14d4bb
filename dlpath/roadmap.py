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

    @property
    def self_reported(self) -> bool:
        return self.milestone is None


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


def parse(data: object, path: Path) -> Roadmap:
    if not isinstance(data, dict) or data.get("format_version") != FORMAT_VERSION:
        raise _err(path, "format_version", f"must be {FORMAT_VERSION}")
    phases, seen = [], set()
    for i, raw_phase in enumerate(data.get("phases") or []):
        if not isinstance(raw_phase, dict) or not raw_phase.get("id"):
            raise _err(path, f"phases[{i}]", "needs an id")
        steps = []
        for j, raw in enumerate(raw_phase.get("steps") or []):
            where = f"phases[{raw_phase['id']}].steps[{j}]"
            if not isinstance(raw, dict):
                raise _err(path, where, "must be a mapping")
            for name in ("id", "title", "why", "do", "effort"):
                if not isinstance(raw.get(name), str) or not raw[name].strip():
                    raise _err(path, f"{where}.{name}", "is required (a string)")
            if raw["id"] in seen:
                raise _err(path, f"{where}.id", f"'{raw['id']}' is used twice")
            seen.add(raw["id"])
            completion = raw.get("completion") or {}
            milestone = completion.get("milestone")
            if milestone is None and completion.get("self_report") is not True:
                raise _err(path, f"{where}.completion", "needs milestone or self_report: true")
            if milestone is not None and "/" not in milestone:
                raise _err(path, f"{where}.completion.milestone", "must be TEMPLATE/MILESTONE")
            steps.append(Step(
                id=raw["id"], title=raw["title"], why=raw["why"], do=raw["do"],
                phase=raw_phase["id"], prerequisites=tuple(raw.get("prerequisites") or []),
                effort=raw["effort"], milestone=milestone,
            ))
        phases.append(Phase(id=raw_phase["id"], title=raw_phase["title"], steps=tuple(steps)))
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
