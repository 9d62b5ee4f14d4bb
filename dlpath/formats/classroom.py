"""``--format classroom``: a runner result for GitHub Classroom's grading reporter.

The contract is the reporter's code, classroom-resources/autograding-grading-reporter
(read at commit 43c2d9f524d3c7926caf7cb4fee34200b40b8c26): ``src/main.js`` reads
``<RUNNER-ID>_RESULTS`` (base64 of this JSON; the workflow step in
docs/graders/classroom/ encodes it into ``$GITHUB_OUTPUT``),
``src/console-results.js`` prints it, ``src/notify-classroom.js`` records the
grade. The object follows what the official runners write
(classroom-resources/autograding-command-grader ``src/main.js``, read at commit
7712c71cba0d0f107fef4c30a39714ed01231ae4). What it fixes here:

- ``tests`` is always a list (the reporter reads ``tests.length``), also for an
  error, which becomes one ``error`` test whose message the reporter prints;
- ``line_no`` is 0 and ``filename`` empty (otherwise: "- line undefined");
- the reporter prints a failed test's name and ``test_code`` only, never its
  ``message``: so a visible check's ``test_code`` holds its message and hint;
- the grade Classroom records is the sum of the tests' ``score`` over the
  top-level ``max_score`` (notify-classroom.js): dlpath's points. (The
  reporter's summary table weighs every test equally instead.)
- hidden checks: neither name nor message is ever printed (the Actions log of a
  public repository is public): "<milestone>: hidden check N", no test_code,
  and a generic message where the reporter prints one (errors);
- a check not run (``--no-commands``) is an ``error`` that says so.
"""

from __future__ import annotations

from typing import Any

from dlpath.formats import HIDDEN_WORDS, NOT_RUN, Failure, Options, explanation


def document(report: Any, options: Options) -> dict[str, Any]:
    tests = []
    hidden = 0
    for m in report.milestones:
        for c in m.checks:
            status = {"pass": "pass", "fail": "fail"}.get(c.status, "error")
            test: dict[str, Any] = {"score": c.score, "status": status, "filename": "",
                                    "line_no": 0, "duration": round(c.seconds * 1000)}
            if c.visible:
                test["name"] = f"{m.title}: {c.id}"
                test["message"] = NOT_RUN if c.status == "skipped" else c.message
                if c.status in ("fail", "error"):
                    # Printed for every test, where a failure's message is not
                    # (an error's is, so it is not repeated).
                    code = explanation(c, output_limit=1500, message=c.status == "fail")
                    if code:
                        test["test_code"] = code
            else:
                hidden += 1
                test["name"] = f"{m.title}: hidden check {hidden}"
                test["message"] = HIDDEN_WORDS[c.status]
            if status == "error":
                # The reporter prints an error's message alone, without the name.
                test["message"] = f"{test['name']}: {test['message']}"
            tests.append(test)
    statuses = {t["status"] for t in tests}
    status = "error" if "error" in statuses else "fail" if "fail" in statuses else "pass"
    return {"version": 1, "status": status, "max_score": report.max_score, "tests": tests}


def error_document(failure: Failure, options: Options) -> dict[str, Any]:
    return {"version": 1, "status": "error", "max_score": 0, "tests": [{
        "name": "dlpath check", "status": "error", "score": 0,
        "message": f"dlpath could not check this repository: {failure.text}",
        "filename": "", "line_no": 0, "duration": 0}]}
