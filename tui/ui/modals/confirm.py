"""A small yes/no dialog for the dashboard's irreversible-looking choices (discarding staged changes)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.ui.modals.safe import title


class ConfirmModal(ModalScreen[bool]):
    """Asks one question; the confirm button (or ``y``) answers yes, ``esc`` or ``n`` no."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "answer(False)", "No", id="confirm.no", tooltip="Answer no and close"),
        Binding("y", "answer(True)", "Yes", id="confirm.yes", tooltip="Answer yes and close"),
    ]

    def __init__(self, title: str, question: str, confirm_label: str = "Yes") -> None:
        super().__init__(id="confirm")
        self.title_text = title
        self.question = question
        self.confirm_label = confirm_label

    def compose(self) -> ComposeResult:
        """The question and two buttons."""
        with Vertical(id="confirm-dialog", classes="change-dialog") as dialog:
            dialog.border_title = title(self.title_text)  # text, not markup
            yield Static(self.question, id="confirm-question", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.confirm_label, id="confirm-yes", variant="error")
                yield Button("Cancel", id="confirm-no")
            yield Static("y yes · n or esc no", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Focus "Cancel": an enter pressed by habit keeps things as they are."""
        self.query_one("#confirm-no", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        """Close with the answer."""
        self.dismiss(yes)
