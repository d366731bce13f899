"""Stale entries (``x``): what the dashboard just marked and why, before a bulk delete.

The marks stay in the table after this dialog closes, so the user can unmark (``space``) whatever should
stay and then press ``d``; or go straight to the delete dialog from here. Of entries that hold the same
certificate or CRL one is kept: the dialog shows every copy and lets the user pick which (default: the
core's choice, :func:`tui.core.health.stale.duplicate_groups`); the marks and reasons follow the pick.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Label, RadioButton, RadioSet, Static

from tui.core.health.stale import DuplicateGroup
from tui.core.text import printable
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.safe import safe
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette

KEEP_HINT = "tab, ↑↓, space: pick the copy kept · d delete… · esc review"
"""The hint when there are duplicates to choose from (fits the dialog at 80 columns)."""

REVIEW_HINT = "d delete… · esc review in the table (space unmarks there)"
"""The hint without duplicates."""


class KeepButton(RadioButton):
    """A radio button whose dot differs when on (``●``) and off (``○``), not only in colour: a monochrome
    terminal (or a colour-blind user) still tells the kept copy from the others."""

    @property
    def _button(self) -> Content:
        self.BUTTON_INNER = "●" if self.value else "○"
        return super()._button


StaleJudge = Callable[[Collection[str]], Mapping[str, str]]
"""The stale entries and their reasons when the given entries are the ones kept of their duplicates."""


class StaleModal(ModalScreen[bool]):
    """Lists the stale entries with their reasons; True means "open the delete dialog for them"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "review",
            "Review in the table",
            id="stale.review",
            tooltip="Close and review the marked entries in the table (space unmarks)",
        ),
        Binding(
            "d",
            "delete",
            "Delete…",
            id="stale.delete",
            tooltip="Open the delete dialog for every marked stale entry",
        ),
        Binding("j", "scroll('down')", "Down", show=False, id="stale.down", tooltip="Scroll the list down"),
        Binding("k", "scroll('up')", "Up", show=False, id="stale.up", tooltip="Scroll the list up"),
    ]

    DEFAULT_CSS = """
    StaleModal .duplicate-choice { height: auto; width: 1fr; border: none; padding: 0; }
    StaleModal .duplicate-choice RadioButton { height: 1; border: none; padding: 0; }
    StaleModal .duplicate-label { margin-top: 1; }
    """

    def __init__(
        self,
        reasons: Mapping[str, str],
        palette: Palette | None = None,
        *,
        duplicates: Sequence[DuplicateGroup] = (),
        judge: StaleJudge | None = None,
        on_change: Callable[[Mapping[str, str]], None] | None = None,
    ) -> None:
        super().__init__(id="stale")
        self.reasons = dict(reasons)
        """The stale entries and why, as the choices now stand (the caller marks and deletes these)."""
        self.palette = palette or DEFAULT_PALETTE
        self.duplicates = tuple(duplicates) if judge is not None else ()
        self.keep: dict[int, str] = {i: g.default_keep for i, g in enumerate(self.duplicates)}
        """Duplicate group index -> the entry kept of it."""
        self._judge = judge
        self._on_change = on_change

    def compose(self) -> ComposeResult:
        """One line per stale entry, a choice per set of duplicates, then the buttons."""
        with Vertical(id="stale-dialog", classes="change-dialog") as dialog:
            dialog.border_title = self._title()
            with ScrollBody(id="stale-body") as body:
                # Not a tab stop: tab goes from the buttons straight to the duplicates' choices (an
                # invisible focus on the body took the first tab, and ↓ then scrolled nothing). j/k scroll.
                body.can_focus = False
                yield Static(self._lines(), id="stale-list", markup=False)
                for index, group in enumerate(self.duplicates):
                    yield Label(
                        Text(f"Same {group.what} in {len(group.keys)} entries: which stays when you delete?"),
                        classes="duplicate-label",
                    )
                    with RadioSet(id=f"dup-{index}", classes="duplicate-choice"):
                        for choice in range(len(group.keys)):
                            yield KeepButton(
                                self._label(index, choice), value=choice == 0, id=f"dup-{index}-{choice}"
                            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("Delete them…", id="stale-delete", variant="error")
                yield Button("Review in the table", id="stale-review")
            yield Static(
                KEEP_HINT if self.duplicates else REVIEW_HINT,
                id="stale-hint",
                classes="dialog-hint",
                markup=False,
            )

    def _label(self, group: int, choice: int) -> Text:
        # The kept copy is said in words, not only by the radio's colour (monochrome terminals).
        key = self.duplicates[group].keys[choice]
        kept = self.keep.get(group) == key
        label = Text(printable(key), style="bold" if kept else "")
        label.append(
            "  ✓ kept" if kept else "  ✗ removed",
            style=self.palette.style(Level.OK if kept else Level.WARNING),
        )
        if choice == 0:
            label.append(" (suggested)", style=self.palette.style(Level.MUTED))
        return label

    def _title(self) -> str:
        count = len(self.reasons)
        return f"{count} stale entr{'y' if count == 1 else 'ies'} marked"

    def _lines(self) -> Text:
        lines = []
        for key, reason in self.reasons.items():
            line = Text(key, style="bold")
            line.append(f"  {reason}", style=self.palette.style(Level.WARNING))
            lines.append(safe(line))
        return Text("\n").join(lines)

    def on_mount(self) -> None:
        """Focus "Review": deleting is one deliberate step away."""
        self.query_one("#stale-review", Button).focus()

    @on(RadioSet.Changed)
    def _kept(self, event: RadioSet.Changed) -> None:
        event.stop()
        radio_set, pressed = event.radio_set.id or "", event.pressed.id or ""
        if not radio_set.startswith("dup-") or not pressed.startswith(f"{radio_set}-"):
            return
        self.choose(int(radio_set[4:]), int(pressed.rsplit("-", 1)[1]))

    def choose(self, group: int, choice: int) -> None:
        """Keep entry ``choice`` of duplicate group ``group``: the reasons (and the caller's marks) follow."""
        if self._judge is None or not 0 <= group < len(self.duplicates):
            return
        self.keep[group] = self.duplicates[group].keys[choice]
        self.reasons = dict(self._judge(set(self.keep.values())))
        for other in range(len(self.duplicates[group].keys)):
            self.query_one(f"#dup-{group}-{other}", KeepButton).label = self._label(group, other)
        self.query_one("#stale-list", Static).update(self._lines())
        self.query_one("#stale-dialog", Vertical).border_title = self._title()
        if self._on_change is not None:
            self._on_change(self.reasons)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "stale-delete")

    def action_scroll(self, direction: str) -> None:
        """Scroll the list one line (every key of a burst counts)."""
        self.query_one("#stale-body", ScrollBody).scroll_lines(1 if direction == "down" else -1)

    def action_review(self) -> None:
        """Close; the marks stay."""
        self.dismiss(False)

    def action_delete(self) -> None:
        """Go on to the delete dialog."""
        self.dismiss(True)
