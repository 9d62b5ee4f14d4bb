"""Gradescope autograder results (``/autograder/results/results.json``).

Source: gradescope/autograder_samples, docs/specs.md, read at commit
af5dee4cf9b2c930c47dc0e4320c7e5ab2580564 (the file last changed in
ed9a3514b2c191d02012c6ba4f8a2b248b80853e). Sections: "Output format",
"Controlling Test Case Visibility", "Test case status", "Output String
Formatting", "Leaderboards".
"""

from __future__ import annotations

from tests.platform_specs import Invalid, load, schema_problems

# "Options for the visibility field are as follows: hidden, after_due_date,
# after_published, visible (default)"
VISIBILITY = ["hidden", "after_due_date", "after_published", "visible"]
# "Options for the the format field are as follows: text, html, simple_format, md, ansi"
OUTPUT_FORMATS = ["text", "html", "simple_format", "md", "ansi"]

TEST = {
    "type": "object",
    "properties": {
        "score": {"type": "number"},          # "optional, but required if not on top level"
        "max_score": {"type": "number"},
        "status": {"enum": ["passed", "failed"]},  # "either passed or failed"
        "name": {"type": "string"},
        "name_format": {"enum": OUTPUT_FORMATS},
        "number": {"type": "string"},         # "1.1"
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "tags": {"type": "array", "items": {"type": "string"}},
        "visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
    },
    "additionalProperties": False,
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},  # "optional, seconds"
        "output": {"type": "string"},
        "output_format": {"enum": OUTPUT_FORMATS},
        "test_output_format": {"enum": OUTPUT_FORMATS},
        "test_name_format": {"enum": OUTPUT_FORMATS},
        "visibility": {"enum": VISIBILITY},
        "stdout_visibility": {"enum": VISIBILITY},
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": TEST},
        "leaderboard": {"type": "array", "items": {
            "type": "object", "required": ["name", "value"],
            "properties": {"name": {"type": "string"},
                           "value": {"type": ["number", "string"]},
                           "order": {"enum": ["asc", "desc"]}},
            "additionalProperties": False}},
    },
    "additionalProperties": False,
    # "score: optional, but required if not on each test case below";
    # "tests: Optional, but required if no top-level score"
    "anyOf": [
        {"required": ["score"]},
        {"required": ["tests"],
         "properties": {"tests": {"items": {"required": ["score"]}}}},
    ],
}


def validate(text: str | bytes) -> dict:
    """The parsed document, or Invalid listing every problem."""
    doc = load(text, "gradescope")
    problems = schema_problems(SCHEMA, doc)
    if not problems:
        # "You should use Unix line endings (aka \n) in your test case outputs"
        for i, test in enumerate(doc.get("tests", [])):
            if "\r" in test.get("output", ""):
                problems.append(f"tests/{i}/output: not Unix line endings")
    if problems:
        raise Invalid("gradescope", problems)
    return doc


# ------------------------------------------------------- visibility semantics

MOMENTS = ("submitted", "after_due_date", "after_published")


def _shown(visibility: str, moment: str) -> bool:
    """Whether a test with ``visibility`` is shown to a student at ``moment``:
    hidden "will never be shown"; after_due_date "shown after the assignment's
    due date"; after_published "shown only when the assignment is explicitly
    published"; visible "will always be shown"."""
    if visibility == "visible":
        return True
    if visibility == "after_due_date":
        return moment in ("after_due_date", "after_published")
    if visibility == "after_published":
        return moment == "after_published"
    return False


def student_view(doc: dict, moment: str) -> dict:
    """What a student sees at ``moment``: the tests shown, and whether the total
    score is ("If test cases are hidden, students will not be able to see their
    total score"). A test without ``visibility`` takes the top-level one ("a test
    can override this setting"), else ``visible``."""
    assert moment in MOMENTS
    default = doc.get("visibility", "visible")
    tests = doc.get("tests", [])
    shown = [t for t in tests if _shown(t.get("visibility", default), moment)]
    return {"tests": shown, "total_score": len(shown) == len(tests),
            "output": doc.get("output", "")}
