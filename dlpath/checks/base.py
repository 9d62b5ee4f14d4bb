"""What every check kind shares: the :class:`Outcome` a check returns and the
:class:`Context` one evaluation's checks share (the project, git and DVC
opened once, the caches)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from dlpath import project
from dlpath.fsutil import is_within
from dlpath.gitstate import GitState

PASS, FAIL, ERROR, SKIPPED = "pass", "fail", "error", "skipped"
OUTPUT_LIMIT = 4000  # characters of a command's output kept in the report
#: seconds a check waits for a DVC lock another DVC command holds
DVC_LOCK_WAIT = 20.0


@dataclass
class Outcome:
    status: str
    message: str
    output: str = ""
    cached: bool = False
    #: what a hidden check may say instead of ``message`` (which may hold the
    #: expected value); None: only "hidden check failed"
    public: str | None = None
    #: caused by the machine, not by the learner's work (a DVC lock held by
    #: another command, a tool missing from the environment): reported, but
    #: never counted as a failed attempt nor cached
    transient: bool = False
    #: a step the learner must take before the rubric's hint can work (e.g.
    #: set a git identity before committing); shown ahead of the hint
    first: str | None = None


def plain(status: str, message: str) -> Outcome:
    """An outcome whose message reveals nothing expected: shown for hidden checks too."""
    return Outcome(status, message, public=message)


@dataclass
class Context:
    """What every check of one evaluation shares: the project, its metadata,
    and git and DVC opened once (DVC lazily: a rubric without DVC checks never
    imports it)."""

    root: Path
    meta: project.ProjectMeta | None
    run_commands: bool = True
    tampered: list[str] = field(default_factory=list)
    cache: dict[str, Any] = field(default_factory=dict)
    #: False: neither read nor write the caches (``--no-cache``, grader mode)
    use_cache: bool = True
    #: the command cache's view of the files, kept until a command runs
    input_memo: dict[tuple[str, ...], list[Path]] = field(default_factory=dict)
    digest_memo: dict[Path, bytes] = field(default_factory=dict)
    #: git's answers, asked once until a command runs (dlpath.gitstate; the
    #: evaluation shares it with its other parts)
    gitstate: GitState = None  # type: ignore[assignment]
    #: files parsed during this evaluation (see checks.dvc._stages)
    parse_memo: dict[Any, Any] = field(default_factory=dict)
    #: DVC's answers (see checks.dvc), and whether they came from the last check
    dvc_facts: dict[str, Any] | None = None
    dvc_reused: bool = False
    #: the probe's measurement for this evaluation (one run, one seed; see checks.probe)
    probe: Any = None
    #: the project's template rendered with its answers (dlpath.reference), if any
    reference: Path | None = None
    #: grader mode: a clean checkout, nothing cached, nothing taken on trust
    grade: bool = False
    _stack: ExitStack = field(default_factory=ExitStack)
    _dvc: Any = None

    def __post_init__(self) -> None:
        if self.gitstate is None:
            self.gitstate = GitState(self.root)

    # ------------------------------------------------------------- git
    @property
    def has_git(self) -> bool:
        return self.gitstate.available

    def git_tracked(self, rel: str) -> list[str]:
        """Files git tracks at ``rel`` or under it (one listing per evaluation)."""
        rel = rel.strip("/")
        return [p for p in self.gitstate.tracked() if p == rel or p.startswith(rel + "/")]

    # ------------------------------------------------------------- dvc
    @property
    def has_dvc(self) -> bool:
        return (self.root / ".dvc").is_dir()

    def ask_dvc(self) -> dict[str, Any]:
        """DVC's answers (``vcs.dvc_facts``), asked once per evaluation.

        DVC's lock is held only while DVC is asked, never while tests or
        commands run: the learner's own ``dvc status`` and a rubric command
        that calls ``dvc`` work meanwhile. A lock held by another DVC command
        is waited for (up to :data:`DVC_LOCK_WAIT` seconds), then reported as
        a busy-lock error, which is not a learner's failed attempt. Where DVC
        cannot be asked, every DVC check reports the same error without trying
        again.
        """
        if isinstance(self._dvc, Exception):
            raise self._dvc
        if self._dvc is None:
            from dlpath import vcs

            try:
                self._dvc = vcs.ask_dvc(self.root, wait=DVC_LOCK_WAIT)
            except Exception as exc:
                self._dvc = exc
                raise
        return self._dvc

    def close(self) -> None:
        self._dvc = None
        self._stack.close()

    def path(self, rel: str) -> Path:
        return self.root / rel

    @cached_property
    def template_dir(self) -> Path | None:
        """The packaged folder of the project's template (package tests, probes)."""
        if self.meta is None:
            return None
        from dlpath import templates

        return templates.get(self.meta.template).path

    def forget_files(self) -> None:
        self.input_memo.clear()
        self.digest_memo.clear()
        self.gitstate.forget()
        self.parse_memo.clear()

    def inside(self, rel: str) -> Path | None:
        """``rel`` under the root, or None where a symlink leads out of the project."""
        target = self.root / rel
        return target if is_within(target, self.root) else None


def no_git(ctx: Context) -> Outcome | None:
    if not ctx.has_git:
        return Outcome(FAIL, "This project is not a git repository (run: git init).")
    return None


def no_dvc(ctx: Context) -> Outcome | None:
    if not ctx.has_dvc:
        return Outcome(FAIL, "DVC is not initialised here (run: dvc init).")
    return None


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
