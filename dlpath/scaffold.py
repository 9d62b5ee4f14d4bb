"""``dlpath new``: render a template into a ready project, atomically.

The project is rendered into a temporary directory beside the destination;
git and DVC are set up there, and only when every step has succeeded is it
moved into place with one rename. Any failure, Ctrl-C included, removes the
temporary directory and leaves the filesystem as it was.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jinja2.ext import Extension

from dlpath import __version__, project, resources, signals, solutions, templates, vcs
from dlpath import questions as questions_mod
from dlpath.errors import DlpathError, ExitCode, UsageError
from dlpath.project import package_name

_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,99}$")
# Names Windows reserves for devices, with or without an extension.
_RESERVED = {"con", "prn", "aux", "nul"} | {f"{p}{i}" for p in ("com", "lpt") for i in range(10)}

StepReporter = Callable[[str], AbstractContextManager[Any]]


@dataclass
class NewProject:
    path: Path
    template: templates.Template
    answers: dict[str, Any]
    commit: str | None = None
    used_fallback_identity: bool = False
    remote: Path | None = None
    next_commands: list[str] = field(default_factory=list)
    #: True once the project is in place (an interrupt after that loses nothing)
    created: bool = False


def validate_name(name: str) -> str:
    if not name or not name.strip():
        raise UsageError("The project name is empty.")
    if "/" in name or "\\" in name or name in {".", ".."} or ".." in name:
        raise UsageError(
            f"Invalid project name '{name}': it must be a plain directory name, not a path.",
            hint="Use --output-dir to choose where the project goes.",
        )
    if name.split(".")[0].lower() in _RESERVED:
        raise UsageError(f"Invalid project name '{name}': the operating system reserves it.")
    if not _NAME_RE.match(name):
        raise UsageError(
            f"Invalid project name '{name}': start with a letter and use only letters, "
            "digits, '-', '_' and '.' (at most 100 characters)."
        )
    shadowed = _shadows(package_name(name))
    if shadowed:
        raise UsageError(
            f"Invalid project name '{name}': its package '{package_name(name)}' would hide "
            f"the installed module {shadowed} (imports of it would find your project).",
            hint=f"Choose another name, e.g. my-{name}.",
        )
    return name


def _shadows(package: str) -> str | None:
    """The installed or standard module ``package`` would shadow, if any."""
    import importlib.util
    import sys

    if package in sys.stdlib_module_names or package in sys.builtin_module_names:
        return f"'{package}' (Python's standard library)"
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        return None
    return f"'{package}'" if spec is not None else None


def parse_params(pairs: list[str]) -> dict[str, str]:
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"Invalid --param '{pair}': expected key=value.")
        params[key.strip()] = value
    return params


def _stage(template: templates.Template, questions: dict[str, Any], staging: Path) -> None:
    """Lay the template's project tree over the base's in ``staging``."""
    base = resources.templates_dir() / templates.BASE
    # No bytecode: Python may have compiled files inside the installed
    # templates; a stale .pyc must never reach (or stand in for) a learner file.
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo")
    shutil.copytree(base / templates.PROJECT_DIR, staging / templates.PROJECT_DIR, ignore=skip)
    own_tree = template.path / templates.PROJECT_DIR
    if own_tree.is_dir():
        shutil.copytree(own_tree, staging / templates.PROJECT_DIR, dirs_exist_ok=True,
                        ignore=skip)
    # cookiecutter's Jinja loader looks in ../templates relative to the project
    # tree: put the shared partials (and the template's own) there.
    partials = staging / "templates"
    partials.mkdir()
    for source in (base / templates.PARTIALS, template.path / templates.PARTIALS):
        if source.is_dir():
            shutil.copytree(source, partials, dirs_exist_ok=True)
    (staging / "cookiecutter.json").write_text(json.dumps(questions, indent=2))


def _render(
    template: templates.Template, name: str, params: dict[str, str], no_input: bool, target: Path
) -> tuple[Path, dict[str, Any]]:
    from cookiecutter.exceptions import CookiecutterException
    from cookiecutter.generate import generate_context, generate_files
    from cookiecutter.prompt import prompt_for_config

    questions = questions_mod.merged(template)
    _check_params(template, params)
    params = {k: _literal(k, v) for k, v in _typed(params, questions).items()}
    fixed = {
        "_project_name": name,
        "_package_name": package_name(name),
        "_template_name": template.name,
        "_template_version": template.version,
        "_dlpath_version": __version__,
    }
    with tempfile.TemporaryDirectory(prefix="dlpath-stage-") as tmp:
        staging = Path(tmp)
        _stage(template, questions, staging)
        try:
            context = generate_context(
                context_file=str(staging / "cookiecutter.json"),
                extra_context={**params, **fixed},
            )
            context["cookiecutter"]["_extensions"] = [f"{__name__}.EscapeAnswers"]
            context["cookiecutter"] = prompt_for_config(context, no_input)
            context["cookiecutter"]["_template"] = template.name
            with _file_types():
                out = generate_files(
                    repo_dir=str(staging),
                    context=context,
                    overwrite_if_exists=False,
                    output_dir=str(target),
                    accept_hooks=False,
                )
        except ValueError as exc:  # a --param outside a choice list
            raise UsageError(f"Invalid --param: {exc}") from exc
        except CookiecutterException as exc:
            raise DlpathError(f"Template '{template.name}' failed to render: {exc}") from exc
    answers = {k: v for k, v in context["cookiecutter"].items() if not k.startswith("_")}
    return Path(out), answers


def _literal(key: str, value: Any) -> Any:
    """A --param string as Jinja's literal text: cookiecutter renders every
    answer as a template (``{{ 7*7 }}`` became 49); inside ``{% raw %}`` it
    stays what the learner typed."""
    if not isinstance(value, str) or ("{" not in value and "%" not in value):
        return value
    if "endraw" in value:
        raise UsageError(f"--param {key}: the text 'endraw' cannot appear in an answer.")
    return "{% raw %}" + value + "{% endraw %}"


#: the file being rendered (for EscapeAnswers), None while rendering names
_CURRENT_FILE: ContextVar[str | None] = ContextVar("dlpath_current_file", default=None)


def _escape_for(suffix: str, value: str) -> str:
    """``value`` made safe inside a double-quoted string of a file of that type."""
    if suffix in {".toml", ".json", ".py", ".yaml", ".yml", ".cfg", ".ini"}:
        return json.dumps(value, ensure_ascii=False)[1:-1]
    return value


class EscapeAnswers(Extension):
    """Escapes every string a template prints for the file it goes into:
    in ``.toml``, ``.json``, ``.py``, ``.yaml``, ``.cfg`` and ``.ini`` files,
    backslashes, quotes and control characters are escaped as in a JSON
    string (valid in TOML, YAML, Python and JSON double-quoted strings), so
    an answer like ``Ada "the first" Lovelace`` keeps ``pyproject.toml``
    valid. Templates put string answers inside double quotes there;
    Markdown and other text get the answer as it is."""

    def __init__(self, environment):
        super().__init__(environment)
        previous = environment.finalize

        def finalize(value):
            if previous is not None:
                value = previous(value)
            current = _CURRENT_FILE.get()
            if isinstance(value, str) and current is not None:
                return _escape_for(Path(current).suffix.lower(), value)
            return value

        environment.finalize = finalize
        get_template = environment.get_template

        def tracked(name, *args, **kwargs):
            _CURRENT_FILE.set(str(name))
            return get_template(name, *args, **kwargs)

        environment.get_template = tracked


@contextmanager
def _file_types() -> Iterator[None]:
    token = _CURRENT_FILE.set(None)
    try:
        yield
    finally:
        _CURRENT_FILE.reset(token)


def _typed(params: dict[str, str], questions: dict[str, Any]) -> dict[str, Any]:
    """Convert --param values to the type of the question's default (seed=7 -> 7)."""
    typed: dict[str, Any] = {}
    for key, value in params.items():
        default = questions.get(key)
        if isinstance(default, (bool, int, float)):
            try:
                typed[key] = questions_mod.convert(
                    questions_mod.Question(key, key, default), value)
            except ValueError as exc:
                raise UsageError(f"--param {key} {exc}.") from None
        else:
            typed[key] = value
    return typed


