"""PrairieLearn external grader results (``/grade/results/results.json``).

Sources: PrairieLearn/PrairieLearn, read at commit
88fb8556a7a1768e2082736be9095241b11238d7:

- docs/externalGrading.md (last changed in 5f3b52f386a7087676fd41df769a0d2b14d116e1),
  "Grading results": ``score`` "a floating-point number in the range [0.0, 1.0]";
  ``gradable`` false needs no score and may carry ``format_errors`` ("either a
  string or an array of strings"); "you may add any additional data"; "this
  file should be limited to 1 MB"; the tests' fields (name, description,
  points, max_points, message, output, images); "if points or max_points is
  omitted on any single test, the detailed per-test points display ... is
  disabled for all tests".
- apps/prairielearn/src/lib/externalGraderCommon.ts ``makeGradingResult``: a
  score that is not a number (or NaN) fails the job.
- apps/grader-host/src/index.ts: ``results.succeeded = !results.timedOut &&
  data.State.ExitCode === 0`` (the entry point must exit 0, else the file is
  not read), results over 1024 * 1024 bytes fail the job.
"""

from __future__ import annotations

import math
import subprocess
from pathlib import Path

from tests.platform_specs import Invalid, load, schema_problems

LIMIT = 1024 * 1024

IMAGE = {"oneOf": [
    {"type": "string"},  # "the object may be replaced with a string containing only the URL"
    {"type": "object", "required": ["url"],
     "properties": {"url": {"type": "string"}, "label": {"type": "string"}},
     "additionalProperties": False},
]}

TEST = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "points": {"type": "number"},
        "max_points": {"type": "number"},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "images": {"type": "array", "items": IMAGE},
    },
    "additionalProperties": False,
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "gradable": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0.0, "maximum": 1.0},
        "format_errors": {"oneOf": [{"type": "string"},
                                    {"type": "array", "items": {"type": "string"}}]},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "images": {"type": "array", "items": IMAGE},
        "tests": {"type": "array", "items": TEST},
    },
    # "you may add any additional data to that object that you want"
    "additionalProperties": True,
    "if": {"properties": {"gradable": {"const": False}}, "required": ["gradable"]},
    # "If the submission is not gradable, the field gradable is required, and must be
    # set to false. In this case, the score field is not needed."
    "then": {},
    # "If the submission is gradable, the result only has one mandatory field: score"
    "else": {"required": ["score"]},
}


def validate(text: str | bytes) -> dict:
    raw = text.encode("utf-8") if isinstance(text, str) else text
    doc = load(raw, "prairielearn")
    problems = schema_problems(SCHEMA, doc)
    if len(raw) > LIMIT:
        problems.append(f"{len(raw)} bytes: over the 1 MB limit")
    score = doc.get("score") if isinstance(doc, dict) else None
    if isinstance(score, float) and math.isnan(score):
        problems.append("score is NaN")
    if not problems:
        tests = doc.get("tests", [])
        with_points = [("points" in t and "max_points" in t) for t in tests]
        if any(with_points) and not all(with_points):
            problems.append("points/max_points on some tests only: PrairieLearn then "
                            "disables the per-test points display for all")
    if problems:
        raise Invalid("prairielearn", problems)
    return doc


def run_entry(script: Path, grade_root: Path, env: dict[str, str],
              timeout: float = 600) -> dict:
    """Run an entry point as the grader host does and judge what it left: exit
    status 0, then /grade/results/results.json."""
    proc = subprocess.run([str(script)], capture_output=True, text=True, timeout=timeout,
                          env=env, stdin=subprocess.DEVNULL, cwd=grade_root)
    problems = []
    if proc.returncode != 0:
        problems.append(f"the entry point exited {proc.returncode} (PrairieLearn then ignores "
                        f"results.json): {proc.stderr[-2000:]}")
    results = grade_root / "results" / "results.json"
    if not results.is_file():
        problems.append("no results/results.json")
    if problems:
        raise Invalid("prairielearn", problems)
    return validate(results.read_bytes())
