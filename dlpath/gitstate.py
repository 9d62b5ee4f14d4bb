"""What one evaluation asks git, each question asked once.

``dlpath check`` needs a handful of facts from git: the history (how many
commits, the first one, the one checked out), the files git sees, whether
the work tree is clean, DVC's experiment refs, a few committed files
(``params.yaml`` and ``.dlpath/project.json``) and whether git knows who
commits. Each module used to ask git its own questions (one subprocess
each, fifteen on a plain ``check --no-commands``); a :class:`GitState` asks
them in batches, once per evaluation, for every caller:

* ``git rev-list --parents HEAD``: the commit checked out, the number of
  commits and the first one;
* ``git ls-files -t -z -co --exclude-standard``: the files git tracks and the
  untracked ones it does not ignore, in one listing;
* ``git status --porcelain --untracked-files=all``: what is uncommitted;
* ``git for-each-ref refs/exps``: DVC's experiments;
* ``git cat-file --batch``: every committed file the checks read, in one go;
* ``git var GIT_AUTHOR_IDENT`` / ``GIT_COMMITTER_IDENT``: only where a hint
  asks for a commit.

A failed question raises the :class:`~dlpath.errors.DlpathError` that
:func:`dlpath.vcs.git_output` raised before (git's first line of stderr),
every time it is asked. :meth:`GitState.forget` drops every answer: a command
a check ran may have changed the files, or committed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dlpath.errors import DlpathError

#: the committed files an evaluation reads (see :meth:`GitState.blob`)
META_FILE = ".dlpath/project.json"
PARAMS_FILE = "params.yaml"
_MISSING = object()


class GitState:
    """The git facts of the repository at ``root``, asked lazily and kept
    until :meth:`forget`."""

    def __init__(self, root: Path):
        self.root = root
        self._answers: dict[str, Any] = {}

    # ------------------------------------------------------------ plumbing
    def forget(self) -> None:
        """Drop every answer: the files or the history may have changed."""
        self._answers.clear()

    def _ask(self, name: str, compute) -> Any:
        """The answer called ``name``, computed once (a failure is kept too,
        and raised again on every ask)."""
        if name not in self._answers:
            try:
                self._answers[name] = (True, compute())
            except DlpathError as exc:
                self._answers[name] = (False, exc)
        ok, value = self._answers[name]
        if not ok:
            raise value
        return value

    def _git(self, *args: str) -> str:
        from dlpath import vcs

        return vcs.git_output(self.root, *args)

    def _cat_file(self, names: list[str]) -> dict[str, str | None]:
        from dlpath import vcs

        out = vcs.git_bytes(self.root, "cat-file", "--batch",
                            stdin="".join(f"{n}\n" for n in names).encode())
        return _parse_batch(out, names)

    @property
    def available(self) -> bool:
        """``root`` is the top of a git work tree, and git is installed."""
        from dlpath import vcs

        return self._ask("available", lambda: vcs.is_git_root(self.root)
                         and vcs.git_available())

    # ------------------------------------------------------------- history
    def _history(self) -> list[list[str]]:
        """``git rev-list --parents HEAD``: each commit with its parents,
        newest first (raises where there is no commit yet)."""
        return self._ask("history", lambda: [line.split() for line in
                                             self._git("rev-list", "--parents", "HEAD")
                                             .splitlines() if line.strip()])

    def head(self) -> str | None:
        """The commit checked out (None: no commit yet, or no repository)."""
        try:
            history = self._history()
        except DlpathError:
            return None
        return history[0][0] if history else None

    def commit_count(self) -> int:
        """How many commits HEAD has (``git rev-list --count HEAD``)."""
        return len(self._history())

    def first_commit(self) -> str:
        """The first commit (``git rev-list --max-parents=0 HEAD``'s first line);
        IndexError where there is none."""
        return [c[0] for c in self._history() if len(c) == 1][0]

    # --------------------------------------------------------------- files
    def _listing(self) -> list[tuple[str, str]]:
        """(tag, path) of every file git tracks (tag ``H``, ``S``, ``M``...)
        and every untracked one it does not ignore (tag ``?``)."""
        def listing() -> list[tuple[str, str]]:
            out = self._git("ls-files", "-t", "-z", "-co", "--exclude-standard")
            return [(entry[0], entry[2:]) for entry in out.split("\0") if len(entry) > 2]

        return self._ask("listing", listing)

    def tracked(self) -> list[str]:
        """What ``git ls-files`` lists: every path git tracks."""
        return [path for tag, path in self._listing() if tag != "?"]

    def listed(self) -> list[str]:
        """What ``git ls-files -co --exclude-standard`` lists: the tracked
        files and the untracked ones git does not ignore."""
        return [path for _, path in self._listing()]

    def status(self) -> list[str]:
        """``git status --porcelain --untracked-files=all``, one line a change."""
        return self._ask("status", lambda: self._git(
            "status", "--porcelain", "--untracked-files=all").splitlines())

    def tags(self) -> list[str]:
        """``git tag --list``."""
        return self._ask("tags", lambda: self._git("tag", "--list").split())

    def experiments(self) -> list[tuple[str, str]]:
        """(commit, ref) of every ref under ``refs/exps`` (DVC's experiments)."""
        def refs() -> list[tuple[str, str]]:
            out = self._git("for-each-ref", "--format=%(objectname) %(refname)", "refs/exps")
            return [tuple(line.split(" ", 1)) for line in out.splitlines()]  # type: ignore[misc]

        return self._ask("experiments", refs)

    # ---------------------------------------------------- committed files
    def _wanted(self) -> list[str]:
        """Every ``REV:PATH`` an evaluation reads: the first commit's metadata
        and params, HEAD's params, and each experiment's params."""
        wanted = []
        try:
            first = self.first_commit()
            wanted += [f"{first}:{META_FILE}", f"{first}:{PARAMS_FILE}"]
        except (DlpathError, IndexError):
            pass
        if self.head() is not None:
            wanted.append(f"HEAD:{PARAMS_FILE}")
        try:
            wanted += [f"{sha}:{PARAMS_FILE}" for sha, _ in self.experiments()]
        except DlpathError:
            pass
        return list(dict.fromkeys(wanted))

    def _blobs(self) -> dict[str, str | None]:
        def batch() -> dict[str, str | None]:
            wanted = self._wanted()
            return self._cat_file(wanted) if wanted else {}

        return self._ask("blobs", batch)

    def blob(self, rev: str, path: str) -> str:
        """The text of ``path`` as commit ``rev`` holds it (``rev`` is ``HEAD``,
        the first commit or an experiment's commit, ``path`` one of the
        files an evaluation reads); DlpathError where that commit has no such
        file, as ``git show REV:PATH`` fails."""
        name = f"{rev}:{path}"
        blobs = self._blobs()
        if name not in blobs:  # not one an evaluation reads: ask for it alone
            blobs[name] = self._cat_file([name])[name]
        text = blobs[name]
        if text is None:
            raise DlpathError(f"git show: path '{path}' does not exist in '{rev}'")
        return text

    # ------------------------------------------------------------ identity
    def has_identity(self) -> bool:
        """Whether git here knows who commits (see :func:`dlpath.vcs.has_identity`)."""
        from dlpath import vcs

        return self._ask("identity", lambda: vcs.has_identity(self.root))


def _parse_batch(out: bytes, wanted: list[str]) -> dict[str, str | None]:
    """``git cat-file --batch``'s answers, in the order asked: each blob's
    text (decoded as ``git show`` output is: UTF-8, errors replaced,
    universal newlines), or None where it is missing or not a file."""
    found: dict[str, str | None] = {}
    at = 0
    for name in wanted:
        end = out.index(b"\n", at)
        header = out[at:end].split()
        at = end + 1
        if len(header) == 3 and header[1] in (b"blob", b"tree", b"commit", b"tag"):
            size = int(header[2])
            body = out[at:at + size]
            at += size + 1  # the content, then a newline
            if header[1] == b"blob":
                from dlpath.vcs import decode_output

                found[name] = decode_output(body)
                continue
        found[name] = None  # "<name> missing", "ambiguous", a folder...
    return found