def _check_destination(output_dir: Path, name: str) -> Path:
    dest = output_dir / name
    if dest.exists() or dest.is_symlink():
        if not dest.is_dir() or any(dest.iterdir()):
            raise UsageError(
                f"'{dest}' already exists and is not empty; dlpath never overwrites files.",
                hint="Choose another name, or another --output-dir.",
            )
    if output_dir.exists() and not output_dir.is_dir():
        raise UsageError(f"--output-dir '{output_dir}' is not a directory.")
    return dest


def _writable_parent(output_dir: Path) -> Path:
    """The nearest existing ancestor of ``output_dir``; it must be writable."""
    existing = output_dir
    while not existing.exists():
        existing = existing.parent
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DlpathError(
            f"No permission to write in '{existing}'.",
            hint="Choose a directory you own with --output-dir.",
        )
    return existing


@contextmanager
def _workspace(output_dir: Path, name: str) -> Iterator[Path]:
    """A temporary directory beside the destination, removed whatever happens.

    Parent directories created for ``--output-dir`` are removed too when the
    project does not come into being.
    """
    created: list[Path] = []
    missing = output_dir
    while not missing.exists():
        created.append(missing)
        missing = missing.parent
    work: Path | None = None
    ok = False
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        work = Path(tempfile.mkdtemp(prefix=f".{name}.dlpath-", dir=output_dir))
        yield work
        ok = True
    except PermissionError as exc:
        raise DlpathError(f"No permission to write: {exc.filename or exc}") from exc
    finally:
        with signals.deferred():  # a second Ctrl-C must not cut the clean-up short
            if work is not None:
                shutil.rmtree(work, ignore_errors=True)
            if not ok:
                for path in created:  # deepest first
                    try:
                        path.rmdir()
                    except OSError:
                        break


