"""A Static that repaints only when what it shows actually changes.

Live states arrive every few seconds and the clock ticks every second; most of the time nothing a human
could see has changed. Skipping those updates is what keeps an idle dashboard from writing to the
terminal (every repaint is bytes over an SSH link).

Label-and-value blocks (``Subject   CN=…``) are shown with a hanging indent when asked (``hang``): a value
too long for the line wraps under the value column, never to the label's line start, and the label is
never left alone on its line.
"""

from __future__ import annotations

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text
from textual.widgets import Static

from tui.ui.view.levels import Level

_LEVEL_CLASSES = {level: f"-{level.value}" for level in Level}


class Hanging:
    """A Rich renderable: each line of ``text`` keeps its first ``indent`` cells (the label) and wraps the
    rest within the remaining width, continuation lines indented by ``indent``."""

    MIN_VALUE_WIDTH = 12
    """Narrower than this beside the label, lines wrap as plain text (a label column would not help)."""

    def __init__(self, text: Text, indent: int) -> None:
        self.text = text
        self.indent = indent

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        """The wrapped lines."""
        width = options.max_width
        value_width = width - self.indent
        for line in self.text.split("\n", allow_blank=True):
            if value_width < self.MIN_VALUE_WIDTH or cell_len(line.plain) <= width:
                line.no_wrap, line.overflow, line.end = False, "fold", "\n"
                yield line
                continue
            label, value = line.divide([self.indent])[:2] if len(line) > self.indent else (line, Text())
            parts: list[Text] = list(value.wrap(console, value_width, overflow="fold")) if value.plain else []
            yield Text.assemble(label, parts[0] if parts else "", end="\n", no_wrap=True)
            for part in parts[1:]:
                yield Text.assemble(" " * self.indent, part, end="\n", no_wrap=True)


class TextLine(Static):
    """Shows a string or Rich Text; :meth:`show` is a no-op when the content is unchanged."""

    def __init__(
        self,
        content: str | Text = "",
        *,
        id: str | None = None,
        classes: str | None = None,
        hang: int = 0,
    ) -> None:
        """``hang``: the label width of label-and-value lines, wrapped with a hanging indent (0: plain)."""
        self._hang = hang
        super().__init__(self._shown(content), id=id, classes=classes, markup=False)
        self._look: object = self._look_of(content)
        self._level: Level | None = None

    def _shown(self, content: str | Text) -> str | Text | Hanging:
        if self._hang and isinstance(content, Text):
            return Hanging(content, self._hang)
        return content

    @staticmethod
    def _look_of(content: str | Text) -> object:
        # Rich's Text equality ignores the base style, so compare plain text, spans and style.
        if isinstance(content, Text):
            return (content.plain, tuple(content.spans), str(content.style))
        return content

    @property
    def plain(self) -> str:
        """The text shown, without styles (what tests and the tmux check read)."""
        look = self._look
        return look[0] if isinstance(look, tuple) else str(look)

    def show(self, content: str | Text, level: Level | None = None) -> bool:
        """Show ``content`` (optionally coloured by ``level`` through a CSS class); True if it changed."""
        changed = False
        if level is not self._level:
            # One batch: every class changed on its own re-applies the stylesheet.
            self.update_classes({css_class: each is level for each, css_class in _LEVEL_CLASSES.items()})
            self._level = level
            changed = True
        look = self._look_of(content)
        if look != self._look:
            old_plain = self.plain
            self._look = look
            # A layout pass makes Textual repaint every scrollbar on the screen; skip it when the new
            # text cannot change this widget's size (fixed size, or same length and line count).
            self.update(self._shown(content), layout=self._needs_layout(old_plain, self.plain))
            changed = True
        return changed

    def _needs_layout(self, old: str, new: str) -> bool:
        styles = self.styles
        fixed = (
            styles.width is not None
            and not styles.width.is_auto
            and styles.height is not None
            and not styles.height.is_auto
        )
        if fixed:
            return False
        return (cell_len(old), old.count("\n")) != (cell_len(new), new.count("\n"))
