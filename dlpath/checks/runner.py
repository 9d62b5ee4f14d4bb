"""Running a learner's command (tests, a probe) so that nothing it starts
outlives it.

A command runs in a session of its own, with its output in a temporary file
(megabytes of output never sit in memory). When it ends, times out, or dlpath
is interrupted (Ctrl-C, SIGTERM, SIGHUP), every process it started is killed:
its process group, its descendants, and on Linux also those that escaped by
daemonising or ``setsid``. For the last, dlpath makes itself a *child
subreaper* while the command runs (``prctl(PR_SET_CHILD_SUBREAPER)``): an
orphan is re-parented to dlpath instead of init, so psutil still finds it
(measured in /work/shared/LIBRARIES.md: process group alone left 4 of 6
processes of a test that forks, daemonises and double-forks; subreaper +
psutil left none, in 7 ms). Each command's processes carry a per-run token
in their environment, so that dlpath only kills what this command started.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlpath.checks.base import OUTPUT_LIMIT
from dlpath.signals import raise_on_terminate

#: environment variable carrying the per-run token of a command's processes
TOKEN_VAR = "DLPATH_RUN_TOKEN"
_PR_SET_CHILD_SUBREAPER = 36
_PR_GET_CHILD_SUBREAPER = 37


@dataclass
class Finished:
    """How a command ended: its exit code (None: killed at the timeout), the
    tail of its output, and how long it ran."""

    code: int | None
    output: str
    seconds: float
    #: processes it left behind that were killed when it ended
    leftovers: int = 0


def _prctl(option: int, value: int = 0) -> int | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if option == _PR_GET_CHILD_SUBREAPER:
            out = ctypes.c_int(0)
            if libc.prctl(option, ctypes.byref(out), 0, 0, 0) != 0:
                return None
            return out.value
        return 0 if libc.prctl(option, value, 0, 0, 0) == 0 else None
    except (OSError, AttributeError):
        return None


@contextmanager
def _subreaper() -> Iterator[bool]:
    """dlpath is a child subreaper meanwhile (Linux); yields whether it is."""
    before = _prctl(_PR_GET_CHILD_SUBREAPER)
    ok = before is not None and _prctl(_PR_SET_CHILD_SUBREAPER, 1) == 0
    try:
        yield ok
    finally:
        if ok and not before:
            _prctl(_PR_SET_CHILD_SUBREAPER, 0)


def _ours(proc, token: str) -> bool:
    import psutil

    try:
        return proc.environ().get(TOKEN_VAR) == token
    except (psutil.Error, OSError):
        return False


def kill_tree(pid: int, token: str, *, reaper: bool) -> int:
    """Kill ``pid``'s process group, its descendants, and every process that
    carries ``token`` (orphans re-parented to dlpath when it is a subreaper,
    else found among all processes). Returns how many were killed."""
    import psutil

    killed: set[int] = set()
    for _ in range(5):  # a process may fork while we look: look again
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
        victims: dict[int, psutil.Process] = {}
        try:
            victims.update({p.pid: p for p in psutil.Process(pid).children(recursive=True)})
        except psutil.Error:
            pass
        pool = (psutil.Process().children(recursive=True) if reaper
                else psutil.process_iter())
        for p in pool:
            if p.pid not in victims and p.pid not in (pid, os.getpid()) and _ours(p, token):
                victims[p.pid] = p
        alive = []
        for p in victims.values():
            try:
                if p.status() != psutil.STATUS_ZOMBIE:
                    p.kill()
                    killed.add(p.pid)
                alive.append(p)
            except psutil.Error:
                pass
        # Reap them (our children, re-parented orphans included), or wait
        # for others' to go.
        psutil.wait_procs(alive, timeout=2)
        if not alive:
            break
    return len(killed)


def run_bounded(cmd: list[str] | str, cwd: Path, timeout: float,
                env: dict[str, str] | None = None, *, pass_fds: tuple[int, ...] = (),
                stdin_data: bytes | None = None) -> Finished:
    """Run a command in a session of its own and kill everything it started
    when it ends, at the timeout, or on an interrupt (re-raised after)."""
    token = secrets.token_hex(8)
    env = dict(os.environ if env is None else env)
    env[TOKEN_VAR] = token
    start = time.perf_counter()
    with tempfile.TemporaryFile() as sink, _subreaper() as reaper, raise_on_terminate():
        proc = subprocess.Popen(
            cmd, cwd=cwd, stdout=sink, stderr=subprocess.STDOUT,
            stdin=subprocess.PIPE if stdin_data is not None else subprocess.DEVNULL,
            shell=isinstance(cmd, str), start_new_session=True, env=env, pass_fds=pass_fds)
        code: int | None = None
        try:
            if stdin_data is not None:
                try:
                    proc.stdin.write(stdin_data)
                    proc.stdin.close()
                except (BrokenPipeError, OSError):
                    pass
            code = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            code = None
        except BaseException:
            kill_tree(proc.pid, token, reaper=reaper)
            proc.wait()
            raise
        left = kill_tree(proc.pid, token, reaper=reaper)
        if code is None:
            proc.wait()
        seconds = time.perf_counter() - start
        size = sink.seek(0, os.SEEK_END)
        sink.seek(max(0, size - OUTPUT_LIMIT))
        tail = sink.read().decode("utf-8", errors="replace")
        if size > OUTPUT_LIMIT:
            tail = f"[... {size - OUTPUT_LIMIT} bytes cut ...]\n" + tail
    return Finished(code, tail, seconds, left)


_CHILD = Path(__file__).with_name("_child.py")


def site_dirs() -> list[str]:
    """dlpath's own site-packages folders (the isolated child adds them back)."""
    import site

    dirs = list(site.getsitepackages()) if hasattr(site, "getsitepackages") else []
    if site.ENABLE_USER_SITE and site.getusersitepackages():
        dirs.append(site.getusersitepackages())
    return [d for d in dict.fromkeys(dirs) if os.path.isdir(d)]


