"""Filter keystrokes on a large table (design §10.1): each key refills only the first screenful, in the same
turn as the box's echo; the rows below follow once typing pauses or the table needs them. Whatever the
path, the table then equals what a fresh filter of the same words shows, with cursor and marks kept.

Rows held back are released by the test through what a user does (``enter``, ``esc``, a key for the
table) or by running the pane's release directly; the pause that releases them by itself is set beyond
any test's length, so nothing here depends on the clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import pytest
from textual import events
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import Input

from tests.ui import sitedata
from tests.ui.conftest import Dashboard
from tests.ui.test_first_fill import one_shot, table_rows
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.view import urgency
from tui.ui.widgets import opcua_pane
from tui.ui.widgets.opcua_pane import FIRST_FILL_MARGIN, OpcUaPane

COUNT = 600


@pytest.fixture(scope="module")
def big() -> ClusterState:
    """A site with several screens of OPC UA entries (built once: states are immutable)."""
    return sitedata.many_entries_state(COUNT)


@pytest.fixture(autouse=True)
def no_pause_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Held rows come only when the test releases them (the timer never fires within a test)."""
    monkeypatch.setattr(opcua_pane, "FILTER_TAIL_DELAY", 3600.0)


async def opened(app: DashboardApp) -> OpcUaPane:
    """The OPC UA pane with every row of its first fill in the table."""
    pane = app.dashboard.opcua_pane
    pane.finish_fill()
    assert not pane.filling and pane.table.row_count == len(pane.shown)
    return pane


def window(app: DashboardApp) -> int:
    """How many rows a filter keystroke gives the table at once."""
    return app.size.height + FIRST_FILL_MARGIN


async def test_a_keystroke_refills_the_first_screenful_and_enter_the_rest(
    dashboard: Dashboard, big: ClusterState
) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-0")
        matching = [e.key for e in pane.shown]
        assert len(matching) > window(app)
        # Counts and order come from every match; the table holds the top of that order only.
        assert f"{len(matching)} of {len(big.opcua)} match" in pane.title_text
        assert pane.filling
        assert pane.table.row_keys == matching[: window(app)]
        await pilot.press("enter")
        assert not pane.filling
        assert app.focused is pane.table
        assert table_rows(pane) == one_shot(pane, big)


