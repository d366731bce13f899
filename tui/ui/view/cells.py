"""Table cells: one-line Rich text that also carries what it shows.

``look`` is what the cell shows, compared to skip updates that would repaint an unchanged cell (Rich's
``Text.__eq__`` ignores the base style), and the key under which the table reuses a cell's rendering for
any other cell that looks the same. A cell is therefore never changed after it is made: make a new one.
Since it is never changed and names no row, one cell may stand in many rows: :class:`CellPool` hands out one
cell per look for the columns whose values repeat (a list name, a health word, a day).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions
from rich.segment import Segment
from rich.text import Text


class Cell(Text):
    """A one-line table cell that remembers what it shows (not to be changed once made)."""

    __slots__ = ("look",)

    def __init__(self, text: str, style: str = "") -> None:
        super().__init__(text, style=style, no_wrap=True, overflow="ellipsis", end="")
        self.look = (text, style)


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


class CellPool:
    """One :class:`Cell` per look, for the columns whose values repeat from row to row.

    At 2,000 OPC UA entries six of the nine columns hold a few hundred distinct values between them (the
    mark, the list, the issuer, the expiry day, the days, the health); one cell object per value instead of
    one per row keeps about 11,000 fewer cells (each with its text, span and look objects) for as long as
    the table shows them. Columns of unique values (file, subject, thumbprint) gain nothing here and are
    made directly. The pool forgets everything once it holds ``limit`` looks, so values that come and go
    (days counting down) cannot grow it without bound; a forgotten look simply gets a new cell.
    """

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._cells: dict[tuple[str, str], Cell] = {}

    def cell(self, text: str, style: str = "") -> Cell:
        """The pool's cell showing ``text`` in ``style``, made on first use."""
        look = (text, style)
        found = self._cells.get(look)
        if found is None:
            if len(self._cells) >= self.limit:
                self._cells.clear()
            found = self._cells[look] = Cell(text, style)
        return found

    def __len__(self) -> int:
        return len(self._cells)
