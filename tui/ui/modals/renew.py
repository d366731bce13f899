"""Renew (``r`` on the Root CA pane): ask cert-manager to re-issue the root CA's Certificate now.

As ``cmctl renew`` and ``aio-certs renew`` do: the Certificate's Issuing condition is set to True with
reason ManuallyTriggered through the status subresource, and cert-manager issues the next revision. The
dialog names the Certificate, its secret and revision, and repeats the CLI's warnings (a CA with a new
key means every certificate it signed must be re-issued). Nothing is written until "Renew" is pressed;
the rotation then shows live in the Root CA pane.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from tui.ui.change_session import RenewTarget
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette


def renew_text(target: RenewTarget, palette: Palette) -> Text:
    """What will happen, and the warnings."""
    cert = target.certificate
    revision = cert.revision if cert.revision is not None else "none"
    lines = [
        Text.assemble(("Certificate ", palette.style(Level.MUTED)), (cert.key, "bold")),
        Text.assemble(("Secret      ", palette.style(Level.MUTED)), cert.secret_name or "-"),
        Text.assemble(("Revision    ", palette.style(Level.MUTED)), str(revision)),
        Text(""),
        Text(
            "Sets Issuing=True with reason ManuallyTriggered (as cmctl renew); cert-manager then issues "
            "the next revision and the Root CA pane shows the rotation."
        ),
    ]
    lines += [Text(f"! {warning}", style=palette.style(Level.WARNING)) for warning in target.warnings]
    return Text("\n").join(lines)


class RenewModal(ModalScreen[bool]):
    """Confirm a renewal of the root CA's Certificate; True means renew."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="renew.cancel", tooltip="Close without renewing"),
    ]

    def __init__(self, target: RenewTarget, palette: Palette | None = None) -> None:
        super().__init__(id="renew")
        self.target = target
        self.palette = palette or DEFAULT_PALETTE

    def compose(self) -> ComposeResult:
        """The Certificate, what happens, warnings, buttons."""
        with Vertical(id="renew-dialog", classes="change-dialog") as dialog:
            dialog.border_title = "Renew the root CA"
            yield Static(renew_text(self.target, self.palette), id="renew-text", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Renew", id="renew-confirm", variant="warning")
                yield Button("Cancel", id="renew-cancel")
            yield Static("tab to Renew, enter confirms · esc cancel", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Focus "Cancel": renewing is one deliberate step away."""
        self.query_one("#renew-cancel", Button).focus()

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "renew-confirm")

    def action_cancel(self) -> None:
        """Close without renewing."""
        self.dismiss(False)
