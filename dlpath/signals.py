"""Terminating signals handled like Ctrl-C, and critical sections they wait for.

Python turns SIGINT into KeyboardInterrupt, so ``finally`` blocks clean up;
SIGTERM and SIGHUP (a closed terminal, ``kill``) end the process on the spot.
:func:`raise_on_terminate` makes them raise :class:`Terminated` (a
KeyboardInterrupt) meanwhile, and :func:`deferred` holds all three back while
a step must not be cut in half (moving a project into place, cleaning up).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_TERMINATING = tuple(s for s in (getattr(signal, "SIGTERM", None),
                                 getattr(signal, "SIGHUP", None)) if s is not None)


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled like Ctrl-C (clean-up runs, exit 130)."""


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def raise_on_terminate() -> Iterator[None]:
    """SIGTERM and SIGHUP raise :class:`Terminated` meanwhile (main thread only)."""
    if not _main_thread():
        yield
        return

    def handler(signum, frame):  # noqa: ARG001 - signal API
        raise Terminated(signal.Signals(signum).name)

    saved = {}
    for sig in _TERMINATING:
        try:
            saved[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)


@contextmanager
def deferred() -> Iterator[None]:
    """SIGINT, SIGTERM and SIGHUP wait until the block is over, then take
    effect (KeyboardInterrupt / :class:`Terminated`).

    Python-level handlers that only note the signal, not a signal mask: a
    mask holds back only the calling thread, and a process-directed signal
    then lands on another thread (rich's spinner, say) while Python still
    runs the handler in the main thread at once. Main thread only (elsewhere
    a no-op)."""
    if not _main_thread():
        yield
        return
    caught: list[int] = []

    def note(signum, frame):  # noqa: ARG001 - signal API
        caught.append(signum)

    saved = {}
    for sig in (signal.SIGINT, *_TERMINATING):
        try:
            saved[sig] = signal.signal(sig, note)
        except (ValueError, OSError):
            pass
    try:
        yield
    finally:
        for sig, old in saved.items():
            signal.signal(sig, old)
        if caught:
            if caught[0] == signal.SIGINT:
                raise KeyboardInterrupt
            raise Terminated(signal.Signals(caught[0]).name)
