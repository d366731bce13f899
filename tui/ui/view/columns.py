"""Fitting table columns to the width a pane has: which columns show and how wide each is.

Fixed column widths keep the DataTable from measuring every cell (the cost that dominates large tables)
and keep each cell on one line; flexible columns (subject, issuer, flags) share whatever is left. When
the pane is narrow (80 columns) the lowest-priority columns are dropped instead of squeezed, so nothing
overlaps and nothing scrolls sideways; but a column whose width was raised to hold its longest cell is
narrowed back towards its ``floor`` before any column of its own priority is dropped (a long health text
must not push the Health column itself off an 80-column screen). The preview always shows every field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

CELL_PADDING = 1
"""DataTable's default padding on each side of a cell."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column a table may show."""

    key: str
    label: str
    width: int
    """Minimum (and, unless ``flex``, exact) content width in cells."""
    flex: int = 0
    """Share of the spare width this column takes; 0 for fixed columns."""
    priority: int = 0
    """Lower shows first; columns with the highest priority are dropped first when space runs out."""
    max_width: int | None = None
    """Upper bound for a flexible column (None: unbounded)."""
    floor: int | None = None
    """The narrowest a flexible column may be cut to before a column of its priority is dropped (None:
    ``width``, never narrowed). Set when ``width`` was raised to hold the longest cell."""

    @property
    def narrowest(self) -> int:
        """The width this column may be narrowed to (``floor``, never above ``width``)."""
        if self.flex <= 0 or self.floor is None:
            return self.width
        return min(self.floor, self.width)


@dataclass(frozen=True)
class PlacedColumn:
    """A column chosen for the current width, with its content width."""

    spec: ColumnSpec
    width: int

    @property
    def key(self) -> str:
        """The column key."""
        return self.spec.key


def layout_columns(specs: Sequence[ColumnSpec], available: int) -> tuple[PlacedColumn, ...]:
    """Choose and size columns for ``available`` cells (the table's content width, scrollbar excluded).

    Columns are kept in their declared order. While the widths do not fit, the least important priority
    still shown gives way: first its flexible columns are narrowed towards their ``floor`` (the widest
    first), and only when that is not enough is its last column dropped. The spare width then goes to the
    flexible columns by weight, up to their ``max_width`` (width left once every flexible column is at its
    maximum stays blank).
    """
    chosen = list(specs)
    widths = {c.key: c.width for c in chosen}

    def needed() -> int:
        return sum(widths[c.key] + 2 * CELL_PADDING for c in chosen)

    while needed() > available:
        top = max(c.priority for c in chosen)
        shortage = needed() - available
        squeezable = [c for c in chosen if c.priority == top and c.narrowest < widths[c.key]]
        if sum(widths[c.key] - c.narrowest for c in squeezable) >= shortage:
            _narrow(squeezable, widths, shortage)
            break
        if len(chosen) == 1:
            break
        drop = max(chosen, key=lambda c: (c.priority, specs.index(c)))
        chosen.remove(drop)
    spare = max(available - needed(), 0)
    flexible = [c for c in chosen if c.flex > 0]
    # Hand out the spare width in rounds so a column hitting its max_width passes its share on.
    while spare > 0 and flexible:
        weight = sum(c.flex for c in flexible)
        given = 0
        for column in flexible:
            share = max(spare * column.flex // weight, 1)
            room = (column.max_width - widths[column.key]) if column.max_width is not None else share
            add = min(share, room, spare - given)
            widths[column.key] += add
            given += add
        spare -= given
        flexible = [c for c in flexible if c.max_width is None or widths[c.key] < c.max_width]
        if given == 0:
            break
    return tuple(PlacedColumn(c, widths[c.key]) for c in chosen)


def _narrow(columns: Sequence[ColumnSpec], widths: dict[str, int], shortage: int) -> None:
    """Take ``shortage`` cells from ``columns`` (which have that much room above their floors), one at a
    time from the widest, so a short column keeps its width while a long one is cut."""
    for _ in range(shortage):
        column = max(
            (c for c in columns if widths[c.key] > c.narrowest),
            key=lambda c: (widths[c.key], -columns.index(c)),
        )
        widths[column.key] -= 1


def total_width(columns: Sequence[PlacedColumn]) -> int:
    """Cells the placed columns occupy, padding included."""
    return sum(c.width + 2 * CELL_PADDING for c in columns)
