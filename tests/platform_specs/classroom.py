"""GitHub Classroom: a runner's result as the autograding grading reporter reads it.

GitHub Classroom publishes no written format; the contract is the code that
reads the result. Sources:

- classroom-resources/autograding-grading-reporter, read at commit
  43c2d9f524d3c7926caf7cb4fee34200b40b8c26: ``src/main.js`` (reads
  ``<RUNNER-ID>_RESULTS`` as base64 JSON for each id of the ``runners`` input,
  fails the step when a result's status is ``fail`` or ``error``),
  ``src/console-results.js`` (what the Actions log shows),
  ``src/helpers/test-helpers.js`` and ``src/notify-classroom.js`` (the points
  Classroom records).
- classroom-resources/autograding-command-grader, read at commit
  7712c71cba0d0f107fef4c30a39714ed01231ae4: ``src/main.js`` ``generateResult``
  (the shape official runners write: version, status, max_score, tests[] with
  name, status, score, message, test_code, filename, line_no, duration).
- education/autograding (read at commit 3f74f9232b19ff7b9f4b02638cebb7ec8008b9b4)
  is the archived predecessor ("no longer used for Autograding tests created via
  the GitHub Classroom GUI", its README); it reads no runner results.

:func:`reporter` is a line-for-line port of main.js + console-results.js +
notify-classroom.js, so tests see what a student sees in the log and the
points Classroom records.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass, field

from tests.platform_specs import Invalid, schema_problems

STATUSES = ["pass", "fail", "error"]  # console-results.js / main.js compare to these

TEST = {
    "type": "object",
    "required": ["name", "status", "score", "line_no"],
    "properties": {
        "name": {"type": "string"},
        "status": {"enum": STATUSES},
        # notify-classroom.js: totalPoints += score (undefined would make NaN)
        "score": {"type": "number", "minimum": 0},
        "message": {"type": ["string", "null"]},
        "test_code": {"type": "string"},
        "filename": {"type": "string"},
        # console-results.js: `test.line_no !== 0` prints " - line ${line_no}"
        "line_no": {"type": "integer", "minimum": 0},
        "duration": {"type": "number", "minimum": 0},
        "execution_time": {"type": ["number", "string"]},  # the python grader's name
    },
    "additionalProperties": False,
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["status", "max_score", "tests"],
    "properties": {
        "version": {"type": "integer"},
        "status": {"enum": STATUSES},
        "max_score": {"type": "number", "minimum": 0},
        # getTestScore divides by tests.length: an empty list scores NaN
        "tests": {"type": "array", "items": TEST, "minItems": 1},
    },
    "additionalProperties": False,
}

RUNNER_ID = re.compile(r"^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$")  # main.js's pattern


def validate(doc: object) -> dict:
    problems = schema_problems(SCHEMA, doc)
    if problems:
        raise Invalid("classroom", problems)
    return doc  # type: ignore[return-value]


@dataclass
class Reported:
    log: list[str] = field(default_factory=list)
    total_points: float = 0
    max_points: float = 0
    notified: bool = False
    failed: str | None = None  # core.setFailed(...)

    @property
    def text(self) -> str:
        return "\n".join(self.log)


def _js(value: object) -> str:
    return "undefined" if value is None else str(value)


def reporter(env: dict[str, str], runners: str) -> Reported:
    """Run the grading reporter on ``env`` (the step's environment) as main.js does."""
    out = Reported()
    try:
        results = []
        for runner in runners.split(","):
            encoded = env.get(f"{runner.strip().upper()}_RESULTS")
            if encoded is None:  # Buffer.from(undefined, "base64") throws
                raise ValueError(f"no {runner.strip().upper()}_RESULTS")
            raw = base64.b64decode(encoded, validate=True).decode("utf-8")
            results.append((runner, json.loads(raw)))
        _console(results, out)
        _notify(results, out)
        if any(r.get("status") == "fail" for _, r in results):
            out.failed = "Some tests failed."
        elif any(r.get("status") == "error" for _, r in results):
            out.failed = "Some tests errored."
    except (ValueError, KeyError, TypeError, AttributeError, binascii.Error) as exc:
        out.failed = str(exc) if RUNNER_ID.match(runners) else \
            "The runners input must be a comma-separated list of strings."
    return out


def _console(results, out: Reported) -> None:
    for index, (runner, r) in enumerate(results):
        tests = r["tests"]
        max_score = r.get("max_score") or 0
        passed = sum(t.get("status") == "pass" for t in tests)
        score = (passed / len(tests)) * max_score if tests else math.nan
        if index > 0:
            out.log.append("🚀" * 24)
        out.log.append(f"🔄 Processing: {runner}")
        for t in tests:
            line = f" - line {_js(t.get('line_no'))}" if t.get("line_no", None) != 0 else ""
            if t.get("status") == "pass":
                out.log.append(f"✅ {t.get('name')}{line}")
            elif t.get("status") == "error":
                message = t.get("message") or f"Failed to run test '{t.get('name')}'"
                out.log.append(f"Error: {message}")
            else:
                out.log.append(f"❌ {t.get('name')}{line}")
            if t.get("test_code"):
                out.log.append(f"Test code:\n{t['test_code']}\n")
        if max_score != 0:
            out.log.append(f"Total points for {runner}: {score:.2f}/{max_score}")


def _notify(results, out: Reported) -> None:
    for _, r in results:
        if not r.get("max_score"):
            continue
        out.max_points += r["max_score"]
        for t in r["tests"]:
            out.total_points += t["score"]
    out.notified = bool(out.max_points)
