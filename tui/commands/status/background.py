"""``status``'s background reads and output width (no SDK, no cluster client: shared by both halves).

A read started beside the cluster read runs, where it can, in a forked child process rather than a
thread: ``status`` is bound by this interpreter's processor time (the vault listing's ~80 pages cost
about 0.25 s of SDK work at 2,000 secrets, the cluster client's imports and the build about 0.6 s), and a
thread shares one interpreter lock with the main thread, while a child runs on the machine's other core.
What comes back is the read's plain result (a ``VaultSnapshot``: names, dates, tags; never a token, which
stays in the child with its credential).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import pickle
import shutil
import threading
from collections.abc import Callable
from typing import Any, Generic, Protocol, TextIO, TypeVar

from tui.commands.shared.forking import (
    can_fork,
    dumps,
    end_with_parent,
    flush_std_streams,
    quiet_child_signals,
)

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Pending(Protocol[T_co]):
    """A read under way; :meth:`result` waits for it."""

    def result(self) -> T_co | None:
        """Wait for the read (the reader bounds its own time) and return it."""
        ...


class Background(Generic[T]):
    """Run ``read()`` in a daemon thread: an exit (say, cluster unreachable) never waits for it."""

    def __init__(self, read: Callable[[], T | None], name: str = "vault") -> None:
        self._result: T | None = None
        self._done = threading.Event()
        self._read = read
        threading.Thread(target=self._run, name=f"status-{name}", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = self._read()
        finally:
            self._done.set()

    def result(self) -> T | None:
        """Wait for the read (the reader bounds its own time) and return it."""
        self._done.wait()
        return self._result


_OK = b"ok"


def _child(read: Callable[[], object], send: Any) -> None:
    quiet_child_signals()  # the parent says what happened; the child's end prints nothing
    end_with_parent()
    try:
        payload = _OK + dumps(read())
    except Exception:  # the parent reads again itself, and a bug then shows there, in one line
        payload = b""
    with contextlib.suppress(OSError):  # the parent is gone (or stopped waiting): nobody to tell
        send.send_bytes(payload)


class Forked(Generic[T]):
    """Run ``read()`` in a forked child process and hand its result back through a pipe.

    The child is a daemon of ``multiprocessing``: when ``status`` exits before asking for the result
    (the cluster unreachable), it is terminated, never left behind. When the child gives no result (it
    failed, was killed, or its result could not be pickled), :meth:`result` runs ``read()`` here, so the
    outcome is the same as a read in this process, only later.
    """

    def __init__(self, read: Callable[[], T | None], name: str = "vault") -> None:
        self._read = read
        context = multiprocessing.get_context("fork")
        self._receive, send = context.Pipe(duplex=False)
        flush_std_streams()
        self._process = context.Process(target=_child, args=(read, send), name=f"status-{name}", daemon=True)
        self._process.start()
        send.close()  # the child holds the only writing end: its exit is this end's EOF
        self._done = False
        self._value: T | None = None

    def result(self) -> T | None:
        """Wait for the child's result (the reader bounds its own time) and return it; the same result
        every time it is asked for."""
        if self._done:
            return self._value
        try:
            payload = self._receive.recv_bytes()
        except (EOFError, OSError):
            payload = b""
        finally:
            self._receive.close()
        self._process.join()
        self._value = pickle.loads(payload[len(_OK) :]) if payload.startswith(_OK) else self._read()
        self._done = True
        return self._value


def read_beside(
    read: Callable[[], T | None], *, prepare: Callable[[], None], name: str = "vault"
) -> Pending[T]:
    """Start ``read()`` beside the main thread's work: in a child process when :func:`can_fork`, else in
    a thread. ``prepare()`` (the read's imports) runs in whichever process reads; for a thread it runs
    here first, before the thread starts (see ``tui/vault/sdk_imports.py`` for why)."""
    if can_fork():

        def prepared() -> T | None:
            prepare()
            return read()

        return Forked(prepared, name=name)
    prepare()
    return Background(read, name=name)


def status_width(stream: TextIO) -> int | None:
    """The width to fit ``status`` to: the terminal's (60 to 140), or None (cut nothing) when ``stream`` is
    not a terminal: piped into a file or a ticket, every line is kept whole."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    width = shutil.get_terminal_size((100, 24)).columns
    return max(60, min(width, 140))
