"""The dashboard's source asks a failed vault or ARM read again sooner than the feed's minute, and
tells when a ``ctrl+r`` read came back (issue 13 item 21).

A typed fake stands for the feed and a manual scheduler for the timers: nothing sleeps, the test fires
the scheduled retries itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from tests.ui import sitedata
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState
from tui.ui.source import RETRY_DELAYS, Deliver, FeedSource, SourceInfo


@dataclass(frozen=True)
class FakeSnapshot:
    status: ResourceStatus


def _read(state: AreaState) -> FakeSnapshot:
    return FakeSnapshot(ResourceStatus(state, "" if state is AreaState.OK else "connection refused"))


@dataclass
class FakeFeed:
    vault_snapshot: FakeSnapshot | None = None
    arm_snapshot: FakeSnapshot | None = None
    asked: list[str] = field(default_factory=list)
    subscriber: Deliver | None = None

    def start(self) -> None:
        self.asked.append("start")

    def stop(self, timeout: float = 5.0) -> None:
        self.asked.append("stop")

    def subscribe(self, callback: Deliver) -> Callable[[], None]:
        self.subscriber = callback
        return lambda: None

    def refresh_vault(self) -> None:
        self.asked.append("vault")

    def refresh_arm(self) -> None:
        self.asked.append("arm")

    def rebuild(self) -> None:
        self.asked.append("rebuild")

    def release_side_reads(self) -> None:
        self.asked.append("release")

    def deliver(self, state: ClusterState) -> None:
        assert self.subscriber is not None
        self.subscriber(state)


@dataclass
class ManualSchedule:
    """Remembers what was scheduled; :meth:`fire` runs the oldest one."""

    queued: list[tuple[float, Callable[[], None]]] = field(default_factory=list)
    cancelled: int = 0

    def __call__(self, delay: float, action: Callable[[], None]) -> Callable[[], None]:
        entry = (delay, action)
        self.queued.append(entry)

        def cancel() -> None:
            if entry in self.queued:
                self.queued.remove(entry)
                self.cancelled += 1

        return cancel

    @property
    def delays(self) -> list[float]:
        return [delay for delay, _ in self.queued]

    def fire(self) -> None:
        _delay, action = self.queued.pop(0)
        action()


def _source(feed: FakeFeed, schedule: ManualSchedule) -> tuple[FeedSource, list[ClusterState]]:
    source = FeedSource(feed, SourceInfo("test"), schedule=schedule)
    delivered: list[ClusterState] = []
    source.start(delivered.append)
    return source, delivered


def test_a_failed_vault_read_is_asked_again_after_5_10_20_40_seconds(steady: ClusterState) -> None:
    feed, schedule = FakeFeed(), ManualSchedule()
    source, delivered = _source(feed, schedule)
    feed.vault_snapshot = _read(AreaState.UNREACHABLE)
    feed.deliver(steady)
    assert delivered == [steady] and schedule.delays == [5.0]
    feed.deliver(steady)  # the same failed read seen again with a rebuild: no second timer
    assert schedule.delays == [5.0]
    for expected in RETRY_DELAYS[1:]:
        schedule.fire()
        assert feed.asked.count("vault") == RETRY_DELAYS.index(expected)
        feed.vault_snapshot = _read(AreaState.ERROR)  # the retry failed too
        feed.deliver(steady)
        assert schedule.delays == [expected]
    schedule.fire()
    feed.vault_snapshot = _read(AreaState.UNREACHABLE)
    feed.deliver(steady)
    assert schedule.delays == []  # after 40 s the feed's own interval takes over
    assert source.vault_retry.asked == len(RETRY_DELAYS)


def test_a_good_read_resets_the_retries_and_forbidden_is_not_retried(steady: ClusterState) -> None:
    feed, schedule = FakeFeed(), ManualSchedule()
    source, _ = _source(feed, schedule)
    feed.vault_snapshot = _read(AreaState.UNREACHABLE)
    feed.deliver(steady)
    schedule.fire()
    feed.vault_snapshot = _read(AreaState.OK)
    feed.deliver(steady)
    assert schedule.delays == []
    feed.vault_snapshot = _read(AreaState.UNREACHABLE)  # down again: back to 5 s
    feed.deliver(steady)
    assert schedule.delays == [5.0]
    schedule.fire()
    feed.arm_snapshot = _read(AreaState.FORBIDDEN)
    feed.vault_snapshot = _read(AreaState.FORBIDDEN)
    feed.deliver(steady)
    assert schedule.delays == []
    feed.arm_snapshot = _read(AreaState.ERROR)
    feed.deliver(steady)
    assert schedule.delays == [5.0]
    schedule.fire()
    assert feed.asked.count("arm") == 1
    feed.arm_snapshot = _read(AreaState.ERROR)
    feed.deliver(steady)
    source.stop()
    assert schedule.delays == [] and schedule.cancelled == 1 and "stop" in feed.asked


def test_refresh_is_pending_until_the_vault_read_comes_back(steady: ClusterState) -> None:
    feed, schedule = FakeFeed(), ManualSchedule()
    source, _ = _source(feed, schedule)
    feed.vault_snapshot = _read(AreaState.OK)
    assert not source.refresh_pending
    source.refresh()
    assert feed.asked[-3:] == ["vault", "arm", "rebuild"]
    assert source.refresh_pending
    feed.deliver(steady)  # a rebuild with the old vault read: still waiting
    assert source.refresh_pending
    feed.vault_snapshot = _read(AreaState.OK)
    assert not source.refresh_pending
    # No vault configured: ARM's read is what ctrl+r waits for.
    feed.vault_snapshot, feed.arm_snapshot = None, _read(AreaState.OK)
    source.refresh()
    assert source.refresh_pending
    feed.arm_snapshot = _read(AreaState.UNREACHABLE)
    assert not source.refresh_pending


def test_a_broken_cluster_connection_reads_the_vault_and_arm_at_once(steady: ClusterState) -> None:
    feed, schedule = FakeFeed(), ManualSchedule()
    _source(feed, schedule)
    feed.deliver(steady)
    assert "vault" not in feed.asked and "arm" not in feed.asked
    site = sitedata.make_site(sitedata.NOW)
    broken = sitedata.reconnecting_state(site, sitedata.NOW, sitedata.NOW - timedelta(seconds=5))
    feed.deliver(broken)
    assert feed.asked.count("vault") == 1 and feed.asked.count("arm") == 1
    feed.deliver(broken)  # still broken: once per outage
    assert feed.asked.count("vault") == 1
    feed.deliver(steady)
    feed.deliver(broken)  # a new outage
    assert feed.asked.count("vault") == 2 and feed.asked.count("arm") == 2
