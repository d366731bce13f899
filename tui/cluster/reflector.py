"""A small reflector: keeps one collection's objects current with list + watch, in its own thread.

List, then watch from the list's resourceVersion; on 410 Gone list again; when the connection drops,
reconnect with exponential backoff and full jitter and resume from the last resourceVersion seen, so no
event is lost. Read failures never leave the thread: they become the collection's
:class:`~tui.core.model.snapshot.ResourceStatus` (404 -> not installed and re-checked rarely, 401/403 ->
forbidden for this collection only, connection refused -> unreachable or reconnecting).
"""

from __future__ import annotations

import contextlib
import http.client
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from tui.cluster.listwatch import (
    GoneError,
    WatchErrorEvent,
    WatchTarget,
    classify,
    iter_events,
    list_objects,
    object_key,
    open_watch,
)
from tui.core.clock import Clock, SystemClock
from tui.core.model.snapshot import AreaState, ObjectKey, ResourceStatus

log = logging.getLogger(__name__)

WaitFunction = Callable[[threading.Event, float], bool]
"""``wait(stop_event, seconds) -> True when the reflector should stop``; injectable so tests never sleep."""


def event_wait(stop: threading.Event, seconds: float) -> bool:
    """Default wait: sleep up to ``seconds`` unless the reflector is stopped first."""
    return stop.wait(seconds)


