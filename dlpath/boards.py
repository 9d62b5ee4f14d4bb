"""Leaderboards across learners: ``dlpath leaderboard submit --board LOCATION``
and ``dlpath leaderboard --board LOCATION`` (docs/leaderboard.md).

A board holds credential-backed entries: each entry *is* a signed credential
(dlpath.credentials) for the template's leaderboard milestone, whose evidence
carries the metrics. Ranking verifies every entry first and rejects, with the
reason, whatever does not verify or belongs to another template. No server:
a board is

* a directory (the default: a shared folder, a mounted drive),
* a git repository (``git+URL``, or any location ending in ``.git``): cloned
  into a temporary folder, an entry committed and pushed (rebased and retried
  when someone pushed first),
* a DVC remote (``dvc://NAME``: a remote of the project's DVC config, its
  credentials included; or a URL DVC knows, ``s3://``, ``gs://``, ``azure://``,
  ``ssh://``, ...), through DVC's own filesystems.

Layout: ``board.json`` (which template the board ranks) and
``entries/<learner key>/<commit>-<id>.json``. Entries are only ever added,
under names no two learners share, so concurrent submissions never collide.
Nothing here prints.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dlpath.errors import DlpathError, ExitCode, UsageError

HEADER = "board.json"
ENTRIES = "entries"
FORMAT_VERSION = 1
#: an entry larger than this is not a credential dlpath wrote
MAX_ENTRY = 2_000_000
PUSH_TRIES = 4


class BoardError(DlpathError):
    """A board that cannot be read or written (exit 2)."""

    exit_code = ExitCode.USAGE


@dataclass
class Contents:
    header: dict[str, Any] | None
    #: (entry name relative to the board, its bytes)
    entries: list[tuple[str, bytes]] = field(default_factory=list)


# ----------------------------------------------------------------- transports


class DirBoard:
    kind = "directory"

    def __init__(self, path: Path, label: str | None = None):
        self.path = path
        self.label = label or str(path)

    def read(self, missing_ok: bool = False) -> Contents:
        if not self.path.exists() and missing_ok:
            return Contents(None)
        if not self.path.is_dir():
            raise BoardError(f"Cannot read the board {self.label}: not a directory.",
                             hint="Name an existing board folder, a git+URL or a dvc://REMOTE.")
        header = None
        try:
            head = self.path / HEADER
            if head.is_file():
                header = _header(head.read_bytes(), self.label)
            entries = []
            folder = self.path / ENTRIES
            for file in sorted(folder.rglob("*.json")) if folder.is_dir() else []:
                if file.is_symlink() or not file.is_file():
                    continue
                rel = file.relative_to(self.path).as_posix()
                data = file.read_bytes() if file.stat().st_size <= MAX_ENTRY else b""
                entries.append((rel, data))
        except PermissionError as exc:
            raise BoardError(f"Cannot read the board {self.label}: {exc.strerror} "
                             f"({exc.filename}).") from None
        return Contents(header, entries)

    def write(self, header: dict[str, Any] | None, name: str, data: bytes) -> None:
        try:
            if not self.path.exists():
                self.path.mkdir()  # the parent must exist: a typo never makes a tree
            if header is not None and not (self.path / HEADER).exists():
                _exclusive(self.path / HEADER, _dump(header))
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            _exclusive(target, data)
        except FileNotFoundError:
            raise BoardError(f"Cannot create the board {self.label}: its parent folder does "
                             "not exist.") from None
        except OSError as exc:
            raise BoardError(f"Cannot write to the board {self.label}: "
                             f"{exc.strerror or exc}.") from None


def _exclusive(path: Path, data: bytes) -> None:
    """Write a new file, never over one (the name is unique per entry)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    try:
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _header(data: bytes, label: str) -> dict[str, Any]:
    try:
        header = json.loads(data)
    except ValueError:
        header = None
    if not isinstance(header, dict) or not isinstance(header.get("template"), str):
        raise BoardError(f"The board {label} has a damaged {HEADER} (it must name a template).")
    return header


