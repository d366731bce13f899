"""How the dashboard changes a site: the staged change set, the change dialogs, and their workers.

:class:`ChangeFlow` is the part of the app that answers a pane's :class:`~tui.ui.messages.ChangeRequested`
(``u``, ``v``, ``d``, ``x``, ``a``, ``z``, ``Z`` on the OPC UA pane, ``r`` on the Root CA pane) and the
palette's change commands. It holds the :class:`~tui.ui.view.staging.Staging` shown in the OPC UA table
and the :class:`~tui.ui.change_session.SessionHolder`; the dialogs get the state, the staging and the blocking
calls they need, and run those in thread workers. At start it looks for unfinished applies in the journal
and offers to resume or roll them back.

In the read-only view every one of these refuses with a notice (the keys are hidden as well).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import App
from textual.message import Message

from tui.core.health.stale import duplicate_groups, stale_reasons
from tui.core.model.state import ClusterState
from tui.core.text import printable
from tui.ui.change_session import (
    RENEW_ACTION,
    ChangeFailed,
    SessionHolder,
    audit_attempt,
    one_line,
    read_vault_candidates,
    read_vault_listing,
    renew_certificate,
    renew_target,
)
from tui.ui.messages import ChangeReported, ChangeRequested
from tui.ui.modals.apply import ApplyModal, ApplyOutcome
from tui.ui.modals.confirm import ConfirmModal
from tui.ui.modals.delete import DeleteModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.renew import RenewModal
from tui.ui.modals.stale import StaleModal
from tui.ui.modals.upload import UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.view.levels import Palette
from tui.ui.view.staging import StagedItem, Staging

if TYPE_CHECKING:
    from tui.core.clock import Clock
    from tui.core.model.state import CertificateView
    from tui.ops.journal import JournalInfo
    from tui.ui.screens.dashboard import DashboardScreen

CHANGE_ACTIONS = (
    "upload",
    "vault-add",
    "delete",
    "mark-stale",
    "apply",
    "unstage",
    "discard",
    "renew",
    "journal",
)
"""Every change the dashboard can be asked for."""


class JournalsFound(Message):
    """The journal was read: these applies are unfinished (``show_empty``: say so when there is none)."""

    def __init__(self, summaries: Sequence[JournalInfo], show_empty: bool) -> None:
        super().__init__()
        self.summaries = tuple(summaries)
        self.show_empty = show_empty


class ChangeFlow(App[None]):
    """The change part of the dashboard app (see the module docstring); :class:`DashboardApp` is one."""

    state: ClusterState | None
    clock: Clock
    read_only: bool
    palette: Palette
    apply_wait_timeout: float = 60.0
    """How long an apply, resume or rollback waits for the synced Secrets (tests shorten it)."""

    @property
    def changes_enabled(self) -> bool:
        """Whether the change keys are offered: a way to write exists and the view is not read-only."""
        return self.sessions.available and not self.read_only

    def init_changes(self, sessions: SessionHolder) -> None:
        """Start with nothing staged; ``sessions`` makes the change session when first needed."""
        self.sessions = sessions
        self.staging = Staging()
        self._journals_checked = False

    @property
    def dashboard(self) -> DashboardScreen:  # pragma: no cover - provided by DashboardApp
        """The dashboard screen."""
        raise NotImplementedError

    # -- staging ---------------------------------------------------------------------------------

    def set_staging(self, staging: Staging) -> None:
        """Hold ``staging`` and show it in the OPC UA table."""
        self.staging = staging
        self.dashboard.opcua_pane.set_staging(staging)

    def settle_staging(self, state: ClusterState) -> None:
        """Drop the applied changes ``state`` shows (the live confirmation arrived)."""
        settled = self.staging.settle(state)
        if settled is not self.staging:
            self.set_staging(settled)

    def _staged(self, items: StagedItem | Sequence[StagedItem] | None) -> None:
        if not items:
            return
        batch = (items,) if isinstance(items, StagedItem) else tuple(items)
        self.set_staging(self.staging.add(batch))
        if any(item.entry_key in self.dashboard.opcua_pane.marked for item in batch):
            self.dashboard.opcua_pane.action_clear_marks()  # the marks served their purpose
        what = batch[0].change.describe() if len(batch) == 1 else f"{len(batch)} changes"
        # Names come from files and the vault: escaped, they cannot drive the terminal (trial finding 7).
        self.notify(
            printable(f"staged: {what} · {len(self.staging)} staged, a applies"), timeout=4, markup=False
        )

    # -- requests --------------------------------------------------------------------------------

    @on(ChangeRequested)
    def _change_requested(self, message: ChangeRequested) -> None:
        message.stop()
        self.request_change(message.action, message.keys)

    def request_change(self, action: str, keys: Sequence[str] = ()) -> None:
        """Open the dialog for ``action`` (one of :data:`CHANGE_ACTIONS`) on the entries ``keys``."""
        if self.read_only:
            self.notify("read-only view: changes are off", severity="warning", timeout=4)
            return
        if not self._need_session("changes"):
            return
        state = self.state
        if (state is None or not state.complete) and action != "journal":
            # A change is judged against the whole site: not while some collection is still loading.
            what = "nothing to change yet" if state is None else f"still loading {', '.join(state.loading)}"
            self.notify(f"waiting for the cluster: {what}", severity="warning", timeout=4)
            return
        handler = {
            "upload": self._open_upload,
            "vault-add": self._open_vault_add,
            "delete": self._open_delete,
            "mark-stale": self._mark_stale,
            "apply": self._open_apply,
            "unstage": self._unstage,
            "discard": self._discard,
            "renew": self._open_renew,
            "journal": self._open_journal,
        }.get(action)
        if handler is not None:
            # A notice from before (e.g. "staged: …") would sit on the new dialog's buttons at 80x24.
            self.clear_notifications()
            handler(state, tuple(keys))  # type: ignore[arg-type]

    def _now(self) -> datetime:
        return self.clock.now()

    def _list_of(self, keys: Sequence[str]) -> tuple[str, str]:
        """The list a dialog starts on, and why (said beside the choice, so it never changes silently)."""
        if keys and "/" in keys[0]:
            name = keys[0].split("/", 1)[0]
            return name, "the cursor's row"
        return "trust", ""

    def _need_session(self, what: str) -> bool:
        if self.sessions.available:
            return True
        self.notify(
            f"{what}: not available in this view (no cluster connection for writes)",
            severity="warning",
            timeout=5,
        )
        return False

    def _open_upload(self, state: ClusterState, keys: Sequence[str]) -> None:
        sessions = self.sessions
        listing = (lambda: read_vault_listing(sessions.get())) if sessions.available else None
        list_name, list_reason = self._list_of(keys)
        self.push_screen(
            UploadModal(
                state,
                self.staging,
                now=self._now(),
                vault_listing=listing,
                list_name=list_name,
                list_reason=list_reason,
                palette=self.palette,
            ),
            self._staged,
        )

    def _open_vault_add(self, state: ClusterState, keys: Sequence[str]) -> None:
        if not self._need_session("add from Key Vault"):
            return
        sessions = self.sessions
        list_name, list_reason = self._list_of(keys)
        self.push_screen(
            VaultAddModal(
                state,
                self.staging,
                lambda: read_vault_candidates(sessions.get()),
                now=self._now(),
                list_name=list_name,
                list_reason=list_reason,
                palette=self.palette,
            ),
            self._staged,
        )

    def _open_delete(
        self,
        state: ClusterState,
        keys: Sequence[str],
        reasons: dict[str, str] | None = None,
    ) -> None:
        already = {i.entry_key for i in self.staging.items}
        entries = [e for e in (state.entry(k) for k in keys) if e is not None and e.key not in already]
        if not entries:
            staged_only = any(k in self.staging.staged_keys() for k in keys)
            self.notify(
                "already staged: z unstages it" if staged_only else "no entry to remove here",
                severity="warning",
                timeout=4,
            )
            return
        if reasons is None:
            reasons = {k: v for k, v in stale_reasons(state).items() if k in keys}
        self.push_screen(
            DeleteModal(entries, state, self.staging, now=self._now(), reasons=reasons, palette=self.palette),
            self._staged,
        )

    def _mark_stale(self, state: ClusterState, _keys: Sequence[str]) -> None:
        # Entries with a change staged or still arriving are not judged: a just-applied entry can look
        # orphaned until the vault has been read again.
        busy = self.staging.markers()
        reasons = {k: v for k, v in stale_reasons(state).items() if k not in busy}
        if not reasons:
            self.notify(
                "no stale entries: nothing expired, duplicated, orphaned or left without its CA", timeout=4
            )
            return
        pane = self.dashboard.opcua_pane
        pane.mark(set(reasons))
        self.dashboard.action_show_pane("opcua")
        if pane.shown:
            # The marked rows sort first: put the cursor on the first, so they are in view after esc.
            pane.table.move_to_key(pane.shown[0].key)

        def judge(keep: Collection[str]) -> dict[str, str]:
            return {k: v for k, v in stale_reasons(state, keep).items() if k not in busy}

        modal = StaleModal(
            reasons,
            self.palette,
            duplicates=[g for g in duplicate_groups(state) if not busy.keys() & set(g.keys)],
            judge=judge,
            on_change=lambda now_stale: pane.mark(set(now_stale)),
        )

        def chosen(delete: bool | None) -> None:
            current = self.state
            if delete and current is not None:
                marked = [k for k in modal.reasons if k in pane.marked]
                self._open_delete(current, marked, modal.reasons)

        self.push_screen(modal, chosen)

    def _open_apply(self, _state: ClusterState, _keys: Sequence[str]) -> None:
        if not self.staging:
            self.notify(
                "nothing staged: u uploads, v adds from Key Vault, d deletes", severity="warning", timeout=4
            )
            return
        if not self._need_session("apply"):
            return
        modal = ApplyModal(
            self.sessions,
            self.staging,
            read_only=self.read_only,
            wait_timeout=self.apply_wait_timeout,
            palette=self.palette,
        )
        self.push_screen(modal, self._applied)

    def _applied(self, outcome: ApplyOutcome | None) -> None:
        if outcome is None:
            return
        if outcome.outcome == "applied":
            self.set_staging(self.staging.mark_applied())
            if self.state is not None:
                self.settle_staging(self.state)  # the live state may have caught up during the sync wait
            self.action_refresh()  # re-read the vault now: the new secrets join the live state sooner
        elif outcome.outcome == "failed":
            # The journal owns the half-done change now: resume or roll back, not re-apply.
            self.set_staging(self.staging.cleared())
            if outcome.recover:
                self._read_journals(show_empty=True)

    def _unstage(self, _state: ClusterState, keys: Sequence[str]) -> None:
        wanted = set(keys)
        unstaged = self.staging.unstage(wanted)
        dropped = len(self.staging.items) - len(unstaged.items)
        if not dropped and len(unstaged.applied) == len(self.staging.applied):
            self.notify("nothing staged here (Z discards every staged change)", severity="warning", timeout=4)
            return
        self.set_staging(unstaged)
        self.notify(f"unstaged {dropped} change(s) · {len(unstaged)} still staged", timeout=3)

    def _discard(self, _state: ClusterState, _keys: Sequence[str]) -> None:
        if not self.staging:
            self.notify("nothing staged", severity="warning", timeout=3)
            return
        count = len(self.staging)

        def answered(yes: bool | None) -> None:
            if yes:
                self.set_staging(self.staging.cleared())
                self.notify(f"discarded {count} staged change(s); nothing was written", timeout=3)

        self.push_screen(
            ConfirmModal(
                "Discard staged changes",
                f"Discard all {count} staged change(s)? Nothing has been written.",
                "Discard",
            ),
            answered,
        )

    # -- renew -----------------------------------------------------------------------------------

    def _open_renew(self, state: ClusterState, _keys: Sequence[str]) -> None:
        if not self._need_session("renew"):
            return
        try:
            target = renew_target(state)
        except ChangeFailed as exc:
            self.notify(f"renew: {exc}", severity="error", timeout=6, markup=False)
            self._audit_renew("refused", (), str(exc))
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self._renew(target.certificate)
            else:
                self._audit_renew("cancelled", (target.certificate.key,), "not confirmed in the dashboard")

        self.push_screen(RenewModal(target, self.palette), answered)

    @work(
        thread=True,
        group="audit",
        exit_on_error=False,
        name="audit renew",
        description="audit a renewal that was refused or not confirmed",
    )
    def _audit_renew(self, outcome: str, entries: Sequence[str], detail: str) -> None:
        # As the CLI does: an attempted renewal leaves a line even when nothing was written.
        audit_attempt(self.sessions.get(), RENEW_ACTION, outcome, entries=entries, detail=detail)

    @work(
        thread=True,
        exclusive=True,
        group="renew",
        exit_on_error=False,
        name="renew",
        description="ask cert-manager to renew the root CA",
    )
    def _renew(self, cert: CertificateView) -> None:
        try:
            renew_certificate(self.sessions.get(), cert)
        except Exception as exc:  # one line in a notification, never an exit
            self.post_message(ChangeReported(f"renew {cert.key}: {one_line(exc)}", "error"))
            return
        revision = cert.revision if cert.revision is not None else "none"
        self.post_message(
            ChangeReported(
                f"renewal of {cert.key} requested (revision {revision}); the Root "
                "CA pane shows the rotation when cert-manager has issued it"
            )
        )

    @on(ChangeReported)
    def _reported(self, message: ChangeReported) -> None:
        message.stop()
        self.notify(printable(message.text), severity=message.severity, timeout=6, markup=False)

    # -- unfinished applies ----------------------------------------------------------------------

    def check_journals(self) -> None:
        """Once, at start: offer to resume or roll back applies a previous run left unfinished."""
        if self._journals_checked:
            return
        self._journals_checked = True
        if self.sessions.available and not self.read_only:
            self._read_journals(show_empty=False)

    def _open_journal(self, _state: ClusterState | None, _keys: Sequence[str]) -> None:
        if self._need_session("unfinished applies"):
            self._read_journals(show_empty=True)

    @work(
        thread=True,
        exclusive=True,
        group="journal-read",
        exit_on_error=False,
        name="read journal",
        description="look for unfinished applies in the journal",
    )
    def _read_journals(self, show_empty: bool) -> None:
        try:
            if not show_empty and not self.sessions.may_have_pending_journals():
                # Nothing left unfinished: the start-up look makes no session. Making one imports the
                # change engine and the vault SDK (about 4 MiB resident and 0.1 s of interpreter time
                # beside the first frame) that a user who changes nothing never needs.
                return
            # Only this site's: another site's journal would be refused anyway (trial finding 1).
            pending = self.sessions.get().site_journals(pending_only=True)
        except Exception as exc:  # an unreadable state directory is worth a notice, not an exit
            self.post_message(ChangeReported(f"cannot read the apply journal: {one_line(exc)}", "warning"))
            return
        self.post_message(JournalsFound(pending, show_empty))

    @on(JournalsFound)
    def _journals_found(self, message: JournalsFound) -> None:
        message.stop()
        if not message.summaries:
            if message.show_empty:
                self.notify("no unfinished applies", timeout=3)
            return
        if isinstance(self.screen, JournalModal):
            return
        self.push_screen(
            JournalModal(
                message.summaries, self.sessions, wait_timeout=self.apply_wait_timeout, palette=self.palette
            ),
            lambda _outcome: self.action_refresh(),
        )

    def action_refresh(self) -> None:  # pragma: no cover - provided by DashboardApp
        """Ask the source for a fresh state."""
        raise NotImplementedError
