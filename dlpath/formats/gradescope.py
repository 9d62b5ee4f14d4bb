"""``--format gradescope``: the autograder's ``results.json``.

Specification: gradescope/autograder_samples, docs/specs.md (read at commit
af5dee4cf9b2c930c47dc0e4320c7e5ab2580564). What it fixes here:

- a test's ``status`` is ``passed`` or ``failed`` (dlpath's ``error`` and
  ``skipped`` are failures scoring 0, their output saying which);
- ``visibility``: ``hidden`` means *never* shown to students, and while any
  test is concealed students do not see their total score; "shown once grades
  are published" is ``after_published``, the default for dlpath's hidden checks
  (``--hidden-visibility`` picks ``after_due_date`` or ``hidden``). Visible
  checks are ``visible``. The top-level ``output``, which students see at once,
  never mentions how hidden checks went;
- every string is rendered as plain ``text`` (names, messages and outputs hold
  file names and a learner's program output: never HTML or Markdown);
- ``extra_data`` (stored, for instructors) holds dlpath's own figures;
- a run that produced no report still writes a valid file: score 0 and the
  error as the top-level output (an empty file reads "The autograder failed to
  execute correctly").
"""

from __future__ import annotations

from typing import Any

from dlpath.formats import Failure, Options, dlpath_extra, explanation, failure_extra, summary


def document(report: Any, options: Options) -> dict[str, Any]:
    tests = []
    for i, m in enumerate(report.milestones, start=1):
        for j, c in enumerate(m.checks, start=1):
            tests.append({
                "name": f"{m.title}: {c.id}",
                "name_format": "text",
                "number": f"{i}.{j}",
                "score": c.score,
                "max_score": c.max_score,
                "status": "passed" if c.status == "pass" else "failed",
                "output": explanation(c),
                "output_format": "text",
                "tags": [m.id, c.kind],
                "visibility": "visible" if c.visible else options.hidden_visibility,
                "extra_data": {"dlpath": {
                    "milestone": m.id, "check": c.id, "kind": c.kind, "status": c.status,
                    "cached": c.cached, "transient": getattr(c, "transient", False),
                    "time": round(c.seconds, 4)}},
            })
    hidden_total = report.tally(False)[1]
    text = summary(report, hidden=False)
    if hidden_total:
        when = {"after_published": "shown once grades are published",
                "after_due_date": "shown after the due date",
                "hidden": "never shown"}[options.hidden_visibility]
        text += f"\n{hidden_total} hidden check(s) also count ({when})."
    return {
        "score": report.score,
        "execution_time": round(report.seconds, 2),
        "output": text,
        "output_format": "text",
        "test_output_format": "text",
        "test_name_format": "text",
        "extra_data": {"dlpath": dlpath_extra(report)},
        "tests": tests,
    }


def error_document(failure: Failure, options: Options) -> dict[str, Any]:
    return {
        "score": 0,
        "execution_time": 0,
        "output": f"dlpath could not grade this submission.\n{failure.text}",
        "output_format": "text",
        "extra_data": {"dlpath": failure_extra(failure)},
        "tests": [],
    }
