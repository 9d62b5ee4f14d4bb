"""``dlpath new``'s questions: asked before any spinner (in a real terminal, a
pty), read from a pipe one line each, and refused, never defaulted, when the
pipe runs dry or holds a wrong answer."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from dlpath import questions, templates
from dlpath.cli import app
from dlpath.errors import DlpathError, UsageError

#: rich's "dots" spinner frames (Braille patterns)
SPINNER = re.compile("[\u2800-\u28ff]")
#: terminal control sequences (colours, cursor moves, hiding the cursor)
ANSI = re.compile(r"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07]*\x07|[@-_])")


def author_and_seed(project: Path) -> tuple[str, int]:
    meta = json.loads((project / ".dlpath" / "project.json").read_text())
    return meta["answers"]["author_name"], yaml.safe_load(
        (project / "params.yaml").read_text())["seed"]


# ------------------------------------------------------------ a real terminal


class Terminal:
    """``dlpath ARGS`` on a pseudo-terminal (stdin, stdout and stderr), 80 columns."""

    def __init__(self, args: list[str], cwd: Path):
        master, slave = pty.openpty()
        import fcntl
        import struct
        import termios

        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
        env = {**os.environ, "TERM": "xterm-256color", "COLUMNS": "80"}
        env.pop("NO_COLOR", None)

        def controlling_terminal() -> None:
            # A session of its own with the pty as its terminal: Ctrl-C typed
            # into it reaches dlpath as SIGINT, as in a learner's shell.
            os.setsid()
            fcntl.ioctl(0, termios.TIOCSCTTY, 0)

        self.proc = subprocess.Popen([sys.executable, "-m", "dlpath", *args], cwd=cwd,
                                     stdin=slave, stdout=slave, stderr=slave, env=env,
                                     preexec_fn=controlling_terminal, close_fds=True)
        os.close(slave)
        self.master = master
        self.raw = ""

    @property
    def seen(self) -> str:
        """What was written so far, without control sequences."""
        return ANSI.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        """Read what is there; False once the other side is closed."""
        if not select.select([self.master], [], [], timeout)[0]:
            return True
        try:
            chunk = os.read(self.master, 4096)
        except OSError:  # EIO: the other side is closed
            return False
        self.raw += chunk.decode("utf-8", "replace")
        return bool(chunk)

    def read_until(self, pattern: str, timeout: float = 120) -> str:
        """All output up to and including ``pattern``'s first appearance after
        what was read so far; returns the new output."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while pattern not in self.seen[start:]:
            left = deadline - time.monotonic()
            assert left > 0, f"no {pattern!r} within {timeout}s; output:\n{self.seen}"
            if not self._read(min(left, 1.0)):
                assert pattern in self.seen[start:], (
                    f"exited without {pattern!r}; output:\n{self.seen}")
        return self.seen[start:]

    def type(self, text: str) -> None:
        os.write(self.master, text.encode())

    def finish(self, timeout: float = 300) -> int:
        deadline = time.monotonic() + timeout
        while self._read(0.5):
            if self.proc.poll() is not None and not select.select([self.master], [], [], 0)[0]:
                break
            assert time.monotonic() < deadline, f"still running; output:\n{self.seen}"
        code = self.proc.wait(timeout=max(1, deadline - time.monotonic()))
        os.close(self.master)
        return code

    def kill(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


def test_in_a_terminal_every_question_is_asked_before_any_spinner(tmp_path):
    term = Terminal(["new", "xai", "p", "-o", str(tmp_path)], tmp_path)
    try:
        before_first = term.read_until("[A. Learner]: ")
        assert "Your name" in before_first
        term.type("Ada Lovelace\n")
        before_second = term.read_until("[42]: ")
        assert "Random seed" in before_second
        # No step has started yet: no spinner, no step label drawn over the questions.
        asked = before_first + before_second
        assert not SPINNER.search(asked), asked
        assert "Rendering" not in asked and "✓" not in asked
        term.type("7\n")
        assert term.finish() == 0, term.seen
    finally:
        term.kill()
    after = term.seen[len(asked):]
    assert "Rendering template 'xai'" in after and "Created" in after
    assert author_and_seed(tmp_path / "p") == ("Ada Lovelace", 7)


def test_in_a_terminal_a_wrong_answer_is_asked_again(tmp_path):
    term = Terminal(["new", "xai", "p", "-o", str(tmp_path), "--no-git", "--no-dvc",
                     "-p", "author_name=Ada"], tmp_path)
    try:
        term.read_until("[42]: ")
        term.type("seven\n")
        again = term.read_until("[42]: ")
        assert "must be an integer, not 'seven'" in again
        term.type("\n")  # an empty answer takes the default
        assert term.finish() == 0, term.seen
    finally:
        term.kill()
    assert author_and_seed(tmp_path / "p") == ("Ada", 42)


def test_ctrl_c_at_a_question_creates_nothing(tmp_path):
    out = tmp_path / "out"
    term = Terminal(["new", "xai", "p", "-o", str(out)], tmp_path)
    try:
        term.read_until("[A. Learner]: ")
        term.type("\x03")
        code = term.finish()
    finally:
        term.kill()
    assert code == 130, term.seen
    assert "Interrupted" in term.seen and "Traceback" not in term.seen
    assert not out.exists()


# ------------------------------------------------------------------- a pipe


def test_piped_answers_are_read_one_line_per_question(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "dlpath", "new", "xai", "p", "-o", str(tmp_path)],
        input="Grace Hopper\n7\n", capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert author_and_seed(tmp_path / "p") == ("Grace Hopper", 7)
    # The questions and the answers read go to stderr, one per line; stdout
    # holds only the next commands.
    assert "[A. Learner]: Grace Hopper\n" in proc.stderr
    assert "[42]: 7\n" in proc.stderr
    assert proc.stdout.splitlines()[0].strip() == f"cd {tmp_path / 'p'}"


def test_an_empty_piped_line_takes_that_default(tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "p", "-o", str(tmp_path), "--no-git",
                                 "--no-dvc"], input="\n3\n")
    assert result.exit_code == 0, result.output
    assert author_and_seed(tmp_path / "p") == ("A. Learner", 3)


