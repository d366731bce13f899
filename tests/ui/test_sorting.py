"""Sorting the OPC UA entries: a filtered subset sorted through the remembered full sort comes out in the
same order as a sort from scratch, for every column, direction, set of marks and new state."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.model.state import ClusterState, OpcUaEntry
from tui.ui.view.rows import OPCUA_SORT, SortOrder, sort_entries


def _scratch(entries: list[OpcUaEntry], order: SortOrder, marked: Collection[str]) -> list[str]:
    """The specified order: by the column's model value, ties by key in either direction."""
    if order.column == "mark":

        def value(e: OpcUaEntry) -> object:
            return e.key not in marked
    else:
        value = OPCUA_SORT[order.column]
    by_key = sorted(entries, key=lambda e: e.key)
    return [e.key for e in sorted(by_key, key=value, reverse=order.reverse)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=st.lists(
        st.tuples(
            st.sampled_from(sorted(OPCUA_SORT)),
            st.booleans(),
            st.lists(st.booleans(), min_size=64, max_size=64),  # which entries the filter keeps
            st.lists(st.booleans(), min_size=64, max_size=64),  # which entries are marked
            st.booleans(),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_a_sorted_subset_is_in_the_order_a_sort_from_scratch_gives(
    steady: ClusterState, steps: list[tuple[str, bool, list[bool], list[bool], bool]]
) -> None:
    states = [list(steady.opcua), [replace(e) for e in steady.opcua]]  # a rebuild: equal, new objects
    for column, reverse, keep, mark, rebuilt in steps:
        entries = states[rebuilt]
        subset = [e for index, e in enumerate(entries) if keep[index % len(keep)]]
        marked = {e.key for index, e in enumerate(entries) if mark[index % len(mark)]}
        order = SortOrder(column, reverse)
        full = sort_entries(entries, order, marked)  # what the pane sorts with an empty filter
        assert [e.key for e in full] == _scratch(entries, order, marked)
        assert [e.key for e in sort_entries(subset, order, marked)] == _scratch(subset, order, marked)
        assert all(any(e is x for x in subset) for e in sort_entries(subset, order, marked))
