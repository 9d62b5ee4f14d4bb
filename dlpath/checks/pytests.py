"""Running pytest for a check so that the learner's code cannot decide the verdict.

A ``command`` check whose ``run`` is ``python -m pytest ...`` (or ``pytest
...``), and every ``package_tests`` check, run here instead of in a shell:

* in the isolated interpreter of ``_child.py`` (no start-up hooks, ``.pth``
  files or bytecode from the project; the project root last on ``sys.path``),
  with dlpath's own pytest configuration: ``-c <empty ini>``, ``--rootdir``
  and ``--confcutdir`` at the project, ``--import-mode=importlib`` (pytest
  puts no project folder ahead of the libraries), no cache provider, no
  plugin autoloading, ``PYTEST_ADDOPTS``/``PYTEST_PLUGINS`` dropped, so the
  project's ``pyproject.toml``/``pytest.ini`` cannot make pytest collect
  without running;
* a pass rests on positive evidence, never on the exit status: dlpath's
  plugin reports every test's outcome when the session finishes, tagged with
  a per-run nonce; every test the reference test file defines (the file as
  the template ships it, see dlpath.reference) must be reported passed, none
  failed. No report (the code ended the process), an untagged one, a test
  not run or skipped: a failure.
"""

from __future__ import annotations

import os
import shlex
import sys
import tempfile
from pathlib import Path

from dlpath.checks.base import ERROR, FAIL, PASS, Context, Outcome
from dlpath.checks.runner import isolated_env, run_isolated
from dlpath.reference import expected_tests

#: pytest options that take a value as the next argument
_WITH_VALUE = {"-p", "-k", "-m", "-o", "-W", "-c", "--rootdir", "--confcutdir", "--deselect",
               "--ignore", "--ignore-glob", "--maxfail", "--tb", "-r", "--durations",
               "--import-mode", "--basetemp"}
#: options dlpath sets itself (dropped from a rubric's command line)
_OWN = {"-c", "--rootdir", "--confcutdir", "--import-mode"}


def pytest_args(run: str) -> list[str] | None:
    """The pytest arguments of a command line that runs pytest, else None."""
    try:
        words = shlex.split(run)
    except ValueError:
        return None
    if len(words) >= 3 and Path(words[0]).name.startswith("python") and words[1:3] == [
            "-m", "pytest"]:
        return words[3:]
    if words and words[0] in ("pytest", "py.test"):
        return words[1:]
    return None


def split_args(args: list[str]) -> tuple[list[str], list[str], bool]:
    """(options, test paths, whether the run selects a subset with -k/-m)."""
    options, paths, subset = [], [], False
    it = iter(args)
    for word in it:
        if word in _WITH_VALUE:
            value = next(it, "")
            if word in ("-k", "-m", "--deselect"):
                subset = True
            if word not in _OWN:
                options += [word, value]
        elif word.startswith("-"):
            name = word.split("=", 1)[0]
            if name in ("-k", "-m", "--deselect"):
                subset = True
            if name not in _OWN:
                options.append(word)
        else:
            paths.append(word)
    return options, paths, subset


def _expected(paths: list[tuple[str, Path]]) -> dict[str, list[str]]:
    """Test file name -> the test functions its reference defines."""
    expected: dict[str, list[str]] = {}
    for selector, ref in paths:
        names = expected_tests(ref)
        if "::" in selector:
            wanted = selector.split("::", 1)[1].split("[")[0]
            names = [n for n in names if n == wanted or n.startswith(wanted + "::")]
        expected.setdefault(ref.name, []).extend(names)
    return expected


def _name(nodeid: str) -> tuple[str, str]:
    """``tests/test_x.py::Class::test_y[3]`` -> ("test_x.py", "Class::test_y")."""
    file, _, rest = nodeid.partition("::")
    return Path(file).name, rest.split("[")[0]


