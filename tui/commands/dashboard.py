"""Open the live dashboard on a site: root CA, issuers and OPC UA lists, updated as the cluster changes.

This is what ``aio-certs`` runs when no command is given. It connects like kubectl (``--kubeconfig``,
``KUBECONFIG``, ``--context``), watches the AIO namespace, reads the Key Vault behind the OPC UA lists in
the background, and redraws only what changes (a few repaints a second at most).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tui.commands.common import UsageError, add_common_arguments
from tui.core.text import one_line

if TYPE_CHECKING:
    from tui.cluster.config import ClusterConnection
    from tui.core.clock import Clock
    from tui.ops.runner import ChangeSession
    from tui.ui.source import StateSource
    from tui.ui.view.settings import UiSettings

EPILOG = """\
keys (press ? in the dashboard for all of them):
  tab, 1 2 3   move between the Root CA, Issuers and OPC UA panes
  /            filter the OPC UA entries (words such as expired, expiring, crl-stale; !word negates)
  enter        preview the entry (every field, chain, where it lives, PEM); c copies its thumbprint
  s, S         sort by the next column, reverse;   space  mark an entry
  u, v, d, x   upload a file, add from Key Vault, delete, mark stale entries (staged, shown in the table)
  a, z, Z      apply the staged changes (plan diff, confirm, progress), unstage, discard all
  r            renew the root CA (on the Root CA pane)
  q, ctrl+c    quit

environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  TEXTUAL_FPS           frame cap of the terminal output (default 60); lower it on very slow links

exit status:
  0  quit normally
  2  bad usage
  3  no usable kubeconfig or context
