"""The dashboard's start-up path (docs/design.md §10.1): the source hears when the first state is painted.

A live feed holds its first vault and ARM reads back until then, so that they do not compete with the
first frame for the interpreter; the app must tell it once that frame is on screen, and not before.
"""

from __future__ import annotations

import threading

import pytest
from textual.app import App
from textual.theme import Theme

from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE, screen_text
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings


class FrameSource(StaticSource):
    """A static source that records when the app says the first state is on screen."""

    def __init__(self, state: ClusterState | None) -> None:
        super().__init__(state, INFO)
        self.shown = threading.Event()
        self.calls = 0
        self.screen_then = ""
        self.app: DashboardApp | None = None

    def first_frame_shown(self) -> None:
        self.calls += 1
        if self.app is not None:
            self.screen_then = screen_text(self.app)
        self.shown.set()


async def test_the_source_hears_once_the_first_state_is_painted(steady: ClusterState) -> None:
    source = FrameSource(None)
    app = DashboardApp(source, settings=UiSettings(), clock=FrozenClock(sitedata.NOW))
    source.app = app
    async with app.run_test(size=WIDE) as pilot:
        await pilot.pause()
        assert source.started.is_set()
        assert not source.shown.is_set()  # nothing to show yet: the side reads stay held
        source.push(steady)
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        assert source.shown.is_set()
        # Said after the state was drawn: the screen then already showed the root CA's pane with data.
        assert "Root CA ·" in source.screen_then
        assert "trust " in source.screen_then
        source.push(steady)  # later states change nothing
        await pilot.pause()
        assert source.calls == 1


async def test_a_source_without_the_hook_still_gets_its_first_state_shown(steady: ClusterState) -> None:
    source = StaticSource(steady, INFO)
    app = DashboardApp(source, settings=UiSettings(), clock=FrozenClock(sitedata.NOW))
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        assert app.applied == 1
        assert "Root CA ·" in screen_text(app)


async def test_theme_lookups_answer_as_textuals_without_copying_the_table(
    steady: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = DashboardApp(StaticSource(steady, INFO), settings=UiSettings(), clock=FrozenClock(sitedata.NOW))
    names = [*app.available_themes, "nord, textual-dark", "no-such-theme, dracula", "no-such-theme"]
    expected = {name: App.get_theme(app, name) for name in names}

    def copied(_app: App[object]) -> dict[str, Theme]:
        raise AssertionError("the theme table was copied")

    # Asked once per widget on every style update (a filter keystroke restyles the table's rows).
    monkeypatch.setattr(App, "available_themes", property(copied))
    assert {name: app.get_theme(name) for name in names} == expected
    assert expected["no-such-theme"] is None
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        assert app.current_theme is expected[app.theme]
