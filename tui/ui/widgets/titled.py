"""Border titles that repaint only when their text changes, and never read user text as markup.

Textual repaints the whole widget on every ``border_title`` assignment, even of the same text; a pane
re-titled on each live state would repaint the full screen every rebuild. Titles are also parsed as
markup, so a filter such as ``[b]`` would be misread: they are set as Rich ``Text`` here.
"""

from __future__ import annotations

from rich.text import Text
from textual.widget import Widget


class Titled:
    """Mixin for panes: :meth:`set_title` and :meth:`set_subtitle` skip unchanged texts."""

    _title_text: str | None = None
    _subtitle_text: str | None = None

    @property
    def title_text(self) -> str:
        """The border title as plain text."""
        return self._title_text or ""

    @property
    def subtitle_text(self) -> str:
        """The border subtitle as plain text."""
        return self._subtitle_text or ""

    def set_title(self, text: str) -> None:
        """Show ``text`` as the border title (no repaint when unchanged)."""
        if text != self._title_text:
            self._title_text = text
            widget: Widget = self  # type: ignore[assignment]
            widget.border_title = Text(text)

    def set_subtitle(self, text: str) -> None:
        """Show ``text`` as the border subtitle (no repaint when unchanged)."""
        if text != self._subtitle_text:
            self._subtitle_text = text
            widget: Widget = self  # type: ignore[assignment]
            widget.border_subtitle = Text(text) if text else None
