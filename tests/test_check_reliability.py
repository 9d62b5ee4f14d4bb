"""A check that never gets in the learner's way (issue 12): DVC's lock held
only while DVC is asked, a busy lock never counted as a failed attempt, whole
process trees killed at a timeout, at the end and on Ctrl-C/SIGTERM, progress
updates that are never lost, special files refused, an unusable per-user
folder reported in one line, and what a project made by a newer dlpath says."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from dlpath import checker, progress, results, roadmap
from dlpath.checks import base
from tests.test_checks import make_mini, write_rubric

RUBRIC = """\
    format_version: 1
    milestones:
      - id: m
        title: M
        step: s
        checks:
{checks}
    """


def rubric(root: Path, *checks: str) -> None:
    write_rubric(root, RUBRIC.format(checks="\n".join(f"          - {c}" for c in checks)))


def dead(pid: int, wait: float = 5.0) -> bool:
    end = time.monotonic() + wait
    while time.monotonic() < end:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:  # a zombie re-parented to us counts as dead
            if Path(f"/proc/{pid}/stat").read_text().split(")")[1].split()[0] == "Z":
                return True
        except OSError:
            return True
        time.sleep(0.1)
    return False


#: a program that leaves a daemon behind (double fork + setsid), writes its
#: pid, then sleeps
DAEMON = textwrap.dedent("""\
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            open(sys.argv[1], "w").write(str(os.getpid()))
            time.sleep(120)
        os._exit(0)
    time.sleep(float(sys.argv[2]))
