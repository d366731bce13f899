"""Run ``aio-certs dashboard``: connect, open the live feed and the Textual app, return when the user quits.

The first frame waits for no more than it needs: Textual is imported (by
:func:`~tui.commands.shared.app_runner.run_app`) while the cluster is listed, and the Azure SDK only when
the vault is first read or a change session first opened, both in workers.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from tui.cluster.config import (
    ClusterConfigError,
    ClusterConnection,
    check_cluster_config,
    connect,
    list_contexts,
)
from tui.commands.dashboard.arguments import EXIT_FAILED, EXIT_UNREACHABLE, EXIT_USAGE
from tui.commands.dashboard.prefetch import ForkedStates, fork_first_states
from tui.commands.shared.app_runner import LazySession, run_app
from tui.commands.shared.arm_reader import SiteArmReader, make_arm_reader
from tui.commands.shared.early_connect import child_wanted
from tui.commands.shared.exits import Refused, warn
from tui.commands.shared.forking import can_fork
from tui.commands.shared.options import ARM_ENDPOINT_ENV, RESOURCE_GROUP_ENV, SUBSCRIPTION_ENV, VAULT_URL_ENV
from tui.commands.shared.settings import (
    Settings,
    UsageError,
    command_settings,
    load_user_config,
    state_directory,
)
from tui.commands.shared.vault_reader import SiteVaultReader, make_vault_reader, release_free_heap
from tui.commands.shared.vault_worker import ForkedVaultReader, vault_reader_for_feed
from tui.core.clock import Clock, SystemClock
from tui.core.text import one_line
from tui.ui.source import FeedSource, PrefetchedSource, SourceInfo, StateSource
from tui.ui.view.settings import UiSettings
from tui.vault.sdk_imports import import_sdk

if TYPE_CHECKING:
    from tui.cluster.live import ClusterFeed
    from tui.ops.runner import ChangeSession
    from tui.ui.modals.context_switch import ContextChoice


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
    try:
        # The config file's read_only (a read-only workstation), auth, cloud and thresholds apply here too.
        settings = command_settings(args, load_user_config())
    except Refused as exc:
        return _fail(str(exc), exc.code)
    clock = SystemClock()
    try:
        first, plugin = _fork_first_states(settings, clock)
    except UsageError as exc:
        return _fail(str(exc), EXIT_USAGE)
    except ClusterConfigError as exc:
        return _fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE)
    try:
        # Before any thread of this process: the vault reader forks its worker here.
        parts = FeedParts.make(settings, clock)
    except UsageError as exc:
        if first is not None:
            first.close()
        return _fail(str(exc), EXIT_USAGE)
    source: StateSource
    if first is not None:
        # Textual and the panes are imported while the child connects and lists (prefetch.py).
        prepare_ui()
        connected = first.connected()
        if isinstance(connected, str):
            first.close()
            parts.discard()
            return _fail(f"cannot reach the cluster: {connected}", EXIT_UNREACHABLE)
        if connected is None:
            first.close()  # it ended without a word: connect here, as without a child
            first = None
        else:
            warn("dashboard", connected.warning)  # before the screen is taken
            info = SourceInfo(connected.context, connected.server)
            if plugin:
                # The credentials come from a plugin (exec, auth-provider), which this process runs too when
                # it connects: here, while the terminal is still a terminal (it may write or ask), never
                # under Textual's screen. The child, which ran it first, still lists and builds ahead.
                try:
                    live = parts.live(info)
                except ClusterConfigError as exc:
                    first.close()
                    parts.discard()
                    return _fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE)
                source = PrefetchedSource(first, lambda: live, info, abandon=live.stop)
            else:
                # Plain credentials (a certificate, a token): nothing to ask, so the client is imported and
                # the kubeconfig loaded again after the first frame, on the source's thread.
                source = PrefetchedSource(first, lambda: parts.live(info), info, abandon=parts.discard)
    if first is None:
        try:
            connection = connect(settings.connection)
        except ClusterConfigError as exc:
            parts.discard()
            return _fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE)
        warn("dashboard", connection.warning)  # before the screen is taken: seen again when it is given back
        info = SourceInfo(connection.context, connection.server)
        live = FeedSource(parts.feed(connection), info, on_stop=connection.close)
        live.prestart()  # list the cluster while the UI is imported and mounted
        source = live
    read_only = settings.read_only
    ui_settings = UiSettings(
        namespace=settings.model.namespace,
        read_only=read_only,
        read_only_locked=read_only,
        animations=bool(args.animations),
        freeze_heap=True,
        release_heap=release_free_heap,
    )
    sessions = None if read_only else change_sessions(settings)
    switch = DashboardSwitch(settings, clock, kept=kept_on_switch(vars(args), os.environ))
    switch.adopt(source, sessions)
    return run_app(
        source, ui_settings, clock=clock, mouse=not args.no_mouse, sessions=sessions, context_switch=switch
    )


def _fork_first_states(settings: Settings, clock: Clock) -> tuple[ForkedStates | None, bool]:
    """The child that connects and lists ahead (prefetch.py), after the checks that need no client, so a
    bad flag or kubeconfig is still said before anything starts (None where it is not wanted or possible);
    and whether the kubeconfig's credentials run a plugin."""
    if not child_wanted(os.environ) or not can_fork():
        return None, False
    settings.model  # noqa: B018  (raises UsageError for bad site flags)
    plugin = check_cluster_config(settings.connection.kubeconfig, settings.connection.context)
    return fork_first_states(settings, clock), plugin


