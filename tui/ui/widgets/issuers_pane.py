"""The Issuers pane: every Issuer and ClusterIssuer with readiness, type and the Certificates it backs.

The table keeps one line per issuer; what does not fit beside it at 120 columns (the whole name, the Ready
condition's reason, message and last transition, the roles and CA secret) is shown for the issuer under
the cursor in a detail block below the table.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable

from tui.core.health.report import loading_text, unread_reason
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState
from tui.core.model.state import Area, ClusterState, IssuerView
from tui.ui.messages import PreviewRequested
from tui.ui.view import format as fmt
from tui.ui.view.cells import Cell
from tui.ui.view.labelled import join_lines, labelled
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.rows import ISSUER_COLUMNS, fit_issuer_columns, issuer_cells
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.text_line import TextLine
from tui.ui.widgets.titled import Titled


def issuer_detail_text(issuer: IssuerView, palette: Palette, *, certs_loading: bool = False) -> Text:
    """Everything about one issuer the table has no room for, as label/value lines (``certs_loading``:
    the Certificates are not listed yet, so how many it backs is not known)."""
    if issuer.ready is None:
        ready = [("unknown (no Ready condition yet)", Level.MUTED)]
    else:
        ready = [("True" if issuer.ready else "False", Level.OK if issuer.ready else Level.ERROR)]
    if issuer.reason:
        ready.append((f" · {issuer.reason}", Level.PLAIN if issuer.ready else Level.ERROR))
    if issuer.last_transition is not None:
        ready.append((f" · since {fmt.when(issuer.last_transition, seconds=False)}", Level.MUTED))
    backs = [
        ("loading certificates", Level.MUTED)
        if certs_loading
        else (f"{issuer.certificates_backed} certificate(s)", Level.PLAIN)
    ]
    if issuer.certificates_failing:
        backs.append((f" · {issuer.certificates_failing} failing", Level.WARNING))
    if issuer.roles:
        backs.append((f" · role {', '.join(issuer.roles)}", Level.INFO))
    lines = [
        labelled(palette, "Issuer", (issuer.display_name, Level.PLAIN)),
        labelled(palette, "Kind", (f"{issuer.kind} · {issuer.type}", Level.PLAIN)),
    ]
    if issuer.ca_secret_name:
        lines.append(labelled(palette, "CA secret", (issuer.ca_secret_name, Level.PLAIN)))
    lines.append(labelled(palette, "Ready", *ready))
    if issuer.message:
        lines.append(labelled(palette, "Message", (fmt.one_line(issuer.message), Level.MUTED)))
    lines.append(labelled(palette, "Backs", *backs))
    return join_lines(*lines)


class IssuersPane(Titled, Vertical):
    """A keyed table of issuers; the title counts them and those not ready."""

    def __init__(self, *, id: str = "issuers") -> None:
        super().__init__(id=id, classes="pane")
        self.set_title("Issuers")
        self.palette = DEFAULT_PALETTE
        self._state: ClusterState | None = None

    def compose(self) -> ComposeResult:
        """The table, and the detail of the issuer under its cursor."""
        yield KeyedTable(ISSUER_COLUMNS, id="issuers-table")
        yield TextLine("", id="issuer-detail")

    @property
    def table(self) -> KeyedTable:
        """The issuers table."""
        return self.query_one("#issuers-table", KeyedTable)

    def show(self, state: ClusterState) -> None:
        """Show the issuers of a new state (by key: the cursor stays on its issuer)."""
        # The first complete state after partial ones (lists still arriving): the cursor goes back to the
        # top, the most urgent issuer, unless the user is in the table. It had stayed on whichever issuer
        # topped the first partial list, so what the pane opened on depended on which list came first.
        settled = state.complete and self._state is not None and not self._state.complete
        self._state = state
        palette = self.palette
        self.table.set_specs(
            fit_issuer_columns(ISSUER_COLUMNS, max((len(i.display_name) for i in state.issuers), default=0))
        )
        # Certificates not listed yet: how many an issuer backs is unknown, not 0.
        certs_loading = rk.CERTIFICATES.plural in state.loading
        rows = []
        for issuer in state.issuers:
            cells = issuer_cells(issuer, palette)
            if certs_loading:
                cells = {**cells, "certs": Cell("…", palette.style(Level.MUTED))}
            rows.append((issuer.key, cells))
        self.table.apply(rows)
        if settled and rows and not self.table.has_focus:
            self.table.move_to_key(rows[0][0])
        not_ready = sum(1 for issuer in state.issuers if issuer.ready is not True)
        failing = sum(issuer.certificates_failing for issuer in state.issuers)
        area = state.area("issuers")
        pending = area.state is AreaState.PENDING
        # While a collection is loading the count is not the site's yet: the title says what is loading.
        title = "Issuers" if pending else f"Issuers · {len(state.issuers)}"
        if not_ready:
            title += f" · {not_ready} not ready"
        if failing:
            title += f" · {failing} certs failing"
        if pending:
            title += " · " + loading_text(
                key.rsplit("/", 1)[-1] for key, part in area.parts if part.state is AreaState.PENDING
            )
        elif not area.ok:
            title += f" · {area.state.value}"
        self.set_title(title)
        self._show_detail(self.table.cursor_key)

    def _show_detail(self, key: str | None) -> None:
        state = self._state
        issuer = next((i for i in state.issuers if i.key == key), None) if state is not None else None
        if issuer is None and state is not None and state.issuers:
            issuer = state.issuers[0]
        detail = self.query_one("#issuer-detail", TextLine)
        if issuer is not None:
            loading = state is not None and rk.CERTIFICATES.plural in state.loading
            detail.show(issuer_detail_text(issuer, self.palette, certs_loading=loading))
        else:
            # Never read (cluster unreachable, not listed yet) is unknown, not "no issuers".
            unread = unread_reason(state, Area.ISSUERS) if state is not None else "not read yet"
            detail.show(f"issuers {unread}" if unread else "no issuers found")

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        """The cursor moved: show that issuer's detail."""
        event.stop()
        self._show_detail(str(event.row_key.value) if event.row_key.value is not None else None)

    def restyle(self) -> None:
        """Re-render every row (after a theme change)."""
        if self._state is not None:
            self.show(self._state)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """``enter`` on an issuer opens its details."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(PreviewRequested("issuer", str(event.row_key.value)))
