"""Run the Textual dashboard over a state source until the user quits: ``dashboard`` and ``demo`` alike.

Textual itself is imported by :func:`run_app` only after the frame rate is chosen (it reads the cap
once, at import), and after the caller has started listing the cluster, so that the two overlap.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from tui.ui.view.terminal import EXIT_HANGUP, HangupWatch, choose_frame_rate

if TYPE_CHECKING:
    from tui.cluster.config import ClusterConnection
    from tui.core.clock import Clock
    from tui.ops.runner import ChangeSession
    from tui.ui.app import DashboardApp
    from tui.ui.site_views import ContextSwitch
    from tui.ui.source import StateSource
    from tui.ui.view.settings import UiSettings

log = logging.getLogger(__name__)


class LazySession:
    """Makes the dashboard's change session on first use (from a worker) and closes it at the end.

    ``opener`` returns the session and the connection it owns (None when it shares the dashboard's).
    Nothing is made before its first use (the start-up look for unfinished applies, in a worker).
    """

    def __init__(
        self,
        opener: Callable[[], tuple[ChangeSession, ClusterConnection | None]],
        *,
        pending_journals: Callable[[], bool] | None = None,
    ) -> None:
        self._opener = opener
        self._pending_journals = pending_journals
        self._session: ChangeSession | None = None
        self._connection: ClusterConnection | None = None
        self._lock = threading.Lock()

    def pending_journals_possible(self) -> bool:
        """False only when a cheap look (``pending_journals``, no session) finds no unfinished apply: the
        dashboard's start-up look for them then makes no session. True when it cannot tell."""
        return True if self._pending_journals is None else self._pending_journals()

    def __call__(self) -> ChangeSession:
        """The session (made once)."""
        with self._lock:
            if self._session is None:
                self._session, self._connection = self._opener()
            return self._session

    def close(self) -> None:
        """Close the connection the session owns, if it was made."""
        with self._lock:
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()


def run_app(
    source: StateSource,
    settings: UiSettings,
    *,
    clock: Clock,
    mouse: bool = True,
    sessions: LazySession | None = None,
    on_hangup: Callable[[], None] | None = None,
    context_switch: ContextSwitch | None = None,
) -> int:
    """Run the dashboard over ``source`` until the user quits, then stop the source.

    The source is stopped after the terminal has been restored, so a slow network shutdown never keeps
    the user looking at a frozen screen. ``sessions`` lets the change dialogs write (None: look only).
    ``on_hangup`` runs (from another thread) before the process ends because its terminal went away.
    ``context_switch`` lets the user switch kubeconfig context (``K``); the source on screen at the end,
    whichever it is, is the one stopped.
    """
    # Textual reads keys from stdin (and draws on stderr): the same terminal, watched through stdin.
    app: DashboardApp | None = None
    watch = HangupWatch(sys.__stdin__.fileno() if sys.__stdin__ else -1, lambda: _hung_up(on_hangup))
    try:
        choose_frame_rate()  # before Textual is imported: it reads the cap once
        # Textual (~0.3 s) is imported only now: after the frame rate is set, and while the source
        # (already started by the caller) lists the cluster.
        from tui.ui.app import DashboardApp

        app = DashboardApp(source, settings=settings, clock=clock, sessions=sessions)
        app.context_switch = context_switch
        watch.start()
        app.run(mouse=mouse)
    finally:
        watch.stop()
        # After a context switch the app holds another source (the first was stopped at the switch).
        current = app.source if app is not None else source
        if context_switch is not None:
            context_switch.release(current)  # stops it and closes its change session's connection
        else:
            current.stop()
            if sessions is not None:
                sessions.close()
    return int(app.return_code or 0) if app is not None else 0


def _hung_up(cleanup: Callable[[], None] | None) -> None:
    """The terminal is gone: end the process as a hangup would (nobody is left to show anything to).

    The UI thread may be blocked on a terminal write that will never finish, so there is no orderly
    exit to wait for; ``cleanup`` (the embedded demo's stop, which removes its temporary directory) runs
    first. An apply cut short here is in the journal, as after a kill, and is offered for resuming.
    """
    if cleanup is not None:
        try:
            cleanup()
        except Exception:  # the process ends next whatever happens; there is no terminal to tell
            log.debug("cleanup after the terminal went away failed", exc_info=True)
    os._exit(EXIT_HANGUP)
