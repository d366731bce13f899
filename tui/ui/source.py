"""Where the dashboard's states come from: the :class:`StateSource` protocol and its two implementations.

Production wraps the live :class:`~tui.cluster.live.ClusterFeed` in a :class:`FeedSource`; tests,
screenshots and benchmarks use a :class:`StaticSource` and push states when they choose, through the same
``deliver`` callback the feed calls. The app only ever calls these methods from thread workers, so a
source may block in ``start``/``stop``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tui.core.model.state import ClusterState

if TYPE_CHECKING:
    from tui.cluster.live import ClusterFeed

Deliver = Callable[[ClusterState], None]
"""Called with every new state, from any thread."""


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
    """

    def __init__(
        self, feed: ClusterFeed, info: SourceInfo, on_stop: Callable[[], None] | None = None
    ) -> None:
        self.feed = feed
        self.info = info
        self._on_stop = on_stop
        self._unsubscribe: Callable[[], None] | None = None
        self._stopped = False
        self._lock = threading.Lock()

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
            self._unsubscribe = self.feed.subscribe(deliver)
        self.feed.start()

    def stop(self) -> None:
        """Unsubscribe, stop the feed and run ``on_stop`` once."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            unsubscribe, self._unsubscribe = self._unsubscribe, None
        if unsubscribe is not None:
            unsubscribe()
        try:
            self.feed.stop(timeout=2.0)
        finally:
            if self._on_stop is not None:
                self._on_stop()

    def first_frame_shown(self) -> None:
        """The first state is on screen: the feed may start its vault and ARM reads (never blocks)."""
        self.feed.release_side_reads()

    def refresh(self) -> None:
        """Re-read the vault and ARM, and rebuild the state."""
        self.feed.refresh_vault()
        self.feed.refresh_arm()
        self.feed.rebuild()


class StaticSource:
    """A :class:`StateSource` fed by hand: :meth:`push` delivers a state as the feed would."""

    def __init__(self, state: ClusterState | None = None, info: SourceInfo | None = None) -> None:
        self.info = info or SourceInfo("test", "https://127.0.0.1")
        self._state = state
        self._deliver: Deliver | None = None
        self.started = threading.Event()
        self.stopped = threading.Event()
        self.refreshes = 0

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

    def refresh(self) -> None:
        """Count the request and deliver the current state again."""
        self.refreshes += 1
        if self._deliver is not None and self._state is not None:
            self._deliver(self._state)

    def push(self, state: ClusterState) -> None:
        """Deliver ``state`` (from any thread) if started; it becomes the current state either way."""
        self._state = state
        if self._deliver is not None:
            self._deliver(state)
