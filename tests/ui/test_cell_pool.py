"""CellPool: one cell per look for the OPC UA columns whose values repeat (design §10.1, memory)."""

from __future__ import annotations

from dataclasses import replace

from tests.ui import sitedata
from tui.ui.view.cells import Cell, CellPool
from tui.ui.view.levels import DEFAULT_PALETTE
from tui.ui.view.rows import entry_cells


def test_a_look_gets_one_cell_until_the_limit_clears_the_pool() -> None:
    pool = CellPool(limit=3)
    first = pool.cell("ok", "green")
    assert pool.cell("ok", "green") is first
    assert pool.cell("ok") is not first and pool.cell("ok").look == ("ok", "")
    assert pool.cell("warn", "green") is not first
    assert len(pool) == 3
    fresh = pool.cell("crit", "red")  # a fourth look: the pool starts again
    assert len(pool) == 1 and pool.cell("crit", "red") is fresh
    assert pool.cell("ok", "green") is not first and pool.cell("ok", "green").look == first.look


def test_entries_share_the_repeating_columns_and_keep_their_own_names() -> None:
    entries = sitedata.steady_state().opcua
    a = entries[0]
    b = replace(a, target_key=a.target_key + "-twin")
    pool = CellPool()
    kwargs = {"marked": False, "warn_days": 30, "critical_days": 7}
    first = entry_cells(a, DEFAULT_PALETTE, pool=pool, **kwargs)
    second = entry_cells(b, DEFAULT_PALETTE, pool=pool, **kwargs)
    for column in ("mark", "list", "issuer", "not_after", "days", "health"):
        assert first[column] is second[column], column
    for column in ("file", "subject", "thumb"):
        assert first[column] is not second[column], column
    assert second["file"].plain.endswith("-twin")
    # The same cells, looks and all, as without a pool.
    alone = entry_cells(a, DEFAULT_PALETTE, **kwargs)
    assert {k: c.look for k, c in alone.items()} == {k: c.look for k, c in first.items()}
    assert all(type(alone[k]) is type(first[k]) for k in alone)
    assert isinstance(first["health"], Cell)
