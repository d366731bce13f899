"""Label-and-value lines (``Subject   CN=...``) shared by the panes that show one thing in detail."""

from __future__ import annotations

from rich.text import Text

from tui.ui.view.levels import Level, Palette

LABEL_WIDTH = 10
"""Width of the label column, so values line up across a pane."""


def labelled(palette: Palette, label: str, *parts: tuple[str, Level]) -> Text:
    """A muted label padded to :data:`LABEL_WIDTH`, then each value in its level's colour (wraps)."""
    text = Text(no_wrap=False, overflow="fold")
    text.append(f"{label:<{LABEL_WIDTH}}", palette.style(Level.MUTED))
    for value, level in parts:
        text.append(value, palette.style(level))
    return text


def join_lines(*lines: Text) -> Text:
    """The lines as one Text, one per line."""
    return Text("\n").join(lines)
