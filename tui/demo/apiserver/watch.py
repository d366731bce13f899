"""Watch streams: initial state or resume from a resourceVersion, selectors, bookmarks, timeouts, drops.

Each open watch registers with the :class:`WatchHub`; the store wakes the hub after every commit (from
any thread) and each watch then reads what it has not sent yet from the store's ordered event log, so
events reach every watcher in resourceVersion order whichever thread wrote them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from kmock import KubernetesError

from tui.core.model.resources import ResourceKind
from tui.demo.apiserver import errors
from tui.demo.apiserver.errors import status_body
from tui.demo.apiserver.selectors import Selector
from tui.demo.apiserver.store import Change, ObjectStore

# How often an idle watch wakes to notice a client that went away without a word.
_IDLE_CHECK_SECONDS = 2.0
# Initial events are written in batches of this many lines per socket write.
_BATCH = 200


@dataclass(eq=False)
class WatchRegistration:
    """One open watch connection."""

    resource_key: str
    transport: asyncio.BaseTransport | None
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False
    bookmark_requested: bool = False

    def drop(self) -> None:
        """Cut the connection without a final chunk, as a network failure would."""
        self.dropped = True
        if self.transport is not None:
            self.transport.abort()  # type: ignore[attr-defined]
        self.wake.set()


class WatchHub:
    """The set of open watches, woken after every store commit."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._loop_thread = threading.get_ident()
        self._watches: set[WatchRegistration] = set()
        self._pending = False
        self._pending_lock = threading.Lock()
        # Per-resource counts readable from any thread (tests wait on them), and a change callback.
        self._counts: dict[str, int] = {}
        self.on_change: Callable[[], None] | None = None

    @property
    def count(self) -> int:
        """Number of open watches."""
        with self._pending_lock:
            return sum(self._counts.values())

    def counts(self) -> dict[str, int]:
        """Open watches per resource key (safe from any thread)."""
        with self._pending_lock:
            return {k: v for k, v in self._counts.items() if v}

    def _count(self, resource_key: str, delta: int) -> None:
        with self._pending_lock:
            self._counts[resource_key] = self._counts.get(resource_key, 0) + delta
        if self.on_change is not None:
            self.on_change()

    def register(self, resource_key: str, transport: asyncio.BaseTransport | None) -> WatchRegistration:
        """Track a new watch (call on the loop)."""
        reg = WatchRegistration(resource_key, transport)
        self._watches.add(reg)
        self._count(resource_key, +1)
        return reg

    def unregister(self, reg: WatchRegistration) -> None:
        """Forget a finished watch (call on the loop)."""
        if reg in self._watches:
            self._watches.discard(reg)
            self._count(reg.resource_key, -1)

    def _wake_all(self) -> None:
        with self._pending_lock:
            self._pending = False
        for reg in list(self._watches):
            reg.wake.set()

    def notify(self) -> None:
        """Wake every watch; safe from any thread, coalesced while a wake-up is pending."""
        if threading.get_ident() == self._loop_thread:
            self._wake_all()
            return
        with self._pending_lock:
            if self._pending:
                return
            self._pending = True
        # A closed loop means the server is stopping and no watch is left to wake.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._wake_all)

    def drop(self, resource_key: str | None = None) -> int:
        """Abruptly close every watch (or those of one resource); returns how many (call on the loop)."""
        victims = [r for r in self._watches if resource_key is None or r.resource_key == resource_key]
        for reg in victims:
            reg.drop()
        return len(victims)

    def request_bookmarks(self) -> None:
        """Ask every watch that allows bookmarks to send one now (call on the loop)."""
        for reg in list(self._watches):
            reg.bookmark_requested = True
            reg.wake.set()


@dataclass(frozen=True)
class WatchRequest:
    """The parameters of one watch request."""

    kind: ResourceKind
    namespace: str | None
    name: str | None
    selector: Selector
    resource_version: str | None
    timeout_seconds: float | None
    allow_bookmarks: bool
    send_initial_events: bool


def _line(event_type: str, obj: dict[str, Any]) -> bytes:
    return json.dumps({"type": event_type, "object": obj}, separators=(",", ":")).encode() + b"\n"


def error_line(error: KubernetesError) -> bytes:
    """An ``ERROR`` watch event carrying a Status, as the real server ends a failed watch."""
    return _line("ERROR", status_body(error))


