"""Where the dashboard's states come from: the :class:`StateSource` protocol and its implementations.

Production wraps the live :class:`~tui.cluster.live.ClusterFeed` in a :class:`FeedSource` (behind a
:class:`PrefetchedSource` when a child process reads the first states ahead); tests,
screenshots and benchmarks use a :class:`StaticSource` and push states when they choose, through the same
``deliver`` callback the feed calls. The app only ever calls these methods from thread workers, so a
source may block in ``start``/``stop``.

A failed vault or ARM read is asked again sooner than the feed's interval (a minute): after 5, 10, 20
and 40 s, then the interval takes over (:class:`SideReadRetry`). When the cluster connection breaks, the
vault and ARM are read at once too: they often share the network path that broke, and a header saying
``vault ok`` for up to a minute after both went away misleads. ``refresh_pending`` tells the app when
a ``ctrl+r`` read has come back, so it can say so instead of leaving the user guessing.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import Area, ClusterState

log = logging.getLogger(__name__)

Deliver = Callable[[ClusterState], None]
"""Called with every new state, from any thread."""

Cancel = Callable[[], None]
Schedule = Callable[[float, Callable[[], None]], Cancel]
"""Run a callable after so many seconds, on some other thread; returns a way to cancel it."""

RETRY_DELAYS = (5.0, 10.0, 20.0, 40.0)
"""Seconds after a failed vault or ARM read before asking again; after these, the feed's interval."""

RETRIED_STATES = frozenset((AreaState.ERROR, AreaState.UNREACHABLE))
"""Read failures worth retrying soon (a forbidden read stays forbidden until someone changes RBAC)."""

REFRESH_WAIT = 60.0
"""After this long a ``ctrl+r`` read is no longer reported as pending, whatever became of it."""


def timer_schedule(delay: float, action: Callable[[], None]) -> Cancel:
    """The default :data:`Schedule`: a daemon :class:`threading.Timer`."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.name = "aio-certs retry"
    timer.start()
    return timer.cancel


class _Snapshot(Protocol):
    @property
    def status(self) -> ResourceStatus: ...


class Feed(Protocol):
    """What :class:`FeedSource` uses of :class:`~tui.cluster.live.ClusterFeed` (tests pass a fake)."""

    @property
    def vault_snapshot(self) -> _Snapshot | None:
        """The latest vault read."""
        ...

    @property
    def arm_snapshot(self) -> _Snapshot | None:
        """The latest ARM read."""
        ...

    def start(self) -> None:
        """Start the feed's threads."""
        ...

    def stop(self, timeout: float = ...) -> None:
        """Stop them."""
        ...

    def subscribe(self, callback: Deliver) -> Callable[[], None]:
        """Call ``callback`` with every new state; returns the unsubscribe."""
        ...

    def refresh_vault(self) -> None:
        """Read the vault again soon."""
        ...

    def refresh_arm(self) -> None:
        """Read ARM again soon."""
        ...

    def rebuild(self) -> None:
        """Rebuild the state soon."""
        ...

    def release_side_reads(self) -> None:
        """Let the first vault and ARM reads start."""
        ...

    def defer_builds(self, seconds: float) -> None:
        """Hold new states back for ``seconds`` (someone is typing)."""
        ...


def cluster_broken(state: ClusterState) -> bool:
    """Some watch of the cluster is reconnecting or unreachable (the vault's own state aside)."""
    broken = (AreaState.RECONNECTING, AreaState.UNREACHABLE)
    return any(
        status.state in broken
        for view in state.areas
        if view.area is not Area.VAULT
        for _key, status in view.parts
    )


class SideReadRetry:
    """Asks a failed side read (the vault, or ARM) again after 5, 10, 20 and 40 s instead of a minute.

    :meth:`saw` is given the latest snapshot of the read with each new state; a snapshot not seen before
    is a new read. A failed one schedules the next retry (one at a time); a good one resets the count.
    """

    def __init__(
        self, ask: Callable[[], None], schedule: Schedule, delays: tuple[float, ...] = RETRY_DELAYS
    ) -> None:
        self._ask = ask
        self._schedule = schedule
        self._delays = delays
        self._lock = threading.Lock()
        self._seen: object | None = None
        self._failures = 0
        self._pending: Cancel | None = None
        self.asked = 0
        """How many retries were asked for (tests read it)."""

    def saw(self, snapshot: _Snapshot | None) -> None:
        """Look at the latest snapshot of the read (None: not read yet, or nothing to read)."""
        with self._lock:
            if snapshot is None or snapshot is self._seen:
                return
            self._seen = snapshot
            if snapshot.status.state not in RETRIED_STATES:
                self._failures = 0
                return
            if self._pending is not None or self._failures >= len(self._delays):
                return
            delay = self._delays[self._failures]
            self._failures += 1
            self._pending = self._schedule(delay, self._fire)

    def _fire(self) -> None:
        with self._lock:
            self._pending = None
            self.asked += 1
        self._ask()

    def cancel(self) -> None:
        """Drop a scheduled retry (the source stops)."""
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            pending()


