"""Check kinds that read a metrics file: ``metric`` and ``metric_ratio``.

A learner's unfinished work is a failure with a message, never an error: a
missing file or key, a NaN, a stage's ``not_implemented`` notes.
"""

from __future__ import annotations

import json
import math
from typing import Any

import yaml

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome, plain
from dlpath.fsutil import load_yaml, read_text_limited


class MetricError(Exception):
    def __init__(self, status: str, message: str):
        super().__init__(message)
        self.outcome = plain(status, message)


def read_metrics(ctx: Context, file: str) -> Any:
    path = ctx.inside(file)
    if path is None:
        raise MetricError(FAIL, f"{file} leads out of the project (a symlink)")
    if not path.exists():
        raise MetricError(FAIL, f"{file} does not exist yet (run: dvc repro)")
    try:
        text = read_text_limited(path)
    except OSError as exc:
        raise MetricError(ERROR, f"{file} cannot be read: {exc}") from None
    if not text.strip():
        raise MetricError(ERROR, f"{file} is empty")
    try:
        data = json.loads(text)
    except ValueError:
        try:
            data = load_yaml(text)
        except yaml.YAMLError:
            raise MetricError(ERROR, f"{file} is neither JSON nor YAML") from None
    if not isinstance(data, dict):
        raise MetricError(ERROR, f"{file} holds no metrics mapping (found "
                                  f"{type(data).__name__}: {str(data)[:40]!r})")
    return data


#: where a stage lists the learner functions it could not use yet (their
#: NotImplementedError messages, which name the function, file and test)
NOT_IMPLEMENTED = "not_implemented"


def todo_note(data: Any) -> str | None:
    """The first "not implemented yet" note of a metrics file, if any."""
    notes = data.get(NOT_IMPLEMENTED) if isinstance(data, dict) else None
    if isinstance(notes, list) and notes and isinstance(notes[0], str):
        more = f" (and {len(notes) - 1} more)" if len(notes) > 1 else ""
        return f"not implemented yet: {notes[0]}{more}"
    return None


def lookup(data: Any, file: str, key: str) -> float:
    node = data
    for part in key.split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        else:
            todo = todo_note(data)
            raise MetricError(FAIL, f"{file}: {todo}" if todo else f"{file} has no metric {key}")
    if isinstance(node, bool) or not isinstance(node, (int, float)):
        raise MetricError(ERROR, f"{file}: {key} is not a number ({node!r})")
    if math.isnan(node) or math.isinf(node):
        raise MetricError(FAIL, f"{file}: {key} is {node} (did training diverge?)")
    return float(node)


def compare(actual: float, op: str, value: float, tolerance: float = 0.0) -> bool:
    if op == "==":
        return abs(actual - value) <= tolerance
    return {">=": actual >= value, "<=": actual <= value,
            ">": actual > value, "<": actual < value}[op]


def metric(ctx: Context, file: str, key: str, op: str, value: float,
           tolerance: float = 0.0) -> Outcome:
    try:
        actual = lookup(read_metrics(ctx, file), file, key)
    except MetricError as exc:
        return exc.outcome
    ok = compare(actual, op, value, tolerance)
    needs = f"{value:g} ± {tolerance:g}" if op == "==" and tolerance else f"{op} {value:g}"
    return Outcome(PASS if ok else FAIL, f"{key} = {actual:g} (needs {needs})",
                   public=f"{key} = {actual:g}: not there yet")


def metric_ratio(ctx: Context, file: str, numerator: str, denominator: str, op: str,
                 value: float) -> Outcome:
    try:
        data = read_metrics(ctx, file)
        top, bottom = lookup(data, file, numerator), lookup(data, file, denominator)
    except MetricError as exc:
        return exc.outcome
    if bottom == 0:
        return plain(ERROR, f"{denominator} is 0: the ratio is undefined")
    ratio = top / bottom
    ok = compare(ratio, op, value)
    return Outcome(PASS if ok else FAIL,
                   f"{numerator} / {denominator} = {ratio:.3g} (needs {op} {value:g})",
                   public=f"{numerator} / {denominator} = {ratio:.3g}: not there yet")