class GitBoard:
    kind = "git"

    def __init__(self, url: str):
        self.url = url
        self.label = url

    def _git(self, cwd: Path, *args: str) -> subprocess.CompletedProcess:
        from dlpath.vcs import GIT_SAFE_CONFIG

        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true",
               "SSH_ASKPASS": "true"}
        return subprocess.run(["git", *GIT_SAFE_CONFIG, *args], cwd=cwd, capture_output=True,
                              text=True, env=env, stdin=subprocess.DEVNULL)

    @contextmanager
    def _clone(self) -> Iterator[Path]:
        scratch = Path(tempfile.mkdtemp(prefix="dlpath-board-"))
        try:
            done = self._git(scratch, "clone", "--quiet", "--depth", "1", self.url, "board")
            if done.returncode != 0:
                first = (done.stderr.strip().splitlines() or ["git clone failed"])[-1]
                raise BoardError(f"Cannot read the board {self.label}: {first}",
                                 hint="Check the URL and that you can clone it: git clone URL")
            yield scratch / "board"
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def read(self, missing_ok: bool = False) -> Contents:
        with self._clone() as path:
            return DirBoard(path, self.label).read()

    def write(self, header: dict[str, Any] | None, name: str, data: bytes) -> None:
        with self._clone() as path:
            DirBoard(path, self.label).write(header, name, data)
            self._git(path, "add", "--", HEADER if (path / HEADER).exists() else name, name)
            ident = []
            if self._git(path, "config", "--get", "user.email").returncode != 0:
                ident = ["-c", "user.name=dlpath", "-c", "user.email=dlpath@localhost"]
            done = self._git(path, *ident, "commit", "--quiet", "--no-verify", "--no-gpg-sign",
                             "-m", f"dlpath leaderboard entry {name}")
            if done.returncode != 0:
                raise BoardError(f"Cannot commit the entry to {self.label}: "
                                 f"{(done.stderr or done.stdout).strip().splitlines()[-1:]}")
            branch = self._git(path, "symbolic-ref", "--short", "HEAD").stdout.strip() or "main"
            for _ in range(PUSH_TRIES):
                pushed = self._git(path, "push", "--quiet", "origin", f"HEAD:{branch}")
                if pushed.returncode == 0:
                    return
                # someone pushed first: entries never collide, so a rebase always applies
                self._git(path, "fetch", "--quiet", "--depth", "50", "origin", branch)
                self._git(path, *ident, "rebase", "--quiet", f"origin/{branch}")
            first = (pushed.stderr.strip().splitlines() or ["git push failed"])[-1]
            raise BoardError(f"Cannot push the entry to {self.label}: {first}",
                             hint="Check that you may push to it: git push")


class DvcBoard:
    kind = "dvc"

    def __init__(self, fs, path: str, label: str):
        self.fs, self.path, self.label = fs, path.rstrip("/"), label

    def _join(self, *parts: str) -> str:
        return "/".join([self.path, *parts])

    def read(self, missing_ok: bool = False) -> Contents:
        try:
            if not self.fs.exists(self.path):
                if missing_ok:
                    return Contents(None)
                raise BoardError(f"Cannot read the board {self.label}: it does not exist.")
            head = self._join(HEADER)
            header = _header(self.fs.cat_file(head), self.label) if self.fs.exists(head) \
                else None
            entries = []
            root = self._join(ENTRIES)
            files = sorted(self.fs.find(root)) if self.fs.exists(root) else []
            for file in files:
                if str(file).endswith(".json"):
                    rel = str(file)[len(self.path) + 1:]
                    entries.append((rel, self.fs.cat_file(file)))
        except BoardError:
            raise
        except Exception as exc:  # the remote's own error: auth, network, permissions
            raise BoardError(f"Cannot read the board {self.label}: {_first(exc)}") from None
        return Contents(header, entries)

    def write(self, header: dict[str, Any] | None, name: str, data: bytes) -> None:
        try:
            head = self._join(HEADER)
            if header is not None and not self.fs.exists(head):
                self.fs.makedirs(self.path, exist_ok=True)
                self.fs.pipe_file(head, _dump(header))
            target = self._join(name)
            self.fs.makedirs(target.rsplit("/", 1)[0], exist_ok=True)
            self.fs.pipe_file(target, data)
        except Exception as exc:
            raise BoardError(f"Cannot write to the board {self.label}: {_first(exc)}") from None


