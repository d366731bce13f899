"""Delete (``d``): stage the removal of the entry under the cursor, or of every marked entry.

Each entry is named with the Key Vault secret behind it and, when ``x`` marked it, why it is stale. A
removal keeps the vault secret unless "purge" is ticked; purging cannot be undone in Key Vault, so it
needs the secret's name typed exactly (for several entries, ``purge N`` with their number). The core's
rules run on every change of the dialog; entries it refuses are listed with the reason and left out.

The dialog opens with the focus on the entry list, not on the purge box: a reflex ``enter`` stages the
removal that keeps the secrets, never a purge. The purge box toggles with ``space`` or ``p`` only, and the
verdict says "ready" only once the purge, when ticked, is confirmed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Static

from tui.core.changes.changeset import RemoveEntry
from tui.core.model.state import ClusterState, OpcUaEntry
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.safe import safe
from tui.ui.modals.verdict import issue_lines
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.staging import Check, StagedItem, Staging, check_new


class PurgeBox(Checkbox, inherit_bindings=False):
    """The purge checkbox: ``space`` toggles it; ``enter`` does not (it stages, as everywhere here)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space",
            "toggle_button",
            "Toggle",
            show=False,
            id="delete.purge-toggle",
            tooltip="Tick or untick the purge box when it has the focus (enter never ticks it)",
        ),
    ]


def purge_phrase(entries: Sequence[OpcUaEntry]) -> str:
    """What must be typed to allow a purge: the one secret's name, or ``purge N`` for several."""
    secrets = [e.source_path for e in entries if e.source_path]
    if len(secrets) == 1:
        return secrets[0]
    return f"purge {len(secrets)}"


