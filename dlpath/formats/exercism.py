"""``--format exercism``: a test runner's ``results.json``.

Specification: exercism/docs, building/tooling/test-runners/interface.md
(read at commit 19e037f65284e53912d40b3e6e84fe3432558645). What it fixes here:

- ``version: 2`` (per-test results; version 1 has no ``tests``);
- test statuses are ``pass``, ``fail`` and ``error`` only: a check dlpath did
  not run (``--no-commands``) is an ``error`` whose message says so;
- top-level ``status`` is ``error`` only when no check could run (every one
  errored, or no report at all), with the reason in ``message``; otherwise
  ``fail`` when any test did not pass, else ``pass``, and ``message`` is null;
- a test's ``message`` is null when it passed; otherwise dlpath's message, hint
  and the tail of its command's output ("It is also permissible to output test
  suite output here. The message value is not limited in length");
- ``output`` is only what the learner printed, at most 500 characters: dlpath
  does not separate that from a test run's own output, so it is never set;
- a hidden check keeps its name, and its message is only "hidden check failed"
  (or "... could not run" / "... not run").
"""

from __future__ import annotations

from typing import Any

from dlpath.formats import HIDDEN_WORDS, NOT_RUN, Failure, Options, explanation

MESSAGE_LIMIT = 65535  # the top-level message's limit in the specification


def _short(text: str, root: str | None) -> str:
    """"Simplify the paths to be something like <solution-dir>/relative/path"."""
    return text.replace(root.rstrip("/"), "<solution-dir>") if root else text


def _test(milestone: Any, check: Any, root: str) -> dict[str, Any]:
    status = {"pass": "pass", "fail": "fail"}.get(check.status, "error")
    if status == "pass":
        message = None
    elif not check.visible:
        message = HIDDEN_WORDS[check.status]
    else:
        message = NOT_RUN if check.status == "skipped" else _short(explanation(check), root)
    return {"name": f"{milestone.title}: {check.id}", "status": status, "message": message}


def document(report: Any, options: Options) -> dict[str, Any]:
    tests = [_test(m, c, str(report.root)) for m in report.milestones for c in m.checks]
    statuses = {t["status"] for t in tests}
    if tests and statuses == {"error"}:
        first = next(c for c in report.all_checks)
        reason = (HIDDEN_WORDS[first.status] if not first.visible
                  else NOT_RUN if first.status == "skipped" else first.message)
        return {"version": 2, "status": "error",
                "message": _short(f"No check could run. The first says: {reason}",
                                  str(report.root))[:MESSAGE_LIMIT],
                "tests": tests}
    status = "pass" if statuses <= {"pass"} else "fail"
    return {"version": 2, "status": status, "message": None, "tests": tests}


def error_document(failure: Failure, options: Options) -> dict[str, Any]:
    text = _short(failure.text, failure.project)
    return {"version": 2, "status": "error",
            "message": f"dlpath could not check this solution: {text}"[:MESSAGE_LIMIT]}
