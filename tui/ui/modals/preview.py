"""The preview modal: every decoded field, the chain, where the item lives, and its PEM text.

``c`` copies the thumbprint with OSC 52 (Textual's ``copy_to_clipboard``), which reaches the local
clipboard through SSH and tmux. The document comes from :mod:`tui.ui.view.preview_doc`, which never holds
private key material.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.ui.modals.connector_export import ConnectorExportModal
from tui.ui.modals.safe import title
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.preview_doc import Field, PreviewDoc, Section
from tui.ui.widgets.text_line import Hanging

LABEL_WIDTH = 18


def _field_line(field: Field, palette: Palette) -> Text:
    text = Text(no_wrap=False, overflow="fold")
    if field.value:
        # At least two spaces after a long label: "SecretSync mapping" is as wide as the column.
        width = max(LABEL_WIDTH, len(field.label) + 2)
        text.append(f"{field.label:<{width}}", palette.style(Level.MUTED))
        text.append(field.value, palette.style(field.level))
    else:
        text.append(field.label, palette.style(field.level))
    return text


def section_text(section: Section, palette: Palette) -> Text:
    """A section as Rich text: bold title, then one line per field."""
    lines = [Text(section.title, style="bold")]
    lines += [_field_line(field, palette) for field in section.fields]
    return Text("\n").join(lines)


class ScrollBody(VerticalScroll):
    """A scrolling body that counts every key of a burst.

    Textual defers a scroll until after the next repaint and computes it from the position at the key,
    so eight ``j`` arriving in one read (a held key over SSH) moved one line. Here each key moves from
    where the previous one left off, at once; the repaint shows the sum.
    """

    def scroll_lines(self, lines: int) -> None:
        """Scroll ``lines`` down (negative: up), clamped to the content."""
        if not self.allow_vertical_scroll:
            raise SkipAction()
        self.scroll_to(y=self.scroll_y + lines, animate=False, immediate=True)

    def action_scroll_down(self) -> None:
        """One line down (``↓``)."""
        self.scroll_lines(1)

    def action_scroll_up(self) -> None:
        """One line up (``↑``)."""
        self.scroll_lines(-1)

    def action_page_down(self) -> None:
        """One page down (``pgdn``)."""
        self.scroll_lines(max(1, self.scrollable_content_region.height))

    def action_page_up(self) -> None:
        """One page up (``pgup``)."""
        self.scroll_lines(-max(1, self.scrollable_content_region.height))


class PreviewModal(ModalScreen[None]):
    """Shows one :class:`~tui.ui.view.preview_doc.PreviewDoc`; ``escape`` closes, ``c`` copies."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="preview.close", tooltip="Close the preview"),
        Binding(
            "c",
            "copy",
            "Copy thumbprint",
            id="preview.copy",
            tooltip="Copy the thumbprint to the clipboard (OSC 52)",
        ),
        Binding(
            "C",
            "copy_pem",
            "Copy PEM",
            show=False,
            id="preview.copy-pem",
            tooltip="Copy the PEM text (public certificates and CRLs only) to the clipboard (OSC 52)",
        ),
        Binding(
            "w",
            "write_certificate",
            "Write file",
            id="preview.write",
            tooltip="Write the connector's public certificate to a file for the OPC UA servers (DER or PEM)",
        ),
        Binding("j", "scroll('down')", "Down", show=False, id="preview.down", tooltip="Scroll down"),
        Binding("k", "scroll('up')", "Up", show=False, id="preview.up", tooltip="Scroll up"),
    ]

    def __init__(self, doc: PreviewDoc, palette: Palette | None = None) -> None:
        super().__init__(id="preview")
        self.doc = doc
        self.palette = palette or DEFAULT_PALETTE

    def compose(self) -> ComposeResult:
        """Title, notes, sections, PEM, and a hint line."""
        palette = self.palette
        with Vertical(id="preview-dialog") as dialog:
            dialog.border_title = title(self.doc.title)  # text, not markup
            with ScrollBody(id="preview-body"):
                # Long values wrap under the value column, never back under the labels.
                for note in self.doc.notes:
                    yield Static(
                        Hanging(_field_line(note, palette), LABEL_WIDTH), classes="preview-note", markup=False
                    )
                for section in self.doc.sections:
                    yield Static(
                        Hanging(section_text(section, palette), LABEL_WIDTH),
                        classes="preview-section",
                        markup=False,
                    )
                if self.doc.pem:
                    yield Static(Text("PEM", style="bold"), classes="preview-section-title", markup=False)
                    yield Static(Text(self.doc.pem.rstrip("\n")), id="preview-pem", markup=False)
            hint = "esc close"
            if self.doc.copy_value:
                hint += f" · c copy {self.doc.copy_label}"
            if self.doc.pem:
                hint += " · C copy PEM"
            if self.doc.export is not None:
                hint += " · w write file"
            hint += " · j/k scroll"
            yield Static(hint, id="preview-hint", markup=False)

    def on_mount(self) -> None:
        """Focus the scrollable body so arrows and page keys scroll it."""
        self.query_one("#preview-body").focus()

    def action_close(self) -> None:
        """Close the preview."""
        self.dismiss(None)

    def action_copy(self) -> None:
        """Copy the thumbprint (or a CRL's SHA-256) to the clipboard."""
        value = self.doc.copy_value
        if not value:
            self.notify("nothing to copy for this item", severity="warning")
            return
        self.app.copy_to_clipboard(value)
        self.notify(f"copied {self.doc.copy_label} {value}", timeout=3)

    def action_copy_pem(self) -> None:
        """Copy the PEM text shown at the end of the preview."""
        if not self.doc.pem:
            self.notify("no PEM for this item", severity="warning")
            return
        self.app.copy_to_clipboard(self.doc.pem)
        self.notify(f"copied the PEM of {self.doc.title}", timeout=3, markup=False)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``w`` only where there is a certificate to write (the connector's)."""
        if action == "write_certificate":
            return self.doc.export is not None
        return True

    def action_write_certificate(self) -> None:
        """Ask where, then write the connector's public certificate (never its key)."""
        if self.doc.export is not None:
            self.app.push_screen(ConnectorExportModal(self.doc.export))

    def action_scroll(self, direction: str) -> None:
        """Scroll the body one line (every key of a burst counts)."""
        self.query_one("#preview-body", ScrollBody).scroll_lines(1 if direction == "down" else -1)