class Backoff:
    """Exponential backoff with full jitter: the n-th delay is uniform in ``[0, min(cap, base * 2**n)]``.

    ``rand`` returns a float in [0, 1); inject a fixed one to make delays predictable in tests.
    """

    def __init__(
        self, base: float = 0.5, cap: float = 30.0, rand: Callable[[], float] = random.random
    ) -> None:
        self.base = base
        self.cap = cap
        self._rand = rand
        self.attempt = 0

    def next_delay(self) -> float:
        """Return the next delay and count the attempt."""
        ceiling = min(self.cap, self.base * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return ceiling * self._rand()

    def reset(self) -> None:
        """Start again from the smallest delay (after a success)."""
        self.attempt = 0


@dataclass
class ReflectorStats:
    """Counters that tests and the benchmark read; only the reflector thread writes them."""

    lists: int = 0
    watches: int = 0
    events: int = 0
    gone: int = 0
    reconnects: int = 0


@dataclass(frozen=True)
class ReflectorTimings:
    """How long to wait between attempts; all in seconds."""

    watch_timeout: int = 300  # server-side end of each watch (a real API server caps it anyway)
    read_slack: float = 30.0  # client read timeout = watch_timeout + this
    recheck_not_installed: float = 120.0  # "keep checking rarely" for a missing CRD
    recheck_forbidden: float = 60.0
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    quick_end: float = 1.0  # a watch that ends sooner than this with no events counts as a failure


class Reflector:
    """Keeps ``{(namespace, name): object}`` of one :class:`WatchTarget` current in a daemon thread.

    ``on_change(reflector)`` is called from the reflector thread after every change of objects or of
    status; it must be quick and must not block (the live feed only sets a flag). Exceptions it raises
    are logged and swallowed.
    """

    def __init__(
        self,
        api_client: ApiClient,
        target: WatchTarget,
        *,
        on_change: Callable[[Reflector], None] | None = None,
        clock: Clock | None = None,
        timings: ReflectorTimings | None = None,
        wait: WaitFunction = event_wait,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.api_client = api_client
        self.target = target
        self._on_change = on_change
        self._clock = clock or SystemClock()
        self.timings = timings or ReflectorTimings()
        self._wait = wait
        self._backoff = Backoff(self.timings.backoff_base, self.timings.backoff_cap, rand)
        self._lock = threading.Lock()
        self._items: dict[ObjectKey, dict[str, Any]] = {}
        self._view: Mapping[ObjectKey, Mapping[str, Any]] | None = None
        self._status = ResourceStatus(
            AreaState.PENDING, f"{target.describe()}: not listed yet", self._clock.now()
        )
        self._resource_version = ""
        self._had_data = False
        self._stop = threading.Event()
        self._response: urllib3.HTTPResponse | None = None
        self._thread: threading.Thread | None = None
        self.ready = threading.Event()
        """Set once the first list attempt has finished, whatever its outcome."""
        self.stats = ReflectorStats()

    # -- public API ------------------------------------------------------------------------------

    def start(self) -> None:
        """Start the reflector thread (once)."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(
            target=self._run, name=f"reflector {self.target.describe()}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread: wake any wait, cut an open watch, and join."""
        self._stop.set()
        with self._lock:
            response = self._response
        if response is not None:
            _shutdown(response)
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        """True while the reflector thread runs."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def status(self) -> ResourceStatus:
        """The current read state of this collection."""
        with self._lock:
            return self._status

    @property
    def resource_version(self) -> str:
        """The last resourceVersion seen (from the list, an event or a bookmark)."""
        with self._lock:
            return self._resource_version

    def items(self) -> Mapping[ObjectKey, Mapping[str, Any]]:
        """A read-only view of the objects at this moment; later changes do not show through it.

        Objects are never mutated after they are stored (updates replace them), so the view shares
        them instead of copying each one.
        """
        with self._lock:
            if self._view is None:
                self._view = MappingProxyType(dict(self._items))
            return self._view

    def snapshot(self) -> tuple[Mapping[ObjectKey, Mapping[str, Any]], ResourceStatus]:
        """Objects and status taken together under one lock."""
        with self._lock:
            if self._view is None:
                self._view = MappingProxyType(dict(self._items))
            return self._view, self._status

    # -- the thread ------------------------------------------------------------------------------

    def _run(self) -> None:
        need_list = True
        gone_streak = 0
        while not self._stop.is_set():
            try:
                if need_list:
                    self._list()
                    need_list = False
                self._watch()
                gone_streak = 0
            except GoneError:
                # Our resourceVersion fell out of the server's window: the only safe move is a relist.
                # Back off only if that keeps happening without a watch in between (a confused server).
                self.stats.gone += 1
                gone_streak += 1
                need_list = True
                if gone_streak > 1 and self._sleep(self._backoff.next_delay()):
                    break
            except Exception as exc:  # the thread must survive anything
                delay = self._failed(exc)
                if isinstance(exc, ApiException | WatchErrorEvent | ValueError):
                    need_list = True
                if self._sleep(delay):
                    break
        self.ready.set()

    def _sleep(self, seconds: float) -> bool:
        """Wait, returning True if we were asked to stop meanwhile."""
        if seconds <= 0:
            return self._stop.is_set()
        try:
            return bool(self._wait(self._stop, seconds))
        except Exception:  # a faulty injected wait must not kill the thread
            log.exception("reflector wait function failed")
            return self._stop.wait(seconds)

    def _failed(self, exc: BaseException) -> float:
        """Record a failure as status and return how long to wait before the next attempt."""
        with self._lock:
            had_data = self._had_data
        state, message = classify(exc, self.target, had_data=had_data)
        if state is AreaState.NOT_INSTALLED:
            delay = self.timings.recheck_not_installed
        elif state is AreaState.FORBIDDEN:
            delay = self.timings.recheck_forbidden
        else:
            delay = self._backoff.next_delay()
        if state is AreaState.NOT_INSTALLED or state is AreaState.FORBIDDEN:
            # Not being allowed to see something is not "having" it: drop what we held.
            self._replace({}, "")
        log.debug("%s (retry in %.1fs)", message, delay)
        # Ready before the notification, so the feed's builder sees this collection as answered.
        self.ready.set()
        self._set_status(state, message)
        return delay

    def _set_status(self, state: AreaState, message: str = "") -> None:
        with self._lock:
            if self._status.state is state and self._status.message == message:
                return
            self._status = ResourceStatus(state, message, self._clock.now())
        self._notify()

    def _replace(self, items: dict[ObjectKey, dict[str, Any]], resource_version: str) -> bool:
        """Swap in a fresh list; return True if the objects changed."""
        with self._lock:
            changed = items != self._items
            self._items = items
            self._resource_version = resource_version
            if changed:
                self._view = None
        return changed

    def _list(self) -> None:
        result = list_objects(self.api_client, self.target)
        self.stats.lists += 1
        changed = self._replace(result.items, result.resource_version)
        with self._lock:
            self._had_data = True
            was_ok = self._status.state is AreaState.OK
            if not was_ok:
                self._status = ResourceStatus(AreaState.OK, "", self._clock.now())
        self._backoff.reset()
        self.ready.set()
        if changed or not was_ok:
            self._notify()

    def _watch(self) -> None:
        timings = self.timings
        started = time.monotonic()
        response = open_watch(
            self.api_client,
            self.target,
            self.resource_version,
            timeout_seconds=timings.watch_timeout,
            read_timeout=timings.watch_timeout + timings.read_slack,
        )
        with self._lock:
            self._response = response
        if self._stop.is_set():
            _shutdown(response)
        self.stats.watches += 1
        # The request succeeded: whatever went wrong before is over.
        self._set_status(AreaState.OK)
        seen = 0
        clean = False
        try:
            for event in iter_events(response):
                seen += 1
                self._apply(event.type, event.obj)
            clean = True
        except (urllib3.exceptions.HTTPError, http.client.HTTPException, OSError):
            # A dropped or idle connection: resume from the last resourceVersion, it loses nothing.
            if self._stop.is_set():
                return
            clean = True
        finally:
            with self._lock:
                self._response = None
            if clean:
                response.release_conn()
            else:
                response.close()
        self.stats.reconnects += 1
        elapsed = time.monotonic() - started
        if seen or elapsed >= timings.quick_end:
            self._backoff.reset()
        elif not self._stop.is_set():
            # A server that ends every watch at once would otherwise make us spin; back off instead.
            self._sleep(self._backoff.next_delay())

    def _apply(self, kind: str, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        version = str(meta.get("resourceVersion") or "")
        if kind == "BOOKMARK":
            with self._lock:
                self._resource_version = version or self._resource_version
            return
        if kind not in ("ADDED", "MODIFIED", "DELETED"):
            return
        key = object_key(obj)
        with self._lock:
            if kind == "DELETED":
                self._items.pop(key, None)
            else:
                self._items[key] = obj
            self._view = None
            self._resource_version = version or self._resource_version
        self.stats.events += 1
        self._notify()

    def _notify(self) -> None:
        if self._on_change is None:
            return
        try:
            self._on_change(self)
        except Exception:  # a subscriber bug must not stop the reflector
            log.exception("reflector change callback failed for %s", self.target.describe())


def _shutdown(response: urllib3.HTTPResponse) -> None:
    """Unblock a thread reading ``response`` from another thread."""
    # Already closed or released means there is nothing left to unblock.
    with contextlib.suppress(Exception):
        response.shutdown()