def _first(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.I)


def open_board(location: str, project_root: Path | None = None):
    """The board at ``location`` (see the module docstring)."""
    location = location.strip()
    if not location:
        raise UsageError("--board needs a location: a folder, a git+URL or dvc://REMOTE.")
    if location.startswith("git+"):
        return GitBoard(location[4:])
    if location.rstrip("/").endswith(".git"):
        return GitBoard(location)
    scheme = _SCHEME.match(location)
    if location.startswith("dvc://"):
        return _dvc_remote(location[len("dvc://"):], project_root)
    if scheme and scheme.group(1).lower() != "file":
        return _dvc_url(location)
    path = Path(location[len("file://"):] if scheme else location).expanduser()
    return DirBoard(path.resolve(), location)


def _dvc_url(url: str) -> DvcBoard:
    from dvc.fs import get_cloud_fs

    try:
        cls, config, path = get_cloud_fs({}, url=url)
        return DvcBoard(cls(**config), path, url)
    except Exception as exc:  # a missing plugin (dvc-s3), a malformed URL
        raise BoardError(f"DVC cannot open {url}: {_first(exc)}",
                         hint="Install the DVC plugin for it, e.g. pip install dvc-s3") from None


def _dvc_remote(name: str, root: Path | None) -> DvcBoard:
    from dvc.fs import get_cloud_fs

    from dlpath import vcs

    if root is None or not (root / ".dvc").is_dir():
        raise UsageError(f"dvc://{name} names a remote of a DVC project: run it in your "
                         "project (or pass its path).")
    vcs._quiet_dvc()
    from dvc.repo import Repo

    try:
        with vcs.in_dir(root):
            repo = Repo(str(root))
            try:
                config = repo.config
                if name not in config["remote"]:
                    known = ", ".join(sorted(config["remote"])) or "none"
                    raise BoardError(f"No DVC remote named '{name}' in {root} (remotes: "
                                     f"{known}).", hint=f"dvc remote add {name} URL")
                cls, conf, path = get_cloud_fs(config, name=name)
            finally:
                repo.close()
        return DvcBoard(cls(**conf), path, f"dvc://{name}")
    except BoardError:
        raise
    except Exception as exc:
        raise BoardError(f"DVC cannot open the remote '{name}': {_first(exc)}") from None


# ----------------------------------------------------------------- submit and rank


@dataclass
class Submitted:
    board: str
    entry: str
    template: str
    metric: float
    commit: str
    created_board: bool
    warnings: list[str]


