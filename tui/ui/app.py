"""The dashboard application: wires a :class:`~tui.ui.source.StateSource` to the dashboard screen.

Threads and pacing:
- the source runs on its own threads (the feed's builder) and calls ``deliver`` with each new state;
  ``deliver`` only posts a :class:`~tui.ui.messages.StateArrived` message (thread-safe);
- a newer ``StateArrived`` replaces an older one still queued, and states are applied at most once per
  ``repaint_interval`` (a timer picks up the newest one), so a burst of watch events is one repaint;
- starting the source and refreshing run in thread workers with named groups and ``exit_on_error=False``:
  an error becomes a line in the header and a notification, never an exit;
- a one-second tick re-evaluates countdowns and the data age, which repaint only when their text changes.

The app starts the source; whoever created the source stops it after :meth:`App.run` returns (so the
terminal is restored before a slow network shutdown).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import Callable
from datetime import datetime
from time import monotonic
from typing import ClassVar

from textual import events, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.theme import Theme
from textual.timer import Timer
from textual.worker import Worker, WorkerState

from tui.core.clock import Clock, SystemClock
from tui.core.durations import DAYS_LEFT_RULE
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState
from tui.paths import style_path
from tui.ui.change_session import SessionFactory, SessionHolder
from tui.ui.copy_row import copy_text, doc_under_cursor
from tui.ui.messages import SourceFailed, StateArrived
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.audit_view import AuditViewModal
from tui.ui.modals.confirm import ConfirmModal
from tui.ui.modals.context_switch import ContextSwitchModal
from tui.ui.modals.delete import DeleteModal, PurgeBox
from tui.ui.modals.help import HelpGroup, HelpModal, HelpRow, filter_word_rows, rows_from_bindings
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.journal_view import JournalViewModal
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.preview import PreviewModal
from tui.ui.modals.renew import RenewModal
from tui.ui.modals.split_bundle import SplitBundleModal
from tui.ui.modals.stale import StaleModal
from tui.ui.modals.upload import PathInput, UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.palette import DashboardCommands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.site_views import SiteViews
from tui.ui.source import StateSource
from tui.ui.view import connection
from tui.ui.view.levels import DEFAULT_PALETTE, Palette, palette_from_colors
from tui.ui.view.rows import SEVERITY_NOTE, SEVERITY_WORD
from tui.ui.view.settings import UiSettings
from tui.ui.view.terminal import over_ssh
from tui.ui.widgets.filter_input import FilterInput
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.opcua_pane import OpcUaPane
from tui.ui.widgets.root_ca_pane import RootCAPane
from tui.ui.widgets.typeahead import retarget

log = logging.getLogger(__name__)

IDLE_COLLECT_QUIET = 1.0
"""Seconds without a key or mouse event before the collector's full pass may run (``freeze_heap``)."""

IDLE_COLLECT_CHECK = 0.5
"""How often the app looks whether a full pass is due and the user has paused."""

FULL_PASS_DEFERRAL = 20
"""With ``freeze_heap``, while the user types Python's own full passes come this many times less often than
by default: the app runs the one that is due when the user pauses (``_collect_when_idle``)."""

STATE_QUIET = 0.3
"""Seconds after a state was applied before the app runs a full pass: a rotation brings a burst of them."""


