"""Table cells: one-line Rich text that also carries its row key and what it shows.

DataTable sorts by cell values only, so each cell carries its row's key (to restore a wanted order by
position). ``look`` is what the cell shows, compared to skip updates that would repaint an unchanged
cell (Rich's ``Text.__eq__`` ignores the base style), and the key under which the table reuses a cell's
rendering for any other cell that looks the same. A cell is therefore never changed after it is made:
make a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text


class Cell(Text):
    """A one-line table cell that remembers its row and what it shows (not to be changed once made)."""

    __slots__ = ("look", "row_key")

    def __init__(self, text: str, style: str = "", *, row_key: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self.look = (text, style)
        self.row_key = row_key


class MiddleCell(Cell):
    """A cell cut in the middle when its column is too narrow: ``azure-iot-o…selfsigned-root``.

    Kubernetes and file names often share a long prefix and differ at the end (two AIO issuers, a CA's
    ``.der`` and its ``.crl``); cut at the end they would all read the same.
    """

    __slots__ = ()

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterable[Segment]:
        """Render in ``options.max_width``, keeping the head and the (slightly longer) tail."""
        width = options.max_width
        plain = self.plain
        # Wide characters would need cell-aware cutting: leave those to the usual end ellipsis.
        if width >= 5 and plain.isascii() and cell_len(plain) > width:
            keep = width - 1
            head = keep // 2
            cut = Text(
                f"{plain[:head]}…{plain[len(plain) - (keep - head) :]}",
                style=self.style,
                no_wrap=True,
                overflow="ellipsis",
                end="",
            )
            yield from cut.__rich_console__(console, options)
            return
        yield from super().__rich_console__(console, options)


CELL_TYPES = frozenset({Cell, MiddleCell})
"""The cell classes, for exact-type tests on hot paths."""

RowCells = Mapping[str, Cell]
"""Cells of one row by column key (a row may hold cells for columns not currently shown)."""
