"""KeyedTable in a tiny host app: keyed updates keep the cursor; the bulk fill equals DataTable's add_row."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.widgets import DataTable

from tui.ui.cells import Cell, RowCells
from tui.ui.columns import ColumnSpec, layout_columns
from tui.ui.widgets.keyed_table import REBUILD_THRESHOLD, KeyedTable

SPECS = (ColumnSpec("name", "Name", 10, flex=1), ColumnSpec("value", "Value", 6))


def _rows(keys: list[str], suffix: str = "") -> list[tuple[str, RowCells]]:
    return [(k, {"name": Cell(k, row_key=k), "value": Cell(f"v{k}{suffix}", row_key=k)}) for k in keys]


class Host(App[None]):
    def compose(self) -> ComposeResult:
        yield KeyedTable(SPECS, id="keyed")
        yield DataTable(id="plain")


async def test_bulk_fill_matches_what_add_row_builds() -> None:
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        keyed = app.query_one(KeyedTable)
        plain = app.query_one("#plain", DataTable)
        rows = _rows([f"k{i:03d}" for i in range(50)])
        keyed.apply(rows, rebuild=True)
        for column in keyed.placed_columns:
            plain.add_column(column.spec.label, width=column.width, key=column.key)
        for key, cells in rows:
            plain.add_row(*(cells[c.key] for c in keyed.placed_columns), key=key)
        await pilot.pause()
        assert keyed.row_keys == [str(r.key.value) for r in plain.ordered_rows]
        assert {k.value: {c.value: v.plain for c, v in r.items()} for k, r in keyed._data.items()} == \
            {k.value: {c.value: v.plain for c, v in r.items()} for k, r in plain._data.items()}
        assert [r.height for r in keyed.ordered_rows] == [r.height for r in plain.ordered_rows]
        assert keyed.virtual_size.height == plain.virtual_size.height == 51
        assert keyed.get_row_at(7) == plain.get_row_at(7)
        assert keyed.cursor_key == "k000"


async def test_apply_keeps_the_cursor_through_removals_additions_and_reorders() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        assert table.placed_columns == layout_columns(SPECS, table.scrollable_content_region.width)
        keys = [f"k{i:02d}" for i in range(30)]
        table.apply(_rows(keys))
        await pilot.pause()
        table.move_to_key("k20")
        await pilot.pause()
        offset = table.cursor_row - int(table.scroll_y)
        row_objects = dict(table.rows)
        # Two rows above the cursor go, one new row arrives at the top, one value changes.
        wanted = ["k00-new"] + [k for k in keys if k not in {"k03", "k05"}]
        rows = _rows(wanted)
        rows[wanted.index("k07")][1]["value"].look = ("changed", "")
        table.apply(rows)
        await pilot.pause()
        assert table.row_keys == wanted
        assert table.cursor_key == "k20" and table.cursor_row == wanted.index("k20")
        assert table.cursor_row - int(table.scroll_y) == offset
        assert table.rows["k10"] is row_objects["k10"]  # not rebuilt
        # Many removals: a rebuild (new row objects), still on the same key.
        table.apply(_rows(keys + [f"x{i:03d}" for i in range(REBUILD_THRESHOLD + 1)]))
        await pilot.pause()
        before = table.rows["k00"]
        survivors = [*keys[:5], "k20"]
        table.apply(_rows(survivors))
        await pilot.pause()
        assert table.row_keys == survivors and table.cursor_key == "k20"
        assert table.rows["k00"] is not before
        # The anchored row itself gone: the cursor stays at the same index.
        table.apply(_rows(keys[:5]))
        await pilot.pause()
        assert table.cursor_key == "k04"


async def test_unchanged_rows_are_not_touched() -> None:
    app = Host()
    async with app.run_test(size=(60, 12)) as pilot:
        table = app.query_one(KeyedTable)
        table.apply(_rows(["a", "b", "c"]))
        await pilot.pause()
        calls: list[object] = []
        table.update_cell = lambda *args, **kwargs: calls.append(args)  # type: ignore[method-assign]
        table.apply(_rows(["a", "b", "c"]))
        assert calls == []
        table.apply(_rows(["a", "b", "c"], suffix="!"))
        assert len(calls) == 3
