"""Switching panes restyles the screen only where the layout depends on it (issue 14: start-up and keys).

Every CSS class changed on the screen re-applies the stylesheet to every widget under it (8-25 ms with the
OPC UA table at scale); the wide layout shows every pane whatever the active one, so its pane switches
change no class at all, and the compact layout changes its classes in one batch.
"""

from __future__ import annotations

import pytest

from tests.ui.conftest import SMALL, WIDE, Dashboard
from tui.ui.app import DashboardApp


def _screen_restyles(app: DashboardApp, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record each stylesheet update requested for the dashboard screen itself."""
    seen: list[str] = []
    update = app.update_styles

    def spy(node: object, animate: bool = True) -> None:
        if node is app.dashboard:
            seen.append("screen")
        update(node, animate=animate)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "update_styles", spy)
    return seen


async def test_in_the_wide_layout_a_pane_switch_restyles_nothing(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with dashboard(size=WIDE) as (app, pilot, _source):
        seen = _screen_restyles(app, monkeypatch)
        for key, pane in (("2", "issuers"), ("3", "opcua"), ("1", "root-ca")):
            await pilot.press(key)
            assert app.dashboard.active_pane == pane
        assert seen == []
        assert not any(c.startswith("-show-") for c in app.dashboard.classes)


async def test_in_the_compact_layout_a_pane_switch_is_one_restyle(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with dashboard(size=SMALL) as (app, pilot, _source):
        seen = _screen_restyles(app, monkeypatch)
        await pilot.press("2")
        await pilot.pause()
        assert seen == ["screen"]  # two classes changed, one stylesheet pass
        assert {c for c in app.dashboard.classes if c.startswith("-show-")} == {"-show-issuers"}
        assert app.dashboard.query_one("#issuers").display
        assert not app.dashboard.query_one("#opcua").display
