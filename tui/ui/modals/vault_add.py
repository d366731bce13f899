"""Add from Key Vault (``v``): stage a secret that is already in the vault into the trust or issuer list.

The vault is read in a thread worker through the vault adapter: every secret no list maps yet, with its
value decoded as the provider would write it. The list shows what each holds, or why it cannot go into
a list (docs/domain.md §7.7: picking the wrong secret breaks the connection). Choosing one
shows the decoded certificate or CRL and the core's verdict for the chosen list and file name; only an
accepted secret can be staged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from tui.core.changes.changeset import AddVaultSecret
from tui.core.durations import days_left, expiry_phrase
from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.state import ClusterState
from tui.ui.change_session import VaultCandidate, VaultCandidates
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.safe import SafeInput, safe
from tui.ui.modals.verdict import content_text, issue_lines
from tui.ui.view import format as fmt
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.staging import Check, StagedItem, Staging, check_new

ReadCandidates = Callable[[], VaultCandidates]
"""Reads the vault (blocking; run in a worker)."""


def holds_text(candidate: VaultCandidate, now: datetime | None = None) -> str:
    """A few words on what a secret holds (subject, expiry; expired ones say so when ``now`` is given), or
    why it cannot be added."""
    content = candidate.content
    if content is None:
        return f"✗ {candidate.problem or 'no certificate or CRL'}"
    if content.certificate is not None:
        cert = content.certificate
        role = "CA" if cert.is_ca else "certificate"
        what = f"{role} {fmt.common_name(cert.subject)}"
        if now is not None and cert.not_after <= now:
            ago = expiry_phrase(days_left(cert.not_after, now))
            return f"✗ EXPIRED {what} · {ago} ({fmt.day(cert.not_after)})"
        return f"{what} · until {fmt.day(cert.not_after)}"
    assert content.crl is not None
    crl = content.crl
    what = f"CRL of {fmt.common_name(crl.issuer)}"
    if crl.next_update is None:
        return what
    if now is not None and crl.next_update <= now:
        return f"✗ STALE {what} · next update was {fmt.day(crl.next_update)}"
    return f"{what} · next update {fmt.day(crl.next_update)}"


def holds_level(candidate: VaultCandidate, now: datetime) -> Level:
    """How :func:`holds_text` is coloured: an error when it cannot be added or has expired."""
    return (
        Level.ERROR
        if candidate.content is None or holds_text(candidate, now).startswith("✗")
        else Level.MUTED
    )


class CandidatesRead(Message):
    """The vault was read (``candidates``), or could not be (``error``)."""

    def __init__(self, candidates: VaultCandidates | None, error: str | None) -> None:
        super().__init__()
        self.candidates = candidates
        self.error = error


class VaultAddModal(ModalScreen[StagedItem | None]):
    """Browse the vault's unmapped secrets, preview one, stage it into a list."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="vault.cancel", tooltip="Close without staging anything"),
        Binding(
            "ctrl+s",
            "stage",
            "Stage",
            id="vault.stage",
            tooltip="Stage the chosen secret (also enter) when nothing refuses it",
        ),
    ]

    def __init__(
        self,
        state: ClusterState,
        staging: Staging,
        read: ReadCandidates,
        *,
        now: datetime,
        list_name: str = LIST_TRUST,
        list_reason: str = "",
        palette: Palette | None = None,
    ) -> None:
        super().__init__(id="vault-add")
        self.state = state
        self.staging = staging
        self.now = now
        self.palette = palette or DEFAULT_PALETTE
        self._read = read
        self._initial_list = list_name if list_name in (LIST_TRUST, LIST_ISSUER) else LIST_TRUST
        self._list_reason = list_reason
        self.candidates: VaultCandidates | None = None
        self.verdict: Check | None = None
        """The core's verdict on the highlighted secret with the chosen list and file name."""

    def compose(self) -> ComposeResult:
        """Status line, the secrets, list choice, file name, verdict, preview, buttons."""
        with Vertical(id="vault-dialog", classes="change-dialog") as dialog:
            dialog.border_title = "Add from Key Vault"
            yield Static("reading the vault…", id="vault-status", markup=False)
            yield OptionList(id="vault-secrets")
            with Horizontal(classes="field-row"):
                yield Label("List", classes="field-label")
                yield ListChoice(self._initial_list, reason=self._list_reason, id="vault-list")
            with Horizontal(classes="field-row"):
                yield Label("File", classes="field-label")
                target = SafeInput(
                    placeholder="file name in the list (default: from the secret)",
                    id="vault-target",
                    select_on_focus=False,
                )
                target.cursor_blink = False
                yield target
            yield Static("", id="vault-verdict", classes="verdict", markup=False)
            with ScrollBody(id="vault-preview", classes="content-preview"):
                yield Static("", id="vault-content", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Stage", id="vault-stage", variant="primary", disabled=True)
                yield Button("Cancel", id="vault-cancel")
            yield Static(
                "↑↓ choose · enter or ctrl+s stage · esc cancel", classes="dialog-hint", markup=False
            )

    def on_mount(self) -> None:
        """Read the vault in a worker."""
        self.query_one("#vault-secrets", OptionList).focus()
        self._read_vault(self._read)

    @work(
        thread=True,
        exclusive=True,
        group="vault-read",
        exit_on_error=False,
        name="read vault",
        description="list the vault's secrets that no list maps, with their values decoded",
    )
    def _read_vault(self, read: ReadCandidates) -> None:
        from tui.ui.change_session import one_line

        try:
            candidates = read()
        except Exception as exc:  # a visible state in the dialog, never an exit
            self.post_message(CandidatesRead(None, one_line(exc)))
            return
        self.post_message(CandidatesRead(candidates, None))

    @on(CandidatesRead)
    def _candidates_read(self, message: CandidatesRead) -> None:
        message.stop()
        status = self.query_one("#vault-status", Static)
        if message.candidates is None:
            status.update(safe(Text(f"✗ {message.error}", style=self.palette.style(Level.ERROR))))
            return
        self.candidates = message.candidates
        found = message.candidates.candidates
        where = message.candidates.vault_url
        line = Text(
            f"{len(found)} secret(s) in {where} not in any list"
            if found
            else f"nothing to add: every secret in {where} is already in a list",
            style=self.palette.style(Level.MUTED),
        )
        if message.candidates.note:
            line.append(f" · {message.candidates.note}", style=self.palette.style(Level.WARNING))
        status.update(safe(line))
        options = self.query_one("#vault-secrets", OptionList)
        options.clear_options()
        options.add_options(
            [
                Option(
                    safe(
                        Text.assemble(
                            (c.name, "bold"),
                            "  ",
                            (holds_text(c, self.now), self.palette.style(holds_level(c, self.now))),
                        )
                    ),
                    id=c.name,
                )
                for c in found
            ]
        )
        if found:
            options.highlighted = 0
        self._recheck()

    # -- choice ----------------------------------------------------------------------------------

    @property
    def chosen(self) -> VaultCandidate | None:
        """The highlighted secret."""
        if self.candidates is None:
            return None
        options = self.query_one("#vault-secrets", OptionList)
        index = options.highlighted
        found = self.candidates.candidates
        return found[index] if index is not None and 0 <= index < len(found) else None

    def _list_name(self) -> str:
        return self.query_one("#vault-list", ListChoice).value

    def _change(self) -> AddVaultSecret | None:
        chosen = self.chosen
        if chosen is None:
            return None
        target = self.query_one("#vault-target", Input).value.strip() or None
        return AddVaultSecret(self._list_name(), chosen.name, target_key=target)

    @on(OptionList.OptionHighlighted)
    @on(ListChoice.Changed)
    @on(Input.Changed)
    def _choice_changed(self, event: Message) -> None:
        event.stop()
        self._recheck()

    def _recheck(self) -> None:
        change, candidates = self._change(), self.candidates
        verdict = self.query_one("#vault-verdict", Static)
        content = self.query_one("#vault-content", Static)
        if change is None or candidates is None:
            self.verdict = None
            verdict.update("")
            content.update("")
            self.query_one("#vault-stage", Button).disabled = True
            return
        # The values are in memory already: the core's rules are quick enough to run right here.
        self.verdict = check = check_new(
            self.staging, [change], self.state, now=self.now, vault_secrets=candidates.secrets
        )
        resolved = check.resolved[0] if check.resolved else None
        ok_line = (
            f"✓ ready to stage as {change.list_name}/{resolved.target_key}"
            if (resolved is not None and resolved.target_key)
            else "✓ ready to stage"
        )
        verdict.update(issue_lines(check.problems, check.warnings, self.palette, ok_line=ok_line))  # escaped
        if resolved is not None and resolved.content is not None:
            settings = self.state.settings
            content.update(
                content_text(
                    resolved.content,
                    self.now,
                    self.palette,
                    warn_days=settings.expiring_warn_days,
                    critical_days=settings.expiring_critical_days,
                )
            )
        else:
            content.update("")
        self.query_one("#vault-stage", Button).disabled = not check.ok

    # -- actions ---------------------------------------------------------------------------------

    @on(OptionList.OptionSelected)
    @on(Input.Submitted)
    def _submitted(self, event: Message) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#vault-stage")
    def _stage_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_stage()

    @on(Button.Pressed, "#vault-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_cancel()

    def action_stage(self) -> None:
        """Stage the highlighted secret when the core accepts it; otherwise say why not."""
        change, check = self._change(), self.verdict
        if change is None or check is None or not check.ok or not check.resolved:
            self.notify("nothing to stage: choose a secret the dialog accepts", severity="warning", timeout=4)
            return
        resolved = check.resolved[0]
        # The file name made concrete, so the staged row and the plan name the same entry.
        staged = AddVaultSecret(change.list_name, change.secret_name, target_key=resolved.target_key)
        self.dismiss(StagedItem(staged, resolved.content))

    def action_cancel(self) -> None:
        """Close without staging."""
        self.dismiss(None)