"""

log = logging.getLogger(__name__)

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


class LazySession:
    """Makes the dashboard's change session on first use (from a worker) and closes it at the end.

    ``opener`` returns the session and the connection it owns (None when it shares the dashboard's).
    Nothing is made before its first use (the start-up look for unfinished applies, in a worker).
    """

    def __init__(self, opener: Callable[[], tuple[ChangeSession, ClusterConnection | None]]) -> None:
        self._opener = opener
        self._session: ChangeSession | None = None
        self._connection: ClusterConnection | None = None
        self._lock = threading.Lock()

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the dashboard's options."""
    add_common_arguments(parser)
    add_display_arguments(parser)


def add_display_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-mouse`` and ``--animations``."""
    group = parser.add_argument_group("display")
    group.add_argument("--no-mouse", action="store_true",
                       help="do not capture the mouse (keeps the terminal's own selection; less traffic "
                            "over SSH)")
    group.add_argument("--animations", action="store_true",
                       help="allow animations (off by default, and always off over SSH)")


def _fail(message: str, code: int) -> int:
    print(f"aio-certs: {one_line(message)}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    """Connect, open the dashboard, and return when the user quits."""
    try:
        return _dashboard(args)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # one line, never a traceback over someone's terminal
        return _fail(f"dashboard failed: {type(exc).__name__}: {exc}".splitlines()[0], EXIT_FAILED)


def _dashboard(args: argparse.Namespace) -> int:
    from tui.cluster.config import ClusterConfigError
    from tui.commands.change_common import Refused, load_user_config
    from tui.commands.common import open_feed
    from tui.core.clock import SystemClock
    from tui.ui.source import FeedSource, SourceInfo
    from tui.ui.view.settings import UiSettings

    try:
        # The config file's read_only (a read-only workstation), auth, cloud and thresholds apply here too.
        config = load_user_config(args)
    except Refused as exc:
        return _fail(str(exc), exc.code)
    clock = SystemClock()
    try:
        connection, feed = open_feed(args, clock=clock)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ClusterConfigError as exc:
        return _fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE)
    source = FeedSource(feed, SourceInfo(connection.context, connection.server), on_stop=connection.close)
    read_only = bool(getattr(args, "read_only", False))
    settings = UiSettings(namespace=feed.settings.namespace, read_only=read_only, read_only_locked=read_only,
                          animations=bool(getattr(args, "animations", False)), freeze_heap=True)
    sessions = None if read_only else LazySession(lambda: open_change_session(args, config))
    source.prestart()  # list the cluster while the UI is imported and mounted
    return run_app(source, settings, clock=clock, mouse=not getattr(args, "no_mouse", False),
                   sessions=sessions)


def open_change_session(args: argparse.Namespace, config: Any) -> tuple[ChangeSession, ClusterConnection]:
    """The CLI's change session (its own connection), with a one-line error instead of Refused."""
    from tui.commands.change_common import Refused
    from tui.commands.change_run import open_session

    try:
        return open_session(args, config)
    except Refused as exc:
        raise RuntimeError(str(exc)) from None


def run_app(source: StateSource, settings: UiSettings, *, clock: Clock, mouse: bool = True,
            sessions: LazySession | None = None, on_hangup: Callable[[], None] | None = None) -> int:
    """Run the dashboard over ``source`` until the user quits, then stop the source.

    The source is stopped after the terminal has been restored, so a slow network shutdown never keeps
    the user looking at a frozen screen. ``sessions`` lets the change dialogs write (None: look only).
    ``on_hangup`` runs (from another thread) before the process ends because its terminal went away.
    """
    from tui.ui.view.terminal import HangupWatch, choose_frame_rate

    # Textual reads keys from stdin (and draws on stderr): the same terminal, watched through stdin.
    watch = HangupWatch(sys.__stdin__.fileno() if sys.__stdin__ else -1, lambda: _hung_up(on_hangup))
    try:
        choose_frame_rate()  # before Textual is imported: it reads the cap once
        from tui.ui.app import DashboardApp

        app = DashboardApp(source, settings=settings, clock=clock, sessions=sessions)
        watch.start()
        app.run(mouse=mouse)
    finally:
        watch.stop()
        source.stop()
        if sessions is not None:
            sessions.close()
    return int(app.return_code or 0)


def _hung_up(cleanup: Callable[[], None] | None) -> None:
    """The terminal is gone: end the process as a hangup would (nobody is left to show anything to).

    The UI thread may be blocked on a terminal write that will never finish, so there is no orderly
    exit to wait for; ``cleanup`` (the embedded demo's stop, which removes its temporary directory) runs
    first. An apply cut short here is in the journal, as after a kill, and is offered for resuming.
    """
    from tui.ui.view.terminal import EXIT_HANGUP

    if cleanup is not None:
        try:
            cleanup()
        except Exception:  # the process ends next whatever happens; there is no terminal to tell
            log.debug("cleanup after the terminal went away failed", exc_info=True)
    os._exit(EXIT_HANGUP)


def run_demo_dashboard(options: dict[str, Any], *, mouse: bool = True, read_only: bool = False) -> int:
    """``aio-certs demo`` without ``--serve``: start the embedded site, open the dashboard on it, stop both.

    ``options`` are the validated ``DemoEnvironment`` keyword arguments (``tui.commands.demo``).
    """
    from tui.cluster.config import load_cluster_config
    from tui.cluster.live import ClusterFeed
    from tui.commands.common import VaultSettings, make_vault_reader
    from tui.config import ConfigError, load_config
    from tui.core.clock import SystemClock
    from tui.core.model.settings import ModelSettings
    from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment
    from tui.ui.source import FeedSource, SourceInfo
    from tui.ui.view.settings import UiSettings

    try:
        read_only = read_only or load_config().read_only  # a read-only workstation stays read-only
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE)
    print("aio-certs demo: starting the embedded AIO site…", file=sys.stderr, flush=True)
    env = DemoEnvironment(**options)
    try:
        env.start()
    except Exception as exc:  # one line, never a traceback
        env.stop()
        first = (str(exc).splitlines() or [""])[0]
        return _fail(f"demo: could not start the demo site: {type(exc).__name__}: {first}", EXIT_FAILED)
    try:
        clock = SystemClock()
        # The product's own code path: a kubeconfig, the kubernetes client, a verified-TLS SecretClient.
        connection = load_cluster_config(str(env.kubeconfig_path), KUBE_CONTEXT, environ={})
        settings = ModelSettings(namespace=env.options.namespace)
        vault = VaultSettings(url=env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
        feed = ClusterFeed(connection.api_client, settings, clock=clock,
                           vault_reader=make_vault_reader(vault, clock=clock))
        source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, connection.server),
                            on_stop=connection.close)
        ui_settings = UiSettings(namespace=settings.namespace, read_only=read_only,
                                 read_only_locked=read_only, freeze_heap=True)
        sessions = None if read_only else LazySession(
            lambda: (demo_session(env, connection.api_client, settings, clock), None))
        source.prestart()  # list the site while the UI is imported and mounted
        return run_app(source, ui_settings, clock=clock, mouse=mouse, sessions=sessions, on_hangup=env.stop)
    finally:
        env.stop()


def demo_session(env: Any, api_client: Any, settings: Any, clock: Clock) -> ChangeSession:
    """A change session on the embedded demo: its API client, its vault, journal and audit in its directory.

    The journal lives with the demo (not in the user's state directory): the demo's site is gone when it
    stops, so an apply left unfinished there must not be offered for a real site next time.
    """
    from tui.demo.environment import KUBE_CONTEXT
    from tui.ops.runner import ChangeSession
    from tui.vault.client import make_secret_client

    vault = make_secret_client(env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
    return ChangeSession(api_client, settings, clock=clock, state_dir=env.state_dir / "changes",
                         context=KUBE_CONTEXT, vault_client_for=lambda _state: vault)
