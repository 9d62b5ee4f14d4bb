"""The process in which dlpath runs a learner's code to judge it: a template's
probe (``probe`` mode, see dlpath.checks.probe) or pytest on a test file
(``pytest`` mode, see dlpath.checks.pytests).

dlpath starts it as a script with ``python -I -S -X pycache_prefix=<dlpath's
bytecode folder>``: no PYTHON* variables, no user site, no ``site`` start-up
(so no ``sitecustomize``/``usercustomize`` and no ``.pth`` file from the
project, even one an editable install put in site-packages), no bytecode read
from or written to the project (bytecode lives under the prefix, in dlpath's
per-user cache folder, never in a ``__pycache__`` beside the sources; and
inside the project only ``.py`` sources are importable, so a sourceless
``.pyc`` cannot stand in for a learner's module). It adds dlpath's own
site-packages folders back, and the project root *last* on ``sys.path`` (a
project file named like a library never shadows it).

The verdict goes back as JSON, tagged with a per-run nonce read from stdin
before any learner code runs, to the file descriptor dlpath passed (a file
outside the project). Anything else the process prints is only output; a
process that ends before writing the verdict has no verdict, which dlpath
counts as a failure.

Arguments: MODE FD ROOT SITE_DIRS_JSON, then
  probe:  PROBE_FILE SEED CHALLENGE(0|1)
  pytest: PYTEST_ARGS...
"""

import json
import os
import sys


def _source_only(root: str) -> None:
    """Inside the project, import ``.py`` sources only."""
    from importlib.machinery import SOURCE_SUFFIXES, FileFinder, SourceFileLoader

    restricted = FileFinder.path_hook((SourceFileLoader, SOURCE_SUFFIXES))

    def hook(path: str):
        real = os.path.realpath(path or ".")
        if real == root or real.startswith(root + os.sep):
            return restricted(path)
        raise ImportError("not a project folder")

    sys.path_hooks.insert(0, hook)
    sys.path_importer_cache.clear()


def _channel(fd: int, nonce: str):
    """A function that writes the verdict once, tagged with the nonce."""
    os.set_inheritable(fd, False)  # the learner's subprocesses never get it
    sent = []

    def send(payload: dict) -> None:
        if sent:
            return
        sent.append(True)
        data = json.dumps({**payload, "nonce": nonce}).encode()
        while data:
            data = data[os.write(fd, data):]
        os.close(fd)

    return send


def _probe(send, root: str, args: list) -> None:
    import importlib.util
    import math
    import traceback
    from pathlib import Path

    probe_file, seed, challenge = args[0], int(args[1]), args[2] == "1"
    sys.path.insert(0, os.path.dirname(os.path.abspath(probe_file)))
    try:
        spec = importlib.util.spec_from_file_location("dlpath_probe", probe_file)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        result = module.measure(Path(root), seed, challenge=challenge)
    except BaseException as exc:  # SystemExit from learner code too: never a pass
        text = str(exc).strip()
        first = text.splitlines()[0] if text else ""
        send({"seed": seed, "ok": False,
              "error": f"{type(exc).__name__}: {first}".rstrip(": "),
              "todo": isinstance(exc, NotImplementedError),
              "traceback": traceback.format_exc()[-3000:]})
        return
    if not isinstance(result, dict):
        send({"seed": seed, "ok": False, "probe_bug": True,
              "error": f"measure() returned {type(result).__name__}, not a dict"})
        return
    values, notes, bad = {}, [], []
    for key, value in result.items():
        if key == "not_implemented" and isinstance(value, list):
            notes = [["", str(v)] for v in value]
        elif key == "not_implemented" and isinstance(value, dict):  # {key prefix: note(s)}
            notes = [[str(k), str(n)] for k, v in value.items()
                     for n in (v if isinstance(v, list) else [v])]
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            value = float(value)
            values[str(key)] = value if math.isfinite(value) else str(value)
        else:
            bad.append(str(key))
    send({"seed": seed, "ok": True, "values": values, "notes": notes, "bad": bad})


class _Recorder:
    """A pytest plugin that records every test's outcome and sends them when
    the session finishes (never before: a process that ends early sends none)."""

    def __init__(self, send):
        self._send = send
        self.tests: dict = {}
        self.errors: list = []

    def pytest_collectreport(self, report):
        if report.failed:
            self.errors.append(report.nodeid or "collection")

    def pytest_runtest_logreport(self, report):
        # "test_x.py::Class::test_y[3]" whatever the rootdir (a node id has no
        # file part for a test file outside it)
        file = os.path.basename(str(getattr(report, "fspath", "") or report.location[0]))
        key = f"{file}::{report.nodeid.partition('::')[2]}"
        entry = self.tests.setdefault(key, "passed")
        if report.failed:
            self.tests[key] = "failed" if report.when == "call" else "error"
        elif report.skipped and entry == "passed":
            self.tests[key] = "skipped"
        elif report.when == "call" and hasattr(report, "wasxfail"):
            self.tests[key] = "xpassed"

    def pytest_sessionfinish(self, session, exitstatus):
        self._send({"ok": True, "tests": self.tests, "errors": self.errors,
                    "exitstatus": int(exitstatus)})


def _pytest(send, root: str, args: list) -> int:
    import pytest

    class Seed:
        @pytest.fixture
        def dlpath_seed(self) -> int:
            """A seed dlpath drew for this run (hidden tests use it for their
            random inputs, so no run's inputs can be learnt from another's)."""
            return int(os.environ.get("DLPATH_SEED", "0"))

    return int(pytest.main(args, plugins=[_Recorder(send), Seed()]))


def _main() -> None:
    mode, fd, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    site_dirs, args = json.loads(sys.argv[4]), sys.argv[5:]
    nonce = sys.stdin.readline().strip()
    sys.stdin.close()
    sys.stdin = open(os.devnull)  # noqa: SIM115 - for the rest of the process
    send = _channel(fd, nonce)

    import site

    for folder in site_dirs:
        site.addsitedir(folder)
    real_root = os.path.realpath(root)
    sys.path[:] = [p for p in sys.path if p and os.path.realpath(p) != real_root]
    sys.path.append(root)
    _source_only(real_root)
    if mode == "probe":
        _probe(send, root, args)
    else:
        sys.exit(_pytest(send, root, args))


if __name__ == "__main__":
    _main()