@dataclass(frozen=True)
class SourceInfo:
    """Where the states come from, for the header."""

    context: str
    server: str = ""


class StateSource(Protocol):
    """A supplier of :class:`ClusterState` snapshots for the dashboard."""

    info: SourceInfo

    def start(self, deliver: Deliver) -> None:
        """Begin delivering states to ``deliver`` (the current one, if any, straight away)."""
        ...

    def stop(self) -> None:
        """Stop delivering and release connections; safe to call more than once."""
        ...

    def refresh(self) -> None:
        """Ask for a fresh state (re-read the vault, rebuild) without blocking."""
        ...


class FeedSource:
    """A :class:`StateSource` over a live :class:`~tui.cluster.live.ClusterFeed`.

    ``on_stop`` runs after the feed stops (closing the API client, stopping an embedded demo...).
    ``schedule`` runs the early retries of failed vault and ARM reads (tests pass a manual one).
    """

    def __init__(
        self,
        feed: Feed,
        info: SourceInfo,
        on_stop: Callable[[], None] | None = None,
        *,
        schedule: Schedule = timer_schedule,
    ) -> None:
        self.feed = feed
        self.info = info
        self._on_stop = on_stop
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self.vault_retry = SideReadRetry(feed.refresh_vault, schedule)
        self.arm_retry = SideReadRetry(feed.refresh_arm, schedule)
        self._refresh_marks: tuple[object | None, object | None, float] | None = None
        self._cluster_broken = False

    def prestart(self) -> None:
        """Start the feed's threads before anyone subscribes (returns at once).

        The command calls this before it builds the app, so listing the cluster overlaps with
        importing and mounting the UI; :meth:`start` later subscribes and gets the current state.
        """
        with self._lock:
            if self._stopped:
                return
        self.feed.start()

    def start(self, deliver: Deliver) -> None:
        """Subscribe, then start the feed's threads if :meth:`prestart` did not (returns at once)."""
        with self._lock:
            if self._stopped or self._unsubscribe is not None:
                return

            def deliver_and_watch(state: ClusterState) -> None:
                # On the feed's builder thread: look at the side reads, then hand the state on.
                broken = cluster_broken(state)
                if broken and not self._cluster_broken:
                    self.feed.refresh_vault()
                    self.feed.refresh_arm()
                self._cluster_broken = broken
                self.vault_retry.saw(self.feed.vault_snapshot)
                self.arm_retry.saw(self.feed.arm_snapshot)
                deliver(state)

            self._unsubscribe = self.feed.subscribe(deliver_and_watch)
        self.feed.start()

    def stop(self) -> None:
        """Unsubscribe, stop the feed and run ``on_stop`` once."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        self.vault_retry.cancel()
        self.arm_retry.cancel()
        if unsubscribe is not None:
            unsubscribe()
        try:
            self.feed.stop(timeout=2.0)
        finally:
            if self._on_stop is not None:
                self._on_stop()

    def defer_builds(self, seconds: float) -> None:
        """Someone is typing: the feed holds new states back for ``seconds`` (within its own cap)."""
        self.feed.defer_builds(seconds)

    def first_frame_shown(self) -> None:
        """The first complete state (every collection listed; the app does not call this for the
        partial states drawn before) is on screen: the feed may start its vault and ARM reads (never
        blocks)."""
        self.feed.release_side_reads()

    def refresh(self) -> None:
        """Re-read the vault and ARM, and rebuild the state."""
        self._refresh_marks = (self.feed.vault_snapshot, self.feed.arm_snapshot, time.monotonic())
        self.feed.refresh_vault()
        self.feed.refresh_arm()
        self.feed.rebuild()

    @property
    def refresh_pending(self) -> bool:
        """A :meth:`refresh` is still waiting for its vault (or, without a vault, ARM) read to come back."""
        marks = self._refresh_marks
        if marks is None:
            return False
        vault, arm, asked_at = marks
        if time.monotonic() - asked_at > REFRESH_WAIT:
            self._refresh_marks = None
            return False
        waiting = (vault is not None and self.feed.vault_snapshot is vault) or (
            vault is None and arm is not None and self.feed.arm_snapshot is arm
        )
        if not waiting:
            self._refresh_marks = None
        return waiting


class FirstStates(Protocol):
    """States read ahead of the live feed by someone else (a child process), the last one complete."""

    def next(self) -> ClusterState | None:
        """The next state, waiting for it; None once there are no more (the last one was complete, or the
        reader gave up)."""
        ...

    def finish(self, timeout: float) -> None:
        """Wait, at most ``timeout`` seconds, until the reader is done with what it shares with the live
        feed (the decoded copy on disk it saves before it ends)."""
        ...

    def close(self) -> None:
        """Stop reading ahead (ends the reader); safe to call more than once."""
        ...


LIVE_RETRY = (1.0, 30.0)
"""Seconds before the live feed is started again after a failed start, doubling up to the second."""

FINISH_WAIT = 2.0
"""How long the live feed waits for the reader ahead to save its decodes before starting without them."""


def reconnecting(state: ClusterState, reason: str) -> ClusterState:
    """``state`` with every cluster read marked as reconnecting since the state was read, for ``reason``
    (the vault's and ARM's own reads untouched): what the screen says while a live feed cannot start."""
    status = ResourceStatus(AreaState.RECONNECTING, reason, state.taken_at)
    areas = tuple(
        view
        if view.area is Area.VAULT
        else dataclasses.replace(
            view,
            state=AreaState.RECONNECTING,
            message=reason,
            parts=tuple((key, status) for key, _ in view.parts),
        )
        for view in state.areas
    )
    return dataclasses.replace(state, areas=areas)


class PrefetchedSource:
    """A :class:`FeedSource` whose first states were read ahead, in a child process (design §10.1).

    The dashboard's interpreter is its bottleneck at start: the cluster's lists, their JSON and the first
    build took the processor from importing and mounting the UI. A child forked at start lists and builds
    on the other core while this process imports the UI; its states are shown first. Once the child's
    complete state has been painted (:meth:`first_frame_shown`) the live feed is made (``make_live``, which
    may connect: never on the UI thread, never under this source's lock) and started, and its own partial
    states are held back until its first complete one, so the screen never goes back to "loading". When
    the child ends without a complete state (killed, a bug) the live feed starts at once and everything it
    builds is shown, partial states included. ``abandon`` releases what ``make_live`` would have used when
    the source stops before a live feed was made.
    """

    def __init__(
        self,
        first: FirstStates,
        make_live: Callable[[], FeedSource],
        info: SourceInfo,
        *,
        abandon: Callable[[], None] | None = None,
        retry: tuple[float, float] = LIVE_RETRY,
    ) -> None:
        self.info = info
        self._retry = retry
        self._first = first
        self._make_live = make_live
        self._abandon = abandon
        self._live: FeedSource | None = None
        self._lock = threading.Lock()
        self._deliver: Deliver | None = None
        self._stopped = False
        self._live_started = False
        self._handed_over = False  # a complete state read ahead was delivered
        self._live_complete = False  # the live feed delivered its first complete state
        self._stop_requested = threading.Event()
        self._last_ahead: ClusterState | None = None

    @property
    def live_started(self) -> bool:
        """Whether the live feed has been asked for (tests and the benchmark read it)."""
        with self._lock:
            return self._live_started

    def _made(self) -> FeedSource | None:
        with self._lock:
            return self._live

    def start(self, deliver: Deliver) -> None:
        """Deliver the states read ahead, from a thread of this source (returns at once)."""
        with self._lock:
            if self._stopped or self._deliver is not None:
                return
            self._deliver = deliver
        threading.Thread(target=self._read_ahead, args=(deliver,), name="first states", daemon=True).start()

    def _read_ahead(self, deliver: Deliver) -> None:
        while True:
            state = self._first.next()
            if state is None:
                break
            with self._lock:
                if self._stopped:
                    return
                self._last_ahead = state
                if state.complete:
                    # Before the app can paint it and call first_frame_shown.
                    self._handed_over = True
            deliver(state)
            if state.complete:
                return
        # Ended without a complete state: the live feed's states, every one of them, from now on.
        self._start_live()

    def first_frame_shown(self) -> None:
        """The first complete state is on screen: start the live feed (the state read ahead was shown), or
        let it start its side reads (it was the live feed's). Never blocks."""
        with self._lock:
            handed_over, started, live = self._handed_over, self._live_started, self._live
        if handed_over and not started:
            threading.Thread(target=self._start_live, name="live feed start", daemon=True).start()
        elif not handed_over and live is not None:
            live.first_frame_shown()

    def _start_live(self) -> None:
        with self._lock:
            if self._stopped or self._live_started:
                return
            self._live_started = True
        self._first.finish(FINISH_WAIT)
        delay = self._retry[0]
        while True:
            try:
                live = self._make_live()
                break
            except Exception as exc:
                # Connecting here failed where the child connected a moment ago with the same kubeconfig
                # (a token file rotated between the two, say): the screen says the cluster is being
                # reconnected to (its state is the child's, as of its read), and the live feed is tried
                # again, as a reflector would, until it is made or the source stops.
                log.exception("making the live feed failed; trying again in %.0f s", delay)
                self._say_reconnecting(f"{type(exc).__name__}: {exc}".splitlines()[0])
            if self._stop_requested.wait(delay):
                if self._abandon is not None:
                    self._abandon()
                return
            delay = min(delay * 2, self._retry[1])
        with self._lock:
            stopped = self._stopped
            if not stopped:
                self._live = live
        if stopped:  # stopped while the feed was being made: it never starts
            live.stop()
            return
        live.start(self._deliver_live)

    def _say_reconnecting(self, reason: str) -> None:
        with self._lock:
            deliver, last = self._deliver, self._last_ahead
            if deliver is None or last is None or self._stopped or self._live_complete:
                return
        deliver(reconnecting(last, reason))

    def _deliver_live(self, state: ClusterState) -> None:
        with self._lock:
            deliver, live = self._deliver, self._live
            if deliver is None or live is None or self._stopped:
                return
            if self._handed_over and not self._live_complete and not state.complete:
                return  # the screen holds a complete state already: no going back to "loading"
            first_complete = state.complete and not self._live_complete
            if state.complete:
                self._live_complete = True
                # The state read ahead was kept only to say "reconnecting" over it; held for the
                # dashboard's life it would keep every entry of it alive (~7 MiB at 2,000 entries).
                self._last_ahead = None
            release = first_complete and self._handed_over
        deliver(state)
        if release:
            # The app said first_frame_shown for the state read ahead; the live feed's side reads (vault,
            # ARM) wait for this one, as they would have for a first frame of their own.
            live.first_frame_shown()

    def stop(self) -> None:
        """End the reader ahead and stop the live feed (made or not); safe to call more than once."""
        with self._lock:
            self._stopped = True
            self._last_ahead = None
            live, self._live = self._live, None
            # A feed being made when the stop comes is stopped, or abandoned, by its maker.
            abandon = self._abandon if not self._live_started else None
            if abandon is not None:
                self._abandon = None
        self._stop_requested.set()
        self._first.close()
        if live is not None:
            live.stop()
        elif abandon is not None:
            abandon()

    def refresh(self) -> None:
        """Ask the live feed for a fresh state; before it runs the state on screen is seconds old and its
        own first read follows at once, so there is nothing to ask."""
        if (live := self._made()) is not None:
            live.refresh()

    @property
    def refresh_pending(self) -> bool:
        """A :meth:`refresh` is still waiting for its read (see :class:`FeedSource`)."""
        live = self._made()
        return live is not None and live.refresh_pending

    def defer_builds(self, seconds: float) -> None:
        """Someone is typing: the live feed, once running, holds new states back (see :class:`FeedSource`)."""
        if (live := self._made()) is not None:
            live.defer_builds(seconds)


class StaticSource:
    """A :class:`StateSource` fed by hand: :meth:`push` delivers a state as the feed would."""

    def __init__(self, state: ClusterState | None = None, info: SourceInfo | None = None) -> None:
        self.info = info or SourceInfo("test", "https://127.0.0.1")
        self._state = state
        self._deliver: Deliver | None = None
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.refreshes = 0
        self.deferrals: list[float] = []
        """The holds :meth:`defer_builds` was asked for, in order."""

    def start(self, deliver: Deliver) -> None:
        """Remember ``deliver`` and hand over the initial state, if one was given."""
        self._deliver = deliver
        self.started.set()
        if self._state is not None:
            deliver(self._state)

    def stop(self) -> None:
        """Stop delivering."""
        self._deliver = None
        self.stopped.set()

    refresh_pending = False
    """A refresh is delivered at once: never pending."""

    def refresh(self) -> None:
        """Count the request and deliver the current state again."""
        self.refreshes += 1
        if self._deliver is not None and self._state is not None:
            self._deliver(self._state)

    def defer_builds(self, seconds: float) -> None:
        """Note the hold (states are pushed by hand here: nothing to hold back)."""
        self.deferrals.append(seconds)

    def push(self, state: ClusterState) -> None:
        """Deliver ``state`` (from any thread) if started; it becomes the current state either way."""
        self._state = state
        if self._deliver is not None:
            self._deliver(state)
