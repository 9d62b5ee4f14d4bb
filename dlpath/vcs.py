"""Every git and DVC call dlpath makes goes through this module.

git is driven with plain ``git`` subprocesses (GitPython's import alone costs
more than the few calls dlpath makes) and DVC with its Python API: one DVC
command-line call costs about 0.4 s of start-up, the API does the same work in
tens of milliseconds once imported. ``dvc init`` is the exception: its three
files are written here (see :func:`dvc_init`). Imports happen inside the
functions so that ``dlpath --help`` stays fast.
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


@dataclass(frozen=True)
class CommitResult:
    sha: str
    used_fallback_identity: bool


def has_identity(path: Path) -> bool:
    """Whether git in ``path`` knows who commits: user.name and user.email
    set (in any config git reads, includes too) or given by the environment
    (GIT_AUTHOR_NAME, EMAIL...). Git's own guess from the host name does not
    count: it is often refused, and never the learner's name."""
    try:
        for ident in ("GIT_AUTHOR_IDENT", "GIT_COMMITTER_IDENT"):
            git_output(path, "-c", "user.useConfigOnly=true", "var", ident)
    except DlpathError:
        return False
    return True


#: what to run before a commit where git knows no identity (see identity_step)
IDENTITY_STEP = ('git does not know who you are yet, so it refuses to commit: first run '
                 '`git config --global user.name "Your Name"` and '
                 '`git config --global user.email "you@example.com"`.')


def identity_step(path: Path) -> str | None:
    """:data:`IDENTITY_STEP` where git in ``path`` has no identity (a commit
    hint would fail there), else None."""
    return None if has_identity(path) else IDENTITY_STEP


def commit_hint(path: Path, hint: str) -> str:
    """``hint`` (which asks for a commit), preceded by the identity step where
    git in ``path`` would refuse that commit."""
    try:
        step = identity_step(path)
    except Exception:  # never let the advice hide the error it comes with
        step = None
    return f"{step} Then: {hint}" if step else hint


def init_repo(path: Path) -> None:
    # Plain git: GitPython's import alone costs more than the call.
    git_output(path, "init", "-q", "--initial-branch=main")


def commit_all(path: Path, message: str) -> CommitResult:
    """Stage every file (honouring .gitignore) and commit.

    Where git knows no user.name/user.email, the commit is made with a
    fallback identity for this commit only (``git -c``); nothing is written
    to git config, so the learner's own identity applies as soon as they set it.
    """
    git_output(path, "add", "-A")
    fallback = not has_identity(path)
    ident = ("-c", f"user.name={FALLBACK_NAME}", "-c", f"user.email={FALLBACK_EMAIL}",
             "-c", "user.useConfigOnly=false") if fallback else ()
    git_output(path, *ident, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", message)
    sha = git_output(path, "rev-parse", "HEAD").strip()
    return CommitResult(sha=sha, used_fallback_identity=fallback)


#: What ``dvc init`` writes beside the config (DVC 3): .dvc/.gitignore and
#: .dvcignore. tests/test_new_vcs.py pins both, and the config, to what the
#: installed DVC writes itself.
DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"
DVCIGNORE = ("# Add patterns of files dvc should ignore, which could improve\n"
             "# the performance. Learn more at\n"
             "# https://dvc.org/doc/user-guide/dvcignore\n")


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


def dvc_init(path: Path, remote_url: Path | None) -> None:
    """``dvc init`` in the git repository ``path``, with analytics and update
    checks off and ``remote_url`` as the default remote.

    The files are written here rather than through DVC's API: importing
    ``dvc.repo`` and ``Repo.init`` cost ~0.5 s of ``dlpath new`` (more than
    rendering the template) for three small files. They are byte for byte
    what the installed DVC writes (tests/test_new_vcs.py compares them with DVC's
    own ``Repo.init`` and config edit), and DVC's commands accept the result.
    The config is written as UTF-8 (DVC's own edit fails on a non-ASCII remote
    path, e.g. a home folder named in another script).
    """
    from configobj import ConfigObj

    dvc_dir = path / ".dvc"
    if dvc_dir.exists():
        raise DlpathError(f"'{dvc_dir}' exists already.")
    dvc_dir.mkdir()
    # DVC makes tmp/ whenever it opens the repository; a lock taken before
    # that (dvc.lock.make_lock, another tool) expects it.
    (dvc_dir / "tmp").mkdir()
    # as `dvc init` leaves it: the repository's "birth time" DVC keys its site
    # cache on (else the first DVC command in the project writes it)
    (dvc_dir / "tmp" / "btime").touch()
    (dvc_dir / ".gitignore").write_text(DVC_GITIGNORE, encoding="utf-8")
    conf: dict[str, dict[str, str]] = {"core": {"analytics": "false", "check_update": "false"}}
    if remote_url is not None:
        conf["core"]["remote"] = "local"
        conf['remote "local"'] = {"url": str(remote_url)}
    with open(dvc_dir / "config", "wb") as fobj:
        ConfigObj(conf, encoding="utf-8").write(fobj)
    dvcignore = path / ".dvcignore"
    if not dvcignore.exists():
        dvcignore.write_text(DVCIGNORE, encoding="utf-8")


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
    handful of read-only queries ``dlpath check`` makes (see dlpath.gitstate
    for how one evaluation batches them). Raises DlpathError when git fails
    (the message is git's first line of stderr).
    """
    return decode_output(git_bytes(path, *args))


def decode_output(data: bytes) -> str:
    """Bytes as a text-mode pipe reads them: UTF-8, errors replaced,
    universal newlines."""
    return data.decode("utf-8", "replace").replace("\r\n", "\n").replace("\r", "\n")


def git_bytes(path: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run ``git ARGS`` in ``path`` (``stdin`` fed to it) and return its
    stdout as bytes; DlpathError as :func:`git_output`."""
    import subprocess

    if not git_available():
        raise DlpathError("git is not installed or not on PATH.",
                          hint="Install git (https://git-scm.com/downloads).")
    feed = {"input": stdin} if stdin is not None else {"stdin": subprocess.DEVNULL}
    proc = subprocess.run(["git", *GIT_SAFE_CONFIG, *args], cwd=path, capture_output=True,
                          **feed)
    if proc.returncode != 0:
        first = (decode_output(proc.stderr).strip().splitlines()
                 or [f"exit status {proc.returncode}"])[0]
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
