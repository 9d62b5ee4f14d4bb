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
import secrets
import shlex
import sys
from collections.abc import Callable
from pathlib import Path

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome
from dlpath.checks.cache import cache_key, input_files
from dlpath.checks.pytests import pytest_args, pytest_env, references, run_pytest, split_args
from dlpath.checks.runner import run_bounded
from dlpath.reference import HOOK_NAMES, PYTEST_CONFIGS
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


def run_cached(ctx: Context, check: Check, extra: str, inputs: list[str] | None,
               execute: Callable[[], Outcome]) -> Outcome:
    """``execute()``'s outcome, reused from the cache while nothing it
    depends on changed. A timeout (maybe a busy machine) and an outcome the
    environment caused (a missing tool gets installed) are never kept."""
    key_id = check.where or f"{check.kind}:{check.id}"  # unique within a rubric
    digest = cache_key(ctx, check, extra, input_files(ctx, inputs)) if ctx.use_cache else None
    hit = ctx.cache.get(key_id) if ctx.use_cache else None
    if isinstance(hit, dict) and hit.get("inputs") == digest and hit.get("status") in (
            PASS, FAIL) and isinstance(hit.get("message"), str):
        return Outcome(hit["status"], hit["message"], str(hit.get("output", "")), cached=True)
    outcome = execute()
    ctx.forget_files()  # the command may have written files: hash them afresh
    keep = (ctx.use_cache and not outcome.transient and outcome.status in (PASS, FAIL)
            and not outcome.message.startswith("timed out"))
    if keep:
        ctx.cache[key_id] = {"inputs": digest, "status": outcome.status,
                             "message": outcome.message, "output": outcome.output}
    else:
        ctx.cache.pop(key_id, None)
    return outcome


def _shell(ctx: Context, run: str, timeout: float) -> Outcome:
    done = run_bounded(run, ctx.root, timeout, command_env(ctx))
    cause = environmental(run, done.code, done.output)
    if cause is not None:
        return Outcome(ERROR, cause, done.output, transient=True)
    if done.code is None:
        return Outcome(FAIL, f"timed out after {timeout:g} s", done.output)
    if done.code == 0:
        return Outcome(PASS, f"passed in {done.seconds:.1f} s", done.output)
    return Outcome(FAIL, f"exited with {done.code}", done.output)


def _edited_tests(ctx: Context, run: str, inputs: list[str] | None) -> list[str]:
    """The changed protected files a test command relies on: whatever changes
    how Python starts or pytest collects (a conftest.py, a pytest config, a
    start-up hook), and the test files its command line or its ``inputs``
    name (all of tests/ when it names none)."""
    hooks = [f for f in ctx.tampered
             if Path(f).name in HOOK_NAMES or f in PYTEST_CONFIGS or f.endswith(".pth")]
    tests = [f for f in ctx.tampered if f.startswith("tests/") and f not in hooks]
    mentions_tests = "tests/" in run or any(p.startswith("tests/") for p in inputs or [])
    if mentions_tests:
        tests = [f for f in tests if f in run
                 or any(fnmatch.fnmatch(f, pattern) for pattern in inputs or [])]
    return hooks + tests


def command(ctx: Context, check: Check, run: str, timeout: float = 300,
            inputs: list[str] | None = None, uses_tests: bool = False) -> Outcome:
    args = pytest_args(run)
    if (uses_tests or args is not None) and ctx.tampered:
        edited = _edited_tests(ctx, run, inputs)
        if edited:
            return Outcome(FAIL, "does not count: the tests it runs were edited "
                                 f"({', '.join(edited[:3])}); restore them with "
                                 "git checkout $(git rev-list --max-parents=0 HEAD) -- "
                                 f"{' '.join(edited[:3])}")
    if args is None:
        return run_cached(ctx, check, run, inputs, lambda: _shell(ctx, run, timeout))
    refs = references(ctx, split_args(args)[1])
    return run_cached(ctx, check, run, inputs,
                      lambda: run_pytest(ctx, args, refs, timeout, pytest_env()))


def package_tests(ctx: Context, check: Check, tests: str, timeout: float = 300) -> Outcome:
    if ctx.template_dir is None:
        return Outcome(ERROR, "package tests need a project made by 'dlpath new'")
    test_file = ctx.template_dir / tests
    if not test_file.is_file():
        return Outcome(ERROR, f"dlpath's packaged test {tests} is missing (reinstall dlpath)")
    # The packaged test and the support modules beside it (hidden/*.py) are
    # part of the key: a dlpath that changes any of them re-runs the test.
    digest = hashlib.sha256()
    for path in sorted(test_file.parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    extra = f"{tests}:{digest.hexdigest()}"
    # Hidden tests draw their random inputs from a seed drawn now (the
    # ``dlpath_seed`` fixture), so they cannot be learnt from earlier runs.
    env = {**pytest_env(), "DLPATH_SEED": str(secrets.randbelow(2**31))}
    outcome = run_cached(ctx, check, extra, None, lambda: run_pytest(
        ctx, ["-q", str(test_file)], [(str(test_file), test_file)], timeout, env))
    if outcome.status == FAIL and outcome.public is None:
        from dlpath import hidden  # which learner functions failed, never expected values

        outcome.public = hidden.describe(test_file, outcome.output, ctx.root)
    return outcome