#: variables that would let the project configure the test runner
_DROPPED_ENV = ("PYTEST_ADDOPTS", "PYTEST_PLUGINS")


def isolated_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("PYTHON") and k not in _DROPPED_ENV}
    env.setdefault("DVC_NO_ANALYTICS", "1")
    # No pytest plugin loaded from an entry point: an editable install of the
    # project could declare one.
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    env.update(extra or {})
    return env


def _pycache_dir(scratch: Path) -> Path:
    """Where the isolated interpreter keeps bytecode: never next to the
    project's sources (a planted ``__pycache__`` there is never read), but in
    dlpath's per-user cache folder, so that the libraries are not compiled
    again on every run (an empty folder each time made a pytest run 1.3-1.8x
    slower); a temporary folder where that cannot be written."""
    try:
        from dlpath.resources import usable_user_dir, user_dir

        return usable_user_dir(user_dir() / "cache" / "pycache")
    except Exception:  # an unusable per-user folder: compile afresh
        folder = scratch / "pycache"
        folder.mkdir(exist_ok=True)
        return folder


def run_isolated(mode: str, root: Path, args: list[str], timeout: float,
                 env: dict[str, str] | None = None) -> tuple[Finished, dict | None]:
    """Run ``_child.py`` in ``mode`` (probe, pytest) in an isolated interpreter
    with cwd = ``root``; return how it ended and its verdict (None where it
    wrote none, a malformed one, or one without this run's nonce)."""
    import json

    nonce = secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="dlpath-run-") as tmp:
        verdict_file = Path(tmp, "verdict.json")
        pycache = _pycache_dir(Path(tmp))
        fd = os.open(verdict_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            cmd = [sys.executable, "-I", "-S", "-X", f"pycache_prefix={pycache}",
                   str(_CHILD), mode, str(fd), str(root), json.dumps(site_dirs()), *args]
            done = run_bounded(cmd, root, timeout, env if env is not None else isolated_env(),
                               pass_fds=(fd,), stdin_data=f"{nonce}\n".encode())
        finally:
            os.close(fd)
        try:
            verdict = json.loads(verdict_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            verdict = None
    if not isinstance(verdict, dict) or verdict.get("nonce") != nonce:
        verdict = None
    return done, verdict