class DashboardApp(SiteViews):
    """The aio-certs dashboard over a live (or fed) sequence of cluster states.

    ``sessions`` makes the :class:`~tui.ops.runner.ChangeSession` the change dialogs write through (see
    :mod:`tui.ui.change_flow`); without it the dashboard only looks.
    """

    TITLE = "aio-certs"
    CSS_PATH: ClassVar = [style_path("app.tcss"), style_path("dashboard.tcss"), style_path("modals.tcss")]
    COMMANDS: ClassVar = App.COMMANDS | {DashboardCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit", tooltip="Quit and restore the terminal"),
        Binding(
            "ctrl+c",
            "quit",
            "Quit",
            show=False,
            priority=True,
            id="app.quit-ctrl-c",
            tooltip="Quit and restore the terminal (works everywhere, even in the filter box)",
        ),
        Binding("question_mark", "help", "Help", id="app.help", tooltip="Show every key binding"),
        Binding(
            "c",
            "copy('thumbprint')",
            "Copy",
            show=False,
            id="app.copy",
            tooltip="Copy the thumbprint (a CRL: its SHA-256) of the row under the cursor (OSC 52)",
        ),
        Binding(
            "C",
            "copy('pem')",
            "Copy PEM",
            show=False,
            id="app.copy-pem",
            tooltip="Copy the PEM of the row under the cursor, or of the root CA on its pane (OSC 52)",
        ),
        Binding(
            "ctrl+r",
            "refresh",
            "Refresh",
            show=False,
            id="app.refresh",
            tooltip="Re-read the Key Vault and rebuild the view now",
        ),
        Binding(
            "J",
            "journal_view",
            "Journals",
            show=False,
            id="app.journals",
            tooltip="Journals of past applies, newest first (enter: details; r: resume or roll back)",
        ),
        Binding(
            "L",
            "audit_view",
            "Audit log",
            show=False,
            id="app.audit",
            tooltip="The audit trail of changes and attempts, newest first (enter: details)",
        ),
        Binding(
            "R",
            "replace_entry",
            "Replace",
            show=False,
            id="app.replace",
            tooltip="Replace the OPC UA entry under the cursor: upload a file under its name (staged)",
        ),
        Binding(
            "K",
            "switch_context",
            "Context",
            show=False,
            id="app.context",
            tooltip="Switch kubeconfig context, or reload the kubeconfig and reconnect (asks first)",
        ),
    ]

    def __init__(
        self,
        source: StateSource,
        *,
        settings: UiSettings | None = None,
        clock: Clock | None = None,
        sessions: SessionFactory | None = None,
    ) -> None:
        super().__init__()
        self.source = source
        self.settings = settings or UiSettings()
        self.clock = clock or SystemClock()
        self.state: ClusterState | None = None
        """The state on screen (None until the first one arrived)."""
        self.source_error: str | None = None
        self.read_only = self.settings.read_only or self.settings.read_only_locked
        self.palette: Palette = DEFAULT_PALETTE
        self.applied = 0
        """How many states were applied to the screen (tests and the benchmark read it)."""
        self._pending: ClusterState | None = None
        self._apply_timer: Timer | None = None
        self._last_apply = float("-inf")
        self._applied_event = asyncio.Event()
        self._frozen = 0
        self._freeze_due = False  # the second freeze waits for a pause in typing
        self._last_input = float("-inf")
        """When the last key or mouse event came from the terminal (``time.monotonic``)."""
        self._last_key = float("-inf")
        """When the last key came from the terminal (``time.monotonic``): states wait while keys come."""
        self._key_before = float("-inf")
        """When the key before that one came: a re-read asked for waits while keys come, not for its key."""
        self._reread_since: float | None = None
        """When a ``ctrl+r`` re-read began to wait for typing to pause (None: none waiting)."""
        self._held_since: float | None = None
        """When the pending state first waited for typing to pause (None: not waiting for that)."""
        self._thresholds: tuple[int, int, int] | None = None
        """The collector's own thresholds while the app defers its full passes (the user is typing)."""
        self._complete_shown = False  # the first state with every collection in has been applied
        self._refreshing = False
        self._refresh_count = 0
        """``ctrl+r`` reads started."""
        self._refresh_asked = 0
        """The last of them the worker has handed to the source (which then says it is pending)."""
        self._reconnect_hinted: datetime | None = None
        """When the last "cluster out of reach" notice was shown (None: none during this outage)."""
        self._dashboard = DashboardScreen(self.source.info, self.settings.namespace)
        self.init_changes(SessionHolder(sessions))
        if not self.settings.animations or over_ssh():
            self.animation_level = "none"

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def dashboard(self) -> DashboardScreen:
        """The dashboard screen (always at the bottom of the stack)."""
        return self._dashboard

    def get_default_screen(self) -> DashboardScreen:
        """The dashboard is the bottom screen; modals stack on top of it."""
        return self._dashboard

    def on_dashboard_screen_ready(self, _message: DashboardScreen.Ready) -> None:
        """Once the panes exist: apply the theme, start the source and the once-a-second tick."""
        self._theme_changed(self.current_theme)
        self.theme_changed_signal.subscribe(self, self._theme_changed)
        self._dashboard.show_status(self.clock.now(), source_error=None, read_only=self.read_only)
        self.set_interval(self.settings.tick_interval, self.tick, name="tick")
        if self.settings.freeze_heap:
            self.set_interval(IDLE_COLLECT_CHECK, self._collect_when_idle, name="idle collection")
        self._start_source()
        # The look for unfinished applies waits for the first state on screen (or a failure): making the
        # change session imports the write path, which would hold the GIL during the first frame.

    @work(
        thread=True,
        group="source",
        exclusive=True,
        exit_on_error=False,
        name="start source",
        description="connect and start delivering cluster states",
    )
    def _start_source(self) -> None:
        self.source.start(self._deliver)

    def _deliver(self, state: ClusterState) -> None:
        # Called on the source's thread: post only (thread-safe), never touch widgets here.
        self.post_message(StateArrived(state))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A failed worker becomes a visible error, never an exit."""
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            text = f"{event.worker.name}: {type(error).__name__}: {error}" if error else event.worker.name
            self.post_message(SourceFailed(text.splitlines()[0]))

    def on_source_failed(self, message: SourceFailed) -> None:
        """Show the error in the header and as a notification."""
        self.source_error = message.error
        self.notify(message.error, title="aio-certs", severity="error", timeout=10)
        self._show_status()
        self.check_journals()

    def _show_status(self) -> None:
        self._dashboard.show_status(
            self.clock.now(), source_error=self.source_error, read_only=self.read_only
        )

    # -- states ----------------------------------------------------------------------------------

    async def _on_key(self, event: events.Key) -> None:
        # A key typed ahead that went to a pane which lost the focus meanwhile goes to the focused widget
        # (tui/ui/widgets/typeahead.py); otherwise Textual's own handler (bindings) runs after this one.
        retarget(event, self.focused)

    def on_state_arrived(self, message: StateArrived) -> None:
        """Apply the newest state now, or when the repaint interval has passed (a new root CA: now), or,
        while the user types, once typing pauses (:attr:`UiSettings.typing_quiet`)."""
        self._pending = message.state
        hold = self._typing_hold(monotonic())
        if hold > 0:
            self._wait_for(hold)
            return
        if _new_root_ca(self.state, message.state):
            # A rotation comes as a burst of changes (the Certificate's Issuing condition, the Secret, the
            # bundle): the state that brings the new CA waited up to a whole interval behind the first,
            # 90-320 ms. It is shown at once; rotations are rare, so the pace of repaints holds.
            if self._apply_timer is not None:
                self._apply_timer.stop()
            self._apply_pending()
            return
        if self._apply_timer is not None:
            return  # already scheduled; it will pick up this newer state
        wait = self._last_apply + self.settings.repaint_interval - monotonic()
        if wait <= 0:
            self._apply_pending()
        else:
            self._apply_timer = self.set_timer(wait, self._apply_pending, name="apply state")

    def _typing_hold(self, now: float) -> float:
        """Seconds the pending state still waits because keys are coming (0: apply it now).

        Only once the first complete state is on screen (the first frame never waits), and never more
        than :attr:`UiSettings.typing_hold_max` here: someone typing steadily still sees the site move
        (a feed that held the change back before building it adds at most its ``max_deferral``).
        """
        if self._pending is None or not self._complete_shown:
            return 0.0
        if self._last_key + self.settings.typing_quiet <= now:
            return 0.0
        if self._held_since is None:
            self._held_since = now
        return self._quiet_left(self._last_key, self._held_since, now)

    def _quiet_left(self, key_at: float, waiting_since: float, now: float) -> float:
        """Seconds until keys count as paused (:attr:`UiSettings.typing_quiet` after ``key_at``); 0 when
        they have, or when whatever waits for it has waited :attr:`UiSettings.typing_hold_max` since
        ``waiting_since``."""
        left = key_at + self.settings.typing_quiet - now
        if left <= 0 or now - waiting_since >= self.settings.typing_hold_max:
            return 0.0
        return left

    def _wait_for(self, seconds: float) -> None:
        # One timer for the pending state; it checks again when it fires (a key may have come since).
        if self._apply_timer is not None:
            self._apply_timer.stop()
        self._apply_timer = self.set_timer(seconds, self._apply_pending, name="apply state")

    def _apply_pending(self) -> None:
        self._apply_timer = None
        hold = self._typing_hold(monotonic())
        if hold > 0:
            self._wait_for(hold)
            return
        state, self._pending = self._pending, None
        self._held_since = None
        if state is None:
            return
        self._last_apply = monotonic()
        self.state = state
        self.source_error = None
        try:
            self.settle_staging(state)
            self._dashboard.show_state(state, self.clock.now(), source_error=None, read_only=self.read_only)
        except NoMatches:
            return  # a state that arrived while the app shuts down: its widgets are already gone
        except Exception as exc:  # a display bug must not end the session: say so and keep the old view
            log.exception("showing a cluster state failed")
            self.post_message(SourceFailed(f"display: {type(exc).__name__}: {exc}".splitlines()[0]))
        else:
            self.applied += 1
            if self.settings.freeze_heap:
                self._freeze_heap(state)
            if state.complete and not self._complete_shown:
                # The first complete state, not a partial one drawn while lists still arrive.
                self._complete_shown = True
                self.call_after_refresh(self._first_frame_shown)
        event, self._applied_event = self._applied_event, asyncio.Event()
        event.set()

    def _first_frame_shown(self) -> None:
        # The first state has been painted: the source may now start what it held back so as not to
        # compete with that paint (a live feed's vault and ARM reads, design §10.1), and the look for
        # unfinished applies may import the write path.
        shown = getattr(self.source, "first_frame_shown", None)
        if shown is not None:
            shown()
        self.check_journals()

    def _freeze_heap(self, state: ClusterState) -> None:
        # Twice: at the first state (imports, reflector caches, model, tables), then once the vault has
        # been read, values and all (its secrets join the model, every row gets new cells), after a
        # collection so no garbage is kept forever. Frozen at the listing, the values' 100,000 objects
        # stayed in every full pass Python ran later: 140 ms during a root CA rotation at --scale 2000.
        # That collection walks the whole heap not yet frozen (40-55 ms) and the vault's state comes while
        # the user may be typing: it runs at the next pause (_collect_when_idle).
        if self._frozen == 0 and state.complete:
            gc.freeze()
            self._frozen = 1
        elif (
            self._frozen == 1
            and state.vault.state is not AreaState.PENDING
            and not state.vault.values_pending
        ):
            self._frozen = 2
            self._freeze_due = True

    def _defer_full_passes(self) -> None:
        # A full pass walks every object not frozen: 20-40 ms at 2,000 entries on the project's machine
        # after typing, 136 ms once Textual's render caches have filled. While the user types, Python's
        # own come far less often; the one that is due runs when the user pauses.
        if self._thresholds is None:
            young, middle, full = self._thresholds = gc.get_threshold()
            gc.set_threshold(young, middle, full * FULL_PASS_DEFERRAL)

    def _collect_when_idle(self, now: float | None = None) -> None:
        """At a quiet moment (no key or mouse for :data:`IDLE_COLLECT_QUIET`, no state applied for
        :data:`STATE_QUIET`): the heap's second freeze if it is due, and a full pass once half of what
        makes Python start one has built up; then Python's own thresholds again.

        Python starts a full pass when allocations cross its threshold, that is in the middle of whatever
        allocates: under bench_ui one began during a root CA rotation's repaint and held it 136 ms. Run at
        quiet moments a little early, passes seldom reach that threshold; garbage is freed as often as
        before (deferring passes outright kept 16 MiB more resident after typing)."""
        if not self.settings.freeze_heap:
            return  # the collector is the process's (tests run many apps in one)
        now = monotonic() if now is None else now
        if now - self._last_input < IDLE_COLLECT_QUIET or now - self._last_apply < STATE_QUIET:
            return
        thresholds = self._thresholds or gc.get_threshold()
        if self._freeze_due or gc.get_count()[2] >= max(1, thresholds[2] // 2):
            gc.collect()
            if self._freeze_due:
                self._freeze_due = False
                gc.freeze()
                if self.settings.release_heap is not None:
                    self.settings.release_heap()
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    def on_unmount(self) -> None:
        """Give the collector its thresholds back (a test session runs many apps in one process)."""
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
            self._thresholds = None

    async def on_event(self, event: events.Event) -> None:
        """Note when the user last typed or used the mouse (for :meth:`_collect_when_idle`)."""
        if isinstance(event, events.InputEvent) and not event.is_forwarded:
            self._last_input = now = monotonic()
            if self.settings.freeze_heap:
                self._defer_full_passes()
            if isinstance(event, events.Key):
                self._key_before, self._last_key = self._last_key, now
                if self._complete_shown:
                    # States wait for a pause in typing here (_typing_hold): the feed need not build
                    # every event of a rotation meanwhile, on the interpreter the keys need.
                    defer = getattr(self.source, "defer_builds", None)
                    if defer is not None:
                        defer(self.settings.typing_quiet)
                held = self._held_since
                if held is not None and now - held >= self.settings.typing_hold_max:
                    # Waited long enough: applied right after this key's repaint, before the next key.
                    self.call_after_refresh(self._apply_pending)
        await super().on_event(event)

    async def wait_for_state(
        self, predicate: Callable[[ClusterState], bool], timeout: float = 10.0
    ) -> ClusterState:
        """Wait (without polling) until the state on screen satisfies ``predicate``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            state = self.state
            if state is not None and predicate(state):
                return state
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"no matching state on screen within {timeout:g}s")
            try:
                await asyncio.wait_for(self._applied_event.wait(), remaining)
            except TimeoutError:
                continue

    def get_theme(self, theme_name: str) -> Theme | None:
        """The registered theme of that name (or the first of a comma-separated list), else None.

        Textual's own copies its whole theme table twice per call, and every style update asks for the
        current theme once per widget (the ``dark``/``light`` pseudo-classes): several milliseconds of
        each filter keystroke on a large table. Same answer, without the copies.
        """
        themes = self._registered_themes
        for name in theme_name.split(","):
            theme = themes.get(name.strip())
            if theme is not None:
                return theme
        return None

    def tick(self) -> None:
        """Re-evaluate countdowns and the data age against the clock; say when a ``ctrl+r`` read came
        back, and what to check once the cluster has been out of reach for a while."""
        now = self.clock.now()
        with contextlib.suppress(NoMatches):  # shutting down: nothing left to tick
            self._dashboard.tick(now)
        self._connection_notices(now)

    def _connection_notices(self, now: datetime) -> None:
        # Asked (the worker has called the source, which then says pending) and no longer pending.
        asked = self._refresh_asked == self._refresh_count
        if self._refreshing and asked and not getattr(self.source, "refresh_pending", False):
            self._refreshing = False
            self._say_rereading(now)  # still, if another ctrl+r waits for typing to pause
            vault = connection.vault_summary(self.state).text
            self.notify(f"read again: {vault}", title="ctrl+r", timeout=4, markup=False)
        hint = connection.reconnect_hint(self.state, now, self.source.info.server)
        if hint is None:
            self._reconnect_hinted = None
        elif (
            self._reconnect_hinted is None or now - self._reconnect_hinted >= connection.RECONNECT_HINT_EVERY
        ):
            # Again every few minutes while it lasts: a notice is gone after 30 s, the outage may not be.
            self._reconnect_hinted = now
            self.notify(hint, title="cluster out of reach", severity="warning", timeout=30, markup=False)

    # -- theme -----------------------------------------------------------------------------------

    def _theme_changed(self, theme: Theme) -> None:
        self.palette = palette_from_colors(
            {"success": theme.success, "warning": theme.warning, "error": theme.error, "accent": theme.accent}
        )
        self._dashboard.set_palette(self.palette)

    # -- actions ---------------------------------------------------------------------------------

    def action_help(self) -> None:
        """Show every key binding."""
        if not isinstance(self.screen, HelpModal):
            self.push_screen(HelpModal(help_groups()))

    def action_refresh(self) -> None:
        """Re-read the vault and rebuild (in a worker: a source may block); say so at once (the header's
        vault item, or a notice when a dialog hides the header), and again when the read is back (a notice,
        the next tick after it)."""
        if self.screen is not self._dashboard:
            self.notify("re-reading the Key Vault and ARM…", title="ctrl+r", timeout=4)
        if self._reread_since is None:
            self._reread_since = monotonic()
            self._say_rereading(self.clock.now())
            self._reread_when_quiet()

    def _say_rereading(self, now: datetime) -> None:
        """The header's vault item says "re-reading" while a ``ctrl+r`` read waits or runs."""
        with contextlib.suppress(NoMatches):  # shutting down
            self._dashboard.show_rereading(self._reread_since is not None or self._refreshing, now)

    def _reread_when_quiet(self) -> None:
        """Start the re-read now, or once keys stop coming (at most :attr:`UiSettings.typing_hold_max`
        later). Listing 2,000 secrets holds the interpreter ~0.25 s on the reader's thread, which the UI
        thread then waits for between keystrokes; ``ctrl+r`` pressed in the filter box is usually
        followed by more typing, and the read takes longer than the pause it waits for."""
        since = self._reread_since
        if since is None:
            return
        # Two keys less than typing_quiet apart, the later one recent: someone is typing.
        quiet_left = self._quiet_left(self._key_before, since, monotonic())
        if quiet_left > 0:
            self.set_timer(quiet_left, self._reread_when_quiet, name="re-read")
            return
        self._reread_since = None
        self._refresh_count += 1
        self._refreshing = True  # the next tick after the read says what it found
        self._refresh(self._refresh_count)

    @work(
        thread=True,
        group="refresh",
        exclusive=True,
        exit_on_error=False,
        name="refresh",
        description="ask the source for a fresh state",
    )
    def _refresh(self, count: int) -> None:
        try:
            self.source.refresh()
        finally:
            # Until now the source could not say the read is pending: a tick before this would have
            # reported it back at once (by number: an earlier worker finishing late says nothing).
            self._refresh_asked = count

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Copying from a row works on the dashboard only (a dialog's ``c`` is its own)."""
        if action == "copy":
            return self.screen is self._dashboard
        return True

    def action_copy(self, what: str) -> None:
        """Copy the thumbprint or PEM of the row under the cursor (see :mod:`tui.ui.copy_row`)."""
        value, notice = copy_text(doc_under_cursor(self._dashboard), what)
        if value is None:
            self.notify(notice, severity="warning", timeout=4, markup=False)
            return
        self.copy_to_clipboard(value)
        self.notify(notice, timeout=3, markup=False)

    def action_toggle_read_only(self) -> None:
        """Switch the read-only view on or off (locked on when started with ``--read-only``)."""
        if self.settings.read_only_locked:
            self.notify("started with --read-only: the view stays read-only", severity="warning")
            return
        self.read_only = not self.read_only
        self._show_status()
        self._dashboard.refresh_bindings()  # change keys appear or disappear from the footer
        self.notify("read-only view on" if self.read_only else "read-only view off", timeout=3)

    def action_show_pane(self, pane_id: str) -> None:
        """Show and focus a pane (from the palette)."""
        self._dashboard.action_show_pane(pane_id)

    def action_filter(self) -> None:
        """Open the OPC UA filter (from the palette)."""
        self._dashboard.action_filter()

    def action_clear_filter(self) -> None:
        """Clear the OPC UA filter (from the palette)."""
        self._dashboard.opcua_pane.action_clear_filter()

    def sort_opcua(self, column: str) -> None:
        """Sort the OPC UA table by ``column`` (again: reverse)."""
        self._dashboard.action_show_pane("opcua")
        self._dashboard.opcua_pane.sort_by(column)


def _new_root_ca(shown: ClusterState | None, arrived: ClusterState) -> bool:
    """Whether ``arrived`` holds another root CA certificate than the state on screen (a rotation)."""
    if shown is None:
        return False
    before, after = shown.root_ca.certificate, arrived.root_ca.certificate
    return after is not None and (before is None or before.sha1 != after.sha1)


def help_groups() -> list[HelpGroup]:
    """Every binding of the dashboard, grouped by where it works."""
    return [
        HelpGroup(
            "Everywhere",
            (
                *rows_from_bindings(DashboardApp.BINDINGS),
                HelpRow("ctrl+p", "Command palette: jump to a pane, sort, theme, read-only view…"),
            ),
        ),
        HelpGroup("Dashboard", rows_from_bindings(DashboardScreen.BINDINGS)),
        HelpGroup("Header", tuple(HelpRow(keys, text) for keys, text in connection.HEADER_HELP)),
        HelpGroup(
            "Tables (Issuers, OPC UA)",
            (
                HelpRow("arrows, pgup/dn", "Move the cursor (home/end: first/last row)"),
                *rows_from_bindings(KeyedTable.BINDINGS),
            ),
        ),
        HelpGroup(
            "OPC UA pane",
            (
                *rows_from_bindings(OpcUaPane.BINDINGS),
                HelpRow("click a header", "Sort by that column (again: reverse)"),
            ),
        ),
        HelpGroup(
            "Reading the OPC UA table",
            (
                HelpRow("Health", f"{' / '.join(SEVERITY_WORD.values())}: {SEVERITY_NOTE}"),
                HelpRow("Days", DAYS_LEFT_RULE),
                HelpRow("times", "UTC, as 2027-01-13 21:32Z (JSON output: ISO 8601, 2027-01-13T21:32:50Z)"),
            ),
        ),
        HelpGroup("Filter box (/ on the OPC UA pane)", rows_from_bindings(FilterInput.BINDINGS)),
        HelpGroup("Filter words", filter_word_rows()),
        HelpGroup("Root CA pane", rows_from_bindings(RootCAPane.BINDINGS)),
        HelpGroup("Preview", rows_from_bindings(PreviewModal.BINDINGS)),
        HelpGroup(
            "Upload dialog",
            (
                *rows_from_bindings(UploadModal.BINDINGS),
                *rows_from_bindings(PathInput.BINDINGS),
                HelpRow("shift+tab", "Back to the previous field (its text is kept, not selected)"),
            ),
        ),
        HelpGroup("Add from Key Vault dialog", rows_from_bindings(VaultAddModal.BINDINGS)),
        HelpGroup("List choice (upload, add from Key Vault)", rows_from_bindings(ListChoice.BINDINGS)),
        HelpGroup(
            "Delete dialog",
            (*rows_from_bindings(DeleteModal.BINDINGS), *rows_from_bindings(PurgeBox.BINDINGS)),
        ),
        HelpGroup("Stale entries dialog", rows_from_bindings(StaleModal.BINDINGS)),
        HelpGroup(
            "Apply dialog",
            (
                *rows_from_bindings(ApplyModal.BINDINGS),
                HelpRow("tab, enter", "Move to the Apply button and confirm"),
            ),
        ),
        HelpGroup("Renew dialog", rows_from_bindings(RenewModal.BINDINGS)),
        HelpGroup("Unfinished applies dialog", rows_from_bindings(JournalModal.BINDINGS)),
        HelpGroup(
            "Journals view",
            (
                HelpRow("↑↓, enter", "Choose a journal; enter shows its details"),
                *rows_from_bindings(JournalViewModal.BINDINGS),
            ),
        ),
        HelpGroup(
            "Audit view",
            (
                HelpRow("↑↓, enter", "Choose an event; enter shows its details"),
                *rows_from_bindings(AuditViewModal.BINDINGS),
            ),
        ),
        HelpGroup(
            "Context switch dialog",
            (
                HelpRow("↑↓, enter", "Switch to that context (the same one: reconnect)"),
                *rows_from_bindings(ContextSwitchModal.BINDINGS),
            ),
        ),
        HelpGroup("Split bundle dialog", rows_from_bindings(SplitBundleModal.BINDINGS)),
        HelpGroup("Confirmation", rows_from_bindings(ConfirmModal.BINDINGS)),
        HelpGroup("Help", rows_from_bindings(HelpModal.BINDINGS)),
    ]
