"""The tab strip of the compact (80x24) layout: which pane is shown, and its number key."""

from __future__ import annotations

from rich.text import Text
from textual import events

from tui.ui.messages import PaneRequested
from tui.ui.widgets.text_line import TextLine

PANES: tuple[tuple[str, str], ...] = (("root-ca", "Root CA"), ("issuers", "Issuers"), ("opcua", "OPC UA"))
"""Pane ids and titles, in number-key order."""


class PaneTabs(TextLine):
    """``1 Root CA │ 2 Issuers │ 3 OPC UA`` with the shown pane highlighted; a click switches panes."""

    def __init__(self, *, id: str = "pane-tabs") -> None:
        super().__init__("", id=id)
        self.active = PANES[0][0]
        self._spans: list[tuple[int, int, str]] = []

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
            self._spans.append((start, len(text), each))
        self.show(text)

    def on_click(self, event: events.Click) -> None:
        """Switch to the pane whose tab was clicked."""
        for start, end, pane_id in self._spans:
            if start <= event.x < end:
                self.post_message(PaneRequested(pane_id))
                return
