"""dlpath's own ``check --json`` document, from docs/check-json.md (format_version 1).

Not a platform: the schema the other validators' reports are compared with, and
the shape graders reading ``--json`` rely on, error documents included (issue 13:
"print a JSON object with status: "error" and the message").
"""

from __future__ import annotations

from tests.platform_specs import Invalid, load, schema_problems

COUNT = {"type": "object", "required": ["passed", "total"], "additionalProperties": False,
         "properties": {"passed": {"type": "integer"}, "total": {"type": "integer"}}}
STATUS = {"enum": ["pass", "fail", "error"]}

TEST = {
    "type": "object",
    "required": ["name", "milestone", "check", "kind", "status", "message", "hint", "output",
                 "score", "max_score", "visibility", "time", "cached"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"}, "milestone": {"type": "string"},
        "check": {"type": "string"}, "kind": {"type": "string"},
        "status": {"enum": ["pass", "fail", "error", "skipped"]},
        "message": {"type": "string"}, "hint": {"type": ["string", "null"]},
        "output": {"type": "string"}, "score": {"type": "integer"},
        "max_score": {"type": "integer"}, "visibility": {"enum": ["visible", "hidden"]},
        "time": {"type": "number"}, "cached": {"type": "boolean"},
    },
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["format_version", "version", "status", "score", "max_score", "project",
                 "template", "tampered", "visible", "hidden", "skipped", "execution_time",
                 "milestones", "tests"],
    "properties": {
        "format_version": {"const": 1}, "version": {"const": 1}, "status": STATUS,
        "score": {"type": "integer"}, "max_score": {"type": "integer"},
        "project": {"type": ["string", "null"]}, "template": {"type": ["string", "null"]},
        "tampered": {"type": "array", "items": {"type": "string"}},
        # what the learner should know, which rubric ran, local check or grader mode
        "warnings": {"type": "array", "items": {"type": "string"}},
        "rubric": {"enum": ["template", "project"]},
        "mode": {"enum": ["local", "grade"]},
        "grade": {"type": "object", "required": ["commit"],
                  "properties": {"commit": {"type": "string", "pattern": "^[0-9a-f]{40}$"}}},
        "visible": COUNT, "hidden": COUNT, "skipped": {"type": "integer"},
        "execution_time": {"type": "number"},
        "milestones": {"type": "array", "items": {
            "type": "object", "additionalProperties": False,
            "required": ["id", "title", "step", "status", "score", "max_score"],
            "properties": {"id": {"type": "string"}, "title": {"type": "string"},
                           "step": {"type": "string"},
                           "status": {"enum": ["pass", "fail", "error", "skipped"]},
                           "score": {"type": "integer"}, "max_score": {"type": "integer"}}}},
        "tests": {"type": "array", "items": TEST},
        # only in an error document (no report: exit 2, or an unexpected error)
        "message": {"type": "string"}, "hint": {"type": ["string", "null"]},
        "exit_code": {"type": "integer"},
    },
    "additionalProperties": False,
    "dependentRequired": {"message": ["hint", "exit_code"]},
    "if": {"required": ["message"]},
    "then": {"properties": {"status": {"const": "error"}, "tests": {"maxItems": 0}}},
}


def validate(text: str | bytes) -> dict:
    doc = load(text, "dlpath json")
    problems = schema_problems(SCHEMA, doc)
    if not problems and "message" not in doc:
        if doc["score"] != sum(t["score"] for t in doc["tests"]):
            problems.append("score is not the sum of the tests' scores")
    if problems:
        raise Invalid("dlpath json", problems)
    return doc
