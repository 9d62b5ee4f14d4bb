"""A template's questions (its ``cookiecutter.json``), and asking them.

``dlpath new`` asks every question *before* any step starts: a prompt asked
while a spinner runs is drawn over by it, and the learner types blind. So
asking is a step of its own (:func:`ask`), which the command calls first;
rendering then takes the answers as if they had been given with ``--param``.

Answers are read through a :data:`Prompter` the command supplies (the core
never prints): from a terminal, an invalid answer is asked again; from a pipe
(``printf 'Ada\\n7\\n' | dlpath new ...``), one line per question in order, and
an invalid or missing line is refused with a message that names the question,
never replaced by a default. An empty line takes the question's default.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dlpath import resources, templates
from dlpath.errors import DlpathError, ExitCode, UsageError

_TRUE, _FALSE = {"true", "yes", "y", "1"}, {"false", "no", "n", "0"}


def merged(template: templates.Template) -> dict[str, Any]:
    """The base's ``cookiecutter.json`` overlaid with the template's own
    (``__prompts__``, the questions' labels, merged key by key)."""
    base_file = resources.templates_dir() / templates.BASE / "cookiecutter.json"
    base = json.loads(base_file.read_text(encoding="utf-8"))
    own_file = template.path / "cookiecutter.json"
    own = json.loads(own_file.read_text(encoding="utf-8")) if own_file.is_file() else {}
    result = {**base, **own}
    prompts = {**base.get("__prompts__", {}), **own.get("__prompts__", {})}
    if prompts:
        result["__prompts__"] = prompts
    return result


def public(questions: dict[str, Any]) -> list[str]:
    """The keys a learner answers (private ``_`` keys are dlpath's own)."""
    return [k for k in questions if not k.startswith("_")]


@dataclass(frozen=True)
class Question:
    key: str
    #: what the learner reads ("Your name (for the README and pyproject.toml)")
    label: str
    #: the default as cookiecutter.json has it (a Jinja string, a number, a list)
    default: Any
    #: the allowed answers, for a choice question (its first is the default)
    choices: tuple[str, ...] = ()

    @property
    def kind(self) -> str:
        if self.choices:
            return "choice"
        if isinstance(self.default, bool):
            return "yes/no"
        if isinstance(self.default, int):
            return "integer"
        if isinstance(self.default, float):
            return "number"
        return "text"


def convert(question: Question, answer: str) -> Any:
    """``answer`` as the question's type; ValueError with the reason otherwise."""
    text = answer.strip()
    default = question.default
    if question.choices:
        if text in question.choices:
            return text
        if text.isdigit() and 1 <= int(text) <= len(question.choices):
            return question.choices[int(text) - 1]
        raise ValueError(f"must be one of {', '.join(question.choices)}, not '{answer}'")
    if isinstance(default, bool):
        if text.lower() in _TRUE | _FALSE:
            return text.lower() in _TRUE
        raise ValueError(f"must be yes or no, not '{answer}'")
    if isinstance(default, (int, float)):
        try:
            return type(default)(text)
        except ValueError:
            kind = "an integer" if isinstance(default, int) else "a number"
            raise ValueError(f"must be {kind}, not '{answer}'") from None
    return answer


def open_questions(template: templates.Template, params: dict[str, Any]) -> list[Question]:
    """The template's questions that ``params`` (``--param``) leave unanswered,
    in cookiecutter.json's order. Dict-valued questions are not asked (their
    default is taken, as cookiecutter's own --no-input would)."""
    questions = merged(template)
    prompts = questions.get("__prompts__", {})
    found = []
    for key in public(questions):
        default = questions[key]
        if key in params or isinstance(default, dict):
            continue
        label = prompts.get(key, key.replace("_", " ").capitalize())
        if isinstance(label, dict):  # cookiecutter's {"__prompt__": ..., choice: label}
            label = label.get("__prompt__", key)
        choices = tuple(str(c) for c in default) if isinstance(default, list) else ()
        found.append(Question(key, str(label), default, choices))
    return found


#: ``(question, default as text, why the last answer was refused or None)`` ->
#: the answer, or None when there is no answer to be had (end of input, Ctrl-C)
Prompter = Callable[[Question, str, str | None], str | None]


def _default_text(question: Question, context: dict[str, Any]) -> str:
    default = question.default
    if question.choices:
        return question.choices[0]
    if isinstance(default, bool):
        return "yes" if default else "no"
    if isinstance(default, str) and ("{{" in default or "{%" in default):
        # cookiecutter renders a default as a template of the earlier answers
        from cookiecutter.environment import StrictEnvironment

        try:
            return StrictEnvironment().from_string(default).render(cookiecutter=context)
        except Exception:  # an undefined variable, say: offer the raw text
            return default
    return str(default)


def ask(template: templates.Template, params: dict[str, Any], prompt: Prompter, *,
        interactive: bool, fixed: dict[str, Any] | None = None) -> dict[str, Any]:
    """``params`` with an answer for each question they leave open, asked in
    order through ``prompt``. ``interactive``: the answers come from a person
    at a terminal (an invalid answer is asked again); otherwise from a pipe or
    a file (an invalid or missing answer is refused with a UsageError naming
    the question). ``fixed``: the private values (``_project_name``...) a
    default may refer to. Answers come back as text, as ``--param`` gives them.
    """
    answers = dict(params)
    pending = open_questions(template, params)
    for number, question in enumerate(pending, 1):
        context = {**(fixed or {}), **answers}
        default = _default_text(question, context)
        error: str | None = None
        while True:
            answer = prompt(question, default, error)
            if answer is None:
                if interactive:
                    raise DlpathError("Stopped before every question was answered; "
                                      "nothing was created.", exit_code=ExitCode.INTERRUPTED)
                left = ", ".join(q.key for q in pending[number - 1:])
                raise UsageError(
                    f"Standard input ended before question {number} of {len(pending)} "
                    f"('{question.label}') was answered; unanswered: {left}.",
                    hint="Pipe one line per question (an empty line takes the default), "
                         "answer with --param KEY=VALUE, or pass --no-input for the defaults.")
            answer = answer if answer.strip() else default
            try:
                value = convert(question, answer)
            except ValueError as exc:
                if not interactive:
                    raise UsageError(f"Answer {number} ('{question.label}') {exc}.",
                                     hint="Pipe one line per question, in order: "
                                          f"{', '.join(q.key for q in pending)}.") from None
                error = f"{question.label} {exc}."
                continue
            answers[question.key] = (("true" if value else "false")
                                     if isinstance(value, bool) else str(value))
            break
    return answers
