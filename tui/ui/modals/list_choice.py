"""The trust-or-issuer choice of the upload and add-from-Key-Vault dialogs.

One key changes it: ``←``/``→`` (or ``t``/``i``) choose directly, ``space`` switches; nothing wraps
around (``→`` on issuer stays on issuer), and no second key is needed to confirm, as a radio set would
want. When the dialog chose the list for the user (the row under the cursor was in the issuer list), the
note beside the choice says so, and it says so again when the user changes it.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static

from tui.core.model.names import LIST_ISSUER, LIST_TRUST

CHOICES = (LIST_TRUST, LIST_ISSUER)


class ListChoice(Horizontal, can_focus=True):
    """``trust`` or ``issuer``: one focusable line; the chosen list shows as ``◉``, the other as ``○``."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "left,t", "choose('trust')", "Trust", show=False, id="list.trust", tooltip="Choose the trust list"
        ),
        Binding(
            "right,i",
            "choose('issuer')",
            "Issuer",
            show=False,
            id="list.issuer",
            tooltip="Choose the issuer list",
        ),
        Binding(
            "space",
            "switch",
            "Switch",
            show=False,
            id="list.switch",
            tooltip="Switch between trust and issuer",
        ),
    ]

    DEFAULT_CSS = """
    ListChoice { width: 1fr; height: 1; }
    ListChoice > .list-option { width: auto; margin-right: 2; }
    ListChoice > .list-option.-chosen { text-style: bold; }
    ListChoice:focus > .list-option.-chosen { background: $primary-muted; }
    ListChoice > #list-note { width: 1fr; color: $text-muted; text-wrap: nowrap; text-overflow: ellipsis; }
    """

    class Changed(Message):
        """The chosen list changed."""

        def __init__(self, choice: ListChoice, value: str) -> None:
            super().__init__()
            self.choice = choice
            self.value = value

        @property
        def control(self) -> ListChoice:
            """The choice that changed (for ``@on`` selectors)."""
            return self.choice

    def __init__(self, value: str = LIST_TRUST, *, reason: str = "", id: str | None = None) -> None:
        """``reason``: why ``value`` was chosen for the user (shown beside it); empty for the default."""
        super().__init__(id=id, classes="list-choice")
        self._value = value if value in CHOICES else LIST_TRUST
        self._initial = self._value
        self._reason = reason

    def compose(self) -> ComposeResult:
        """The two lists and the note."""
        for name in CHOICES:
            yield Static("", id=f"list-{name}", classes="list-option", markup=False)
        yield Static("", id="list-note", markup=False)

    def on_mount(self) -> None:
        """Show the initial choice."""
        self._show()

    @property
    def value(self) -> str:
        """The chosen list: ``trust`` or ``issuer``."""
        return self._value

    @property
    def note(self) -> str:
        """The text beside the choice (tests read it)."""
        return self._note_text()

    def choose(self, name: str) -> None:
        """Choose ``name`` (no change, no message when it is already chosen)."""
        if name not in CHOICES or name == self._value:
            return
        self._value = name
        self._show()
        self.post_message(self.Changed(self, name))

    def action_choose(self, name: str) -> None:
        """Choose a list."""
        self.choose(name)

    def action_switch(self) -> None:
        """Choose the other list."""
        self.choose(LIST_ISSUER if self._value == LIST_TRUST else LIST_TRUST)

    def on_click(self, event: events.Click) -> None:
        """A click on a list chooses it."""
        widget_id = event.widget.id if event.widget is not None else None
        if widget_id is not None and widget_id.removeprefix("list-") in CHOICES:
            self.choose(widget_id.removeprefix("list-"))
        self.focus()

    def _note_text(self) -> str:
        # Short: at 80 columns the note has about 40 cells beside the two choices.
        if not self._reason:
            return "←/→ or t/i"
        if self._value == self._initial:
            return f"←/→ · {self._initial}: {self._reason}"
        return f"←/→ · was {self._initial} ({self._reason})"

    def _show(self) -> None:
        for name in CHOICES:
            option = self.query_one(f"#list-{name}", Static)
            chosen = name == self._value
            option.update(f"{'◉' if chosen else '○'} {name}")
            option.set_class(chosen, "-chosen")
        self.query_one("#list-note", Static).update(self._note_text())