def run_pytest(ctx: Context, args: list[str], refs: list[tuple[str, Path]] | None,
               timeout: float, extra_env: dict[str, str] | None = None) -> Outcome:
    """Run pytest with ``args`` and judge it on dlpath's report.

    ``refs``: (selector, reference file) for each test file the run must
    pass in full; None where there is no reference (a hand-written rubric):
    then at least one test must pass and none fail.
    """
    options, paths, subset = split_args(args)
    with tempfile.TemporaryDirectory(prefix="dlpath-pytest-") as tmp:
        ini = Path(tmp, "pytest.ini")
        ini.write_text("[pytest]\n", encoding="utf-8")
        full = ["-c", str(ini), "--rootdir", str(ctx.root), "--confcutdir", str(ctx.root),
                "--import-mode=importlib", "-p", "no:cacheprovider", *options, *paths]
        env = isolated_env(extra_env)
        done, verdict = run_isolated("pytest", ctx.root, full, timeout, env)
    ctx.forget_files()  # tests may write files: hash them afresh
    output = done.output
    if done.code is None:
        return Outcome(FAIL, f"timed out after {timeout:g} s", output)
    if verdict is None or not isinstance(verdict.get("tests"), dict):
        if "No module named pytest" in output:
            return Outcome(ERROR, f"pytest is not installed for {sys.executable} (install "
                                  f"it: {sys.executable} -m pip install pytest)", output,
                           transient=True)
        return Outcome(FAIL, "the test run ended without dlpath's report (exit status "
                             f"{done.code}): did the code under test end the process?", output)
    tests: dict[str, str] = {str(k): str(v) for k, v in verdict["tests"].items()}
    errors = [str(e) for e in verdict.get("errors") or []]
    if errors:
        return Outcome(FAIL, f"could not collect {', '.join(errors[:3])}", output)
    bad = sorted(n for n, status in tests.items() if status in ("failed", "error"))
    if bad:
        names = ", ".join(_name(n)[1] for n in bad[:3])
        more = f" and {len(bad) - 3} more" if len(bad) > 3 else ""
        return Outcome(FAIL, f"{len(bad)} of {len(tests)} test(s) failed: {names}{more}",
                       output)
    passed: dict[tuple[str, str], bool] = {}
    for nodeid, status in tests.items():
        key = _name(nodeid)
        passed[key] = passed.get(key, True) and status == "passed"
    if refs is not None and not subset:
        missing = []
        for file, names in _expected(refs).items():
            missing += [n for n in names if not passed.get((file, n))]
        if missing:
            skipped = [n for n in tests if tests[n] == "skipped"]
            why = "skipped or not run" if skipped else "not run"
            return Outcome(FAIL, f"{len(missing)} test(s) {why}: {', '.join(missing[:3])}",
                           output)
    if not any(status == "passed" for status in tests.values()):
        return Outcome(FAIL, "no test passed (none ran, or all were skipped)", output)
    return Outcome(PASS, f"{len(tests)} test(s) passed in {done.seconds:.1f} s", output)


def references(ctx: Context, paths: list[str]) -> list[tuple[str, Path]] | None:
    """Each test file a run names, with its reference (the rendered template's
    copy), or None where there is no reference to hold the run to."""
    if ctx.reference is None:
        return None
    found = []
    for selector in paths or ["tests"]:
        rel = selector.split("::", 1)[0]
        ref = ctx.reference / rel
        if ref.is_dir():
            found += [(p.relative_to(ctx.reference).as_posix(), p)
                      for p in sorted(ref.rglob("test_*.py"))]
        elif ref.is_file():
            found.append((selector, ref))
        else:
            return None  # a file the template does not have: the learner's own
    return found


def pytest_env() -> dict[str, str]:
    # A learner function still raising NotImplementedError("TODO: ...") fails
    # its tests here; the project's tests/conftest.py only skips it for the
    # learner's own pytest runs.
    return {"DLPATH_TODO": "fail", "PATH": os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
