"""Dialog text that cannot drive the terminal: control characters shown as ``\\XX``, never sent raw.

File names, vault secret names, journal ids and messages reach the dialogs from files, the vault and the
cluster. A name such as ``bad<ESC>[2Jname.der`` printed raw clears the screen (a user trial did exactly
that through the upload dialog's path completion). :func:`safe` escapes a whole Rich text with the one
rule of :mod:`tui.core.text` and keeps its styles; :class:`SafeInput` keeps control characters out of an
input box's value (typed, pasted or set), writing them escaped the same way.
"""

from __future__ import annotations

from rich.text import Span, Text
from textual.content import Content
from textual.widgets import Input

from tui.core.text import printable


def _escape(text: str) -> str:
    # Line breaks stay: a dialog block (a plan's diff, step lines) is several lines on purpose, and a
    # newline cannot drive the terminal. Every other control character is escaped.
    return "\n".join(printable(line) for line in text.split("\n"))


def safe(text: Text | str) -> Text:
    """``text`` with every control character but the line break written as ``\\XX`` (its styles moved
    with the characters); a text without any is returned as it is."""
    if isinstance(text, str):
        return Text(_escape(text))
    plain = text.plain
    if _escape(plain) == plain:
        return text
    # Where each old character starts in the new text, so the spans can follow.
    starts: list[int] = []
    pieces: list[str] = []
    position = 0
    for char in plain:
        starts.append(position)
        piece = _escape(char)
        pieces.append(piece)
        position += len(piece)
    starts.append(position)
    spans = [Span(starts[span.start], starts[span.end], span.style) for span in text.spans]
    escaped = text.copy()
    escaped.plain = "".join(pieces)
    escaped.spans = spans
    return escaped


def title(text: str) -> Content:
    """A border title that is text, never markup: Textual parses a ``str`` title as markup, so a file
    named ``cert[/b].pem`` raised a MarkupError (a traceback) and ``[red]`` coloured it. Escaped too."""
    return Content(printable(text))


class SafeInput(Input):
    """An input box whose value never holds a control character: one typed, pasted or set is kept as
    ``\\XX`` text (a name quoted this way reads the same as in the CLI's messages)."""

    def validate_value(self, value: str) -> str:
        """Escape control characters on every change of the value (a Textual reactive validator)."""
        return printable(value)

    def replace(self, text: str, start: int, end: int) -> None:
        """Insert ``text`` escaped, so the cursor lands after the escaped text."""
        super().replace(printable(text), start, end)
