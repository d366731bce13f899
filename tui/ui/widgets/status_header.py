"""The top line: context and cluster, AIO namespace, connection state, vault and ARM state, data age, mode.

Each item is its own :class:`~tui.ui.widgets.text_line.TextLine`, so the data age ticking every second
repaints a few cells rather than the whole line.
"""

from __future__ import annotations

from datetime import datetime

from textual.app import ComposeResult
from textual.containers import Horizontal

from tui.core.model.state import ClusterState
from tui.ui.source import SourceInfo
from tui.ui.view import connection
from tui.ui.view.levels import Level
from tui.ui.view.urgency import site_counts
from tui.ui.widgets.text_line import TextLine


class StatusHeader(Horizontal):
    """Where the dashboard looks and how well it can see, and how many critical and warning findings."""

    # At 80 columns the tab strip counts the findings per pane; the header keeps its room for the
    # connection state and the READ-ONLY badge.
    SCOPED_CSS = False
    DEFAULT_CSS = """
    DashboardScreen.-compact #hdr-findings { display: none; }
    """

    def __init__(self, info: SourceInfo, namespace: str, *, id: str | None = "status-header") -> None:
        super().__init__(id=id)
        self._info = info
        self._namespace = namespace

    def compose(self) -> ComposeResult:
        """Title, context, namespace, connection, vault, ARM, age and read-only badge."""
        server = f" ({self._info.server})" if self._info.server else ""
        yield TextLine("aio-certs", id="hdr-title")
        # What is wrong, first: critical and warning findings in words (the context line gives way).
        yield TextLine("", id="hdr-findings")
        yield TextLine(f"ctx {self._info.context}{server}", id="hdr-context")
        yield TextLine(f"ns {self._namespace}", id="hdr-namespace")
        yield TextLine("connecting…", id="hdr-connection", classes="-muted")
        yield TextLine("vault …", id="hdr-vault", classes="-muted")
        # Hidden (-absent) until a state says ARM matters to this site.
        yield TextLine("", id="hdr-arm", classes="-muted -absent")
        yield TextLine("", id="hdr-age", classes="-muted")
        yield TextLine("", id="hdr-mode")

    def _line(self, widget_id: str) -> TextLine:
        return self.query_one(f"#{widget_id}", TextLine)

    def show(
        self, state: ClusterState | None, now: datetime, *, source_error: str | None, read_only: bool
    ) -> None:
        """Bring every item up to date (unchanged items are not repainted)."""
        if state is not None:
            self._line("hdr-namespace").show(f"ns {state.namespace}")
            counts = site_counts(state.findings)
            level = Level.ERROR if counts.critical else Level.WARNING if counts.warning else Level.OK
            self._line("hdr-findings").show(counts.text() or "no problems", level)
        cluster = connection.cluster_summary(state, source_error)
        self._line("hdr-connection").show(f"● {cluster.text}", cluster.level)
        vault = connection.vault_summary(state)
        self._line("hdr-vault").show(vault.text, vault.level)
        arm = connection.arm_summary(state)
        arm_line = self._line("hdr-arm")
        arm_line.show(arm.text, arm.level)
        arm_line.set_class(not arm.text, "-absent")
        self.tick(state, now)
        self._line("hdr-mode").show("READ-ONLY" if read_only else "", Level.WARNING if read_only else None)

    def tick(self, state: ClusterState | None, now: datetime) -> None:
        """Update the data age only (called every second)."""
        age = connection.age_summary(state, now)
        self._line("hdr-age").show(age.text, age.level)
