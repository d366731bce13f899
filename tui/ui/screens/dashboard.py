"""The dashboard screen: header, the Root CA, Issuers and OPC UA panes, and the footer.

At 110x28 and larger the three panes are visible together (Root CA and Issuers side by side above the
OPC UA table). Below that the screen switches to a compact layout: one pane at a time under a tab strip,
switched with ``tab`` or the number keys. Both layouts use the same widget instances, so switching keeps
every cursor, filter and mark.
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer

from tui.core.model.state import ClusterState
from tui.ui.messages import ChangeRequested, PaneRequested, PreviewRequested
from tui.ui.modals.preview import PreviewModal
from tui.ui.source import SourceInfo
from tui.ui.view import connector_doc, preview_doc
from tui.ui.view.levels import Palette
from tui.ui.view.urgency import most_urgent_pane, pane_counts
from tui.ui.widgets.issuers_pane import IssuersPane
from tui.ui.widgets.opcua_pane import OpcUaPane
from tui.ui.widgets.pane_tabs import PANES, PaneTabs
from tui.ui.widgets.root_ca_pane import RootCAPane
from tui.ui.widgets.status_header import StatusHeader

WIDE_MIN_WIDTH = 110
WIDE_MIN_HEIGHT = 28
FOOTER_ROOM_WIDTH = 100
"""From this width the footer has room for ``p Problems`` beside the keys it always shows."""
PANE_IDS = tuple(pane_id for pane_id, _ in PANES)


class DashboardScreen(Screen[None]):
    """The main (and only non-modal) screen."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "next_pane", "Next pane", id="pane.next", tooltip="Move to the next pane"),
        Binding(
            "shift+tab",
            "previous_pane",
            "Previous pane",
            show=False,
            id="pane.previous",
            tooltip="Move to the previous pane",
        ),
        Binding(
            "1",
            "show_pane('root-ca')",
            "Root CA",
            show=False,
            id="pane.root-ca",
            tooltip="Show the Root CA pane",
        ),
        Binding(
            "2",
            "show_pane('issuers')",
            "Issuers",
            show=False,
            id="pane.issuers",
            tooltip="Show the Issuers pane",
        ),
        Binding(
            "3", "show_pane('opcua')", "OPC UA", show=False, id="pane.opcua", tooltip="Show the OPC UA pane"
        ),
        Binding(
            "slash", "filter", "Filter", id="opcua.filter", tooltip="Filter the OPC UA entries as you type"
        ),
        Binding(
            "escape",
            "back",
            "Back",
            show=False,
            id="back",
            tooltip="Back: close the filter, or return to the pane's table",
        ),
        # From any pane, and in the footer only while something is staged (the footer is full at 80x24).
        Binding(
            "a",
            "apply",
            "Apply",
            id="changes.apply",
            tooltip="Plan the staged changes, show the diff, confirm and apply them",
        ),
        # Reached only when a pane hid its change key (read-only view, or no way to write): say so.
        Binding(
            "u,v,d,x,a,z,Z,r",
            "changes_off_notice",
            "Changes off",
            show=False,
            id="changes-off.notice",
            tooltip="When changes are off (read-only view), or a with nothing staged: say why",
        ),
    ]

    def __init__(self, info: SourceInfo, namespace: str) -> None:
        super().__init__(id="dashboard")
        self._info = info
        self._namespace = namespace
        self.active_pane = PANE_IDS[0]
        self.state: ClusterState | None = None
        self._pane_chosen = False
        """The user picked a pane before the first state: do not move them to the most urgent one."""

    def compose(self) -> ComposeResult:
        """Header, tab strip (compact layout only), the panes, footer."""
        yield StatusHeader(self._info, self._namespace)
        yield PaneTabs()
        with Vertical(id="panes"):
            with Horizontal(id="top-row"):
                yield RootCAPane()
                yield IssuersPane()
            yield OpcUaPane()
        yield Footer(compact=True)

    class Ready(Message):
        """The screen and its panes are mounted: states can be shown."""

    def on_mount(self) -> None:
        """Start on the Root CA pane (the first state may move to a more urgent one); tell the app."""
        self._apply_layout(self.app.size.width, self.app.size.height)
        self.action_show_pane(self.active_pane)
        self._pane_chosen = False
        self.post_message(self.Ready())

    # -- parts -----------------------------------------------------------------------------------

    @property
    def header(self) -> StatusHeader:
        """The status header."""
        return self.query_one(StatusHeader)

    @property
    def root_pane(self) -> RootCAPane:
        """The Root CA pane."""
        return self.query_one(RootCAPane)

    @property
    def issuers_pane(self) -> IssuersPane:
        """The Issuers pane."""
        return self.query_one(IssuersPane)

    @property
    def opcua_pane(self) -> OpcUaPane:
        """The OPC UA pane."""
        return self.query_one(OpcUaPane)

    @property
    def compact(self) -> bool:
        """True in the one-pane-at-a-time layout."""
        return self.has_class("-compact")

    # -- state -----------------------------------------------------------------------------------

    def show_state(
        self, state: ClusterState, now: datetime, *, source_error: str | None, read_only: bool
    ) -> None:
        """Show a new state in every pane (each applies it by key and repaints only what changed)."""
        # The first complete state: a partial one (lists still arriving) has findings still to come.
        first = (self.state is None or not self.state.complete) and state.complete
        self.state = state
        with self.app.batch_update():
            self.header.show(state, now, source_error=source_error, read_only=read_only)
            self.root_pane.show(state, now)
            self.issuers_pane.show(state)
            self.opcua_pane.show(state)
            self.query_one(PaneTabs).set_counts(pane_counts(state.findings))
            if first and not self._pane_chosen:
                # Open on what is wrong: the pane of the most severe finding (the user's choice wins).
                urgent = most_urgent_pane(state.findings)
                if urgent is not None and urgent != self.active_pane:
                    self.action_show_pane(urgent)

    def show_status(self, now: datetime, *, source_error: str | None, read_only: bool) -> None:
        """Refresh only the header (connection error, read-only toggle)."""
        self.header.show(self.state, now, source_error=source_error, read_only=read_only)

    def show_rereading(self, rereading: bool, now: datetime) -> None:
        """The header's vault item says a ``ctrl+r`` re-read is under way (or no longer)."""
        self.header.set_rereading(rereading, now)

    def tick(self, now: datetime) -> None:
        """Once a second: data age and countdowns (no repaint unless their text changed)."""
        self.header.tick(self.state, now)
        self.root_pane.tick(now)

    def set_palette(self, palette: Palette) -> None:
        """Use the colours of a new theme."""
        self.root_pane.palette = palette
        self.issuers_pane.palette = palette
        self.opcua_pane.palette = palette
        if self.state is not None:
            self.issuers_pane.restyle()
            self.opcua_pane.restyle()
            self.root_pane.show(self.state, self.state.built_at)

    # -- layout ----------------------------------------------------------------------------------

    def on_resize(self, event: events.Resize) -> None:
        """Pick the wide or compact layout for the new size."""
        self._apply_layout(event.size.width, event.size.height)

    def _apply_layout(self, width: int, height: int) -> None:
        compact = width < WIDE_MIN_WIDTH or height < WIDE_MIN_HEIGHT
        self.opcua_pane.show_problems_key(width >= FOOTER_ROOM_WIDTH)
        self._show_classes(compact=compact)

    def _show_classes(self, *, compact: bool | None = None) -> None:
        # One batch: each class changed on the screen re-applies the stylesheet to every widget under it
        # (8-25 ms), and a pane switch changed two of them. The ``-show-`` classes only matter in the compact
        # layout (styles/dashboard.tcss), so the wide one carries none and a pane switch there restyles
        # nothing.
        if compact is None:
            compact = self.has_class("-compact")
        classes = {f"-show-{pane_id}": compact and pane_id == self.active_pane for pane_id in PANE_IDS}
        classes["-compact"] = compact
        self.update_classes(classes)
        self.query_one(PaneTabs).set_active(self.active_pane)

    def _focus_target(self, pane_id: str) -> Widget:
        if pane_id == "issuers":
            return self.issuers_pane.table
        if pane_id == "opcua":
            return self.opcua_pane.table
        return self.root_pane

    def _pane_of(self, widget: Widget | None) -> str | None:
        node = widget
        while node is not None and node is not self:
            if node.id in PANE_IDS:
                return node.id
            node = node.parent  # type: ignore[assignment]
        return None

    # -- actions ---------------------------------------------------------------------------------

    def action_show_pane(self, pane_id: str) -> None:
        """Show (in the compact layout) and focus a pane."""
        if pane_id not in PANE_IDS:
            return
        self._pane_chosen = True
        self.active_pane = pane_id
        self._show_classes()
        # Focus now, not after the queue (Widget.focus defers): keys typed ahead in the same write
        # (``1`` then ``r`` over SSH) are already queued and go to whatever has focus when each is
        # handled; a deferred focus sent them to the pane left behind.
        self.set_focus(self._focus_target(pane_id))

    def action_next_pane(self) -> None:
        """Focus the next pane (wrapping around)."""
        index = PANE_IDS.index(self.active_pane)
        self.action_show_pane(PANE_IDS[(index + 1) % len(PANE_IDS)])

    def action_previous_pane(self) -> None:
        """Focus the previous pane (wrapping around)."""
        index = PANE_IDS.index(self.active_pane)
        self.action_show_pane(PANE_IDS[(index - 1) % len(PANE_IDS)])

    def action_filter(self) -> None:
        """Open the OPC UA filter box."""
        self.action_show_pane("opcua")
        self.opcua_pane.open_filter()

    def action_back(self) -> None:
        """Return focus to the active pane's main widget."""
        self._focus_target(self.active_pane).focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Apply only with something staged; the notice answers when changes are off or nothing is staged."""
        enabled = bool(getattr(self.app, "changes_enabled", False))
        staged = bool(getattr(self.app, "staging", None))
        if action == "apply":
            return enabled and staged
        if action == "changes_off_notice":
            return not enabled or not staged
        return True

    def action_apply(self) -> None:
        """Open the apply dialog for the staged changes."""
        self.post_message(ChangeRequested("apply"))

    def action_changes_off_notice(self) -> None:
        """Say why a change key does nothing."""
        if getattr(self.app, "changes_enabled", False):
            # Changes are on: only ``a`` with nothing staged gets here (the panes answer the other keys).
            self.notify(
                "nothing staged: u uploads, v adds from Key Vault, d deletes (on the OPC UA pane)",
                severity="warning",
                timeout=4,
            )
            return
        if getattr(self.app, "read_only", False):
            text = (
                "read-only view: uploads, deletes, applies and renewals are off "
                "(ctrl+p → Toggle read-only view, unless started read-only)"
            )
        else:
            text = "changes are not available in this view (no cluster connection for writes)"
        self.notify(text, severity="warning", timeout=4)

    @on(PaneRequested)
    def _pane_requested(self, event: PaneRequested) -> None:
        self.action_show_pane(event.pane_id)

    def on_descendant_focus(self, event: events.DescendantFocus) -> None:
        """Track the pane the user moved into (by mouse or by tab), so the tabs and title follow."""
        pane_id = self._pane_of(event.widget)
        if pane_id is not None and pane_id != self.active_pane:
            self.active_pane = pane_id
            self._show_classes()

    @on(PreviewRequested)
    def _preview_requested(self, event: PreviewRequested) -> None:
        state = self.state
        if state is None:
            return
        doc: preview_doc.PreviewDoc | None = None
        if event.kind == "root-ca":
            doc = preview_doc.root_ca_preview(state)
        elif event.kind == "entry":
            entry = state.entry(event.key)
            if entry is not None:
                doc = preview_doc.entry_preview(state, entry)
                staged = self.opcua_pane.staged_label(entry.key)
                if staged is not None:
                    doc = preview_doc.with_staged(doc, staged)
            else:
                # A staged add is a row of its own, not in the state yet (trial 12: enter did nothing).
                ghost = next((e for e in self.opcua_pane.entries(state) if e.key == event.key), None)
                if ghost is None:
                    self.notify(f"{event.key} is no longer in the lists", severity="warning", timeout=4)
                    return
                doc = preview_doc.staged_preview(state, ghost)
        elif event.kind == "connector":
            doc = connector_doc.connector_preview(state)
        elif event.kind == "issuer":
            issuer = state.issuer(event.key)
            doc = preview_doc.issuer_preview(state, issuer) if issuer is not None else None
        if doc is not None:
            self.app.push_screen(PreviewModal(doc, self.root_pane.palette))
