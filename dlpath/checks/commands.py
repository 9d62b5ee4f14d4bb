"""Check kinds that run commands: ``command`` and ``package_tests``.

Each runs through :func:`dlpath.checks.runner.run_bounded` (own session, the
whole process tree killed at the end, at the timeout and on Ctrl-C), and its
result is kept in the command cache (:mod:`dlpath.checks.cache`) unless the
environment caused it.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
import re
import shlex
import sys
from pathlib import Path

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome
from dlpath.checks.cache import cache_key, input_files
from dlpath.checks.runner import run_bounded
from dlpath.rubric import Check

_MISSING_MODULE = re.compile(r"No module named '?([\w.]+)'?")


def command_env(ctx: Context) -> dict[str, str]:
    env = os.environ.copy()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ctx.root), env.get("PYTHONPATH")]))
    env.setdefault("DVC_NO_ANALYTICS", "1")
    # No __pycache__ written next to dlpath's packaged tests (maybe read-only).
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    # A learner function still raising NotImplementedError("TODO: ...") fails
    # its tests here; the project's tests/conftest.py only skips it for the
    # learner's own pytest runs.
    env["DLPATH_TODO"] = "fail"
    # `python` in a command is the interpreter dlpath runs under.
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def environmental(cmd: list[str] | str, code: int | None, output: str) -> str | None:
    """Why a command's failure lies with the machine rather than the
    learner's work, or None: a program that cannot be found or started, or a
    ``python -m MODULE`` whose module is not installed."""
    words = shlex.split(cmd) if isinstance(cmd, str) else list(cmd)
    if code in (126, 127):
        program = words[0] if words else "the command"
        return (f"could not start {program} (exit status {code}: not found or not "
                "executable here)")
    if code and "-m" in words[:-1]:
        module = words[words.index("-m") + 1]
        missing = _MISSING_MODULE.search(output)
        if missing and module.split(".")[0] == missing.group(1).split(".")[0]:
            return (f"{module} is not installed for {sys.executable} "
                    f"(install it: {sys.executable} -m pip install {module.split('.')[0]})")
    return None


def run_cached(ctx: Context, check: Check, cmd, timeout: float, inputs, extra: str) -> Outcome:
    key_id = check.where or f"{check.kind}:{check.id}"  # unique within a rubric
    digest = cache_key(ctx, check, extra, input_files(ctx, inputs)) if ctx.use_cache else None
    hit = ctx.cache.get(key_id) if ctx.use_cache else None
    if hit and hit.get("inputs") == digest:
        return Outcome(hit["status"], hit["message"], hit.get("output", ""), cached=True)
    done = run_bounded(cmd, ctx.root, timeout, command_env(ctx))
    ctx.forget_files()  # the command may have written files: hash them afresh
    code, output, seconds = done.code, done.output, done.seconds
    cause = environmental(cmd, code, output)
    if cause is not None:
        outcome = Outcome(ERROR, cause, output, transient=True)
    elif code is None:
        outcome = Outcome(FAIL, f"timed out after {timeout:g} s", output)
    elif code == 0:
        outcome = Outcome(PASS, f"passed in {seconds:.1f} s", output)
    else:
        outcome = Outcome(FAIL, f"exited with {code}", output)
    if code is None or cause is not None or not ctx.use_cache:
        # a timeout may be a busy machine, a missing tool gets installed:
        # run it again next time
        ctx.cache.pop(key_id, None)
    else:
        ctx.cache[key_id] = {"inputs": digest, "status": outcome.status,
                             "message": outcome.message, "output": outcome.output}
    return outcome


def _edited_tests(ctx: Context, run: str, inputs: list[str] | None) -> list[str]:
    """The edited test files a command relies on: those its command line or its
    ``inputs`` name, every conftest.py, and all of tests/ when it names none."""
    tests = [f for f in ctx.tampered if f.startswith("tests/")]
    named = [f for f in tests if f in run
             or any(fnmatch.fnmatch(f, pattern) for pattern in inputs or [])]
    mentions_tests = "tests/" in run or any(p.startswith("tests/") for p in inputs or [])
    if not mentions_tests:
        return tests
    return [f for f in tests if f in named or f.endswith("conftest.py")]


def command(ctx: Context, check: Check, run: str, timeout: float = 300,
            inputs: list[str] | None = None, uses_tests: bool = False) -> Outcome:
    if uses_tests and ctx.tampered:
        edited = _edited_tests(ctx, run, inputs)
        if edited:
            return Outcome(FAIL, "does not count: the tests it runs were edited "
                                 f"({', '.join(edited[:3])}); restore them with "
                                 "git checkout $(git rev-list --max-parents=0 HEAD) -- "
                                 f"{' '.join(edited[:3])}")
    return run_cached(ctx, check, run, timeout, inputs, extra=run)


def package_tests(ctx: Context, check: Check, tests: str, timeout: float = 300) -> Outcome:
    if ctx.template_dir is None:
        return Outcome(ERROR, "package tests need a project made by 'dlpath new'")
    test_file = ctx.template_dir / tests
    if not test_file.is_file():
        return Outcome(ERROR, f"dlpath's packaged test {tests} is missing (reinstall dlpath)")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir",
           str(ctx.root), "-c", os.devnull, str(test_file)]
    # The packaged test's own content is part of the key: a new dlpath re-runs it.
    extra = f"{tests}:{hashlib.sha256(test_file.read_bytes()).hexdigest()}"
    outcome = run_cached(ctx, check, cmd, timeout, None, extra=extra)
    if outcome.status == FAIL and outcome.public is None:
        from dlpath import hidden  # which learner functions failed, never expected values

        outcome.public = hidden.describe(test_file, outcome.output, ctx.root)
    return outcome
