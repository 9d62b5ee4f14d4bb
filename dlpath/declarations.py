"""What a template declares beyond its rubric, in its ``template.yaml``: the
challenge on fresh data (``dlpath challenge``) and the leaderboard metric
(``dlpath leaderboard``). Validated when the manifest is loaded; every error
names the file, the line and the field (docs/challenge.md, docs/leaderboard.md).

::

    challenge:
      shift: digits in fonts and stroke styles the training data never had
      models: [models/int8_static.pt]     # what the probe loads (must exist)
      due_months: 12                      # a passed challenge is due again after this
      timeout: 120                        # seconds the probe may take
      scores:
        - key: int8.accuracy              # what hidden/probe.py returns with challenge=True
          label: int8 accuracy
          op: ">="
          value: 0.85
          test: {file: metrics/evaluate.json, key: int8.accuracy}   # the learner's own figure

    leaderboard:
      milestone: edge-ready               # the milestone an entry must pass
      metric: {file: metrics/evaluate.json, key: int8.accuracy, direction: higher}
      tie_breakers:
        - {file: metrics/evaluate.json, key: int8.latency_ms, direction: lower}
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from dlpath import resources
from dlpath.errors import DlpathError, ExitCode

DEFAULT_DUE_MONTHS = 12
DEFAULT_TIMEOUT = 120.0
OPS = (">=", "<=", ">", "<")
DIRECTIONS = ("higher", "lower")


@dataclass(frozen=True)
class Score:
    """One number a challenge judges."""

    key: str
    op: str
    value: float
    label: str
    #: the learner's own figure on the test split, shown beside: (file, key)
    test_file: str | None = None
    test_key: str | None = None

    def passes(self, actual: float) -> bool:
        return {">=": actual >= self.value, "<=": actual <= self.value,
                ">": actual > self.value, "<": actual < self.value}[self.op]

    @property
    def higher_is_better(self) -> bool:
        return self.op in (">=", ">")


@dataclass(frozen=True)
class Challenge:
    shift: str
    models: tuple[str, ...]
    scores: tuple[Score, ...]
    due_months: int = DEFAULT_DUE_MONTHS
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Metric:
    file: str
    key: str
    direction: str  # higher | lower

    @property
    def name(self) -> str:
        return self.key


@dataclass(frozen=True)
class Leaderboard:
    milestone: str
    metric: Metric
    tie_breakers: tuple[Metric, ...] = ()

    @property
    def metrics(self) -> tuple[Metric, ...]:
        return (self.metric, *self.tie_breakers)


class DeclarationError(DlpathError):
    exit_code = ExitCode.USAGE


def _fail(path: Path, line: int, where: str, problem: str) -> DeclarationError:
    return DeclarationError(f"{path}:{line}: {where}: {problem}",
                            hint=f"See {resources.doc('challenge.md')} and "
                                 f"{resources.doc('leaderboard.md')} for the format.")


def _line(raw: Any, default: int) -> int:
    return raw.get("__line__", default) if isinstance(raw, dict) else default


def _fields(path: Path, raw: Any, where: str, line: int, required: set[str],
            optional: set[str]) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise _fail(path, line, where, "must be a mapping")
    line = _line(raw, line)
    data = {k: v for k, v in raw.items() if k != "__line__"}
    missing = sorted(required - set(data))
    if missing:
        raise _fail(path, line, where, f"missing field(s) {', '.join(missing)}")
    unknown = sorted(set(data) - required - optional)
    if unknown:
        raise _fail(path, line, where, f"unknown field(s) {', '.join(unknown)}")
    return data


def _text(path: Path, line: int, where: str, value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail(path, line, where, "must be a non-empty string")
    return " ".join(value.split())


def _number(path: Path, line: int, where: str, value: Any, positive: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (
            positive and value <= 0):
        raise _fail(path, line, where, "must be a positive number" if positive else
                    "must be a number")
    return float(value)


def _project_path(path: Path, line: int, where: str, value: Any) -> str:
    text = _text(path, line, where, value)
    posix = PurePosixPath(text)
    if posix.is_absolute() or ".." in posix.parts or (len(text) > 1 and text[1] == ":"):
        raise _fail(path, line, where, "must be a path inside the project")
    return text


def _score(path: Path, raw: Any, where: str, line: int) -> Score:
    data = _fields(path, raw, where, line, {"key", "op", "value"}, {"label", "test"})
    line = _line(raw, line)
    key = _text(path, line, f"{where}.key", data["key"])
    if data["op"] not in OPS:
        raise _fail(path, line, f"{where}.op", f"must be one of {', '.join(OPS)}")
    value = _number(path, line, f"{where}.value", data["value"])
    label = _text(path, line, f"{where}.label", data["label"]) if "label" in data else key
    test_file = test_key = None
    if "test" in data:
        test = _fields(path, data["test"], f"{where}.test", line, {"file"}, {"key"})
        test_line = _line(data["test"], line)
        test_file = _project_path(path, test_line, f"{where}.test.file", test["file"])
        test_key = _text(path, test_line, f"{where}.test.key", test.get("key", key))
    return Score(key=key, op=data["op"], value=value, label=label, test_file=test_file,
                 test_key=test_key)


def parse_challenge(path: Path, raw: Any, line: int = 0) -> Challenge:
    where = "challenge"
    data = _fields(path, raw, where, line, {"shift", "models", "scores"},
                   {"due_months", "timeout"})
    line = _line(raw, line)
    shift = _text(path, line, f"{where}.shift", data["shift"])
    models = data["models"]
    if not isinstance(models, list) or not models:
        raise _fail(path, line, f"{where}.models", "must be a non-empty list of paths")
    paths = tuple(_project_path(path, line, f"{where}.models[{i}]", m)
                  for i, m in enumerate(models))
    scores = data["scores"]
    if not isinstance(scores, list) or not scores:
        raise _fail(path, line, f"{where}.scores", "must be a non-empty list")
    parsed = tuple(_score(path, s, f"{where}.scores[{i}]", line) for i, s in enumerate(scores))
    keys = [s.key for s in parsed]
    if len(set(keys)) != len(keys):
        raise _fail(path, line, f"{where}.scores", "a key is judged twice")
    due = data.get("due_months", DEFAULT_DUE_MONTHS)
    if isinstance(due, bool) or not isinstance(due, int) or due < 1:
        raise _fail(path, line, f"{where}.due_months", "must be a whole number of months >= 1")
    timeout = _number(path, line, f"{where}.timeout", data.get("timeout", DEFAULT_TIMEOUT),
                      positive=True)
    return Challenge(shift=shift, models=paths, scores=parsed, due_months=due, timeout=timeout)


def _metric(path: Path, raw: Any, where: str, line: int) -> Metric:
    data = _fields(path, raw, where, line, {"file", "key", "direction"}, set())
    line = _line(raw, line)
    if data["direction"] not in DIRECTIONS:
        raise _fail(path, line, f"{where}.direction", "must be higher or lower")
    return Metric(file=_project_path(path, line, f"{where}.file", data["file"]),
                  key=_text(path, line, f"{where}.key", data["key"]),
                  direction=data["direction"])


def parse_leaderboard(path: Path, raw: Any, line: int = 0) -> Leaderboard:
    where = "leaderboard"
    data = _fields(path, raw, where, line, {"milestone", "metric"}, {"tie_breakers"})
    line = _line(raw, line)
    milestone = _text(path, line, f"{where}.milestone", data["milestone"])
    metric = _metric(path, data["metric"], f"{where}.metric", line)
    ties = data.get("tie_breakers", [])
    if not isinstance(ties, list):
        raise _fail(path, line, f"{where}.tie_breakers", "must be a list")
    breakers = tuple(_metric(path, t, f"{where}.tie_breakers[{i}]", line)
                     for i, t in enumerate(ties))
    names = [m.key for m in (metric, *breakers)]
    if len(set(names)) != len(names):
        raise _fail(path, line, f"{where}.tie_breakers", "a metric is named twice")
    return Leaderboard(milestone=milestone, metric=metric, tie_breakers=breakers)


def load_text(text: str, path: Path) -> dict[str, Any]:
    """The manifest's YAML with each mapping's line (``__line__``)."""
    import yaml

    from dlpath.rubric import _LineLoader

    try:
        data = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise DeclarationError(f"{path}: not valid YAML: {exc}") from None
    return data if isinstance(data, dict) else {}


def parse(path: Path, data: dict[str, Any]) -> tuple[Challenge | None, Leaderboard | None]:
    """The ``challenge`` and ``leaderboard`` sections of a manifest (None where absent)."""
    line = data.get("__line__", 1)
    challenge = (parse_challenge(path, data["challenge"], line)
                 if data.get("challenge") is not None else None)
    board = (parse_leaderboard(path, data["leaderboard"], line)
             if data.get("leaderboard") is not None else None)
    return challenge, board