def submit(where: Path, location: str, *, name: str | None = None) -> Submitted:
    """Check the template's leaderboard milestone on the committed project,
    sign a credential for it, and add it to the board."""
    from dlpath import achievements, credentials, keys, project
    from dlpath.leaderboard import spec_for

    where = where.resolve()
    root = project.find_root(where) if where.is_dir() else None
    meta = project.load_meta(root) if root else None
    if root is None or meta is None:
        raise UsageError(f"'{where}' is not inside a project made by 'dlpath new'.",
                         hint="Run it in your project: dlpath leaderboard submit --board "
                              "LOCATION")
    _, spec = spec_for(meta.template)
    board = open_board(location, root)
    contents = board.read(missing_ok=True)
    if contents.header is not None and contents.header.get("template") != meta.template:
        raise UsageError(f"The board {board.label} ranks '{contents.header['template']}' "
                         f"projects; this is a '{meta.template}' project. Nothing was written.",
                         hint="Submit to a board for your template.")
    issued = credentials.issue(root, spec.milestone, name=name, write=False)
    ev = credentials.evidence_of(issued.credential) or {}
    value = (ev.get("metrics") or {}).get(spec.metric.file, {}).get(spec.metric.key)
    if value is None:
        raise DlpathError(f"{spec.metric.file} has no {spec.metric.key} at commit "
                          f"{issued.commit[:8]}: nothing to rank. Nothing was written.",
                          hint="Run dvc repro and commit its metrics.")
    header = None
    if contents.header is None:
        from datetime import datetime, timezone

        header = {"format_version": FORMAT_VERSION, "template": meta.template,
                  "milestone": spec.milestone, "metric": spec.metric.key,
                  "direction": spec.metric.direction,
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    learner = keys.did_key(keys.public_bytes(keys.signing_key()))[len("did:key:"):][:24]
    entry = f"{ENTRIES}/{learner}/{issued.commit[:12]}-{uuid.uuid4().hex[:8]}.json"
    board.write(header, entry, _dump(issued.credential))
    warnings = achievements.complete_step("leaderboard")
    return Submitted(board=board.label, entry=entry, template=meta.template, metric=value,
                     commit=issued.commit, created_board=header is not None,
                     warnings=issued.warnings + warnings)


def _judge(name: str, data: bytes, template: str, spec) -> tuple[Any | None, str | None]:
    """(a Row, None) for an entry that verifies, else (None, the reason)."""
    from dlpath import credentials, verify
    from dlpath.leaderboard import Row

    if not data:
        return None, "empty or too large"
    try:
        credential = json.loads(data)
        credentials.foreign(credential, name)
        v = verify.check_signature(credential, name)
    except ValueError:
        return None, "not valid JSON"
    except DlpathError as exc:
        return None, exc.message.split(f"{name}: ", 1)[-1]
    if v.template != template:
        return None, f"an entry for another template ('{v.template}')"
    ev = credentials.evidence_of(credential) or {}
    report = ev.get("report") if isinstance(ev.get("report"), dict) else {}
    if v.kind != "milestone" or report.get("milestone") != spec.milestone:
        return None, f"not a credential for milestone '{spec.milestone}'"
    if report.get("status") != "pass":
        return None, f"milestone '{spec.milestone}' did not pass"
    files = ev.get("metrics") if isinstance(ev.get("metrics"), dict) else {}
    metrics = {}
    for m in spec.metrics:
        value = (files.get(m.file) or {}).get(m.key) if isinstance(files.get(m.file), dict) \
            else None
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        metrics[m.key] = float(value) if ok else None
    if metrics[spec.metric.key] is None:
        return None, f"its evidence has no {spec.metric.key}"
    return Row(name=v.subject or "?", rev=v.commit[:8], baseline=False, metrics=metrics,
               meets=True, learner=v.subject, signer=v.signer, commit=v.commit,
               issued=v.issued), None


def rank(location: str, *, where: Path | None = None, template: str | None = None):
    """Every entry of the board verified, the best entry of each learner
    (key) ranked; the rejected ones with their reason."""
    from dlpath import project
    from dlpath.leaderboard import Ranking, order, spec_for

    root = project.find_root(where.resolve()) if where is not None and where.exists() else None
    board = open_board(location, root)
    contents = board.read()
    name = template or (contents.header or {}).get("template")
    if name is None and root is not None:
        meta = project.load_meta(root)
        name = meta.template if meta else None
    if name is None:
        raise BoardError(f"The board {board.label} has no {HEADER} naming its template.",
                         hint="Name it: dlpath leaderboard --board LOCATION --template NAME")
    _, spec = spec_for(name)
    rows, rejected = [], []
    for entry, data in contents.entries:
        row, reason = _judge(entry, data, name, spec)
        if row is None:
            rejected.append((entry, reason))
        else:
            rows.append(row)
    best: dict[str, Any] = {}
    for row in order(rows, spec):  # best first: the first row of each key wins
        best.setdefault(row.signer, row)
    return Ranking(template=name, spec=spec, rows=order(list(best.values()), spec),
                   rejected=rejected, board=board.label)
