"""Helpers for reads that run in a forked child process, on the machine's other core.

``status`` and the dashboard are bound by their one interpreter: a vault read's SDK work on a thread is
taken from the main thread's imports, cluster read, build and repaints. A child forked before any thread
exists has an interpreter of its own. What crosses back is a read's plain result, pickled
(:func:`dumps`); a child's credential and its token never leave it.
"""

from __future__ import annotations

import contextlib
import copyreg
import gc
import io
import logging
import multiprocessing
import multiprocessing.connection
import os
import pickle
import signal
import sys
import threading
from collections.abc import Callable
from types import MappingProxyType
from typing import IO, Any

log = logging.getLogger(__name__)


def can_fork() -> bool:
    """Whether a child may be forked here: Linux, and this process runs no other thread yet (a thread
    holding a lock at the fork would leave that lock held for ever in the child)."""
    return sys.platform == "linux" and threading.active_count() == 1


def flush_std_streams() -> None:
    """Write out what this process has buffered, so that the child never writes it a second time."""
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def quiet_child_signals() -> None:
    """In a child: end on SIGINT, SIGTERM and SIGHUP as the default does, quietly.

    A ctrl+c reaches the whole process group, and ``multiprocessing`` ends a daemon child left behind
    with SIGTERM; the command line's handlers (inherited) raise, and the child would print a traceback.
    SIGINT and SIGHUP the parent ignores (``nohup``, a background job) stay ignored: the child must not
    die of what its parent shrugs off. SIGTERM never stays ignored: it is how ``multiprocessing`` ends a
    daemon child at exit, and waits for it to end.
    """
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    for signum in (signal.SIGINT, signal.SIGHUP):
        if signal.getsignal(signum) is not signal.SIG_IGN:
            signal.signal(signum, signal.SIG_DFL)


def end_with_parent() -> None:
    """In a ``multiprocessing`` child: end at once when the parent process ends, however it ends.

    A parent killed outright (SIGKILL, or SIGTERM where nothing handles it) runs no exit handler, and its
    child would otherwise finish a read nobody waits for (a slow vault: many seconds of requests). The
    parent's sentinel becomes ready when the parent is gone; a daemon thread waits for it.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="parent watch", daemon=True).start()


def detach_child_output() -> None:
    """In a child of a full-screen app: send its standard streams to /dev/null.

    The dashboard's terminal is Textual's: a warning or a log line written there by the child would be
    drawn over the screen. Both the Python streams and the file descriptors are redirected.
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdin = open(os.devnull)  # noqa: SIM115  (the child's streams for its whole life)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    sys.stderr = open(os.devnull, "w")  # noqa: SIM115


def _read_only(items: dict[Any, Any]) -> MappingProxyType[Any, Any]:
    return MappingProxyType(items)


def _reduce_mapping_proxy(proxy: MappingProxyType[Any, Any]) -> tuple[Any, ...]:
    # By way of a function of this module: pickle cannot name the mappingproxy type itself.
    return _read_only, (dict(proxy),)


# The snapshots hold read-only mappings, which pickle cannot take as they are.
_DISPATCH = copyreg.dispatch_table.copy()
_DISPATCH[MappingProxyType] = _reduce_mapping_proxy


def dumps(value: object) -> bytes:
    """``value`` pickled, read-only mappings included (loaded again with :func:`pickle.loads`)."""
    buffer = io.BytesIO()
    dump(value, buffer)
    return buffer.getvalue()


def dump(value: object, file: IO[bytes]) -> None:
    """``value`` pickled into ``file`` as :func:`dumps` does. Written to a pipe, the pickle's frames (64
    KiB each) go out as they are made, and a :func:`pickle.load` at the other end makes the objects of
    one frame while this side pickles the next."""
    pickler = pickle.Pickler(file, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.dispatch_table = _DISPATCH
    pickler.dump(value)


def send_message(file: IO[bytes], kind: str, value: object) -> None:
    """In a child of :class:`ChildPipe`: write one message (a ``kind`` and its value) to the parent; the
    child ends at once, quietly, when the parent has gone or stopped reading."""
    try:
        dump((kind, value), file)
        file.flush()
    except BaseException:
        # The parent gone (OSError), or a value that cannot be pickled (a bug): part of the message may be
        # written, so the child ends here, and the parent, reading an end of file, does the work itself.
        os._exit(0)


def _run_child(target: Callable[[IO[bytes]], None], read_end: int, write_end: int) -> None:
    os.close(read_end)  # the parent's end, copied by the fork: only the parent reads
    with os.fdopen(write_end, "wb") as send:
        target(send)


class ChildPipe:
    """A child forked to run ``target(send)``, whose messages (:func:`send_message`) are read here as they
    are written: one pickle each on a pipe of the child's own, so the objects of a large one are made here
    while the child still pickles the rest of it.

    A ``multiprocessing`` daemon of the fork context: when this process exits first, the child is ended.
    Only where :func:`can_fork`. Messages from the child are trusted as the process's own (the child is a
    copy of this process writing on a pipe nobody else holds).
    """

    def __init__(self, target: Callable[[IO[bytes]], None], name: str) -> None:
        context = multiprocessing.get_context("fork")
        read_end, write_end = os.pipe()
        flush_std_streams()
        self._process = context.Process(target=_run_child, args=(target, read_end, write_end), name=name)
        self._process.daemon = True
        self._process.start()
        os.close(write_end)  # the child holds the only writing end: its exit is this end's EOF
        self._receive: io.BufferedReader = os.fdopen(read_end, "rb")
        self._lock = threading.Lock()
        self._closed = False

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    @property
    def exitcode(self) -> int | None:
        """The child's exit status once it has ended and been waited for (negative: the signal)."""
        return self._process.exitcode

    def receive(self) -> tuple[str, object] | None:
        """The child's next message, waiting for it; None at its end (it ended, was ended, or wrote
        something that cannot be read)."""
        try:
            if not self._receive.peek(1):  # wait for the message to begin, the collector still on
                return None
        except (OSError, ValueError):
            return None
        # Then without it: the ~100,000 objects of a large message (a dashboard state at 2,000 entries)
        # made it run a dozen times, a third of the load's time, to find nothing to free.
        enabled = gc.isenabled()
        gc.disable()
        try:
            kind, value = pickle.load(self._receive)
        except (EOFError, OSError, ValueError, pickle.UnpicklingError):
            return None
        except Exception:  # a bug: the caller then does the child's work itself
            log.exception("reading from the %s child failed", self._process.name)
            return None
        finally:
            if enabled:
                gc.enable()
        return str(kind), value

    def join(self, timeout: float) -> None:
        """Wait at most ``timeout`` seconds for the child to end."""
        self._process.join(timeout)

    def close(self, grace: float = 0.0) -> None:
        """End the child, if still there after ``grace`` seconds (a child finishing a write that must not
        be cut short), and close the pipe; safe to call more than once."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if grace > 0:
            self._process.join(grace)
        if self._process.is_alive():
            self._process.kill()
        self._process.join(1.0)
        with contextlib.suppress(OSError):
            self._receive.close()
