"""Every git and DVC call dlpath makes goes through this module.

git is driven with GitPython and DVC with its Python API: one DVC command-line
call costs about 0.4 s of start-up, the API does the same work in tens of
milliseconds once imported. Imports happen inside the functions so that
``dlpath --help`` stays fast.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from dlpath.errors import DlpathError

#: Used for the first commit only, when git has no identity configured.
FALLBACK_NAME = "dlpath"
FALLBACK_EMAIL = "dlpath@localhost"

# Keep DVC off the network in every repository dlpath opens: no analytics
# report and no update check, whatever the project's config says.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")


def git_available() -> bool:
    return shutil.which("git") is not None


def _git():
    if not git_available():
        raise DlpathError(
            "git is not installed or not on PATH.",
            hint="Install git (https://git-scm.com/downloads), or pass --no-git.",
        )
    os.environ.setdefault("GIT_PYTHON_REFRESH", "quiet")
    import git

    return git


@dataclass(frozen=True)
class CommitResult:
    sha: str
    used_fallback_identity: bool


def has_identity(repo) -> bool:
    # Ask git itself rather than GitPython's config reader: git also honours
    # GIT_CONFIG_GLOBAL, XDG config files and includes.
    git = _git()
    try:
        return bool(repo.git.config("--get", "user.name")) and bool(
            repo.git.config("--get", "user.email")
        )
    except git.exc.GitCommandError:
        return False


def init_repo(path: Path):
    git = _git()
    return git.Repo.init(path, initial_branch="main")


def commit_all(path: Path, message: str) -> CommitResult:
    """Stage every file (honouring .gitignore) and commit.

    Where git knows no user.name/user.email, the commit is made with a
    fallback identity for this commit only; nothing is written to git config,
    so the learner's own identity applies as soon as they set it.
    """
    git = _git()
    repo = git.Repo(path)
    repo.git.add(A=True)
    fallback = not has_identity(repo)
    if fallback:
        actor = git.Actor(FALLBACK_NAME, FALLBACK_EMAIL)
        commit = repo.index.commit(message, author=actor, committer=actor)
    else:
        repo.git.commit("-m", message, "--no-verify", "--no-gpg-sign")
        commit = repo.head.commit
    return CommitResult(sha=commit.hexsha, used_fallback_identity=fallback)


def _quiet_dvc() -> None:
    # DVC's API prints its command-line messages ("Initialized DVC repository",
    # "To track the changes with git, run: ...") to stdout; dlpath reports its
    # own steps, and stdout is for data (--json).
    # Its logger writes to the stream that was stdout when DVC was imported
    # (which may be gone: a test runner's capture); dlpath turns DVC's errors
    # into its own messages, so DVC's log stays silent unless debugging.
    import logging

    from dvc.ui import ui

    ui._enabled = False
    if not os.environ.get("DLPATH_DEBUG"):
        logging.getLogger("dvc").setLevel(logging.CRITICAL + 1)


@contextmanager
def in_dir(path: Path) -> Iterator[None]:
    # DVC's API resolves relative paths from the current directory, not from
    # the repository root: run every call from the root.
    old = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(old)


def dvc_init(path: Path, remote_url: Path | None, *, no_scm: bool = False) -> None:
    """``dvc init`` with analytics and update checks off and a default remote."""
    from dvc.repo import Repo

    _quiet_dvc()
    with in_dir(path):
        repo = Repo.init(str(path), no_scm=no_scm)
        try:
            with repo.config.edit("repo") as conf:
                conf["core"]["analytics"] = False
                conf["core"]["check_update"] = False
                if remote_url is not None:
                    conf["core"]["remote"] = "local"
                    conf["remote"]["local"] = {"url": str(remote_url)}
        finally:
            repo.close()


class DvcBusy(DlpathError):
    """DVC's lock is held by another DVC command (a ``dvc repro``, the
    learner's ``dvc status``): a passing condition, not a learner's mistake."""


@contextmanager
def dvc_session(path: Path) -> Iterator:
    """One open DVC repository for a batch of queries, run from ``path``.

    DVC's lock is held for the whole batch: each locked API call (status,
    status --cloud) otherwise drops the repository's index on entry and exit and
    builds it again (~0.15 s each time). Holding the lock also keeps a
    concurrent ``dvc repro`` from changing files halfway through the batch.
    Keep the batch short: while it is open, the learner's own ``dvc`` commands
    wait or fail with "Unable to acquire lock".
    """
    from dvc.lock import LockError
    from dvc.repo import Repo, lock_repo

    _quiet_dvc()
    with in_dir(path):
        try:
            repo = Repo(str(path))
        except LockError:
            raise DvcBusy("Another DVC command is running in this project.",
                          hint="Wait for it to finish, then run the check again.") from None
        try:
            with lock_repo(repo):
                yield repo
        except LockError:
            raise DvcBusy(
                "Another DVC command is running in this project.",
                hint="Wait for it to finish, then run the check again.",
            ) from None
        finally:
            repo.close()


def ask_dvc(path: Path, wait: float = 20.0) -> dict:
    """:func:`dvc_facts` in a session of its own, DVC's lock held only meanwhile.

    A lock held by another DVC command is retried for up to ``wait`` seconds
    (DVC itself gives up after a few); then :class:`DvcBusy` is raised.
    """
    import time

    deadline = time.monotonic() + wait
    delay = 0.1
    while True:
        try:
            with dvc_session(path) as repo:
                return dvc_facts(repo, path)
        except DvcBusy:
            if time.monotonic() + delay > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


#: Every git call dlpath makes runs no command the repository's configuration
#: names: no fsmonitor hook (``git status`` runs it), no hooks.
GIT_SAFE_CONFIG = ("-c", "core.fsmonitor=false", "-c", f"core.hooksPath={os.devnull}")


def git_output(path: Path, *args: str) -> str:
    """Run ``git ARGS`` in ``path`` and return its stdout.

    A plain subprocess: GitPython's import alone costs ~70 ms, more than the
    handful of read-only queries ``dlpath check`` makes. Raises DlpathError
    when git fails (the message is git's first line of stderr).
    """
    import subprocess

    if not git_available():
        raise DlpathError("git is not installed or not on PATH.",
                          hint="Install git (https://git-scm.com/downloads).")
    proc = subprocess.run(["git", *GIT_SAFE_CONFIG, *args], cwd=path, capture_output=True,
                          text=True, stdin=subprocess.DEVNULL, encoding="utf-8",
                          errors="replace")
    if proc.returncode != 0:
        first = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[0]
        raise DlpathError(f"git {args[0]}: {first}")
    return proc.stdout


def is_git_root(path: Path) -> bool:
    """True when ``path`` itself (not a parent) is the top of a git work tree."""
    return (path / ".git").exists()


def dvc_facts(repo, root: Path) -> dict:
    """Everything ``dlpath check`` asks DVC, in one plain dict (JSON-ready, so
    the answers can be kept in the project's state and reused):

    ``outs``: each output (path relative to ``root``, cached by DVC, hashed yet);
    ``status``: ``dvc status`` (or ``{"error": ...}``); ``cloud``: ``dvc status
    --cloud`` as ``{"status": ...}``, ``{"no_remote": True}`` or ``{"error": ...}``;
    ``paths``: every file DVC read to answer (dvc files, deps, outs), or None
    where one lies outside the local file system; ``remote``: the default
    remote's folder where it is local, else None; ``cache``: the DVC cache folder.
    """
    from dvc.config import NoRemoteError

    def rel(fs_path: str) -> str:
        return Path(os.path.relpath(fs_path, root)).as_posix()

    outs, paths, local = [], set(), True
    for stage in repo.index.stages:
        paths.add(rel(stage.dvcfile.path))
        lock = getattr(stage.dvcfile, "_lockfile", None)
        if lock is not None:
            paths.add(rel(lock.path))
        for dep in stage.deps:
            if dep.protocol != "local" or getattr(dep, "def_repo", None):
                local = False
            else:
                paths.add(rel(dep.fs_path))
        for out in stage.outs:
            if out.protocol != "local":
                local = False
                continue
            paths.add(rel(out.fs_path))
            outs.append({"path": rel(out.fs_path), "use_cache": bool(out.use_cache),
                         "hashed": bool(out.hash_info)})
    # Files that dvc.yaml interpolates (`vars:`) shape its stages too.
    for dvcfile in {p for p in paths if p.endswith(("dvc.yaml", "dvc.yml"))}:
        paths.update(_vars_files(root / dvcfile, root))
    facts: dict = {"outs": outs, "paths": sorted(paths) if local else None}
    try:
        facts["status"] = repo.status()
    except Exception as exc:  # a broken dvc.yaml, say: the check reports it
        facts["status"] = {"error": str(exc).strip().splitlines()[0] if str(exc).strip()
                           else type(exc).__name__}
    try:
        facts["cloud"] = {"status": repo.status(cloud=True)}
    except NoRemoteError:
        facts["cloud"] = {"no_remote": True}
    except Exception as exc:  # an unreachable remote
        facts["cloud"] = {"error": str(exc).strip().splitlines()[0] if str(exc).strip()
                          else type(exc).__name__}
    remote = None
    name = repo.config["core"].get("remote")
    url = repo.config["remote"].get(name, {}).get("url") if name else None
    if url and "://" not in url:
        remote = os.path.normpath(os.path.join(root, ".dvc", url))  # relative to .dvc/
    facts["remote"] = remote
    facts["cache"] = repo.cache.local.path
    return facts


def _vars_files(dvc_yaml: Path, root: Path) -> set[str]:
    """Files named in a dvc.yaml's top-level and per-stage ``vars`` lists."""
    import yaml

    try:
        data = yaml.load(dvc_yaml.read_text(encoding="utf-8"),
                         Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
    except (OSError, yaml.YAMLError):
        return set()
    if not isinstance(data, dict):
        return set()
    lists = [data.get("vars")] + [s.get("vars") for s in (data.get("stages") or {}).values()
                                  if isinstance(s, dict)]
    found = {"params.yaml"}
    for entries in lists:
        for entry in entries if isinstance(entries, list) else []:
            if isinstance(entry, str):
                path = dvc_yaml.parent / entry.split(":", 1)[0]
                found.add(Path(os.path.relpath(path, root)).as_posix())
    return found
