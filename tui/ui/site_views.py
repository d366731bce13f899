"""The dashboard's views of the state directory (issue 13 item 28): journals (``J``) and the audit trail
(``L``), both read-only lists, newest first.

They read through the change session's journal store and audit log (the state directory of this site);
without a session (started ``--read-only``) there is no state directory to read and they name the CLI
command instead. A pending journal chosen in the journal view goes to the same resume / roll back
dialog the dashboard offers at start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tui.ui.change_flow import ChangeFlow
from tui.ui.modals.audit_view import AuditViewModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.journal_view import JournalViewModal

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
