"""Fixtures for the dashboard tests: an app fed by a StaticSource on a frozen clock.

``dashboard(state, size)`` yields ``(app, pilot, source)`` with the first state already on screen;
tests push further states with ``source.push(state)`` and wait with ``app.wait_for_state`` (an event,
not a sleep). Repaint coalescing is left on (its default) unless a test turns it off.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest
from textual.pilot import Pilot

from tests.ui import sitedata
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.source import SourceInfo, StaticSource
from tui.ui.view.settings import UiSettings

WIDE = (120, 34)
SMALL = (80, 24)
INFO = SourceInfo("aio-test", "https://127.0.0.1:6443")


def screen_text(app: DashboardApp) -> str:
    """What the terminal shows right now, as plain text (one line per row)."""
    strips = app.screen._compositor.render_strips()
    return "\n".join(strip.text for strip in strips)


@pytest.fixture(scope="session")
def steady() -> ClusterState:
    """The test site's state at ``sitedata.NOW`` (built once: states are immutable)."""
    return sitedata.steady_state()


Dashboard = Callable[..., AbstractAsyncContextManager[tuple[DashboardApp, Pilot[None], StaticSource]]]


@pytest.fixture
def dashboard(steady: ClusterState) -> Dashboard:
    """Open the dashboard on a state (default: the steady site) at a terminal size (default: 120x34), or
    on a source of the test's own."""

    @asynccontextmanager
    async def open_dashboard(
        state: ClusterState | None = None,
        size: tuple[int, int] = WIDE,
        settings: UiSettings | None = None,
        clock: FrozenClock | None = None,
        source: StaticSource | None = None,
    ) -> AsyncIterator[tuple[DashboardApp, Pilot[None], StaticSource]]:
        source = source or StaticSource(state or steady, INFO)
        app = DashboardApp(
            source, settings=settings or UiSettings(), clock=clock or FrozenClock(sitedata.NOW)
        )
        async with app.run_test(size=size) as pilot:
            await app.wait_for_state(lambda _s: True, timeout=10)
            await pilot.pause()
            yield app, pilot, source

    return open_dashboard
