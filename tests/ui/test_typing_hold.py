"""States wait while the user types (issue 14 item 3, typing during churn): applying one costs the UI
thread tens of milliseconds at scale, so a state that arrives while keys come is applied once typing
pauses, or, after ``typing_hold_max``, right after a keystroke's repaint.

The app's monotonic clock is replaced by one the test moves, so what counts as "keys still coming" never
depends on how fast the machine runs the test; the timers only wake the app up to look again.
"""

from __future__ import annotations

import pytest

import tui.ui.app as app_module
from tests.ui import sitedata
from tests.ui.conftest import INFO, Dashboard, screen_text
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.source import StaticSource
from tui.ui.view import connection, header
from tui.ui.view.connection import Summary
from tui.ui.view.levels import Level
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.text_line import TextLine


class Ticks:
    """A monotonic clock that moves only when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks(monkeypatch: pytest.MonkeyPatch) -> Ticks:
    clock = Ticks()
    monkeypatch.setattr(app_module, "monotonic", clock)
    return clock


def _rotated(steady: ClusterState) -> ClusterState:
    return sitedata.rotated_state(steady, sitedata.NOW)


async def test_a_state_waits_while_keys_come_and_is_shown_at_the_pause(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=0.05, typing_hold_max=3600)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "a")
        # Even a rotated root CA, otherwise shown at once, waits for the pause.
        rotated = _rotated(steady)
        source.push(rotated)
        for key in ("b", "c"):  # the timer fires between keys; the clock says they keep coming
            await pilot.pause(0.06)
            assert app.state is steady
            await pilot.press(key)
        await pilot.pause(0.06)
        assert app.state is steady
        assert app.applied == 1
        ticks.now += 0.06  # the pause
        await app.wait_for_state(lambda s: s is rotated, timeout=5)
        assert app.applied == 2
        assert "filter: abc" in screen_text(app)  # every key reached the filter meanwhile


async def test_a_state_held_too_long_is_shown_right_after_a_keystroke(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=3600, typing_hold_max=2.0)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "x")
        changed = sitedata.steady_state()
        source.push(changed)
        await pilot.pause()
        assert app.state is steady
        ticks.now += 1.9
        await pilot.press("y")
        await pilot.pause()
        assert app.state is steady  # not yet two seconds
        ticks.now += 0.2
        await pilot.press("z")
        await app.wait_for_state(lambda s: s is changed, timeout=5)
        assert "filter: xyz" in screen_text(app)


async def test_without_keys_states_are_applied_as_they_come(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=3600, typing_hold_max=3600)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        changed = sitedata.steady_state()
        source.push(changed)
        await pilot.pause()
        assert app.state is changed


async def test_zero_quiet_turns_the_hold_off(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=0, typing_hold_max=3600)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "a")
        changed = sitedata.steady_state()
        source.push(changed)
        await pilot.pause()
        assert app.state is changed


def test_negative_typing_settings_are_refused() -> None:
    with pytest.raises(ValueError):
        UiSettings(typing_quiet=-1)
    with pytest.raises(ValueError):
        UiSettings(typing_hold_max=-0.5)


async def _refreshes_reach(pilot: object, app: object, source: object, count: int) -> None:
    # The re-read starts from a timer and runs in a worker thread: let the loop run until it is done.
    for _ in range(250):
        await app.workers.wait_for_complete()  # type: ignore[attr-defined]
        if source.refreshes >= count:  # type: ignore[attr-defined]
            return
        await pilot.pause(0.02)  # type: ignore[attr-defined]
    raise AssertionError(f"{source.refreshes} re-reads, wanted {count}")  # type: ignore[attr-defined]


async def test_ctrl_r_amid_keys_reads_again_at_the_pause(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    # Listing the vault holds the interpreter on the reader's thread; while keys come it would take the
    # UI thread's turns. The notice says at once that it will read.
    settings = UiSettings(repaint_interval=0, typing_quiet=0.05, typing_hold_max=3600)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "a", "ctrl+r", "b")
        await pilot.pause(0.06)
        await app.workers.wait_for_complete()
        assert source.refreshes == 0
        # Said in the header's vault item, not in a notice mounted amid the keys.
        assert app.dashboard.query_one("#hdr-vault", TextLine).plain == "vault re-reading…"
        assert not app._notifications
        await pilot.press("c")
        await pilot.pause(0.06)
        await app.workers.wait_for_complete()
        assert source.refreshes == 0
        ticks.now += 0.06  # the pause
        await _refreshes_reach(pilot, app, source, 1)
        assert "filter: abc" in screen_text(app)


async def test_ctrl_r_on_its_own_reads_again_at_once(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=3600, typing_hold_max=3600)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("ctrl+r")  # the key that asks is not "keys coming"
        await app.workers.wait_for_complete()
        assert source.refreshes == 1
        ticks.now += 3601
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        assert source.refreshes == 2


async def test_a_reread_held_too_long_starts(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=0.05, typing_hold_max=1.0)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "a", "ctrl+r")
        await pilot.pause(0.06)
        await app.workers.wait_for_complete()
        assert source.refreshes == 0
        ticks.now += 1.5  # keys keep coming (both just now) but the cap has passed
        await pilot.press("b", "c")
        await _refreshes_reach(pilot, app, source, 1)


async def test_every_key_asks_the_source_to_hold_builds_for_the_typing_pause(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    # The states would wait here anyway; the feed need not build a rotation's events meanwhile.
    settings = UiSettings(repaint_interval=0, typing_quiet=0.4, typing_hold_max=2.0)
    async with dashboard(steady, settings=settings) as (app, pilot, source):
        await pilot.press("slash", "a", "b")
        assert source.deferrals == [0.4, 0.4, 0.4]
        assert "filter: ab" in screen_text(app)


class _SlowReads(StaticSource):
    """A source whose ``ctrl+r`` reads stay pending until the test says they came back."""

    def refresh(self) -> None:
        self.refreshes += 1
        self.refresh_pending = True


def _vault_item(app: DashboardApp) -> str:
    return app.dashboard.query_one("#hdr-vault", TextLine).plain


async def test_a_second_ctrl_r_during_a_read_keeps_the_header_saying_so(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    source = _SlowReads(steady, INFO)
    settings = UiSettings(repaint_interval=0, typing_quiet=0.05, typing_hold_max=3600)
    async with dashboard(settings=settings, source=source) as (app, pilot, _source):
        await pilot.press("ctrl+r")
        await _refreshes_reach(pilot, app, source, 1)
        app.tick()
        await pilot.pause()
        assert _vault_item(app) == "vault re-reading…"  # the first read is out
        await pilot.press("slash", "a", "ctrl+r", "b")  # a second one, asked while typing
        source.refresh_pending = False  # the first read comes back
        app.tick()
        await pilot.pause()
        assert [str(n.message) for n in app._notifications] == ["read again: vault ok (16)"]
        assert _vault_item(app) == "vault re-reading…"  # the second still waits for the pause
        ticks.now += 0.06  # the pause
        await _refreshes_reach(pilot, app, source, 2)
        app.tick()
        await pilot.pause()
        assert _vault_item(app) == "vault re-reading…"  # the second read is out
        source.refresh_pending = False
        app.tick()
        await pilot.pause()
        assert _vault_item(app) == "vault ok (16)"


async def test_a_tick_before_the_source_was_asked_does_not_end_the_read(
    dashboard: Dashboard, steady: ClusterState, ticks: Ticks
) -> None:
    settings = UiSettings(repaint_interval=0, typing_quiet=3600, typing_hold_max=3600)
    async with dashboard(settings=settings, source=_SlowReads(steady, INFO)) as (app, pilot, _source):
        app._refresh_count = 5  # as if the worker for this read has not called the source yet
        app._refreshing = True
        app.tick()
        await pilot.pause()
        assert app._refreshing
        assert not [n for n in app._notifications if "read again" in str(n.message)]


def test_re_reading_keeps_a_failed_reads_state_and_level() -> None:
    offline = connection.rereading(Summary("vault offline", Level.WARNING))
    assert offline == Summary("vault offline · re-reading…", Level.WARNING)
    forbidden = connection.rereading(Summary("vault forbidden", Level.ERROR))
    assert forbidden == Summary("vault forbidden · re-reading…", Level.ERROR)
    assert connection.rereading(Summary("vault ok (16)", Level.OK)) == Summary(
        "vault re-reading…", Level.MUTED
    )
    # 80 columns: the short words of both.
    assert header.compact(offline.text) == "vault off · re-read…"
