"""The OPC UA table's first fill is viewport-first (design §10.1): the first screenful is built before the
first frame, the rest in batches after it, and anything arriving meanwhile (a state, a filter, a sort, a
mark, ``G``) leaves the table exactly as a one-shot fill of the same view would.

The batches are held by the test (``held``): each is run when the test says, so every moment in between can
be checked without timing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from textual.screen import Screen

from tests.ui import sitedata
from tests.ui.conftest import WIDE, Dashboard, screen_text
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.view import rows as view_rows
from tui.ui.widgets import opcua_pane
from tui.ui.widgets.opcua_pane import OpcUaPane

COUNT = 2500


@pytest.fixture(scope="module")
def big() -> ClusterState:
    """A site with a few thousand OPC UA entries (built once: states are immutable)."""
    return sitedata.many_entries_state(COUNT)


@pytest.fixture
def cell_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Keys of the entries whose cells were built, in order."""
    calls: list[str] = []

    def counting(entry, *args, **kwargs):  # type: ignore[no-untyped-def]
        calls.append(entry.key)
        return view_rows.entry_cells(entry, *args, **kwargs)

    monkeypatch.setattr(opcua_pane, "entry_cells", counting)
    return calls


@pytest.fixture
def held(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[OpcUaPane], None]]:
    """Hold the first fill's batches; the returned function runs the next one."""
    run_batch = OpcUaPane._fill_more
    monkeypatch.setattr(OpcUaPane, "_fill_more", lambda self: None)
    yield run_batch


def pane_of(app: DashboardApp) -> OpcUaPane:
    return app.query_one(OpcUaPane)


def one_shot(pane: OpcUaPane, state: ClusterState) -> list[tuple[str, list[tuple[str, object]]]]:
    """What a fill of every shown row at once puts in the table: keys in order, each cell's kind and look."""
    palette, settings = pane.palette, state.settings
    out = []
    for entry in pane.shown:
        cells = view_rows.entry_cells(
            entry,
            palette,
            marked=entry.key in pane.marked,
            warn_days=settings.expiring_warn_days,
            critical_days=settings.expiring_critical_days,
        )
        out.append(
            (entry.key, [(type(cells[c.key]).__name__, cells[c.key].look) for c in pane.table.placed_columns])
        )
    return out


def table_rows(pane: OpcUaPane) -> list[tuple[str, list[tuple[str, object]]]]:
    """The table's rows: keys top to bottom, each cell's kind and look."""
    table = pane.table
    return [
        (key, [(type(cell).__name__, cell.look) for cell in table.get_row(key)]) for key in table.row_keys
    ]


def finish(pane: OpcUaPane, run_batch: Callable[[OpcUaPane], None]) -> int:
    """Run the held batches until the fill is done; how many ran."""
    batches = 0
    while pane.filling:
        run_batch(pane)
        batches += 1
        assert batches < 100, "the first fill never ends"
    return batches


