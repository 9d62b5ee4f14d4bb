"""``--format prairielearn``: an external grader's ``/grade/results/results.json``.

Specification: PrairieLearn/PrairieLearn, docs/externalGrading.md (read at
commit 88fb8556a7a1768e2082736be9095241b11238d7), "Grading results"; read by
apps/prairielearn/src/lib/externalGraderCommon.ts (``makeGradingResult``).
What it fixes here:

- ``score`` is a fraction in [0, 1]: dlpath's points over the maximum;
- tests carry ``points`` and ``max_points`` on every test (omitted on one, the
  per-test points display is disabled for all);
- a run that produced no report is ``gradable: false`` with the error in
  ``format_errors``: no points awarded or lost, no attempt used. A check that
  errored inside a report is the learner's (a metrics file that is not JSON):
  it scores 0 and the submission stays gradable. One caused by the grading
  machine (dlpath marks it ``transient``: a busy DVC lock, a missing tool)
  makes the submission not gradable, so the learner loses nothing for it;
- other keys are allowed: ``dlpath`` holds dlpath's own figures;
- hidden checks keep name and points; their message is only "hidden check
  failed" and they have no output;
- the grader's entry must exit 0, or the results file is ignored
  (apps/grader-host/src/index.ts: ``succeeded = ... ExitCode === 0``): see the
  entry in docs/graders/prairielearn/.
"""

from __future__ import annotations

from typing import Any

from dlpath.formats import (
    HIDDEN_WORDS,
    NOT_RUN,
    Failure,
    Options,
    dlpath_extra,
    failure_extra,
    summary,
    tail,
)


def _test(milestone: Any, check: Any) -> dict[str, Any]:
    test = {"name": f"{milestone.title}: {check.id}", "description": milestone.title,
            "points": check.score, "max_points": check.max_score}
    if not check.visible:
        test["name"] += " (hidden)"
        test["message"] = HIDDEN_WORDS[check.status]
        return test
    if check.status == "skipped":
        test["message"] = NOT_RUN
        return test
    test["message"] = check.message
    if check.status != "pass":
        test["message"] += f"\nHint: {check.hint}" if check.hint else ""
        if check.output.strip():
            test["output"] = tail(check.output, 4000)
    return test


def document(report: Any, options: Options) -> dict[str, Any]:
    machine = [c for c in report.all_checks if getattr(c, "transient", False)]
    if machine:
        # The grading machine failed (a busy DVC lock, a missing tool), not the
        # learner: no points lost, no attempt used.
        doc = error_document(Failure(
            "The grader could not run every check: " + "; ".join(
                f"{c.milestone}/{c.id if c.visible else 'hidden check'}: "
                f"{c.message if c.visible else 'could not run'}" for c in machine),
            "This is the grading machine's fault, not yours: submit again, or tell your "
            "instructor.", report.exit_code, str(report.root)), options)
        doc["dlpath"] = dlpath_extra(report)
        return doc
    if report.max_score:
        score = report.score / report.max_score
    else:
        score = 1.0 if report.status == "pass" else 0.0
    return {
        "gradable": True,
        "score": min(1.0, max(0.0, score)),
        "message": summary(report),
        "tests": [_test(m, c) for m in report.milestones for c in m.checks],
        "dlpath": dlpath_extra(report),
    }


def error_document(failure: Failure, options: Options) -> dict[str, Any]:
    errors = [failure.message] + ([f"Hint: {failure.hint}"] if failure.hint else [])
    return {
        "gradable": False,
        "format_errors": errors,
        "message": f"dlpath could not grade this submission: {failure.message}",
        "dlpath": failure_extra(failure),
    }
