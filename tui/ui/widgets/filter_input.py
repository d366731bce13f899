"""The OPC UA filter box: an input whose ``enter`` and ``esc`` show in the footer while it has the focus.

A plain :class:`~textual.widgets.Input` hides its keys, so while filtering the footer named only the
table's keys, none of which work there. ``enter`` keeps the filter and returns to the table; ``esc``
clears it and returns (the pane hides the empty box on the submit that follows).

Each new value is also handed to :attr:`FilterInput.value_typed` at once, in the key's own turn: through
the ``Changed`` message the table followed one hop later, often a frame after the echo of the key.

Of keys that arrive together (typed ahead over a slow link, a word written at once) only the last one's
value is handed on: the table is refilled once, for what the box finally says, not once per letter
(a 15-letter word cost 15 refills, ~45 ms at 2,000 rows, before its one frame). A key still queued to
the box or to the app is what says more are coming; the ``Changed`` message of the last value, which
the pane also follows, applies it should the queue be read wrong.

An Input's scrollable width is its text's, so every keystroke changed it, and a change of a widget's
scrollable size lays out the whole screen again (about 1.5 ms a key at 2,000 rows, for nothing: the box is
one line of fixed width, and its horizontal scrolling reads the size directly). Here it only repaints.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message_pump import MessagePump
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
        """Hand the new value to :attr:`value_typed` unless another key is already waiting (``Changed`` is
        still posted, as by any Input)."""
        if self.value_typed is not None and not (keys_waiting(self) or keys_waiting(self.app)):
            self.value_typed(value)

    async def action_clear_filter(self) -> None:
        """Empty the box, then submit: the pane refills the table and hides the box."""
        self.value = ""
        await self.action_submit()


def keys_waiting(pump: MessagePump) -> bool:
    """Whether a key event is queued to ``pump`` (not yet handled).

    Textual has no public way to look at a queue's contents, only its length, and the box's own
    ``Changed`` messages are queued too; so this reads the pump's queue (Textual's own ``Queue`` keeps
    its messages in ``values``) and the one message its loop may have taken ahead (``_pending_message``),
    and reads "none" wherever either is not there (a later Textual): the box then hands on every value,
    as before.
    """
    pending = getattr(pump, "_pending_message", None)
    queued = getattr(getattr(pump, "_message_queue", None), "values", None)
    if isinstance(pending, events.Key):
        return True
    return queued is not None and any(isinstance(message, events.Key) for message in tuple(queued))