def prepare_ui() -> None:
    """Import the app the way :func:`~tui.commands.shared.app_runner.run_app` does (the frame rate first)."""
    # Textual reads the frame rate once, when imported: set first. Imported only now, while the child
    # connects and lists (prefetch.py).
    from tui.ui.view.terminal import choose_frame_rate

    choose_frame_rate()
    # Then the app: Textual and the panes.
    import tui.ui.app  # noqa: F401


def kept_on_switch(flags: Mapping[str, object], env: Mapping[str, str]) -> tuple[str, ...]:
    """What a context switch keeps because a flag or the environment names it, one line each with why.

    Anything not named so is found again from the new cluster, as at start-up (the vault from its SPC, the
    ARM ids from its objects or Arc ConfigMap: the new feed's readers ask its state).
    """
    lines = []
    url = flags.get("vault_url")
    if url:
        lines.append(f"vault {url} (--vault-url)")
    elif env.get(VAULT_URL_ENV, "").strip():
        lines.append(f"vault {env[VAULT_URL_ENV].strip()} ({VAULT_URL_ENV})")
    for flag, what in (("subscription", "subscription"), ("resource_group", "resource group")):
        value = flags.get(flag)
        if value:
            lines.append(f"ARM {what} {value} (--{flag.replace('_', '-')})")
    if env.get(ARM_ENDPOINT_ENV, "").strip():
        lines.append(f"ARM endpoint {env[ARM_ENDPOINT_ENV].strip()} ({ARM_ENDPOINT_ENV})")
    fallback = [name for name in (SUBSCRIPTION_ENV, RESOURCE_GROUP_ENV) if env.get(name, "").strip()]
    if fallback:
        lines.append(f"{' and '.join(fallback)} where the new cluster names no ARM ids")
    return tuple(lines)


class DashboardSwitch:
    """The dashboard's ``K``: list the kubeconfig's contexts (read again each time) and open another.

    Every setting but the context is kept (namespace, read-only, the vault URL and ARM ids a flag or the
    environment names: ``kept``, which the dialog shows); the vault and ARM ids not named so are found
    again from the new cluster by the new feed's readers, as at start-up. The kubeconfig is read afresh,
    so choosing the context on screen again reconnects with a renewed token or a moved server. Each
    source is paired with the change session made for it, whose connection :meth:`release` closes.
    """

    def __init__(self, settings: Settings, clock: Clock, *, kept: Sequence[str] = ()) -> None:
        self.settings = settings
        self.clock = clock
        self._kept = tuple(kept)
        self._sessions: dict[int, LazySession | None] = {}
        self._lock = threading.Lock()

    def adopt(self, source: StateSource, sessions: LazySession | None) -> None:
        """Pair ``source`` with its change session (the one the dashboard started with)."""
        with self._lock:
            self._sessions[id(source)] = sessions

    def kept(self) -> tuple[str, ...]:
        """What a switch keeps because a flag or the environment names it (see :func:`kept_on_switch`)."""
        return self._kept

    def contexts(self) -> tuple[Sequence[ContextChoice], str]:
        """The kubeconfig's contexts, read again, and where its files came from."""
        # The dialog's value type lives with the dialog (Textual is loaded by then: the app is running).
        from tui.ui.modals.context_switch import ContextChoice

        found, where = list_contexts(self.settings.connection.kubeconfig)
        return [ContextChoice(c.name, c.server, c.namespace, c.current) for c in found], where

    def open(self, context: str) -> tuple[StateSource, LazySession | None]:
        """Connect to ``context`` and build its feed and change session (nothing started)."""
        settings = dataclasses.replace(
            self.settings, connection=dataclasses.replace(self.settings.connection, context=context)
        )
        connection, feed = open_feed(settings, clock=self.clock)
        source = FeedSource(feed, SourceInfo(connection.context, connection.server), on_stop=connection.close)
        sessions = None if settings.read_only else change_sessions(settings)
        self.adopt(source, sessions)
        return source, sessions

    def release(self, source: StateSource) -> None:
        """Stop ``source`` and close the connection of the change session made with it."""
        with self._lock:
            sessions = self._sessions.pop(id(source), None)
        source.stop()
        if sessions is not None:
            sessions.close()


