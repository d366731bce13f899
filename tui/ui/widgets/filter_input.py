"""The OPC UA filter box: an input whose ``enter`` and ``esc`` show in the footer while it has the focus.

A plain :class:`~textual.widgets.Input` hides its keys, so while filtering the footer named only the
table's keys, none of which work there. ``enter`` keeps the filter and returns to the table; ``esc``
clears it and returns (the pane hides the empty box on the submit that follows).

Each new value is also handed to :attr:`FilterInput.value_typed` at once, in the key's own turn: through
the ``Changed`` message the table followed one hop later, often a frame after the echo of the key.

An Input's scrollable width is its text's, so every keystroke changed it, and a change of a widget's
scrollable size lays out the whole screen again (about 1.5 ms a key at 2,000 rows, for nothing: the box is
one line of fixed width, and its horizontal scrolling reads the size directly). Here it only repaints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import Reactive
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

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)
    """The scrollable size, as Widget's but without a layout pass when it changes (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Coming back to the box must not select the words, so the next key adds to them.
        kwargs.setdefault("select_on_focus", False)
        super().__init__(*args, **kwargs)
        self.value_typed: Callable[[str], None] | None = None
        """Called with each new value as it is set (typed, pasted or cleared), before it is painted."""

    def watch_value(self, value: str) -> None:
        """Hand the new value to :attr:`value_typed` (``Changed`` is still posted, as by any Input)."""
        if self.value_typed is not None:
            self.value_typed(value)

    async def action_clear_filter(self) -> None:
        """Empty the box, then submit: the pane refills the table and hides the box."""
        self.value = ""
        await self.action_submit()
