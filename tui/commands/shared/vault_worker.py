"""The dashboard's first vault read in a child process: the SDK's work on the machine's other core.

A first read at 2,000 secrets costs the reading process 3-4 s of interpreter time (the SDK's pipeline and
models for every GET, TLS, JSON). On a thread of the dashboard all of it is taken from the UI thread, just
when a technician starts typing a filter. :class:`ForkedVaultReader` forks, before the feed starts any
thread, a child holding a :class:`~tui.commands.shared.vault_reader.SiteVaultReader` that answers the feed's
reads over a pipe (only the lists' SPC goes to it; only snapshots come back, pickled: names, dates, tags and
values, certificates the cluster holds too; the credential and its token stay in the child).

After its first complete read the child hands over and ends: it sends that snapshot with the values it
remembers by version (``tui/vault/reader.py``), and the dashboard reads in its own process from then on,
with a reader that starts out knowing them, so a re-read is a listing (~0.3 s) as before. A child kept for
the dashboard's life cost the machine ~32 MiB more (PSS of both, ``bench/bench_memory.py``) and took
nothing off the dashboard's own resident size. The child never writes to the terminal (its streams go to
/dev/null: the screen is Textual's), ends when the dashboard closes the pipe or exits (a ``multiprocessing``
daemon), and when it is gone the proxy reads in this process instead: a read never fails because of it.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import pickle
import threading
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from tui.commands.shared.forking import (
    can_fork,
    detach_child_output,
    dumps,
    end_with_parent,
    flush_std_streams,
    quiet_child_signals,
)
from tui.commands.shared.vault_reader import SiteVaultReader, lists_spc
from tui.core.model.snapshot import AreaState

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from tui.core.model.snapshot import VaultSnapshot
    from tui.core.model.spc import SpcView
    from tui.core.model.state import ClusterState

log = logging.getLogger(__name__)

_LISTED = b"L"  # a listing delivered ahead of its values (``on_listed``)
_DONE = b"D"  # the read's snapshot (or None)
_HANDOVER = b"H"  # the first complete read's snapshot and the values remembered: the child then ends
_FAILED = b"F"  # the read raised: the parent reads again itself
BACKGROUND_NICENESS = 10
"""How much the child lowers its scheduling priority (``nice``): the screen and the keys come first."""


def _complete(snapshot: VaultSnapshot | None, only: Collection[str] | None) -> bool:
    """A whole read that got every value: the expensive one, after which a re-read is mostly a listing."""
    return (
        only is None
        and snapshot is not None
        and snapshot.status.state is AreaState.OK
        and snapshot.values_pending == 0
    )


def _serve(
    reader: SiteVaultReader, requests: Connection, answers: Connection, parent_ends: tuple[Connection, ...]
) -> None:
    """The child: answer read requests until the dashboard closes its end."""
    # The fork copied the dashboard's own ends of both pipes: closed here, or the dashboard closing its
    # requests end would never reach this side as an end of file.
    for end in parent_ends:
        end.close()
    quiet_child_signals()
    end_with_parent()
    detach_child_output()
    # Background work: the first read keeps a core busy for seconds (3-4 s of interpreter time at 2,000
    # secrets) just when a technician starts typing; where the dashboard and the terminal want the
    # processor, they get it first. The read itself is not waited for by anything on the screen. What the
    # child starts inherits it (the `az` sign-in of --auth cli): the same background read.
    with contextlib.suppress(OSError):
        os.nice(BACKGROUND_NICENESS)
    # What the fork shares with the dashboard stays shared: the child's collections never visit it (a
    # visit writes to every object's header, and the page holding it is then copied).
    gc.freeze()
    while True:
        try:
            spc, incremental, only, listed = pickle.loads(requests.recv_bytes())
        except (EOFError, OSError):
            return  # the dashboard is gone or closed the pipe

        def on_listed(snapshot: VaultSnapshot) -> None:
            answers.send_bytes(_LISTED + dumps(snapshot))

        handover = False
        try:
            snapshot = reader.for_spc(
                spc, incremental=incremental, on_listed=on_listed if listed else None, only=only
            )
            handover = _complete(snapshot, only)
            if handover:
                answer = _HANDOVER + dumps((snapshot, reader.export_values()))
            else:
                answer = _DONE + dumps(snapshot)
        except Exception:  # the reader never raises; a bug is the parent's to show, as before
            answer = _FAILED
        try:
            answers.send_bytes(answer)
        except OSError:
            return
        if handover:
            return


class ForkedVaultReader:
    """A :class:`~tui.cluster.live.VaultReader` whose reads run in a forked child (see the module).

    Made by :func:`vault_reader_for_feed`; calls are serialized (the feed has one vault thread).
    :meth:`close` ends the child; the feed calls it when it stops, before it waits for its threads.
    The pipes are touched only under the lock, by the thread that reads: :meth:`close`, called from
    another thread while a read is under way, ends the child (the read then sees the end of its answers)
    and leaves the pipes to that thread.
    """

    def __init__(self, reader: SiteVaultReader, fallback: Callable[[], SiteVaultReader]) -> None:
        self._fallback_factory = fallback
        self._fallback: SiteVaultReader | None = None
        self._lock = threading.Lock()
        self._closed = threading.Event()
        context = multiprocessing.get_context("fork")
        child_requests, self._requests = context.Pipe(duplex=False)
        self._answers, child_answers = context.Pipe(duplex=False)
        flush_std_streams()
        self._process = context.Process(
            target=_serve,
            args=(reader, child_requests, child_answers, (self._requests, self._answers)),
            name="vault reader",
            daemon=True,
        )
        try:
            self._process.start()
        finally:
            # The child holds these ends: its exit is this side's end of file (and, had the fork failed,
            # nothing is left open).
            child_requests.close()
            child_answers.close()
            if self._process.pid is None:
                self._close_pipes()
        self.pid = self._process.pid
        self.handed_over = False
        """Whether the child has handed over after the first complete read (it has ended then)."""

    def __call__(
        self,
        state: ClusterState | None,
        *,
        incremental: bool = False,
        on_listed: Callable[[VaultSnapshot], None] | None = None,
        only: Collection[str] | None = None,
    ) -> VaultSnapshot | None:
        """Read the vault for ``state`` (see :meth:`SiteVaultReader.__call__`), in the child."""
        spc = lists_spc(state)
        with self._lock:
            if self._fallback is None:
                if not self._closed.is_set():
                    answered, snapshot = self._ask(spc, incremental, on_listed, only)
                    if answered:
                        return snapshot
                if self._closed.is_set():
                    self._close_pipes()
                    return None
                # Gone, or a read failed there (_ask has ended it): this process reads from now on, as
                # it would without a child.
                log.info("the vault reader's child process failed: reading in this process")
                self._fallback = self._fallback_factory()
            reader = self._fallback
        return reader.for_spc(spc, incremental=incremental, on_listed=on_listed, only=only)

    def _ask(
        self,
        spc: SpcView | None,
        incremental: bool,
        on_listed: Callable[[VaultSnapshot], None] | None,
        only: Collection[str] | None,
    ) -> tuple[bool, VaultSnapshot | None]:
        """(True, the snapshot) when the child answered; (False, None) when it is gone or failed.

        Leaving without its answer, for whatever reason (the child gone or failed, or the listing's
        callback or a load raising here), ends the child: an answer left in the pipe would be taken for
        the next read's. The next read is then this process's.
        """
        names = None if only is None else tuple(only)
        answered = False
        try:
            self._requests.send_bytes(dumps((spc, incremental, names, on_listed is not None)))
            while True:
                answer = self._answers.recv_bytes()
                kind, payload = answer[:1], answer[1:]
                if kind == _LISTED:
                    if on_listed is not None:
                        on_listed(pickle.loads(payload))
                    continue
                if kind == _DONE:
                    snapshot: VaultSnapshot | None = pickle.loads(payload)
                    answered = True
                    return True, snapshot
                if kind == _HANDOVER:
                    snapshot, values = pickle.loads(payload)
                    # From now on this process reads, knowing every value the child read; the child ends
                    # by itself (below, its pipes are closed and it is waited for).
                    reader = self._fallback_factory()
                    reader.adopt_values(values)
                    self._fallback = reader
                    self.handed_over = True
                    return True, snapshot
                return False, None
        except (EOFError, OSError):
            return False, None
        finally:
            if not answered:
                self._end_child()

    def close(self) -> None:
        """End the child (a read under way answers None); safe to call more than once, from any thread."""
        if self._closed.is_set():
            return
        self._closed.set()
        self._stop_process()
        if self._lock.acquire(blocking=False):  # no read under way: nobody else uses the pipes
            try:
                self._close_pipes()
            finally:
                self._lock.release()

    def _end_child(self) -> None:
        self._close_pipes()
        self._stop_process()

    def _close_pipes(self) -> None:
        self._requests.close()
        self._answers.close()

    def _stop_process(self) -> None:
        # Idle, it ends at the requests' end of file; mid-read, SIGTERM; and SIGKILL if that is ignored.
        if self._process.pid is None:
            return
        self._process.join(0.2 if self._process.is_alive() and self._requests.closed else 0)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(1.0)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(1.0)


def vault_reader_for_feed(make: Callable[[], SiteVaultReader]) -> SiteVaultReader | ForkedVaultReader:
    """The dashboard feed's vault reader: in a child process when one can be forked here (no thread yet),
    else ``make()`` itself (a context switch, made while the app runs; the embedded demo)."""
    if not can_fork():
        return make()
    try:
        return ForkedVaultReader(make(), fallback=make)
    except OSError as exc:  # no fork here (process limit, memory): the reads run in this process
        log.info("no child process for the vault reads (%s): reading in this process", exc)
        return make()
