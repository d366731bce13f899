"""The help modal (``?``): every key binding of the dashboard with what it does, grouped by where it works."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from tui.core.model.state import Health
from tui.ui.modals.preview import ScrollBody


@dataclass(frozen=True)
class HelpRow:
    """One line of help: the keys and what they do."""

    keys: str
    description: str
    binding_id: str | None = None


@dataclass(frozen=True)
class HelpGroup:
    """Bindings that work in one place (everywhere, a pane, the preview...)."""

    title: str
    rows: tuple[HelpRow, ...]


def rows_from_bindings(bindings: Sequence[BindingType]) -> tuple[HelpRow, ...]:
    """Help rows for ``Binding`` objects (tuples are not used in this app), one per binding."""
    rows: list[HelpRow] = []
    for binding in bindings:
        if not isinstance(binding, Binding):
            continue
        keys = ", ".join(_key_label(k) for k in binding.key.split(","))
        rows.append(HelpRow(keys, binding.tooltip or binding.description, binding.id))
    return tuple(rows)


def filter_word_rows() -> tuple[HelpRow, ...]:
    """What the OPC UA filter (``/``) understands (see :mod:`tui.ui.view.filtering`), for the help."""
    health = ", ".join(flag.value for flag in Health)
    return (
        HelpRow("any word", "Matches list, file, vault secret, subject, issuer, thumbprint, serial, URI"),
        HelpRow("several words", "All must match: trust expiring"),
        HelpRow("!word", "Keeps the entries the word does not match: !healthy"),
        HelpRow("trust, issuer", "The list; ca: a CA certificate"),
        HelpRow("problem, healthy", "Any health flag / none (also: bad, unhealthy / ok, good)"),
        HelpRow("critical, warning", "The entry's worst severity"),
        HelpRow("staged", "Rows with a staged change; staged add, staged remove narrow it"),
        HelpRow("health flags", health),
    )


README_START = "<!-- keys: generated from the help (scripts/readme_keys.py) -->"
README_END = "<!-- keys: end -->"


def key_tables_markdown(groups: Sequence[HelpGroup]) -> str:
    """The help as Markdown, one table per group, for the README (a test keeps the two the same)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    parts: list[str] = []
    for group in groups:
        parts.append(f"**{cell(group.title)}**\n")
        parts.append("| keys | what they do |\n| --- | --- |")
        parts.extend(f"| `{cell(row.keys)}` | {cell(row.description)} |" for row in group.rows)
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


_KEY_LABELS = {
    "slash": "/",
    "question_mark": "?",
    "space": "space",
    "escape": "esc",
    "ctrl+backslash": "ctrl+\\",
    "shift+tab": "shift+tab",
}


def _key_label(key: str) -> str:
    key = key.strip()
    return _KEY_LABELS.get(key, key)


class HelpModal(ModalScreen[None]):
    """A scrollable table of key bindings; ``escape`` or ``?`` closes it (``ctrl+c`` quits from here too;
    ``q`` does not: a modal screen cuts the app's own bindings, docs/domain.md §11)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,question_mark", "close", "Close", id="help.close", tooltip="Close the help"),
        # As in the preview and the apply dialog; every key of a burst counts (ScrollBody).
        Binding("j", "scroll('down')", "Down", show=False, id="help.down", tooltip="Scroll the help down"),
        Binding("k", "scroll('up')", "Up", show=False, id="help.up", tooltip="Scroll the help up"),
    ]

    def __init__(self, groups: Sequence[HelpGroup]) -> None:
        super().__init__(id="help")
        self.groups = tuple(groups)

    def compose(self) -> ComposeResult:
        """One table per group."""
        with Vertical(id="help-dialog") as dialog:
            dialog.border_title = "Keys"
            with ScrollBody(id="help-body"):
                for group in self.groups:
                    table = Table.grid(padding=(0, 2))
                    table.add_column(style="bold", no_wrap=True, width=16)
                    table.add_column()
                    for row in group.rows:
                        table.add_row(row.keys, row.description)
                    yield Static(
                        Text(group.title, style="bold underline"), classes="help-title", markup=False
                    )
                    yield Static(table, classes="help-table")
            yield Static("esc or ? close · j/k scroll", id="help-hint", markup=False)

    def on_mount(self) -> None:
        """Focus the body so it scrolls with the arrow keys."""
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        """Close the help."""
        self.dismiss(None)

    def action_scroll(self, direction: str) -> None:
        """Scroll the help one line (every key of a burst counts)."""
        self.query_one("#help-body", ScrollBody).scroll_lines(1 if direction == "down" else -1)

    @property
    def binding_ids(self) -> set[str]:
        """Ids of every binding listed (tests check that none is missing)."""
        return {row.binding_id for group in self.groups for row in group.rows if row.binding_id}
