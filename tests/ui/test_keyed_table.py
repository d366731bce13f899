"""KeyedTable in a tiny host app: keyed updates keep the cursor; the bulk fill equals DataTable's add_row."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import DataTable

from tui.ui.view.cells import Cell, RowCells
from tui.ui.view.columns import ColumnSpec, layout_columns
from tui.ui.widgets.keyed_table import REBUILD_THRESHOLD, KeyedTable

SPECS = (ColumnSpec("name", "Name", 10, flex=1), ColumnSpec("value", "Value", 6))


def _rows(keys: list[str], suffix: str = "") -> list[tuple[str, RowCells]]:
    return [(k, {"name": Cell(k), "value": Cell(f"v{k}{suffix}")}) for k in keys]


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
        assert {k.value: {c.value: v.plain for c, v in r.items()} for k, r in keyed._data.items()} == {
            k.value: {c.value: v.plain for c, v in r.items()} for k, r in plain._data.items()
        }
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


# -- refills at scale: in place, rendered cells reused by look ---------------------------------------


class Pair(App[None]):
    """A KeyedTable and a plain DataTable of the same size and settings, neither focused."""

    AUTO_FOCUS = None
    CSS = """
    DataTable { height: 12; width: 90%; }
    Screen.-red DataTable > .datatable--cursor { background: red; }
    """

    def compose(self) -> ComposeResult:
        yield KeyedTable(SPECS, id="keyed")
        yield DataTable(
            id="plain", cursor_type="row", zebra_stripes=False, cursor_foreground_priority="renderable"
        )


def _looks(count: int) -> list[tuple[str, RowCells]]:
    """Rows whose value cells repeat a few looks, so refills reuse renderings at other rows."""
    keys = [f"k{i:02d}" for i in range(count)]
    return [
        (k, {"name": Cell(k), "value": Cell(f"v{i % 3}", "bold" if i % 2 else "")})
        for i, k in enumerate(keys)
    ]


def _copy_into(plain: DataTable[Cell], keyed: KeyedTable) -> None:
    """Make the plain table hold what the keyed one holds, the DataTable way, at the same place."""
    plain.clear(columns=True)
    for column in keyed.placed_columns:
        plain.add_column(column.spec.label, width=column.width, key=column.key)
    for row in keyed.ordered_rows:
        plain.add_row(*keyed.get_row(row.key), key=row.key.value)
    plain.move_cursor(row=keyed.cursor_row, animate=False, scroll=False)


async def _scroll_like(plain: DataTable[Cell], keyed: KeyedTable, pilot: Pilot[None]) -> None:
    """Scroll the plain table as the keyed one is, once it has measured its new rows (on idle)."""
    await pilot.pause()
    plain.scroll_to(y=keyed.scroll_y, animate=False, immediate=True)
    await pilot.pause()
    assert plain.scroll_y == keyed.scroll_y


def _segments(table: DataTable[Cell], y: int) -> list[tuple[str, object, object, dict[str, object]]]:
    return [(s.text, s.style, s.control, s.style.meta if s.style else {}) for s in table.render_line(y)]


async def test_refills_render_exactly_what_a_plain_data_table_renders() -> None:
    app = Pair()
    async with app.run_test(size=(70, 30)) as pilot:
        keyed = app.query_one(KeyedTable)
        plain = app.query_one("#plain", DataTable)
        rows = _looks(40)
        steps = [rows, rows[5:], rows[::2], list(reversed(rows)), list(reversed(rows))[1:], rows[3:20]]
        for step, wanted in enumerate(steps):
            if step == 3:
                app.theme = "textual-light"  # new styles: no rendering of the old may be reused
            if step == 4:
                app.screen.add_class("-red")  # a new cursor style alone
            keyed.apply(wanted, rebuild=True)
            if step == 2:
                keyed.move_to_key("k10")
            await pilot.pause()
            _copy_into(plain, keyed)
            await _scroll_like(plain, keyed, pilot)
            assert keyed.row_keys == [key for key, _ in wanted]
            for y in range(12):
                assert _segments(keyed, y) == _segments(plain, y), (step, y)


async def test_clicking_a_row_after_a_refill_moves_the_cursor_to_that_row() -> None:
    app = Pair()
    async with app.run_test(size=(70, 30)) as pilot:
        keyed = app.query_one(KeyedTable)
        rows = _looks(30)
        keyed.apply(rows, rebuild=True)
        await pilot.pause()
        # Every row moves up three: their cells are rendered from the looks cached at the old rows.
        keyed.apply(rows[3:], rebuild=True)
        await pilot.pause()
        assert await pilot.click(KeyedTable, offset=(3, 5))  # line 5: the header, then rows 0..4
        await pilot.pause()
        assert keyed.cursor_row == 4 and keyed.cursor_key == "k07"


async def test_refills_build_what_add_row_builds_and_stay_in_sync_through_a_resize() -> None:
    app = Pair()
    async with app.run_test(size=(70, 30)) as pilot:
        keyed = app.query_one(KeyedTable)
        plain = app.query_one("#plain", DataTable)
        rows = _looks(50)
        changed = _rows([key for key, _ in rows[10:30]], suffix="!")  # same keys, new cells
        for wanted in (rows, rows[10:], changed, rows[::3], rows, []):
            keyed.apply(wanted, rebuild=True)
            _copy_into(plain, keyed)
            await pilot.pause()
            assert keyed.row_keys == [str(r.key.value) for r in plain.ordered_rows]
            assert {k.value: {c.value: v.plain for c, v in r.items()} for k, r in keyed._data.items()} == {
                k.value: {c.value: v.plain for c, v in r.items()} for k, r in plain._data.items()
            }
            assert keyed.rows == plain.rows
            assert keyed._y_offsets == plain._y_offsets
            assert keyed.virtual_size == plain.virtual_size
        keyed.apply(rows, rebuild=True)
        await pilot.pause()
        # A new state: every row gets new cells (one look changes), applied in place; the refill of the
        # next keystroke reuses the rows' data dicts and still shows the new look.
        renewed = _looks(50)
        renewed[12][1]["name"] = Cell("renamed")
        keyed.apply(renewed)
        for key, cells in renewed:  # the table holds the new cells (the old ones can be freed)
            assert all(
                shown is cells[c.key]
                for shown, c in zip(keyed.get_row(key), keyed.placed_columns, strict=True)
            )
        dicts = {key: keyed._data[key] for key, _ in renewed}  # type: ignore[index]
        keyed.apply(renewed[10:], rebuild=True)
        assert all(keyed._data[key] is dicts[key] for key, _ in renewed[10:])  # type: ignore[index]
        _copy_into(plain, keyed)
        await pilot.pause()
        assert keyed.get_row("k12")[0].plain == "renamed"
        assert {k.value: {c.value: v.plain for c, v in r.items()} for k, r in keyed._data.items()} == {
            k.value: {c.value: v.plain for c, v in r.items()} for k, r in plain._data.items()
        }
        keyed.apply(rows, rebuild=True)
        await pilot.pause()
        assert keyed._shown_at == keyed._update_count
        await pilot.resize_terminal(64, 24)  # the table is resized; its rows are not touched
        await pilot.pause()
        assert keyed._shown_at == keyed._update_count


async def test_rows_sharing_cell_objects_are_put_in_the_wanted_order() -> None:
    # One cell may stand in many rows (CellPool): the order comes from the keys, never from the cells.
    app = Host()
    async with app.run_test(size=(60, 20)) as pilot:
        table = app.query_one(KeyedTable)
        same = {"name": Cell("same"), "value": Cell("v")}
        keys = [f"k{i:02d}" for i in range(12)]
        table.apply([(key, same) for key in keys])
        await pilot.pause()
        table.move_to_key("k05")
        wanted = [*reversed(keys[6:]), "new", *keys[:6]]
        table.apply([(key, same) for key in wanted])
        await pilot.pause()
        assert table.row_keys == wanted
        assert table.cursor_key == "k05"
        assert [table.get_row_index(key) for key in ("k11", "new", "k00")] == [0, 6, 7]
        assert table.get_row("k03") == [same["name"], same["value"]]