""")


@pytest.fixture
def mini(tmp_path) -> Path:
    return make_mini(tmp_path)


def test_a_command_can_use_dvc_while_the_check_runs(mini):
    rubric(mini, "{id: ours, kind: dvc_up_to_date, hint: h}",
           "{id: theirs, kind: command, run: 'python -m dvc status', hint: h}",
           "{id: again, kind: dvc_pushed, hint: h}")
    report = checker.evaluate(mini, record=False)
    checks = {c.id: c for c in report.all_checks}
    # DVC's lock is not held while the command runs: its own `dvc status` works
    assert checks["theirs"].status == "pass", checks["theirs"].output
    assert "Unable to acquire lock" not in checks["theirs"].output


def test_a_busy_dvc_lock_is_an_error_that_is_not_a_failed_attempt(mini, monkeypatch):
    rubric(mini, "{id: status, kind: dvc_up_to_date, hint: h}")
    (mini / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    holder = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent("""\
            import sys, time
            from dvc.repo import Repo, lock_repo
            repo = Repo(".")
            with lock_repo(repo):
                print("locked", flush=True)
                time.sleep(60)
        """)], cwd=mini, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        monkeypatch.setattr(base, "DVC_LOCK_WAIT", 0.5)
        report = checker.evaluate(mini)
    finally:
        holder.kill()
        holder.wait()
    (check,) = report.all_checks
    assert check.status == "error" and check.transient
    assert "Another DVC command is running" in check.message
    assert "m" not in results.load(mini)["milestones"]  # not counted as an attempt


@pytest.mark.parametrize("how", ["timeout", "end"])
def test_every_process_a_command_started_is_killed(mini, tmp_path, how):
    pid_file = tmp_path / "daemon.pid"
    (mini / "daemon.py").write_text(DAEMON)
    sleep, timeout = (30, 3) if how == "timeout" else (1, 60)
    rubric(mini, f"{{id: c, kind: command, run: 'python daemon.py {pid_file} {sleep}', "
                 f"timeout: {timeout}, hint: h}}")
    start = time.monotonic()
    (check,) = checker.evaluate(mini, record=False).all_checks
    assert time.monotonic() - start < 25
    assert check.status == ("fail" if how == "timeout" else "pass"), check.message
    assert dead(int(pid_file.read_text()))


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 130)])
def test_interrupting_check_kills_the_tests_it_started(mini, tmp_path, sig, code):
    pid_file = tmp_path / "daemon.pid"
    (mini / "daemon.py").write_text(DAEMON)
    rubric(mini, f"{{id: c, kind: command, run: 'python daemon.py {pid_file} 60', hint: h}}")
    proc = subprocess.Popen([sys.executable, "-m", "dlpath", "check", str(mini)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    end = time.monotonic() + 60
    while not pid_file.exists() and time.monotonic() < end:
        time.sleep(0.1)
    assert pid_file.exists(), proc.communicate()
    time.sleep(0.3)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == code, err
    assert "Interrupted" in err and "Traceback" not in err
    assert dead(int(pid_file.read_text()))


def test_concurrent_done_loses_no_update(tmp_path):
    steps = [s.id for s in roadmap.load().steps if s.self_reported][:8]
    env = {**os.environ, "DLPATH_HOME": str(tmp_path / "home")}
    procs = [subprocess.Popen([sys.executable, "-m", "dlpath", "done", step], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for step in steps]
    for p in procs:
        assert p.wait(timeout=120) == 0, p.stderr.read()
    marked = progress.load(tmp_path / "home" / "progress.json").steps
    assert sorted(marked) == sorted(steps)


def test_a_fifo_is_refused_instead_of_hanging_the_check(mini):
    rubric(mini, "{id: status, kind: dvc_up_to_date, hint: h}",
           "{id: params, kind: params_changed, hint: h}",
           "{id: text, kind: file_matches, path: params.yaml, pattern: n, hint: h}")
    (mini / "dvc.lock").write_text("schema: '2.0'\nstages: {}\n")
    (mini / "params.yaml").unlink()
    os.mkfifo(mini / "params.yaml")
    proc = subprocess.run([sys.executable, "-m", "dlpath", "check", str(mini), "--json",
                           "--no-commands"], capture_output=True, text=True, timeout=120)
    data = json.loads(proc.stdout)
    messages = {t["check"]: t["message"] for t in data["tests"]}
    assert "params.yaml is not a regular file" in messages["status"]
    assert messages["text"] == "params.yaml is not a regular file"
    assert {t["status"] for t in data["tests"]} <= {"fail", "error"}


def test_an_unusable_dlpath_home_is_one_line(tmp_path):
    home = tmp_path / "home-file"
    home.write_text("not a folder")
    env = {**os.environ, "DLPATH_HOME": str(home)}
    step = next(s.id for s in roadmap.load().steps if s.self_reported)
    for args in (["done", step], ["new", "groundwork", "p", "--no-input", "-o",
                                  str(tmp_path / "out")]):
        proc = subprocess.run([sys.executable, "-m", "dlpath", *args], env=env,
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode != 0
        assert "DLPATH_HOME" in proc.stderr and "is a file, not a folder" in proc.stderr
        assert "Unexpected error" not in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists()  # new refused before rendering anything


def test_several_milestones_and_a_newer_dlpath(tmp_path):
    from tests.conftest import make_project

    root = make_project("groundwork", tmp_path, git=False, dvc=False)
    report = checker.evaluate(root, milestone=["vectors", "softmax", "vectors"],
                              run_commands=False, record=False)
    assert [m.id for m in report.milestones] == ["vectors", "softmax"]
    meta = root / ".dlpath" / "project.json"
    data = json.loads(meta.read_text())
    data["dlpath_version"] = "99.0.0"
    meta.write_text(json.dumps(data))
    report = checker.evaluate(root, milestone="vectors", run_commands=False, record=False)
    assert any("made by dlpath 99.0.0, newer than this one" in w for w in report.warnings)


def test_environment_failures_are_neither_cached_nor_counted(mini):
    rubric(mini, "{id: t, kind: command, run: 'python -m no_such_tool_dlpath', hint: h}",
           "{id: u, kind: command, run: 'no-such-program-dlpath --x', hint: h}")
    report = checker.evaluate(mini)
    checks = {c.id: c for c in report.all_checks}
    assert checks["t"].status == "error" and checks["t"].transient
    assert "no_such_tool_dlpath is not installed for" in checks["t"].message
    assert checks["u"].status == "error" and "could not start" in checks["u"].message
    assert results.load(mini)["cache"] == {} or not any(
        k.endswith(("[t]", "[u]")) for k in results.load(mini)["cache"])
    assert "m" not in results.load(mini)["milestones"]
    again = checker.evaluate(mini, record=False)
    assert not any(c.cached for c in again.all_checks)


def test_no_cache_runs_everything_and_keeps_the_cache_for_later(mini):
    rubric(mini, "{id: c, kind: command, run: 'python -c \"print(1)\"', hint: h}")
    checker.evaluate(mini)
    assert checker.evaluate(mini).all_checks[0].cached
    assert not checker.evaluate(mini, use_cache=False).all_checks[0].cached
    assert checker.evaluate(mini).all_checks[0].cached  # --no-cache did not wipe it


@pytest.mark.parametrize("code, cause", [(28, "The disk is full"), (13, "No permission"),
                                         (30, "The file system is read-only")])
def test_a_full_disk_or_a_refusal_is_one_line(tmp_path, monkeypatch, code, cause):
    from typer.testing import CliRunner

    from dlpath.cli import app

    def fail(*args, **kwargs):
        raise OSError(code, os.strerror(code), str(tmp_path / ".dlpath" / "state.json"))

    monkeypatch.setattr(checker, "evaluate", fail)
    result = CliRunner().invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert f"Error: {cause} ({tmp_path / '.dlpath' / 'state.json'})." in result.stderr
    assert "Unexpected error" not in result.stderr and "Traceback" not in result.output
