"""Notices never hide the bottom pane's border, where the filter and the sort are shown.

Textual docks its toasts at the bottom right, one line above the footer: that is the OPC UA pane's bottom
border, which carries ``filter: …`` and ``sort …``. A ctrl+r notice there hid what the user was typing.
"""

from __future__ import annotations

import pytest
from textual.widgets._toast import Toast

from tests.ui import sitedata
from tests.ui.conftest import INFO
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.opcua_pane import OpcUaPane


@pytest.mark.parametrize("size", [(120, 34), (80, 24)])
async def test_a_notice_leaves_the_filter_line_visible(steady: ClusterState, size: tuple[int, int]) -> None:
    app = DashboardApp(StaticSource(steady, INFO), settings=UiSettings(), clock=FrozenClock(sitedata.NOW))
    # run_test turns notifications off unless asked: this test is about where they go.
    async with app.run_test(size=size, notifications=True) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.press("3")  # the OPC UA pane, shown alone on a small terminal
        app.notify("re-reading the Key Vault and ARM…", title="ctrl+r")
        toasts: list[Toast] = []
        for _ in range(20):  # the rack mounts its toasts a few message turns later
            await pilot.pause()
            toasts = [toast for toast in app.screen.query(Toast) if toast.region.height]
            if toasts:
                break
        assert toasts, "the notice is on screen"
        pane = app.screen.query_one(OpcUaPane)
        border_row = pane.region.bottom - 1  # the pane's bottom border: subtitle with filter and sort
        for toast in toasts:
            assert toast.region.bottom <= border_row, (toast.region, border_row)