def _failing_step(report: StepReporter) -> StepReporter:
    """Wrap each step so that a failure inside it names the step.

    Library errors (git's, DVC's, OS errors) become one DlpathError
    line; the workspace clean-up happens in :func:`_workspace` either way.
    """

    @contextmanager
    def run(label: str) -> Iterator[None]:
        with report(label):
            try:
                yield
            except (DlpathError, KeyboardInterrupt):
                raise
            except Exception as exc:
                text = str(exc).strip()
                detail = text.splitlines()[0] if text else type(exc).__name__
                raise DlpathError(f"{label} failed: {detail}") from exc

    return run


def default_remote(name: str) -> Path:
    return resources.remotes_dir() / f"{name}-{uuid.uuid4().hex[:8]}"


def _check_params(template: templates.Template, params: dict[str, Any]) -> None:
    public = sorted(questions_mod.public(questions_mod.merged(template)))
    unknown = sorted(set(params) - set(public))
    if unknown:
        raise UsageError(
            f"Unknown --param {', '.join(unknown)} for template '{template.name}'. "
            f"Its questions are: {', '.join(public)}."
        )


def check_new(template_name: str, name: str, output_dir: Path, *,
              params: dict[str, str] | None = None, git: bool = True,
              dvc: bool = True) -> tuple[templates.Template, Path]:
    """Everything ``dlpath new`` can refuse before doing anything: the
    template, the name, the destination, the params, git and DVC's
    prerequisites. Returns the template and the destination. The command
    calls it before asking the template's questions (nobody should answer
    them only to be told the folder exists); :func:`create_project` calls it
    again."""
    template = templates.get(template_name)
    validate_name(name)
    output_dir = output_dir.expanduser().absolute()
    dest = _check_destination(output_dir, name)
    _writable_parent(output_dir)
    if dvc and not git:
        # DVC without git cannot version the pipeline files: say so up front.
        raise UsageError("--no-git needs --no-dvc too: DVC keeps its pipeline files in git.")
    _check_params(template, params or {})
    if dvc:
        # The default DVC remote lives in dlpath's per-user folder: refuse an
        # unusable one now, not after rendering, at the first `dvc push`.
        resources.usable_user_dir(resources.remotes_dir())
    if git and not vcs.git_available():
        raise DlpathError(
            "git is not installed or not on PATH.",
            hint="Install git (https://git-scm.com/downloads), or pass --no-git --no-dvc.",
        )
    return template, dest


def ask(template_name: str, name: str, params: dict[str, str],
        prompt: questions_mod.Prompter, *, interactive: bool) -> dict[str, str]:
    """The template's questions that ``params`` leave open, asked through
    ``prompt`` (see dlpath.questions); ``params`` with every answer added.
    Called before :func:`create_project`, so that no spinner hides a prompt."""
    template = templates.get(template_name)
    fixed = {"_project_name": name, "_package_name": package_name(name),
             "_template_name": template.name}
    return questions_mod.ask(template, params, prompt, interactive=interactive, fixed=fixed)


