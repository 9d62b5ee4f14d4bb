"""``--format json`` (``--json``): dlpath's own document (docs/check-json.md).

An error document has the same keys as a report (so a reader of ``.tests`` or
``.score`` never breaks) plus ``message``, ``hint`` and ``exit_code``.
"""

from __future__ import annotations

from typing import Any

from dlpath.formats import Failure, Options


def document(report: Any, options: Options) -> dict[str, Any]:
    return report.to_json()


def error_document(failure: Failure, options: Options) -> dict[str, Any]:
    from dlpath.checker import JSON_FORMAT_VERSION

    return {
        "format_version": JSON_FORMAT_VERSION,
        "version": JSON_FORMAT_VERSION,
        "status": "error",
        "message": failure.message,
        "hint": failure.hint,
        "exit_code": failure.exit_code,
        "score": 0,
        "max_score": 0,
        "project": failure.project,
        "template": None,
        "tampered": [],
        "visible": {"passed": 0, "total": 0},
        "hidden": {"passed": 0, "total": 0},
        "skipped": 0,
        "execution_time": 0.0,
        "milestones": [],
        "tests": [],
    }
