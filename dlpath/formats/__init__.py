"""Results documents for grading platforms: one ``dlpath check`` report, written
the way each platform's published specification says (docs/check-json.md).

Every format is a pure function of a :class:`dlpath.checker.Report` (whatever
mode produced it: a learner's check, grader mode) or, when no report could be
made (exit 2: not a project, a malformed rubric), of a :class:`Failure`: the
platform then still gets a valid document that says what went wrong, never an
empty file.

Hidden checks are mapped per platform on purpose (see each module):

- ``json``: dlpath's own format; the message says only passed/failed.
- ``gradescope``: the test is concealed with Gradescope's ``visibility``
  (``after_published`` by default, ``hidden`` or ``after_due_date`` on request).
- ``exercism``: the test keeps its name; its message is only "hidden check failed".
- ``classroom``: neither the check's name nor its message is ever printed (the
  Actions log of a public repository is public).
- ``prairielearn``: name and points; the message is only "hidden check failed".

Nothing here prints; :mod:`dlpath.formats.output` writes a document to a file
without changing the grade of the project it describes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FORMATS = ("json", "gradescope", "exercism", "classroom", "prairielearn")
#: Gradescope visibilities a hidden check may take (its ``visible`` is never used for them)
HIDDEN_VISIBILITIES = ("after_published", "after_due_date", "hidden")


@dataclass(frozen=True)
class Options:
    #: Gradescope: how a hidden check's test is concealed
    hidden_visibility: str = "after_published"


@dataclass(frozen=True)
class Failure:
    """Why there is no report: the error dlpath reports with its exit code."""

    message: str
    hint: str | None = None
    exit_code: int = 2
    project: str | None = None

    @property
    def text(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")


def document(fmt: str, report: Any, options: Options | None = None) -> dict[str, Any]:
    """The results document of ``report`` in format ``fmt``."""
    return _module(fmt).document(report, options or Options())


def error_document(fmt: str, failure: Failure, options: Options | None = None) -> dict[str, Any]:
    """A valid document of format ``fmt`` for a run that produced no report."""
    return _module(fmt).error_document(failure, options or Options())


def dumps(doc: dict[str, Any]) -> str:
    import json

    # ASCII only: every platform reads it, whatever encoding it assumes.
    return json.dumps(doc, indent=2) + "\n"


def _module(fmt: str):
    from importlib import import_module

    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    return import_module(f"dlpath.formats.{'dlpath_json' if fmt == 'json' else fmt}")


# ---------------------------------------------------------------- shared views

#: what a hidden check may say on platforms that cannot conceal a test
HIDDEN_WORDS = {"pass": "hidden check passed", "fail": "hidden check failed",
                "error": "hidden check could not run", "skipped": "hidden check not run"}

NOT_RUN = ("not run: `dlpath check --no-commands` skips the checks that run commands; "
           "grade without it")


def name(milestone: Any, check: Any) -> str:
    """A check's name for people: the milestone's title and the check's id."""
    return f"{milestone.title}: {check.id}"


def tail(text: str, limit: int) -> str:
    """At most ``limit`` characters from the end of ``text``, from a line start
    where one is near."""
    text = text.strip("\n")
    if len(text) <= limit:
        return text
    cut = text[-(limit - 1):]
    newline = cut.find("\n")
    if 0 <= newline < len(cut) // 2:
        cut = cut[newline + 1:]
    return "…" + cut


def explanation(check: Any, *, output_limit: int = 4000, message: bool = True) -> str:
    """What a learner needs about one check: the message, then for a check that
    did not pass its hint and the tail of its command's output."""
    if check.status == "skipped":
        return NOT_RUN
    parts = [check.message] if message else []
    if check.status != "pass":
        if check.hint:
            parts.append(f"Hint: {check.hint}")
        if check.output.strip() and output_limit > 0:
            parts.append("Output (last lines):\n" + tail(check.output, output_limit))
    return "\n\n".join(p for p in parts if p)


def summary(report: Any, *, hidden: bool = True) -> str:
    """One paragraph over the whole report (the hidden tally only where it may show)."""
    visible_passed, visible_total = report.tally(True)
    hidden_passed, hidden_total = report.tally(False)
    lines = [f"dlpath check: {report.score}/{report.max_score} points. "
             f"Visible checks passed: {visible_passed}/{visible_total}."]
    if hidden_total and hidden:
        lines[0] += f" Hidden checks passed: {hidden_passed}/{hidden_total}."
    if report.skipped:
        lines.append(f"{report.skipped} check(s) not run (--no-commands): they score 0.")
    if report.tampered:
        lines.append("Edited since the project was generated (checks relying on them do not "
                     f"count): {', '.join(report.tampered)}.")
    return "\n".join(lines)


def dlpath_extra(report: Any) -> dict[str, Any]:
    """dlpath's own figures, for a platform field that stores extra data."""
    data = report.to_json()
    return {key: data[key] for key in (
        "format_version", "status", "template", "tampered", "visible", "hidden", "skipped",
        "milestones")} | {"exit_code": report.exit_code}


def failure_extra(failure: Failure) -> dict[str, Any]:
    return {"status": "error", "message": failure.message, "hint": failure.hint,
            "exit_code": failure.exit_code, "project": failure.project}