def create_project(
    template_name: str,
    name: str,
    output_dir: Path,
    *,
    params: dict[str, str] | None = None,
    no_input: bool = True,
    git: bool = True,
    dvc: bool = True,
    step: StepReporter | None = None,
) -> NewProject:
    """Render ``template_name`` as ``output_dir/name`` with git and DVC set up.

    ``no_input=False`` lets cookiecutter prompt while rendering, under the
    first step's spinner: commands ask first (:func:`ask`) and pass True."""
    step = _failing_step(step or (lambda label: nullcontext()))
    template, dest = check_new(template_name, name, output_dir, params=params, git=git,
                               dvc=dvc)
    output_dir = output_dir.expanduser().absolute()

    result = NewProject(path=dest, template=template, answers={})
    try:
        with signals.raise_on_terminate(), _workspace(output_dir, name) as work:
            _build(template, name, params or {}, no_input, git, dvc, step, work, result)
    except KeyboardInterrupt:
        # Tell the truth about what is on disk.
        if result.created:
            raise DlpathError(f"Interrupted, but {dest} had already been created in full.",
                              hint=f"It is ready: cd {dest}",
                              exit_code=ExitCode.INTERRUPTED) from None
        raise DlpathError("Interrupted; nothing was left half-made.",
                          exit_code=ExitCode.INTERRUPTED) from None
    result.next_commands = [f"cd {dest}", *template.next_commands]
    return result


def _build(template: templates.Template, name: str, params: dict[str, str], no_input: bool,
           git: bool, dvc: bool, step: StepReporter, work: Path, result: NewProject) -> None:
    """Render and set up the project in ``work``, then move it to ``result.path``."""
    with step(f"Rendering template '{template.name}'"):
        root, answers = _render(template, name, params, no_input, work)
    result.answers = answers
    with step("Recording project metadata"):
        # Learner files: each solution region becomes its TODO stub.
        solutions.release_tree(root)
        _write_metadata(root, template, answers, package_name(name))
    if git:
        with step("Initialising git"):
            vcs.init_repo(root)
    if dvc:
        remote = default_remote(name)
        with step("Initialising DVC with a local remote"):
            vcs.dvc_init(root, remote)
        result.remote = remote
    if git:
        with step("Making the first commit"):
            message = f"Start {name} from the dlpath '{template.name}' template"
            commit = vcs.commit_all(root, message)
        result.commit = commit.sha
        result.used_fallback_identity = commit.used_fallback_identity
    with step(f"Moving the project into {result.path}"):
        # Signals are held back meanwhile: a Ctrl-C lands before the move
        # (nothing is left) or after it (the project is complete), never between.
        with signals.deferred():
            try:
                os.rename(root, result.path)
            except OSError as exc:
                raise DlpathError(f"Could not create '{result.path}': {exc.strerror}") from exc
            result.created = True


def _write_metadata(root: Path, template: templates.Template, answers: dict[str, Any],
                    package: str) -> None:
    from dlpath import rubric

    rubric.write_visible_copy(template, root)
    meta = project.ProjectMeta(
        template=template.name,
        template_version=template.version,
        dlpath_version=__version__,
        created=datetime.now(timezone.utc).isoformat(timespec="seconds"),
        answers=answers,
        checksums=project.checksums(root),
        package=package,
    )
    project.write_meta(root, meta)


def render_reference(template_name: str, answers: dict[str, Any], package: str,
                     target: Path) -> Path:
    """Render ``template_name`` with ``answers`` into ``target`` as ``dlpath
    new`` would (learner files released into stubs, the visible rubric
    copy), without git, DVC or metadata: the reference a project's protected
    files are compared with (see dlpath.reference)."""
    from dlpath import rubric

    template = templates.get(template_name)
    questions = questions_mod.merged(template)
    params = {k: v if isinstance(v, str) else json.dumps(v) if isinstance(v, (list, dict))
              else str(v) for k, v in answers.items()
              if k in questions and not k.startswith("_")}
    root, _ = _render(template, package, params, True, target)
    solutions.release_tree(root)
    rubric.write_visible_copy(template, root)
    return root
