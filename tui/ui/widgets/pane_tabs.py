"""The tab strip of the compact (80x24) layout: which pane is shown, and its number key."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import events

from tui.ui.messages import PaneRequested
from tui.ui.view.urgency import Counts
from tui.ui.widgets.text_line import TextLine

PANES: tuple[tuple[str, str], ...] = (("root-ca", "Root CA"), ("issuers", "Issuers"), ("opcua", "OPC UA"))
"""Pane ids and titles, in number-key order."""


class PaneTabs(TextLine):
    """``1 Root CA │ 2 Issuers │ 3 OPC UA 4 crit 9 warn`` with the shown pane highlighted and each pane's
    critical and warning findings counted (in words, not only colour); a click switches panes."""

    def __init__(self, *, id: str = "pane-tabs") -> None:
        super().__init__("", id=id)
        self.active = PANES[0][0]
        self._spans: list[tuple[int, int, str]] = []
        self.counts: Mapping[str, Counts] = {}

    def set_counts(self, counts: Mapping[str, Counts]) -> None:
        """Show these finding counts beside each pane's title."""
        if dict(counts) == dict(self.counts):
            return
        self.counts = dict(counts)
        self.set_active(self.active, force=True)

    def on_mount(self) -> None:
        """Draw the strip once mounted."""
        self.set_active(self.active, force=True)

    def set_active(self, pane_id: str, *, force: bool = False) -> None:
        """Highlight ``pane_id``."""
        if pane_id == self.active and not force:
            return
        self.active = pane_id
        text = Text()
        self._spans = []
        for number, (each, title) in enumerate(PANES, start=1):
            if number > 1:
                text.append(" │ ", "dim")
            start = len(text)
            style = "reverse bold" if each == pane_id else ""
            text.append(f" {number} {title} ", style)
            counts = self.counts.get(each, Counts())
            if counts.critical:
                text.append(f"{counts.critical} crit ", f"{style} bold red".strip())
            if counts.warning:
                text.append(f"{counts.warning} warn ", f"{style} yellow".strip())
            self._spans.append((start, len(text), each))
        self.show(text)

    def on_click(self, event: events.Click) -> None:
        """Switch to the pane whose tab was clicked."""
        for start, end, pane_id in self._spans:
            if start <= event.x < end:
                self.post_message(PaneRequested(pane_id))
                return
