"""The dashboard's first states read ahead in a child, then the live feed (design §10.1,
``tui.ui.source.PrefetchedSource``).

Typed fakes stand for the child's states and for the feed; the source's own threads are awaited through
events, never slept on:
- the states read ahead are shown first, and the live feed starts only once the complete one is painted;
- the live feed's partial states never take the screen back to "loading" after a complete state;
- its side reads (vault, ARM) are released by its own first complete state;
- a child that ends without a complete state hands over at once, and the live feed's partial states show;
- stopping before the live feed started ends the child and stops the feed; ``ctrl+r`` waits for the feed.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from collections.abc import Callable

from tests.ui.test_source_retry import FakeFeed
from tui.core.model.state import Area, ClusterState
from tui.ui.source import FeedSource, PrefetchedSource, SourceInfo, cluster_broken
from tui.ui.view.connection import cluster_summary
from tui.ui.view.format import clock_time

TIMEOUT = 10.0


class FakeFirst:
    """The child's states: :meth:`put` hands one over, :meth:`end` ends them."""

    def __init__(self) -> None:
        self._states: queue.Queue[ClusterState | None] = queue.Queue()
        self.finished: list[float] = []
        self.closed = 0

    def put(self, state: ClusterState) -> None:
        self._states.put(state)

    def end(self) -> None:
        self._states.put(None)

    def next(self) -> ClusterState | None:
        return self._states.get(timeout=TIMEOUT)

    def finish(self, timeout: float) -> None:
        self.finished.append(timeout)

    def close(self) -> None:
        self.closed += 1
        self._states.put(None)


class Screen:
    """What the app was given, in order; waits for the n-th state."""

    def __init__(self) -> None:
        self.states: list[ClusterState] = []
        self._changed = threading.Condition()

    def deliver(self, state: ClusterState) -> None:
        with self._changed:
            self.states.append(state)
            self._changed.notify_all()

    def wait_for(self, count: int) -> list[ClusterState]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.states) >= count, TIMEOUT), self.states
            return list(self.states)


class StartedFeed(FakeFeed):
    """The fake feed, telling when it was started."""

    def __init__(self) -> None:
        super().__init__()
        self.started = threading.Event()

    def start(self) -> None:
        super().start()
        self.started.set()


def partial(state: ClusterState) -> ClusterState:
    return dataclasses.replace(state, loading=("secrets",))


def _source() -> tuple[PrefetchedSource, FakeFirst, StartedFeed, Screen]:
    first, feed, screen = FakeFirst(), StartedFeed(), Screen()
    live = FeedSource(feed, SourceInfo("ctx", "https://api"))
    source = PrefetchedSource(first, lambda: live, live.info, abandon=live.stop)
    source.start(screen.deliver)
    return source, first, feed, screen


def _wait(check: Callable[[], bool]) -> None:
    done = threading.Event()

    def poll() -> None:
        while not check():
            if done.wait(0.01):
                return
        done.set()

    thread = threading.Thread(target=poll)
    thread.start()
    thread.join(TIMEOUT)
    done.set()
    assert check()


def test_the_states_read_ahead_come_first_and_the_feed_starts_once_one_is_painted(
    steady: ClusterState,
) -> None:
    source, first, feed, screen = _source()
    assert source.info == SourceInfo("ctx", "https://api")
    first.put(partial(steady))
    first.put(steady)
    assert screen.wait_for(2) == [partial(steady), steady]
    assert not feed.started.is_set() and not source.live_started  # not before the paint
    source.refresh()  # ctrl+r before the feed runs: nothing to ask yet
    assert "vault" not in feed.asked and not source.refresh_pending

    source.first_frame_shown()  # the app painted the complete state read ahead
    assert feed.started.wait(TIMEOUT)
    assert first.finished  # the child's decoded copy was waited for before the feed loaded its own
    assert "release" not in feed.asked  # the side reads wait for the feed's own complete state

    newer = dataclasses.replace(steady, namespace="newer")
    feed.deliver(partial(newer))  # the feed's own lists arriving: never drawn over a complete state
    feed.deliver(newer)
    assert screen.wait_for(3)[2:] == [newer]
    assert feed.asked.count("release") == 1  # released by the feed's first complete state
    feed.deliver(partial(newer))  # later partial states are the feed's business (a relist): shown
    assert screen.wait_for(4)[3] == partial(newer)

    source.refresh()
    assert "vault" in feed.asked and "arm" in feed.asked and "rebuild" in feed.asked
    source.stop()
    assert first.closed == 1 and "stop" in feed.asked


