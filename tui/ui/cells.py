"""Table cells: one-line Rich text that also carries its row key and what it shows.

DataTable sorts by cell values only, so each cell carries its row's key (to restore a wanted order by
position). ``look`` is what the cell shows, compared to skip updates that would repaint an unchanged
cell (Rich's ``Text.__eq__`` ignores the base style), and the key under which the table reuses a cell's
rendering for any other cell that looks the same. A cell is therefore never changed after it is made:
make a new one.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text


class Cell(Text):
    """A one-line table cell that remembers its row and what it shows (not to be changed once made)."""

    __slots__ = ("look", "row_key")

    def __init__(self, text: str, style: str = "", *, row_key: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self.look = (text, style)
        self.row_key = row_key


RowCells = Mapping[str, Cell]
"""Cells of one row by column key (a row may hold cells for columns not currently shown)."""