class _Filter:
    """Scope and selector of one watch, with the ADDED/DELETED transitions of a filtered view."""

    def __init__(self, req: WatchRequest) -> None:
        self._req = req

    def _in_scope(self, obj: dict[str, Any]) -> bool:
        meta = obj.get("metadata") or {}
        if self._req.namespace is not None and meta.get("namespace") != self._req.namespace:
            return False
        if self._req.name is not None and meta.get("name") != self._req.name:
            return False
        return self._req.selector.matches(obj)

    def initial(self, obj: dict[str, Any]) -> bool:
        return self._in_scope(obj)

    def translate(self, change: Change) -> str | None:
        """The event type this watcher sees for ``change``, or None to skip it."""
        if change.resource_key != self._req.kind.key:
            return None
        now_in = change.type != "DELETED" and self._in_scope(change.obj)
        was_in = change.old is not None and self._in_scope(change.old)
        if change.type == "DELETED":
            return "DELETED" if was_in else None
        if now_in and not was_in:
            return "ADDED"
        if now_in:
            return "MODIFIED"
        return "DELETED" if was_in else None


def _bookmark(kind: ResourceKind, rv: int, *, initial_end: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"resourceVersion": str(rv), "creationTimestamp": None}
    if initial_end:
        meta["annotations"] = {"k8s.io/initial-events-end": "true"}
    return {"kind": kind.kind, "apiVersion": kind.group_version, "metadata": meta}


async def watch_stream(
    store: ObjectStore,
    hub: WatchHub,
    req: WatchRequest,
    *,
    transport: asyncio.BaseTransport | None,
    bookmark_interval: float,
    render: Callable[[dict[str, Any]], dict[str, Any]],
) -> AsyncIterator[bytes]:
    """Yield the newline-delimited JSON events of one watch until timeout, drop or disconnect."""
    loop = asyncio.get_running_loop()
    reg = hub.register(req.kind.key, transport)
    try:
        # An empty first chunk makes kmock send the response headers at once, so a client's watch
        # call returns before the first event, as with a real server.
        yield b""
        filt = _Filter(req)
        rv_text = req.resource_version
        if rv_text in (None, "", "0") or req.send_initial_events:
            cursor, objects = store.snapshot(req.kind.key, req.namespace)
            if rv_text not in (None, "", "0"):
                store.check_resume(int(rv_text))
            lines = [_line("ADDED", render(o)) for o in objects if filt.initial(o)]
            for start in range(0, len(lines), _BATCH):
                yield b"".join(lines[start : start + _BATCH])
            if req.send_initial_events and req.allow_bookmarks:
                yield _line("BOOKMARK", _bookmark(req.kind, cursor, initial_end=True))
        else:
            try:
                cursor = int(rv_text)
            except ValueError:
                yield error_line(errors.bad_request(f"invalid resourceVersion {rv_text!r}"))
                return
            try:
                store.check_resume(cursor)
            except KubernetesError as exc:
                yield error_line(exc)
                return
        deadline = loop.time() + req.timeout_seconds if req.timeout_seconds else None
        next_bookmark = loop.time() + bookmark_interval
        while True:
            if reg.dropped:
                return
            try:
                changes = store.changes_after(cursor)
            except KubernetesError as exc:
                # This watcher fell behind the retained history: the real server ends it with 410.
                yield error_line(exc)
                return
            out: list[bytes] = []
            for change in changes:
                cursor = change.rv
                event_type = filt.translate(change)
                if event_type is not None:
                    out.append(_line(event_type, render(change.obj)))
            if out:
                yield b"".join(out)
            now = loop.time()
            if req.allow_bookmarks and (reg.bookmark_requested or now >= next_bookmark):
                reg.bookmark_requested = False
                next_bookmark = now + bookmark_interval
                # The cursor has passed every change read so far, of any kind: resuming from it
                # misses nothing this watcher should see.
                yield _line("BOOKMARK", _bookmark(req.kind, cursor))
            if deadline is not None and now >= deadline:
                return
            if transport is not None and transport.is_closing():
                return
            waits = [_IDLE_CHECK_SECONDS, next_bookmark - now if req.allow_bookmarks else _IDLE_CHECK_SECONDS]
            if deadline is not None:
                waits.append(deadline - now)
            reg.wake.clear()
            if store.resource_version > cursor:
                continue  # something was committed between reading the log and clearing the flag
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(reg.wake.wait(), timeout=max(min(waits), 0.0))
    finally:
        hub.unregister(reg)
