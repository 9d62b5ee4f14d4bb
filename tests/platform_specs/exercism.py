"""exercism test runner results (``OUTPUT_DIR/results.json``) and the runner's
calling convention.

Source: exercism/docs, building/tooling/test-runners/interface.md, read at
commit 19e037f65284e53912d40b3e6e84fe3432558645 (the file last changed in
e1f6075e3a9cb44358c2b5f4ae21929f0f60e4b2). Sections: "Execution", "Output
format" (Top level: version, status, message, tests; Per-test: name,
test_code, status, message, output, task_id).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from tests.platform_specs import Invalid, load, schema_problems

TEST = {
    "type": "object",
    "required": ["name", "status"],  # name: "presence: required"; status: "required"
    "properties": {
        "name": {"type": "string"},
        "test_code": {"type": "string"},
        "status": {"enum": ["pass", "fail", "error"]},
        "message": {"type": ["string", "null"]},  # "not limited in length"
        # "The output must be limited to 500 chars"
        "output": {"type": ["string", "null"], "maxLength": 500},
        "task_id": {"type": "integer"},
    },
    "additionalProperties": False,
    "allOf": [
        # "presence: required if status is fail or error"
        {"if": {"properties": {"status": {"enum": ["fail", "error"]}}},
         "then": {"required": ["message"], "properties": {"message": {"type": "string"}}}},
        # "If there is no test failure message or error message, either set the
        # value to null or omit the key entirely"
        {"if": {"properties": {"status": {"const": "pass"}}},
         "then": {"properties": {"message": {"type": "null"}}}},
    ],
}

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["version", "status"],
    "properties": {
        "version": {"enum": [1, 2, 3]},
        "status": {"enum": ["pass", "fail", "error"]},
        # "The top level message value is limited to 65535 characters"
        "message": {"type": ["string", "null"], "maxLength": 65535},
        "tests": {"type": "array", "items": TEST},
    },
    "additionalProperties": False,
    "allOf": [
        # message: "required if status = error, or when status = fail and version = 1"
        {"if": {"properties": {"status": {"const": "error"}}},
         "then": {"required": ["message"], "properties": {"message": {"type": "string"}}}},
        {"if": {"properties": {"status": {"const": "fail"}, "version": {"const": 1}}},
         "then": {"required": ["message"], "properties": {"message": {"type": "string"}}}},
        # "When the status is not error, either set the value to null or omit the key"
        # (version 1 carries its failure in message: only versions 2 and 3)
        {"if": {"properties": {"status": {"enum": ["pass", "fail"]},
                               "version": {"enum": [2, 3]}}},
         "then": {"properties": {"message": {"type": "null"}}}},
        # tests: "required if status = fail or status = pass", "version: 2, 3"
        {"if": {"properties": {"status": {"enum": ["pass", "fail"]},
                               "version": {"enum": [2, 3]}}},
         "then": {"required": ["tests"]}},
        {"if": {"properties": {"version": {"const": 1}}},
         "then": {"not": {"required": ["tests"]}}},
        # task_id: "version: 3"
        {"if": {"properties": {"version": {"enum": [1, 2]}}},
         "then": {"properties": {"tests": {"items": {"not": {"required": ["task_id"]}}}}}},
    ],
}


def validate(text: str | bytes) -> dict:
    doc = load(text, "exercism")
    problems = schema_problems(SCHEMA, doc)
    if not problems and "tests" in doc:
        statuses = [t["status"] for t in doc["tests"]]
        # "pass: All tests passed"; "fail: At least one test has the status fail or
        # error"; "error: No test was executed ... should only be used if all of the
        # tests errored"
        if doc["status"] == "pass" and any(s != "pass" for s in statuses):
            problems.append("status pass while a test did not pass")
        if doc["status"] == "fail" and not any(s in ("fail", "error") for s in statuses):
            problems.append("status fail without a failing or erroring test")
        if doc["status"] == "error" and any(s != "error" for s in statuses):
            problems.append("status error while some test ran")
    if problems:
        raise Invalid("exercism", problems)
    return doc


def _tree(path: Path) -> dict[str, str]:
    """Every file under ``path`` with a digest of its content (or link target)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for name in dirnames + filenames:
            full = Path(dirpath, name)
            rel = full.relative_to(path).as_posix()
            if full.is_symlink():
                found[rel] = "->" + os.readlink(full)
            elif full.is_file():
                found[rel] = hashlib.sha256(full.read_bytes()).hexdigest()
            elif full.is_dir():
                found[rel] = "dir"
    return found


def run_runner(script: Path, slug: str, input_dir: Path, output_dir: Path,
               env: dict[str, str] | None = None, timeout: float = 600) -> dict:
    """Call a test runner as exercism does and judge it: "The script will receive
    three parameters" (slug, input directory, output directory, each "with a
    trailing slash"); the input "should be considered as read-only"; "The script
    must write a results.json file to the output directory"; "The runner must
    exit with an exit code of 0 if it has run successfully, regardless of the
    status of the tests"."""
    before = _tree(input_dir) if input_dir.is_dir() else None
    proc = subprocess.run([str(script), slug, f"{input_dir}/", f"{output_dir}/"],
                          capture_output=True, text=True, timeout=timeout, env=env,
                          stdin=subprocess.DEVNULL)
    problems = []
    if proc.returncode != 0:
        problems.append(f"the runner exited {proc.returncode}: {proc.stderr[-2000:]}")
    if before is not None and _tree(input_dir) != before:
        problems.append("the runner changed its input directory")
    results = output_dir / "results.json"
    if not results.is_file():
        problems.append("no results.json in the output directory")
    if problems:
        raise Invalid("exercism", problems)
    return validate(results.read_bytes())
