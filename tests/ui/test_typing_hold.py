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
from tests.ui.conftest import Dashboard, screen_text
from tui.core.model.state import ClusterState
from tui.ui.view.settings import UiSettings


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
