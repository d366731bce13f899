"""The dashboard's views of the state directory (issue 13 item 28): journals (``J``) and the audit trail
(``L``), both read-only lists, newest first; and ``R``, replace the entry under the cursor (item 27).

They read through the change session's journal store and audit log (the state directory of this site);
without a session (started ``--read-only``) there is no state directory to read and they name the CLI
command instead. A pending journal chosen in the journal view goes to the same resume / roll back
dialog the dashboard offers at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.ui.change_flow import ChangeFlow
from tui.ui.change_session import read_vault_listing
from tui.ui.modals.audit_view import AuditViewModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.journal_view import JournalViewModal
from tui.ui.modals.upload import UploadModal

if TYPE_CHECKING:
    from tui.ops.journal import JournalInfo


class SiteViews(ChangeFlow):
    """The journal and audit views of the app (see the module docstring); :class:`DashboardApp` is one."""

    def _views_available(self, what: str, command: str) -> bool:
        if self.sessions.available:
            return True
        self.notify(
            f"{what}: no state directory in this view; {command} lists them", severity="warning", timeout=5
        )
        return False

    def action_journal_view(self) -> None:
        """Show every journal, newest first."""
        if isinstance(self.screen, JournalViewModal) or not self._views_available(
            "journals", "aio-certs journal"
        ):
            return
        sessions = self.sessions

        def finish(chosen: JournalInfo | None) -> None:
            if chosen is not None:
                self.push_screen(
                    JournalModal(
                        [chosen], sessions, wait_timeout=self.apply_wait_timeout, palette=self.palette
                    ),
                    lambda _outcome: self.action_refresh(),
                )

        self.push_screen(
            JournalViewModal(
                lambda: sessions.get().journals.infos(), can_finish=not self.read_only, palette=self.palette
            ),
            finish,
        )

    def action_audit_view(self) -> None:
        """Show the audit trail, newest first."""
        if isinstance(self.screen, AuditViewModal):
            return
        if not self._views_available("audit trail", "the audit.jsonl file of the state directory"):
            return
        sessions = self.sessions
        self.push_screen(AuditViewModal(lambda: sessions.get().audit.events(), palette=self.palette))

    def action_replace_entry(self) -> None:
        """Upload a file in place of the OPC UA entry under the cursor: same list, entry name and secret."""
        if self.read_only:
            self.notify("read-only view: changes are off", severity="warning", timeout=4)
            return
        state = self.state
        pane = self.dashboard.opcua_pane
        key = pane.table.cursor_key
        entry = state.entry(key) if state is not None and key is not None else None
        if entry is None or state is None:
            self.notify("replace: put the cursor on an OPC UA entry first (3)", severity="warning", timeout=4)
            return
        if not self.sessions.available:
            self.notify(
                "replace: not available in this view (no cluster connection for writes)",
                severity="warning",
                timeout=5,
            )
            return
        sessions = self.sessions
        self.push_screen(
            UploadModal(
                state,
                self.staging,
                now=self.clock.now(),
                vault_listing=lambda: read_vault_listing(sessions.get()),
                list_name=entry.list_name,
                list_reason=f"replacing {entry.key}",
                palette=self.palette,
                entry_name=entry.target_key,
                secret_name=entry.source_path or "",
                overwrite=True,
            ),
            self._staged,
        )
