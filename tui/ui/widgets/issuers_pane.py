"""The Issuers pane: every Issuer and ClusterIssuer with readiness, type and the Certificates it backs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from tui.core.model import ClusterState
from tui.ui.levels import DEFAULT_PALETTE
from tui.ui.messages import PreviewRequested
from tui.ui.rows import ISSUER_COLUMNS, issuer_cells
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.titled import Titled


class IssuersPane(Titled, Vertical):
    """A keyed table of issuers; the title counts them and those not ready."""

    def __init__(self, *, id: str = "issuers") -> None:
        super().__init__(id=id, classes="pane")
        self.set_title("Issuers")
        self.palette = DEFAULT_PALETTE
        self._state: ClusterState | None = None

    def compose(self) -> ComposeResult:
        """The table."""
        yield KeyedTable(ISSUER_COLUMNS, id="issuers-table")

    @property
    def table(self) -> KeyedTable:
        """The issuers table."""
        return self.query_one("#issuers-table", KeyedTable)

    def show(self, state: ClusterState) -> None:
        """Show the issuers of a new state (by key: the cursor stays on its issuer)."""
        self._state = state
        palette = self.palette
        self.table.apply([(issuer.key, issuer_cells(issuer, palette)) for issuer in state.issuers])
        not_ready = sum(1 for issuer in state.issuers if issuer.ready is not True)
        failing = sum(issuer.certificates_failing for issuer in state.issuers)
        title = f"Issuers · {len(state.issuers)}"
        if not_ready:
            title += f" · {not_ready} not ready"
        if failing:
            title += f" · {failing} certs failing"
        area = state.area("issuers")
        if not area.ok:
            title += f" · {area.state.value}"
        self.set_title(title)

    def restyle(self) -> None:
        """Re-render every row (after a theme change)."""
        if self._state is not None:
            self.show(self._state)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """``enter`` on an issuer opens its details."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(PreviewRequested("issuer", str(event.row_key.value)))
