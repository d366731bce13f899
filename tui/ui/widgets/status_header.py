"""The top line: context and cluster, AIO namespace, connection state, vault and ARM state, data age, mode.

Each item is its own :class:`~tui.ui.widgets.text_line.TextLine`, so the data age ticking every second
repaints a few cells rather than the whole line. When the wide wording does not fit (80 columns, or a
broken connection at 120) the header goes narrow (:mod:`tui.ui.view.header`): shorter words, no app name,
no usual namespace, so the context name, the connection state, the data age and READ-ONLY stay.
"""

from __future__ import annotations

from datetime import datetime

from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal

from tui.core.model.state import ClusterState
from tui.ui.source import SourceInfo
from tui.ui.view import connection, header
from tui.ui.view.connection import Summary
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
        self._last: tuple[ClusterState | None, datetime, str | None, bool] | None = None
        self.narrow = False
        """The narrow wording is in use (see :mod:`tui.ui.view.header`)."""
        self.rereading = False
        """A ``ctrl+r`` re-read was asked for and has not come back: the vault item says so."""

    def compose(self) -> ComposeResult:
        """Title, context, namespace, connection, vault, ARM, age and read-only badge."""
        yield TextLine("aio-certs", id="hdr-title")
        # What is wrong, first: critical and warning findings in words (the context line gives way).
        yield TextLine("", id="hdr-findings")
        yield TextLine(
            header.context_text(self._info.context, self._info.server, narrow=False), id="hdr-context"
        )
        yield TextLine(f"ns {self._namespace}", id="hdr-namespace")
        yield TextLine("connecting…", id="hdr-connection", classes="-muted")
        yield TextLine("vault …", id="hdr-vault", classes="-muted")
        # Hidden (-absent) until a state says ARM matters to this site.
        yield TextLine("", id="hdr-arm", classes="-muted -absent")
        yield TextLine("", id="hdr-age", classes="-muted")
        yield TextLine("", id="hdr-mode")

    def _line(self, widget_id: str) -> TextLine:
        return self.query_one(f"#{widget_id}", TextLine)

    def on_resize(self, event: events.Resize) -> None:
        """Word the items again for the new width."""
        if self._last is not None:
            state, now, source_error, read_only = self._last
            self.show(state, now, source_error=source_error, read_only=read_only)

    def show(
        self, state: ClusterState | None, now: datetime, *, source_error: str | None, read_only: bool
    ) -> None:
        """Bring every item up to date (unchanged items are not repainted)."""
        self._last = (state, now, source_error, read_only)
        namespace = state.namespace if state is not None else self._namespace
        findings = ""
        findings_level = Level.OK
        if state is not None:
            counts = site_counts(state.findings)
            findings_level = Level.ERROR if counts.critical else Level.WARNING if counts.warning else Level.OK
            # While collections are still loading, no finding was drawn from them: nothing found is not
            # "no problems" yet.
            findings = counts.text() or ("no problems so far" if state.loading else "no problems")
        cluster = loading_summary(state, connection.cluster_summary(state, source_error))
        vault = connection.vault_summary(state)
        if self.rereading:
            vault = connection.rereading(vault)
        arm = connection.arm_summary(state)
        mode = "READ-ONLY" if read_only else ""
        width = self.size.width or self.app.size.width
        shown_findings = "" if self.screen.has_class("-compact") else findings
        namespace_item = f"ns {namespace}" if not header.namespace_shown(namespace, narrow=True) else ""
        level = header.fit_level(
            fixed=[shown_findings, mode] + ([f"ns {namespace}"] if not namespace_item else []),
            optional=["aio-certs", namespace_item],
            wordy=[f"● {cluster.text}", vault.text, arm.text],
            context=self._info.context,
            server=self._info.server,
            width=width,
        )
        narrow = level >= header.TRIMMED
        self.narrow = narrow
        self.set_class(narrow, "-narrow")

        def word(text: str) -> str:
            return header.compact(text) if level >= header.SHORT else text

        self._line("hdr-title").set_class(narrow, "-absent")
        if state is not None:
            self._line("hdr-findings").show(findings, findings_level)
        self._line("hdr-context").show(
            header.context_text(self._info.context, self._info.server, narrow=narrow)
        )
        ns_line = self._line("hdr-namespace")
        ns_line.show(f"ns {namespace}")
        ns_line.set_class(not header.namespace_shown(namespace, narrow=narrow), "-absent")
        self._line("hdr-connection").show(f"● {word(cluster.text)}", cluster.level)
        self._line("hdr-vault").show(word(vault.text), vault.level)
        arm_line = self._line("hdr-arm")
        arm_line.show(word(arm.text), arm.level)
        arm_line.set_class(not arm.text, "-absent")
        self.tick(state, now)
        self._line("hdr-mode").show(mode, Level.WARNING if read_only else None)

    def set_rereading(self, rereading: bool, now: datetime) -> None:
        """Say ``vault re-reading…`` in place of the vault's state from ``ctrl+r`` until the read is back.

        In the header rather than in a notice: ``ctrl+r`` is often pressed in the filter box with more
        typing to come, and mounting a notice cost the next keys 20-35 ms each (``bench/bench_ui.py``)."""
        if rereading == self.rereading:
            return
        self.rereading = rereading
        if self._last is not None:
            state, _then, source_error, read_only = self._last
            self.show(state, now, source_error=source_error, read_only=read_only)

    def tick(self, state: ClusterState | None, now: datetime) -> None:
        """Update the data age only (called every second)."""
        age = header.age_summary(state, now)
        self._line("hdr-age").show(age.text, age.level)


LOADING_NAMED = 3
"""Collections named in the header while they load; the rest are counted."""


def loading_summary(state: ClusterState | None, cluster: Summary) -> Summary:
    """``loading: secrets, secretsyncs`` in place of ``live`` or ``loading…`` while some collections have
    not answered yet (a state drawn before every list is in); a worse connection state stands."""
    if state is None or not state.loading or cluster.level not in (Level.OK, Level.MUTED):
        return cluster
    names = list(state.loading)
    more = f" +{len(names) - LOADING_NAMED}" if len(names) > LOADING_NAMED else ""
    return Summary(f"loading: {', '.join(names[:LOADING_NAMED])}{more}", Level.MUTED)
