"""Validators for the results files of four grading platforms, each written from
the platform's own specification text (or, for GitHub Classroom, which has no
written one, from the code that reads the file). Each module cites its sources
(repository, path, commit) and holds a JSON Schema derived from them plus the
rules a schema cannot express.

They know nothing of dlpath: they judge a document as the platform would.
"""

from __future__ import annotations

#: What the validators were written from: repository -> (commit read, paths).
SOURCES = {
    "gradescope/autograder_samples": (
        "af5dee4cf9b2c930c47dc0e4320c7e5ab2580564", ["docs/specs.md"]),
    "exercism/docs": (
        "19e037f65284e53912d40b3e6e84fe3432558645",
        ["building/tooling/test-runners/interface.md"]),
    "classroom-resources/autograding-grading-reporter": (
        "43c2d9f524d3c7926caf7cb4fee34200b40b8c26",
        ["src/main.js", "src/console-results.js", "src/notify-classroom.js",
         "src/helpers/test-helpers.js"]),
    "classroom-resources/autograding-command-grader": (
        "7712c71cba0d0f107fef4c30a39714ed01231ae4", ["src/main.js", "action.yml"]),
    "PrairieLearn/PrairieLearn": (
        "88fb8556a7a1768e2082736be9095241b11238d7",
        ["docs/externalGrading.md", "apps/prairielearn/src/lib/externalGraderCommon.ts",
         "apps/grader-host/src/index.ts"]),
}


class Invalid(AssertionError):
    """A document the platform would reject or misread; lists every problem."""

    def __init__(self, platform: str, problems: list[str]):
        self.problems = problems
        super().__init__(f"{platform}: " + "; ".join(problems))


def schema_problems(schema: dict, doc: object) -> list[str]:
    from jsonschema import Draft202012Validator

    Draft202012Validator.check_schema(schema)
    return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
            for e in sorted(Draft202012Validator(schema).iter_errors(doc),
                            key=lambda e: list(map(str, e.absolute_path)))]


def load(text: str | bytes, platform: str) -> object:
    """Parse a results file as the platform does (JSON; empty is an error)."""
    import json

    if isinstance(text, bytes):
        text = text.decode("utf-8")
    if not text.strip():
        raise Invalid(platform, ["the results file is empty"])
    try:
        return json.loads(text)
    except ValueError as exc:
        raise Invalid(platform, [f"not JSON: {exc}"]) from None