async def test_typed_key_by_key_equals_a_fresh_filter(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-00", "backspace", "backspace", *"01")
        pane.finish_fill()
        typed = table_rows(pane)
        assert pane.filter.text == "device-01"
        # The same words set at once, on a table that never saw the keystrokes before them.
        pane.set_filter("")
        pane.finish_fill()
        pane.set_filter("device-01")
        pane.finish_fill()
        assert typed == table_rows(pane) == one_shot(pane, big)


async def test_the_table_follows_the_box_in_the_same_turn(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash")
        # No message hop between the box and the table: the echo's frame is the table's frame.
        pane.filter_input.value = "device-00042"
        assert pane.filter.text == "device-00042"
        assert pane.table.row_keys == [e.key for e in pane.shown] == ["trust/device-00042.der"]


async def test_an_older_value_arriving_after_a_newer_one_is_ignored(
    dashboard: Dashboard, big: ClusterState
) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-001")
        box = pane.filter_input
        # Of a burst, the Changed messages of older values arrive after the box moved on.
        box.post_message(Input.Changed(box, "device-00"))
        await pilot.pause()
        assert pane.filter.text == "device-001"
        assert pane.table.row_keys and all("device-001" in key for key in pane.table.row_keys)


def _write(app: DashboardApp, text: str) -> None:
    """``text`` as a terminal delivers one write of it: every key queued to the app before any is handled."""
    for char in text:
        key = "enter" if char == "\r" else char
        app.post_message(events.Key(key, char))


def _count_refills(pane: OpcUaPane, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The filter text at each refill of the table from here on."""
    refills: list[str] = []
    refresh = pane._refresh_view

    def counting(*, rebuild: bool = False) -> None:
        refills.append(pane.filter.text)
        refresh(rebuild=rebuild)

    monkeypatch.setattr(pane, "_refresh_view", counting)
    return refills


@contextlib.asynccontextmanager
async def _box_open(
    dashboard: Dashboard, big: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[tuple[DashboardApp, Pilot[None], OpcUaPane, list[str]]]:
    """The dashboard with the filter box open and the table's refills counted from then on."""
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash")
        yield app, pilot, pane, _count_refills(pane, monkeypatch)


async def test_keys_arriving_together_refill_the_table_once(
    dashboard: Dashboard, big: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A word written at once (typed ahead over SSH) refilled the table for every letter: 15 refills at
    # 2,000 rows, ~45 ms before the one frame that shows the word.
    async with _box_open(dashboard, big, monkeypatch) as (app, pilot, pane, refills):
        _write(app, "device-001")
        await pilot.pause()
        assert refills == ["device-001"]
        assert pane.filter_input.value == pane.filter.text == "device-001"
        pane.finish_fill()
        assert table_rows(pane) == one_shot(pane, big)
        assert pane.table.row_keys and all("device-001" in key for key in pane.table.row_keys)


async def test_a_word_and_enter_in_one_write_keep_the_filter_and_every_row(
    dashboard: Dashboard, big: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _box_open(dashboard, big, monkeypatch) as (app, pilot, pane, refills):
        _write(app, "device-002\r")
        await pilot.pause()
        assert pane.filter.text == "device-002" and "device-002" in refills
        assert app.focused is pane.table
        assert not pane.filling
        assert table_rows(pane) == one_shot(pane, big)


async def test_keys_typed_one_at_a_time_each_refill_in_their_own_turn(
    dashboard: Dashboard, big: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with _box_open(dashboard, big, monkeypatch) as (_app, pilot, _pane, refills):
        await pilot.press(*"dev")
        assert refills == ["d", "de", "dev"]


async def test_a_key_for_the_table_gets_every_held_row_first(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-0")
        assert pane.filling
        pane.table.focus()
        await pilot.pause()
        await pilot.press("G")
        assert not pane.filling
        assert pane.table.cursor_key == pane.shown[-1].key
        assert table_rows(pane) == one_shot(pane, big)


async def test_escape_clears_and_shows_every_row(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-0", "escape")
        assert not pane.filter.active and not pane.filling
        assert len(pane.shown) == len(big.opcua)
        assert table_rows(pane) == one_shot(pane, big)


async def test_cursor_and_marks_survive_held_keystrokes(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("3")
        # A marked entry far below the first screenful of the filtered order, with the cursor on it.
        target = "trust/device-00450.der"
        assert pane.table.move_to_key(target)
        await pilot.press("space")
        assert pane.marked == {target}
        await pilot.press("slash", *"device-00")
        # The rows down to the cursor's entry are in the table, the cursor still on it, its mark shown.
        assert pane.filling
        assert pane.table.cursor_key == target
        assert pane.table.get_cell(target, "mark").plain == "●"
        assert pane.table.row_keys == [e.key for e in pane.shown[: pane.table.row_count]]
        await pilot.press("enter")
        assert pane.table.cursor_key == target and pane.marked == {target}
        assert table_rows(pane) == one_shot(pane, big)


async def test_a_new_state_while_rows_are_held(dashboard: Dashboard, big: ClusterState) -> None:
    async with dashboard(big) as (app, pilot, source):
        pane = await opened(app)
        await pilot.press("slash", *"device-0")
        later = sitedata.many_entries_state(COUNT + 20)
        source.push(later)
        await app.wait_for_state(lambda state: state is later)
        assert pane.table.row_keys == [e.key for e in pane.shown[: pane.table.row_count]]
        # The title's parts are kept per state: the new one's counts show.
        trust = sum(1 for e in later.opcua if e.list_name == "trust")
        assert f"trust {trust}" in pane.title_text
        assert f"{len(pane.shown)} of {len(later.opcua)} match" in pane.title_text
        await pilot.press("enter")
        assert table_rows(pane) == one_shot(pane, later)


async def test_typing_lays_out_nothing_while_the_table_keeps_its_size(
    dashboard: Dashboard, big: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = await opened(app)
        await pilot.press("slash", *"device-")
        await pilot.pause()
        layouts: list[bool] = []
        relayout = Screen._refresh_layout

        def counting(screen: Screen[object], *args: object, **kwargs: object) -> None:
            layouts.append(True)
            relayout(screen, *args, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(Screen, "_refresh_layout", counting)
        # Each key changes the box's text width and the table's rows, not their sizes: a repaint only.
        await pilot.press(*"00")
        await pilot.pause()
        assert pane.filter.text == "device-00" and len(pane.shown) > window(app)
        assert pane.table.row_count == window(app)
        assert layouts == []


def test_pane_counts_follow_each_state_s_findings(steady: ClusterState) -> None:
    counts = urgency.pane_counts(steady.findings)
    assert counts == urgency.pane_counts(list(steady.findings))  # the same as counted afresh
    fewer = steady.findings[1:]
    assert urgency.pane_counts(fewer) == urgency.pane_counts(list(fewer)) != counts
    assert urgency.pane_counts(steady.findings) == counts
