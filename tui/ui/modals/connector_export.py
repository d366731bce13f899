"""Write the OPC UA connector's public certificate to a file, from its preview (``w``).

Asks for the path (proposed: ``<common name>.der`` in the working directory); a name ending in ``.pem``
or ``.crt`` gets PEM, anything else DER (what OPC UA servers import). The write is the same as
``aio-certs connector-cert`` (:mod:`tui.ops.connector_export`): an existing file is never replaced and
the private key is never read. A refusal is one line in the dialog, which stays open to fix the path.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from tui.core.model.connector import ConnectorCertView
from tui.ops.connector_export import ExportRefused, export_public_certificate
from tui.ui.modals.safe import SafeInput, safe

PEM_SUFFIXES = (".pem", ".crt")


def proposed_path(view: ConnectorCertView, folder: Path) -> Path:
    """``<folder>/<common name>.der`` (a safe file name), e.g. ``aio-opc-opcuabroker.der``."""
    cert = view.certificate
    base = (cert.common_name if cert is not None and cert.common_name else "") or "opcua-connector"
    safe = "".join(c if c.isalnum() or c in "-_." else "-" for c in base).strip(".-") or "opcua-connector"
    return folder / f"{safe}.der"


class ConnectorExportModal(ModalScreen[Path | None]):
    """Asks where to write the certificate; ``enter`` writes, ``esc`` cancels. Dismisses with the path."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="connector-export.cancel", tooltip="Close without writing"),
    ]

    def __init__(self, view: ConnectorCertView, folder: Path | None = None) -> None:
        super().__init__(id="connector-export")
        self.view = view
        self.folder = folder if folder is not None else Path.cwd()

    def compose(self) -> ComposeResult:
        """The path box, the outcome line and a hint."""
        with Vertical(id="connector-export-dialog", classes="change-dialog") as dialog:
            dialog.border_title = "Write the connector certificate"
            yield Static(
                "File for the OPC UA servers to trust (.der: DER, .pem/.crt: PEM):",
                markup=False,
            )
            yield SafeInput(value=str(proposed_path(self.view, self.folder)), id="connector-export-path")
            yield Static("", id="connector-export-outcome", markup=False)
            yield Static("enter write · esc cancel", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Focus the path box, the cursor at its end."""
        self.query_one("#connector-export-path", Input).focus()

    @on(Input.Submitted, "#connector-export-path")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        text = event.value.strip()
        if not text:
            self._say("name a file")
            return
        path = Path(text).expanduser()
        try:
            written = export_public_certificate(
                self.view, path, pem=path.suffix.lower() in PEM_SUFFIXES, exists_hint="choose another name"
            )
        except ExportRefused as exc:
            self._say(str(exc))
            return
        self.app.notify(written.describe(self.view), timeout=8, markup=False)
        self.dismiss(written.path)

    def _say(self, line: str) -> None:
        # Refusals quote the path escaped already (tui.ops.connector_export).
        self.query_one("#connector-export-outcome", Static).update(safe(f"✗ {line}"))

    def action_cancel(self) -> None:
        """Close without writing."""
        self.dismiss(None)
