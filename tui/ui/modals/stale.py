"""Stale entries (``x``): what the dashboard just marked and why, before a bulk delete.

The marks stay in the table after this dialog closes, so the user can unmark (``space``) whatever should
stay and then press ``d``; or go straight to the delete dialog from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette


class StaleModal(ModalScreen[bool]):
    """Lists the stale entries with their reasons; True means "open the delete dialog for them"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "review",
            "Review in the table",
            id="stale.review",
            tooltip="Close and review the marked entries in the table (space unmarks)",
        ),
        Binding(
            "d",
            "delete",
            "Delete…",
            id="stale.delete",
            tooltip="Open the delete dialog for every marked stale entry",
        ),
    ]

    def __init__(self, reasons: Mapping[str, str], palette: Palette | None = None) -> None:
        super().__init__(id="stale")
        self.reasons = dict(reasons)
        self.palette = palette or DEFAULT_PALETTE

    def compose(self) -> ComposeResult:
        """One line per stale entry, then the choices."""
        with Vertical(id="stale-dialog", classes="change-dialog") as dialog:
            count = len(self.reasons)
            dialog.border_title = f"{count} stale entr{'y' if count == 1 else 'ies'} marked"
            with VerticalScroll(id="stale-body"):
                lines = []
                for key, reason in self.reasons.items():
                    line = Text(key, style="bold")
                    line.append(f"  {reason}", style=self.palette.style(Level.WARNING))
                    lines.append(line)
                yield Static(Text("\n").join(lines), id="stale-list", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete them…", id="stale-delete", variant="error")
                yield Button("Review in the table", id="stale-review")
            yield Static(
                "d delete… · esc review in the table (space unmarks)", classes="dialog-hint", markup=False
            )

    def on_mount(self) -> None:
        """Focus "Review": deleting is one deliberate step away."""
        self.query_one("#stale-review", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "stale-delete")

    def action_review(self) -> None:
        """Close; the marks stay."""
        self.dismiss(False)

    def action_delete(self) -> None:
        """Go on to the delete dialog."""
        self.dismiss(True)
