"""A DataTable that is updated by row key and keeps the cursor on the same row through every update.

Live states arrive every few seconds; rebuilding the table each time would lose the cursor and scroll
position and repaint every line. :meth:`KeyedTable.apply` instead diffs the wanted rows against what is
shown: unchanged cells are left alone, changed cells get ``update_cell``, gone rows ``remove_row``, new
rows ``add_row``, and a reorder is a ``sort`` by wanted position. Only when most rows are gone (``remove_row``
is O(n) each) or for a filter or column change does it rebuild, and even then it puts the cursor back on
the same key at the same place on the screen.

Every column has a fixed width (see :mod:`tui.ui.columns`), so measuring each cell of each new row, which
DataTable does on idle and which dominates the cost of large tables, is skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.coordinate import Coordinate
from textual.geometry import Size
from textual.widgets import DataTable
from textual.widgets._data_table import Row, RowKey
from textual.widgets.data_table import RowDoesNotExist

from tui.ui.cells import Cell, RowCells
from tui.ui.columns import ColumnSpec, PlacedColumn, layout_columns

REBUILD_THRESHOLD = 64
"""Above this many removed rows a rebuild is cheaper than removing them one by one."""


class KeyedTable(DataTable[Cell]):
    """A row-cursor DataTable with keyed updates, fixed column widths and vi-style movement keys."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "select_cursor", "Preview", id="table.preview",
                tooltip="Preview the row (an entry's certificate, an issuer's details)"),
        Binding("j", "cursor_down", "Down", show=False, id="table.down", tooltip="Move the cursor down"),
        Binding("k", "cursor_up", "Up", show=False, id="table.up", tooltip="Move the cursor up"),
        Binding("g", "first_row", "First row", show=False, id="table.top", tooltip="Go to the first row"),
        Binding("G", "last_row", "Last row", show=False, id="table.bottom", tooltip="Go to the last row"),
    ]

    def __init__(self, specs: Sequence[ColumnSpec], *, id: str | None = None,
                 classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row", zebra_stripes=False,
                         cursor_foreground_priority="renderable")
        self.specs = tuple(specs)
        self._placed: tuple[PlacedColumn, ...] = ()
        self._wanted: list[tuple[str, RowCells]] = []
        self._row_data: dict[str, tuple[RowCells, object, RowKey, dict[object, Cell]]] = {}

    # -- reading ---------------------------------------------------------------------------------

    @property
    def cursor_key(self) -> str | None:
        """Key of the row under the cursor, or None when the table is empty."""
        if self.row_count == 0:
            return None
        row = min(self.cursor_row, self.row_count - 1)
        key = self.coordinate_to_cell_key(Coordinate(row, 0)).row_key.value
        return str(key) if key is not None else None

    @property
    def row_keys(self) -> list[str]:
        """Keys of the shown rows, top to bottom."""
        return [str(row.key.value) for row in self.ordered_rows]

    @property
    def placed_columns(self) -> tuple[PlacedColumn, ...]:
        """The columns currently shown."""
        return self._placed

    def move_to_key(self, key: str) -> bool:
        """Put the cursor on the row with ``key`` (scrolling it into view); False if not shown."""
        try:
            index = self.get_row_index(key)
        except RowDoesNotExist:  # the row is filtered out or gone
            return False
        self.move_cursor(row=index, animate=False)
        return True

    # -- writing ---------------------------------------------------------------------------------

    def set_columns(self, placed: Sequence[PlacedColumn]) -> None:
        """Show these columns (a rebuild, keeping the cursor); nothing happens if they are unchanged."""
        placed = tuple(placed)
        if placed == self._placed:
            return
        self._placed = placed
        self._rebuild(self._wanted, columns=True)

    def apply(self, rows: Sequence[tuple[str, RowCells]], *, rebuild: bool = False) -> None:
        """Show ``rows`` (key, cells) in this order, touching only what changed.

        ``rebuild`` prefers a clear-and-refill whenever the shown rows differ (a filter change can swap
        thousands of rows; refilling is cheaper than removing and adding them one by one).
        """
        self._wanted = list(rows)
        if not self._placed:
            return
        current = self.row_keys
        wanted_keys = [key for key, _ in rows]
        if current == wanted_keys and current:
            # The common case of a live update (and of a filter keystroke that keeps the same rows):
            # same rows, same order; touch changed cells only.
            with self.app.batch_update():
                for key, cells in rows:
                    self._update_row(key, cells)
            return
        if rebuild or not current:
            self._rebuild(rows)
            return
        wanted_set = set(wanted_keys)
        removed = [key for key in current if key not in wanted_set]
        added = len(wanted_keys) - (len(current) - len(removed))
        if len(removed) > REBUILD_THRESHOLD or added > REBUILD_THRESHOLD:
            self._rebuild(rows)
            return
        anchor = self._anchor()
        with self.app.batch_update():
            for key in removed:
                self.remove_row(key)
            shown = set(current) - set(removed)
            for key, cells in rows:
                if key in shown:
                    self._update_row(key, cells)
                else:
                    self.add_row(*self._cells_for(cells), key=key)
            if self.row_keys != wanted_keys:
                position = {key: index for index, key in enumerate(wanted_keys)}
                self.sort(key=lambda values: position[values[0].row_key])
            self._restore(anchor)

    def _cells_for(self, cells: RowCells) -> list[Cell]:
        return [cells[column.key] for column in self._placed]

    def _update_row(self, key: str, cells: RowCells) -> None:
        # RowKey and ColumnKey hash and compare like their string values.
        old = self._data.get(key, {})  # type: ignore[call-overload]
        for column in self._placed:
            new = cells[column.key]
            previous = old.get(column.key)  # type: ignore[call-overload]
            if previous is not new and (previous is None or previous.look != new.look):
                self.update_cell(key, column.key, new)

    def _rebuild(self, rows: Sequence[tuple[str, RowCells]], *, columns: bool = False) -> None:
        anchor = self._anchor()
        with self.app.batch_update():
            self.clear(columns=columns or not self.columns)
            if not self.columns:
                for column in self._placed:
                    self.add_column(column.spec.label, width=column.width, key=column.key)
            self._fill(rows)
            self._restore(anchor)

    def _fill(self, rows: Sequence[tuple[str, RowCells]]) -> None:
        """Add ``rows`` to an empty table in one pass.

        ``add_row`` re-validates the cursor and recomputes the ordered columns for every row, which is
        most of the time a 2,000-row filter keystroke takes. With fixed-width columns and one-line rows
        the table's bookkeeping is three dictionaries, filled here directly; a unit test checks the
        result is the same as with ``add_row``.
        """
        if any(column.auto_width for column in self.columns.values()) or self.row_count:
            for key, cells in rows:
                self.add_row(*self._cells_for(cells), key=key)
            return
        column_keys = [(column.key, str(column.key.value)) for column in self.ordered_columns]
        data, metadata, locations = self._data, self.rows, self._row_locations
        built = self._row_data
        for index, (key, cells) in enumerate(rows):
            # Rows are rebuilt from the same cell mappings keystroke after keystroke (cells are cached
            # per entry): reuse their row key and data dict instead of hashing thirteen keys per row.
            cached = built.get(key)
            if cached is None or cached[0] is not cells or cached[1] is not column_keys[0][0]:
                row_key = RowKey(key)
                cached = (cells, column_keys[0][0], row_key,
                          {column_key: cells[name] for column_key, name in column_keys})
                built[key] = cached
            row_key, row_data = cached[2], cached[3]
            locations[row_key] = index
            data[row_key] = row_data
            metadata[row_key] = Row(row_key, 1, None, False)
        if len(built) > 2 * len(rows) + 1024:
            wanted = {key for key, _ in rows}
            self._row_data = {k: v for k, v in built.items() if k in wanted}
        if rows:
            self._require_update_dimensions = True
            self._update_count += 1
            self.cursor_coordinate = self.cursor_coordinate  # clamp once, as add_row would every row
            if self.show_cursor and self.cursor_type != "none":
                self._highlight_cursor()
            self.check_idle()

    def on_resize(self, event: events.Resize) -> None:
        """Fit the columns to the new width (a rebuild only when the chosen columns change)."""
        # The gutter of the vertical scrollbar is reserved in CSS (scrollbar-gutter: stable), so this
        # width does not change when rows start to overflow and the layout cannot oscillate.
        width = self.scrollable_content_region.width
        if width > 0:
            self.set_columns(layout_columns(self.specs, width))

    # -- cursor and scroll -----------------------------------------------------------------------

    def _anchor(self) -> tuple[str | None, int, int]:
        """Where the cursor is: its key, its row index and its distance from the top of the view."""
        key = self.cursor_key
        row = self.cursor_row
        return key, row, row - int(self.scroll_y)

    def _restore(self, anchor: tuple[str | None, int, int]) -> None:
        """Put the cursor back on the anchored key (else the same index) at the same screen offset."""
        key, old_row, offset = anchor
        self._sync_virtual_size()
        if self.row_count == 0:
            return
        index: int | None = None
        if key is not None:
            try:
                index = self.get_row_index(key)
            except RowDoesNotExist:  # the row went away; stay at the same position
                index = None
        if index is None:
            index = min(old_row, self.row_count - 1)
        self.move_cursor(row=index, animate=False, scroll=False)
        self.scroll_to(y=max(index - max(offset, 0), 0), animate=False, immediate=True)
        self._scroll_cursor_into_view()

    # -- DataTable internals ---------------------------------------------------------------------

    def _sync_virtual_size(self) -> None:
        """Set the scrollable size now (fixed-height rows), so scrolling right after a change is exact."""
        data_width = sum(column.get_render_width(self) for column in self.columns.values())
        header = self.header_height if self.show_header else 0
        self.virtual_size = Size(data_width + self._row_label_column_width, self._total_row_height + header)

    def _update_dimensions(self, new_rows: object) -> None:
        # DataTable measures every cell of every new row on idle to size auto-width columns; all our
        # columns are fixed and rows one line high, so only the virtual size needs updating. This keeps a
        # 2,000-row refill at a few milliseconds instead of a quarter of a second.
        if any(column.auto_width for column in self.columns.values()):
            super()._update_dimensions(new_rows)  # type: ignore[arg-type]
            return
        self._sync_virtual_size()

    # -- actions ---------------------------------------------------------------------------------

    def action_first_row(self) -> None:
        """Move the cursor to the first row."""
        if self.row_count:
            self.move_cursor(row=0, animate=False)

    def action_last_row(self) -> None:
        """Move the cursor to the last row."""
        if self.row_count:
            self.move_cursor(row=self.row_count - 1, animate=False)