class DeleteModal(ModalScreen[tuple[StagedItem, ...] | None]):
    """Confirm which entries to remove (and whether to purge their secrets); stage the accepted ones."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="delete.cancel", tooltip="Close without staging anything"),
        Binding(
            "ctrl+s,enter",
            "stage",
            "Stage",
            id="delete.stage",
            tooltip="Stage the removals the dialog accepts (a purge only once its confirmation is typed)",
        ),
        Binding(
            "p",
            "toggle_purge",
            "Purge…",
            id="delete.purge",
            tooltip="Tick or untick the purge of the Key Vault secret(s) (then type the confirmation)",
        ),
    ]

    def __init__(
        self,
        entries: Sequence[OpcUaEntry],
        state: ClusterState,
        staging: Staging,
        *,
        now: datetime,
        reasons: Mapping[str, str] | None = None,
        palette: Palette | None = None,
    ) -> None:
        super().__init__(id="delete")
        self.entries = tuple(entries)
        self.state = state
        self.staging = staging
        self.now = now
        self.reasons = dict(reasons or {})
        self.palette = palette or DEFAULT_PALETTE
        self.verdict: Check | None = None
        """The core's verdict on the removals as the dialog stands."""

    def compose(self) -> ComposeResult:
        """Entries, the purge choice and its confirmation, the verdict and buttons."""
        count = len(self.entries)
        with Vertical(id="delete-dialog", classes="change-dialog") as dialog:
            dialog.border_title = f"Remove {count} entr{'y' if count == 1 else 'ies'}"
            with ScrollBody(id="delete-entries"):  # every key of a burst scrolls
                yield Static(self._entry_lines(), id="delete-list", markup=False)
            yield PurgeBox(
                "also delete and purge the Key Vault secret(s): cannot be undone", id="delete-purge"
            )
            phrase = purge_phrase(self.entries)
            confirm = Input(
                placeholder=f"type {phrase} to allow the purge", id="delete-confirm", select_on_focus=False
            )
            confirm.cursor_blink = False
            yield confirm
            yield Static("", id="delete-verdict", classes="verdict", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stage removal", id="delete-stage", variant="error")
                yield Button("Cancel", id="delete-cancel")
            yield Static(
                "enter or ctrl+s stage (secrets kept) · p purge… · esc cancel",
                classes="dialog-hint",
                markup=False,
            )

    def _entry_lines(self) -> Text:
        lines = []
        for entry in self.entries:
            line = Text(f"- {entry.key}", style="bold")
            secret = (
                f"  vault secret {entry.source_path}" if entry.source_path else "  (no vault secret mapped)"
            )
            line.append(secret, style=self.palette.style(Level.MUTED))
            reason = self.reasons.get(entry.key)
            if reason:
                line.append(f"  · {reason}", style=self.palette.style(Level.WARNING))
            lines.append(safe(line))
        return Text("\n").join(lines)

    def on_mount(self) -> None:
        """Check the removals as they stand; focus the entry list (never the purge box)."""
        self.query_one("#delete-confirm", Input).display = False
        self.query_one("#delete-entries", VerticalScroll).focus()
        self._recheck()

    @property
    def purge(self) -> bool:
        """The purge box is ticked."""
        return self.query_one("#delete-purge", Checkbox).value

    def _changes(self) -> list[RemoveEntry]:
        return [RemoveEntry(e.list_name, e.target_key, purge=self.purge) for e in self.entries]

    @on(Checkbox.Changed, "#delete-purge")
    def _purge_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        box = self.query_one("#delete-confirm", Input)
        box.display = event.value
        if event.value:
            box.focus()  # the next thing to do is type the confirmation
        else:
            box.value = ""
        self._recheck()

    @on(Input.Changed, "#delete-confirm")
    def _confirm_changed(self, event: Input.Changed) -> None:
        event.stop()
        self._show_verdict()

    def action_toggle_purge(self) -> None:
        """Tick or untick the purge box (ticking it moves the focus to the confirmation)."""
        box = self.query_one("#delete-purge", Checkbox)
        box.value = not box.value

    def _recheck(self) -> None:
        # Removals need no file or vault read: the core's rules are quick enough to run right here.
        self.verdict = check_new(self.staging, self._changes(), self.state, now=self.now, vault_secrets=None)
        self._show_verdict()

    def _show_verdict(self) -> None:
        if self.verdict is None:
            return
        accepted = len(self.accepted())
        notes = []
        if accepted < len(self.entries):
            notes.append(f"{accepted} of {len(self.entries)} can be staged; the others are left as they are")
        if self.purge:
            notes.append(
                "purged secrets are gone from Key Vault for good; the vault is checked again when you apply"
            )
        text = issue_lines(
            self.verdict.problems,
            self.verdict.warnings,
            self.palette,
            notes=notes,
            # Not "ready" while the purge waits for its phrase: staging would be refused.
            ok_line="✓ ready to stage" if accepted and self.purge_confirmed else "",
        )
        if accepted and not self.purge_confirmed:
            waiting = Text(
                f"… type {purge_phrase(self.entries)} to allow the purge (or untick it)",
                style=self.palette.style(Level.WARNING),
            )
            text = Text("\n").join([waiting, text]) if text.plain else waiting
        self.query_one("#delete-verdict", Static).update(text)
        self._update_button()

    def accepted(self) -> list[int]:
        """Indexes of the entries the core accepts for removal."""
        if self.verdict is None:
            return []
        return [i for i in range(len(self.entries)) if not self.verdict.problems_of(i)]

    @property
    def purge_confirmed(self) -> bool:
        """No purge, or its phrase typed exactly."""
        if not self.purge:
            return True
        return self.query_one("#delete-confirm", Input).value.strip() == purge_phrase(self.entries)

    def _update_button(self) -> None:
        self.query_one("#delete-stage", Button).disabled = not (self.accepted() and self.purge_confirmed)

    @on(Input.Submitted)
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#delete-stage")
    def _stage_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#delete-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_stage(self) -> None:
        """Stage the accepted removals (a purge only once its phrase is typed)."""
        if not self.purge_confirmed:
            self.notify(
                f"type {purge_phrase(self.entries)} exactly to allow the purge",
                severity="warning",
                timeout=4,
                markup=False,
            )
            return
        chosen = self.accepted()
        if not chosen:
            self.notify("nothing can be removed: see the reasons listed", severity="warning", timeout=4)
            return
        changes = self._changes()
        self.dismiss(
            tuple(
                StagedItem(changes[i], None, note=self.reasons.get(self.entries[i].key, "")) for i in chosen
            )
        )

    def action_cancel(self) -> None:
        """Close without staging."""
        self.dismiss(None)
