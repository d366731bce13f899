"""The dashboard's views of the state directory (issue 13 item 28): journals (``J``) and the audit trail
(``L``), both read-only lists, newest first; ``R``, replace the entry under the cursor (item 27); and
``K``, switch kubeconfig context or reload the kubeconfig (item 25).

A context switch opens the new site first (a kubeconfig that fails keeps the site on screen and says why
in one line), then stops the old source, and only then, on the UI thread, swaps the source and the
change session, forgets the state and the staged changes (they were planned against the other site; a
non-empty staging asks first) and starts the new source. States the old source delivered before it
stopped are handled before the swap (messages keep their order), so none of them lands on the new site.

They read through the change session's journal store and audit log (the state directory of this site);
without a session (started ``--read-only``) there is no state directory to read and they name the CLI
command instead. A pending journal chosen in the journal view goes to the same resume / roll back
dialog the dashboard offers at start.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

from textual import on, work
from textual.message import Message

from tui.ui.change_flow import ChangeFlow
from tui.ui.change_session import SessionFactory, SessionHolder, one_line, read_vault_listing
from tui.ui.messages import ChangeReported
from tui.ui.modals.audit_view import AuditViewModal
from tui.ui.modals.confirm import ConfirmModal
from tui.ui.modals.context_switch import ContextChoice, ContextSwitchModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.journal_view import JournalViewModal
from tui.ui.modals.upload import UploadModal
from tui.ui.source import SourceInfo, StateSource
from tui.ui.view.staging import Staging
from tui.ui.widgets.text_line import TextLine

if TYPE_CHECKING:
    from tui.core.model.state import ClusterState
    from tui.ops.journal import JournalInfo


class ContextSwitch(Protocol):
    """What the command gives the dashboard to switch kubeconfig context (None: one site only)."""

    def contexts(self) -> tuple[Sequence[ContextChoice], str]:
        """The kubeconfig's contexts, read again, and where the files came from (blocking)."""
        ...

    def open(self, context: str) -> tuple[StateSource, SessionFactory | None]:
        """Connect to ``context`` with the kubeconfig as it is now: a new source (not started) and the
        change-session factory that goes with it (None: look only). Blocking; raises with one line."""
        ...

    def release(self, source: StateSource) -> None:
        """Stop a source and close the connection of the change session made with it (blocking)."""
        ...

    def kept(self) -> tuple[str, ...]:
        """What a switch keeps because a flag or the environment names it (the vault URL, ARM ids or
        endpoint), one line each saying which; the rest is found again from the new cluster."""
        ...


class ContextOpened(Message):
    """The new context's source is ready and the old one stopped: swap them (on the UI thread)."""

    def __init__(self, name: str, source: StateSource, sessions: SessionFactory | None) -> None:
        super().__init__()
        self.name = name
        self.source = source
        self.sessions = sessions


class SiteViews(ChangeFlow):
    """The journal and audit views of the app (see the module docstring); :class:`DashboardApp` is one."""

    source: StateSource
    context_switch: ContextSwitch | None = None
    """Set by the command that runs the app when the kubeconfig may hold other sites."""
    _pending: ClusterState | None

    def _from_dashboard(self, what: str) -> bool:
        """These keys work from the dashboard only: over a dialog (an apply running, an upload half
        filled) a second dialog, a replaced session or another site would pull the ground from under it."""
        if self.screen is self.dashboard:
            return True
        self.notify(f"{what}: close this dialog first (esc)", severity="warning", timeout=4, markup=False)
        return False

    def _views_available(self, what: str, command: str) -> bool:
        if self.sessions.available:
            return True
        self.notify(
            f"{what}: no state directory in this view; {command} lists them", severity="warning", timeout=5
        )
        return False

    def action_journal_view(self) -> None:
        """Show every journal, newest first."""
        if isinstance(self.screen, JournalViewModal) or not self._from_dashboard("journals"):
            return
        if not self._views_available("journals", "aio-certs journal"):
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
                lambda: sessions.get().site_journals(), can_finish=not self.read_only, palette=self.palette
            ),
            finish,
        )

    def action_audit_view(self) -> None:
        """Show the audit trail, newest first."""
        if isinstance(self.screen, AuditViewModal) or not self._from_dashboard("audit trail"):
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
        if not self._from_dashboard("replace"):
            return
        state = self.state
        if state is not None and not state.complete:
            self.notify(f"replace: still loading {', '.join(state.loading)}", severity="warning", timeout=4)
            return
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

    # -- context switch (K) ----------------------------------------------------------------------

    def action_switch_context(self) -> None:
        """List the kubeconfig's contexts (read again) and switch to the one chosen."""
        switch = self.context_switch
        if switch is None:
            self.notify("switching context: not available here (this view shows one site)", timeout=4)
            return
        if isinstance(self.screen, ContextSwitchModal) or not self._from_dashboard("switch context"):
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            if not self.staging:
                self._open_context(name)
                return
            count = len(self.staging)

            def answered(yes: bool | None) -> None:
                if yes:
                    self._open_context(name)

            self.push_screen(
                ConfirmModal(
                    "Switch context",
                    f"{count} staged change(s) were made for this site and are discarded on switching "
                    "(nothing has been written). Switch anyway?",
                    "Switch",
                ),
                answered,
            )

        # A switcher that predates kept() keeps nothing it could name.
        kept: tuple[str, ...] = getattr(switch, "kept", tuple)()
        self.push_screen(
            ContextSwitchModal(
                switch.contexts, on_screen=self.source.info.context, palette=self.palette, kept=kept
            ),
            chosen,
        )

    def _open_context(self, name: str) -> None:
        self.notify(f"connecting to context {name}…", timeout=3, markup=False)
        self._switch_worker(name)

    @work(
        thread=True,
        exclusive=True,
        group="context-switch",
        exit_on_error=False,
        name="switch context",
        description="connect to another kubeconfig context",
    )
    def _switch_worker(self, name: str) -> None:
        switch = self.context_switch
        assert switch is not None
        try:
            source, sessions = switch.open(name)
        except Exception as exc:  # a bad context or kubeconfig: one line, the site on screen stays
            # The connection's errors are one line naming the context already; anything else gets it.
            reason = " ".join(str(exc).split()) or one_line(exc)
            if name not in reason:
                reason = f"context {name}: {reason}"
            self.post_message(ChangeReported(f"{reason}; still on the site shown", "error"))
            return
        switch.release(self.source)
        self.post_message(ContextOpened(name, source, sessions))

    @on(ContextOpened)
    def _context_opened(self, message: ContextOpened) -> None:
        message.stop()
        self.source = message.source
        self.init_changes(SessionHolder(message.sessions))
        self._journals_checked = True  # the same state directory: already looked at
        self.set_staging(Staging())
        self.state = None
        self._forget_pending_state()
        info: SourceInfo = message.source.info
        header = self.dashboard.query_one("#status-header")
        header._info = info  # type: ignore[attr-defined]  # what the header composes with, if it ever does again
        server = f" ({info.server})" if info.server else ""
        self.dashboard.query_one("#hdr-context", TextLine).show(f"ctx {info.context}{server}")
        self.dashboard.refresh_bindings()
        self.notify(f"context {message.name}: reading the cluster…", timeout=4, markup=False)
        self._start_source()

    def _forget_pending_state(self) -> None:
        """Drop a state of the old site still waiting for its repaint (the timer then finds none)."""
        self._pending = None

    def _start_source(self) -> object:  # pragma: no cover - provided by DashboardApp (a worker)
        """Start the source in a worker."""
        raise NotImplementedError