def test_a_child_that_ends_without_a_complete_state_hands_over_at_once(steady: ClusterState) -> None:
    source, first, feed, screen = _source()
    first.put(partial(steady))
    first.end()  # killed, or a bug: no complete state will come
    assert feed.started.wait(TIMEOUT)
    feed.deliver(partial(steady))  # nothing complete on screen: the feed's partial states show
    feed.deliver(steady)
    assert screen.wait_for(3) == [partial(steady), partial(steady), steady]
    assert "release" not in feed.asked  # the app's first frame of the feed's state releases them
    source.first_frame_shown()
    assert feed.asked.count("release") == 1
    source.stop()


def test_stopping_before_the_feed_started_ends_the_child_and_stops_the_feed(steady: ClusterState) -> None:
    source, first, feed, screen = _source()
    first.put(steady)
    screen.wait_for(1)
    source.stop()
    assert first.closed == 1 and "stop" in feed.asked
    source.first_frame_shown()  # a paint after the stop starts nothing
    source.stop()  # twice is harmless
    _wait(lambda: not any(t.name == "live feed start" for t in threading.enumerate()))
    assert not feed.started.is_set() and not source.live_started


class FailingOnceFeed(StartedFeed):
    """A feed whose first making fails, as connecting would (a token file rotated meanwhile)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def source(self) -> FeedSource:
        self.attempts += 1
        if self.attempts == 1:
            raise OSError("token file gone")
        return FeedSource(self, SourceInfo("ctx"))


def test_a_live_feed_that_fails_to_start_is_said_and_started_again(steady: ClusterState) -> None:
    first, feed, screen = FakeFirst(), FailingOnceFeed(), Screen()
    source = PrefetchedSource(first, feed.source, SourceInfo("ctx"), retry=(0.0, 0.0))
    source.start(screen.deliver)
    first.put(steady)
    screen.wait_for(1)
    source.first_frame_shown()
    assert feed.started.wait(TIMEOUT)  # the second attempt
    assert feed.attempts == 2
    said = screen.wait_for(2)[1]  # the failure, on screen: the cluster is being reconnected to
    assert cluster_summary(said).text == f"reconnecting since {clock_time(steady.taken_at)}"
    assert cluster_broken(said) and not cluster_broken(steady)
    assert said.opcua == steady.opcua  # the entries read ahead stay
    vault = [view for view in said.areas if view.area is Area.VAULT]
    assert vault == [view for view in steady.areas if view.area is Area.VAULT]
    feed.deliver(steady)
    assert screen.wait_for(3)[2] == steady  # the live feed's state replaces it
    assert cluster_summary(steady).text == "live"
    source.stop()


def test_the_state_read_ahead_is_let_go_once_the_live_feed_has_its_own(steady: ClusterState) -> None:
    # Kept only to say "reconnecting" over it: held for the dashboard's life it kept every entry read
    # ahead alive (+7 MiB resident at 2,000 entries, found by bench_start).
    source, first, feed, screen = _source()
    first.put(steady)
    screen.wait_for(1)
    assert source._last_ahead is steady
    source.first_frame_shown()
    assert feed.started.wait(TIMEOUT)
    feed.deliver(partial(steady))
    assert source._last_ahead is steady  # not yet: the live feed has nothing complete
    feed.deliver(dataclasses.replace(steady, namespace="newer"))
    screen.wait_for(2)
    assert source._last_ahead is None
    source.stop()


def test_a_stop_while_the_live_feed_is_retried_releases_what_it_would_have_used(
    steady: ClusterState,
) -> None:
    first, screen = FakeFirst(), Screen()
    tried, abandoned = threading.Event(), threading.Event()

    def never() -> FeedSource:
        tried.set()
        raise OSError("cluster gone")

    # A retry far off: the stop, not the delay, must end the wait.
    source = PrefetchedSource(first, never, SourceInfo("ctx"), abandon=abandoned.set, retry=(600.0, 600.0))
    source.start(screen.deliver)
    first.put(steady)
    screen.wait_for(1)
    source.first_frame_shown()
    assert tried.wait(TIMEOUT)
    source.stop()
    assert abandoned.wait(TIMEOUT)  # the vault reader's worker and the like are ended
    _wait(lambda: not any(t.name == "live feed start" for t in threading.enumerate()))
    assert source._made() is None