async def test_first_paint_holds_the_first_screenful_only(
    dashboard: Dashboard, big: ClusterState, cell_calls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # What the OPC UA table held, and how many rows' cells had been built, at the first paint of a state.
    painted: list[tuple[int, int, str]] = []
    paint = Screen._compositor_refresh

    def recording(screen: Screen[object]) -> None:
        paint(screen)
        panes = screen.app.query(OpcUaPane)
        if not painted and panes and panes.first()._state is not None:
            painted.append((panes.first().table.row_count, len(cell_calls), screen_text(screen.app)))

    monkeypatch.setattr(Screen, "_compositor_refresh", recording)
    async with dashboard(big, size=WIDE) as (app, pilot, _source):
        pane = pane_of(app)
        total = len(pane.shown)
        assert total == COUNT + len(sitedata.steady_state().opcua)
        first = WIDE[1] + opcua_pane.FIRST_FILL_MARGIN
        assert painted, "no frame painted with the state"
        rows_then, built_then, text = painted[0]
        assert rows_then == first
        assert built_then == first  # only the first screenful's cells, not every row's
        # The title counts every entry from the model, not the rows added so far.
        assert f"trust {sum(1 for e in big.opcua if e.list_name == 'trust')}" in text
        # The batches run from the event loop until the table holds every row.
        while pane.filling:
            await pilot.pause()
        assert table_rows(pane) == one_shot(pane, big)
        assert len(cell_calls) == total  # each row built once


async def test_batches_end_equal_to_a_one_shot_fill(
    dashboard: Dashboard, big: ClusterState, held: Callable[[OpcUaPane], None]
) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = pane_of(app)
        assert pane.filling
        first = pane.table.row_keys
        assert first == [e.key for e in pane.shown[: len(first)]]
        assert len(first) < len(pane.shown)
        assert finish(pane, held) > 1
        await pilot.pause()
        assert table_rows(pane) == one_shot(pane, big)
        assert pane.table.cursor_row == 0


async def test_a_new_state_during_the_batches_leaves_exactly_its_rows(
    dashboard: Dashboard, big: ClusterState, held: Callable[[OpcUaPane], None]
) -> None:
    # Fewer entries (the last 700 gone) and a day later (every days-left cell differs).
    later = sitedata.many_entries_state(COUNT - 700, sitedata.NOW + timedelta(days=1))
    async with dashboard(big) as (app, pilot, source):
        pane = pane_of(app)
        held(pane)  # one batch in: the table holds part of the old state
        assert pane.filling
        source.push(later)
        await app.wait_for_state(lambda s: s is later, timeout=10)
        await pilot.pause()
        shown = [e.key for e in pane.shown]
        assert len(shown) == len(later.opcua)
        assert pane.table.row_keys == shown[: pane.table.row_count]
        finish(pane, held)
        await pilot.pause()
        keys = pane.table.row_keys
        assert len(keys) == len(set(keys)) == len(later.opcua)
        assert table_rows(pane) == one_shot(pane, later)


async def test_filter_marks_and_sort_during_the_batches(
    dashboard: Dashboard,
    big: ClusterState,
    held: Callable[[OpcUaPane], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The filter's held rows come only when the test releases them: the pause that releases them by itself
    # (0.3 s) passed within one pilot.pause() on a loaded CI machine and filled every match.
    monkeypatch.setattr(opcua_pane, "FILTER_TAIL_DELAY", 3600.0)
    async with dashboard(big) as (app, pilot, _source):
        pane = pane_of(app)
        app.action_show_pane("opcua")
        pane.table.focus()
        await pilot.pause()
        assert pane.filling
        # A filter: the counts come from every entry, the rows from the top of the filtered order.
        pane.set_filter("device-01")
        await pilot.pause()
        matching = sum(1 for e in big.opcua if "device-01" in e.target_key)
        assert len(pane.shown) == matching > pane.table.row_count
        assert f"{matching} of {len(big.opcua)} match" in pane.title_text
        assert pane.table.row_keys == [e.key for e in pane.shown[: pane.table.row_count]]
        held(pane)
        assert pane.filling
        assert pane.table.row_keys == [e.key for e in pane.shown[: pane.table.row_count]]
        # A mark on the second row, then a reversed sort, which takes the marked entry to the bottom: the
        # cursor stays on it, so the rows down to it are there.
        await pilot.press("j", "space")
        marked = pane.table.cursor_key
        assert marked is not None and pane.marked == {marked}
        await pilot.press("S")
        assert pane.shown[-2].key == marked
        assert pane.table.cursor_key == marked
        assert pane.table.row_keys == [e.key for e in pane.shown[: pane.table.row_count]]
        finish(pane, held)
        assert table_rows(pane) == one_shot(pane, big)
        pane.set_filter("")
        await pilot.pause()
        assert not pane.filling
        assert table_rows(pane) == one_shot(pane, big)
        assert pane.marked == {marked}
        assert pane.table.cursor_key == marked


async def test_g_during_the_batches_goes_to_the_last_entry(
    dashboard: Dashboard, big: ClusterState, held: Callable[[OpcUaPane], None]
) -> None:
    async with dashboard(big) as (app, pilot, _source):
        pane = pane_of(app)
        app.action_show_pane("opcua")
        pane.table.focus()
        await pilot.pause()
        held(pane)
        assert pane.filling
        await pilot.press("G")
        assert not pane.filling
        assert pane.table.cursor_key == pane.shown[-1].key
        assert table_rows(pane) == one_shot(pane, big)


async def test_a_state_that_changes_most_rows_is_shown_viewport_first(
    dashboard: Dashboard, big: ClusterState, held: Callable[[OpcUaPane], None], cell_calls: list[str]
) -> None:
    # A day later every days-left cell differs: building and updating every row at once took 150-250 ms
    # of the UI thread at 2,000 entries (the vault's first read does the same to every row).
    later = sitedata.many_entries_state(COUNT, sitedata.NOW + timedelta(days=1))
    async with dashboard(big) as (app, pilot, source):
        pane = pane_of(app)
        finish(pane, held)
        await pilot.pause()
        assert not pane.filling
        cell_calls.clear()
        source.push(later)
        await app.wait_for_state(lambda s: s is later, timeout=10)
        window = WIDE[1] + opcua_pane.FIRST_FILL_MARGIN
        assert pane.filling
        assert pane.table.row_count == window
        assert len(cell_calls) == window  # the rows down to the view's bottom, not every row
        assert pane.table.row_keys == [e.key for e in pane.shown[:window]]
        assert finish(pane, held) > 1
        await pilot.pause()
        assert table_rows(pane) == one_shot(pane, later)
        assert len(cell_calls) == len(pane.shown)  # each row built once


async def test_a_state_that_changes_a_few_rows_updates_them_in_place(
    dashboard: Dashboard, big: ClusterState, held: Callable[[OpcUaPane], None]
) -> None:
    async with dashboard(big) as (app, pilot, source):
        pane = pane_of(app)
        finish(pane, held)
        await pilot.pause()
        again = sitedata.many_entries_state(COUNT)  # equal entries, new objects: nothing to rebuild
        source.push(again)
        await app.wait_for_state(lambda s: s is again, timeout=10)
        assert not pane.filling
        assert pane.table.row_count == len(pane.shown)
        assert table_rows(pane) == one_shot(pane, again)
