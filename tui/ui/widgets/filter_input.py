"""The OPC UA filter box: an input whose ``enter`` and ``esc`` show in the footer while it has the focus.

A plain :class:`~textual.widgets.Input` hides its keys, so while filtering the footer named only the
table's keys, none of which work there. ``enter`` keeps the filter and returns to the table; ``esc``
clears it and returns (the pane hides the empty box on the submit that follows).
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.widgets import Input


class FilterInput(Input):
    """The filter box (see the module docstring)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "submit",
            "Keep filter",
            id="filter.keep",
            tooltip="Keep the filter and go back to the table",
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            id="filter.clear",
            tooltip="Clear the filter, close the box and go back to the table",
        ),
    ]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Coming back to the box must not select the words, so the next key adds to them.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)

    async def action_clear_filter(self) -> None:
        """Empty the box, then submit: the pane refills the table and hides the box."""
        self.value = ""
        await self.action_submit()
