"""Snapshot tests (pytest-textual-snapshot): the dashboard as a terminal would show it.

Deterministic: the test site is built from fixed EC keys and dates, the clock is frozen, animations and
cursor blink are off. Baselines live in ``tests/ui/__snapshots__``; after an intended visual change,
inspect ``snapshot_report.html`` and run ``pytest tests/ui/test_snapshots.py --snapshot-update``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from textual.pilot import Pilot

from tests import armobjects
from tests.ui import sitedata
from tests.ui.conftest import INFO, SMALL, WIDE
from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState
from tui.ui.app import DashboardApp
from tui.ui.source import StaticSource

SnapCompare = Callable[..., bool]


def _app() -> DashboardApp:
    return DashboardApp(StaticSource(sitedata.steady_state(), INFO), clock=FrozenClock(sitedata.NOW))


def _after(*keys: str, entry: str | None = None) -> Callable[[Pilot[Any]], Awaitable[None]]:
    async def run_before(pilot: Pilot[Any]) -> None:
        app = pilot.app
        assert isinstance(app, DashboardApp)
        await app.wait_for_state(lambda _s: True)
        await pilot.pause()
        if entry is not None:
            await pilot.press("3")
            assert app.dashboard.opcua_pane.table.move_to_key(entry)
        await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_dashboard_wide(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_after())


def test_dashboard_80x24_opcua_pane(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=SMALL, run_before=_after("3"))


def test_preview_of_an_entry(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_after("enter", entry="trust/plc-line2.der"))


def test_filter_as_you_type(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=WIDE, run_before=_after("slash", *"expir"))


def test_help_at_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(_app(), terminal_size=SMALL, run_before=_after("question_mark"))


def test_dashboard_with_arm_unreachable(snap_compare: SnapCompare) -> None:
    # ARM-owned lists, ARM out of reach: the header says so, the title names the owner, nothing else moves.
    site = sitedata.arm_owned_site()
    state = sitedata.build(
        site,
        arm=armobjects.unreadable(AreaState.UNREACHABLE, "cannot reach ARM: [Errno 111] Connection refused"),
    )
    app = DashboardApp(StaticSource(state, INFO), clock=FrozenClock(sitedata.NOW))
    assert snap_compare(app, terminal_size=WIDE, run_before=_after())