class FeedParts:
    """What a live feed is made of besides its connection; made before any thread of the process (the
    vault reader forks its worker child when it is made)."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        vault_reader: SiteVaultReader | ForkedVaultReader,
        arm_reader: SiteArmReader,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.vault_reader = vault_reader
        self.arm_reader = arm_reader

    @classmethod
    def make(cls, settings: Settings, clock: Clock) -> FeedParts:
        """The vault and ARM readers for the settings; raises ``UsageError`` (one line)."""
        settings.model  # noqa: B018  (raises UsageError for bad site flags before anything is made)
        # The vault's reads in a child process where one can be forked (before the feed's first thread):
        # their SDK work then runs beside the UI thread, not on its interpreter (shared/vault_worker.py).
        reader = vault_reader_for_feed(
            lambda: make_vault_reader(settings.vault, clock=clock, timeout=settings.request_timeout)
        )
        arm = make_arm_reader(settings.arm, settings.vault, clock=clock, timeout=settings.request_timeout)
        return cls(settings, clock, reader, arm)

    def feed(self, connection: ClusterConnection) -> ClusterFeed:
        """The live feed over ``connection`` (not started)."""
        # The cluster client and the feed are imported here: with a child listing ahead, after the first
        # frame (prefetch.py).
        from tui.cluster.decoded_store import DecodedStore
        from tui.cluster.live import ClusterFeed, FeedTimings

        return ClusterFeed(
            connection.api_client,
            self.settings.model,
            clock=self.clock,
            vault_reader=self.vault_reader,
            arm_reader=self.arm_reader,
            # Decoded certificates kept on disk by their SHA-256: the next start skips decoding (§10.1).
            decoded_store=DecodedStore(self.settings.state_dir),
            # The vault and ARM reads start once the first frame is painted (at most 1 s after the first
            # state).
            timings=FeedTimings(side_reads_after=1.0),
        )

    def live(self, info: SourceInfo) -> FeedSource:
        """Connect and make the live feed's source (not started); raises ``ClusterConfigError``."""
        connection = connect(self.settings.connection)
        try:
            feed = self.feed(connection)
        except BaseException:
            connection.close()
            raise
        return FeedSource(feed, info, on_stop=connection.close)

    def discard(self) -> None:
        """End the vault reader's worker child: no feed will be made of these parts."""
        if isinstance(self.vault_reader, ForkedVaultReader):
            self.vault_reader.close()


def open_feed(settings: Settings, *, clock: Clock | None = None) -> tuple[ClusterConnection, ClusterFeed]:
    """Connect and build (not start) the live feed for the settings (the context switch's ``K``).

    Raises ``ClusterConfigError`` or :class:`~tui.commands.shared.settings.UsageError`, each one line.
    """
    clk = clock or SystemClock()
    parts = FeedParts.make(settings, clk)
    try:
        connection = connect(settings.connection)
    except ClusterConfigError:
        parts.discard()
        raise
    return connection, parts.feed(connection)


def change_sessions(settings: Settings) -> LazySession:
    """The dashboard's change session, made on first use (see :func:`pending_journals`)."""
    return LazySession(lambda: open_change_session(settings), pending_journals=pending_journals(settings))


def pending_journals(settings: Settings) -> Callable[[], bool]:
    """A cheap look for unfinished applies under the state directory (no session, no SDK): False only
    when the journals can be read and none is pending; any doubt is left to the change session."""

    def look() -> bool:
        # On the worker that looks, after the first frame: the journal code is not needed before it.
        from tui.ops.journal import JournalError, JournalStore

        try:
            # The directory made and checked as the session makes it, so one that cannot be made is still
            # said at start (the session is then made, and fails with the reason).
            directory = state_directory(settings.state_dir)
            return any(info.pending for info in JournalStore(directory).infos())
        except (OSError, JournalError, Refused):
            return True  # the session's own read says what is wrong with the state directory

    return look


def open_change_session(settings: Settings) -> tuple[ChangeSession, ClusterConnection]:
    """The CLI's change session (its own connection), with a one-line error instead of Refused."""
    import_sdk(("tui.commands.shared.change_flow",))
    # The change engine brings the Azure SDK (~0.1 s): imported on the session's first use, in a worker,
    # so that the dashboard's first frame does not wait for it; one thread at a time, as the feed's
    # vault and ARM threads import it too (tui/vault/sdk_imports.py).
    from tui.commands.shared.change_flow import open_session

    try:
        return open_session(settings)
    except Refused as exc:
        raise RuntimeError(str(exc)) from None
