"""Small filesystem helpers shared by every module that writes state."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` through libyaml's C loader where PyYAML has it: the
    same documents and the same errors (yaml.YAMLError), several times faster
    than the pure-Python loader (``dlpath check`` reads a dozen YAML files)."""
    import yaml

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506


@contextmanager
def file_lock(path: Path, timeout: float = 60) -> Iterator[None]:
    """An exclusive lock on the file ``path`` (created if need be) while the
    block runs; TimeoutError (an OSError) after ``timeout`` seconds.

    On POSIX it is ``fcntl.flock``, the very lock filelock takes there (the
    two exclude each other), without filelock's import: ~25 ms of CPU on
    every ``dlpath check``. Elsewhere, filelock."""
    try:
        import fcntl
    except ImportError:  # Windows
        from filelock import FileLock

        with FileLock(str(path), timeout=timeout):
            yield
        return
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise TimeoutError(f"Another process has held {path} for {timeout:g} s.") \
                        from None
                time.sleep(delay)
                delay = min(delay * 2, 0.2)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so readers see the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # The file keeps its mode; a new one gets what open() would give it
    # (mkstemp's 0600 would make a restored exercise unreadable to others).
    try:
        mode = os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True) + "\n")


#: the most dlpath reads of a file it parses (a rubric, metrics, params, state)
READ_LIMIT = 32 * 1024 * 1024


class SpecialFileError(OSError):
    """A path dlpath must read is not a regular file (a FIFO, a device, a
    socket: reading it could block forever) or is too large to parse."""


def _open_regular(path: Path) -> int:
    """A read-only descriptor on ``path``, which must be a regular file.

    Opened non-blocking, so a FIFO with no writer does not hang the open;
    the check on the opened file (not on the name) leaves no window for a
    swap in between."""
    import stat

    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise SpecialFileError(f"{path} is not a regular file (a FIFO, device or socket)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return fd


def read_bytes_limited(path: Path, limit: int = READ_LIMIT) -> bytes:
    """A regular file's content; SpecialFileError for anything else, or past ``limit``."""
    with os.fdopen(_open_regular(path), "rb") as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise SpecialFileError(f"{path} is larger than {limit // (1024 * 1024)} MiB")
    return data


def read_text_limited(path: Path, limit: int = READ_LIMIT) -> str:
    return read_bytes_limited(path, limit).decode("utf-8", errors="replace")


def sha256_file(path: Path) -> str:
    """The SHA-256 of a regular file (SpecialFileError for a FIFO and the like)."""
    digest = hashlib.sha256()
    with os.fdopen(_open_regular(path), "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_within(path: Path, root: Path) -> bool:
    """True when ``path`` (resolved) lies inside ``root`` (resolved)."""
    try:
        path.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True