def test_questions_answered_with_param_are_not_asked(tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "p", "-o", str(tmp_path), "--no-git",
                                 "--no-dvc", "-p", "seed=5"], input="Ada\n")
    assert result.exit_code == 0, result.output
    assert "Random seed" not in result.stderr
    assert author_and_seed(tmp_path / "p") == ("Ada", 5)


@pytest.mark.parametrize("piped,fragments", [
    ("Ada\n", ["ended before question 2 of 2", "unanswered: seed", "--no-input"]),
    ("", ["ended before question 1 of 2", "unanswered: author_name, seed", "--no-input"]),
    ("Ada\nseven\n", ["Answer 2", "must be an integer, not 'seven'"]),
])
def test_missing_or_wrong_piped_answers_are_refused_not_defaulted(piped, fragments, tmp_path,
                                                                   runner):
    out = tmp_path / "out"
    result = runner.invoke(app, ["new", "xai", "p", "-o", str(out)], input=piped)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not out.exists()


def test_bad_input_is_refused_before_any_question(tmp_path, runner):
    (tmp_path / "p").write_text("a file")
    result = runner.invoke(app, ["new", "xai", "p", "-o", str(tmp_path)], input="Ada\n7\n")
    assert result.exit_code == 2
    assert "already exists" in result.stderr
    assert "Your name" not in result.stderr


def test_no_input_asks_nothing(tmp_path, runner):
    result = runner.invoke(app, ["new", "xai", "p", "-o", str(tmp_path), "--no-input",
                                 "--no-git", "--no-dvc"], input="Ada\n7\n")
    assert result.exit_code == 0, result.output
    assert "Your name" not in result.stderr
    assert author_and_seed(tmp_path / "p") == ("A. Learner", 42)


# -------------------------------------------------- the core, without the CLI


@pytest.fixture
def quiz(tmp_path) -> templates.Template:
    """A template whose own questions add a choice, a yes/no and a derived default."""
    path = tmp_path / "quiz"
    path.mkdir()
    (path / "cookiecutter.json").write_text(json.dumps({
        "optimiser": ["adam", "sgd"],
        "use_amp": False,
        "run_name": "{{ cookiecutter._project_name }}-{{ cookiecutter.optimiser }}",
        "extra": {"a": 1},
        "__prompts__": {"optimiser": "Optimiser"},
    }))
    return templates.Template(name="quiz", version="1", description="", phase="", step="",
                              path=path)


def scripted(answers: list[str | None], log: list):
    def prompt(question, default, error):
        log.append((question.key, default, error))
        return answers.pop(0)
    return prompt


def test_ask_converts_choices_yes_no_and_renders_defaults_from_earlier_answers(quiz):
    log: list = []
    got = questions.ask(quiz, {"seed": "1"}, scripted(["Ada", "2", "yes", ""], log),
                        interactive=False, fixed={"_project_name": "demo"})
    assert got == {"seed": "1", "author_name": "Ada", "optimiser": "sgd", "use_amp": "true",
                   "run_name": "demo-sgd"}
    # Asked in order, with their defaults; the dict question is not asked.
    assert [(k, d) for k, d, _ in log] == [("author_name", "A. Learner"), ("optimiser", "adam"),
                                           ("use_amp", "no"), ("run_name", "demo-sgd")]


def test_ask_interactive_asks_again_with_the_reason(quiz):
    log: list = []
    got = questions.ask(quiz, {"author_name": "A", "seed": "1", "run_name": "r"},
                        scripted(["rmsprop", "adam", "perhaps", "no"], log), interactive=True)
    assert got["optimiser"] == "adam" and got["use_amp"] == "false"
    errors = [e for _, _, e in log]
    assert errors[0] is None and "must be one of adam, sgd, not 'rmsprop'" in errors[1]
    assert "must be yes or no, not 'perhaps'" in errors[3]


def test_ask_stopped_at_a_terminal_is_an_interruption(quiz):
    with pytest.raises(DlpathError) as caught:
        questions.ask(quiz, {}, scripted([None], []), interactive=True)
    assert caught.value.exit_code == 130


def test_ask_piped_wrong_choice_is_a_usage_error(quiz):
    with pytest.raises(UsageError, match="Optimiser.*must be one of adam, sgd"):
        questions.ask(quiz, {"author_name": "A", "seed": "1"}, scripted(["3"], []),
                      interactive=False)
