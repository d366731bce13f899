"""Run ``aio-certs status``: read the site once, print the summary (or JSON), exit with its health."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import threading
from collections.abc import Callable
from typing import Generic, TextIO, TypeVar

from tui.cluster.config import ClusterConfigError, connect
from tui.cluster.decoded_store import DecodedStore
from tui.cluster.oneshot import read_once
from tui.cluster.watch_set import unreachable_reason
from tui.commands.shared.arm_reader import arm_target_for, make_arm_reader
from tui.commands.shared.exits import Refused, warn
from tui.commands.shared.settings import Settings, UsageError, command_settings, load_user_config
from tui.commands.shared.vault_reader import make_vault_reader
from tui.commands.status.arguments import EXIT_UNREACHABLE, EXIT_USAGE, fail
from tui.commands.status.targets import site_targets
from tui.core.build.assemble import build_state
from tui.core.build.cache import DEFAULT_CACHE
from tui.core.clock import SystemClock
from tui.core.health.report import exit_code, render_status, state_to_json
from tui.core.model.snapshot import VaultSnapshot
from tui.core.model.state import ClusterState
from tui.core.text import printable

T = TypeVar("T")


class _Background(Generic[T]):
    """Run ``reader(state)`` in a daemon thread: an exit (say, cluster unreachable) never waits for it."""

    def __init__(
        self,
        reader: Callable[[ClusterState | None], T | None],
        state: ClusterState | None = None,
        name: str = "vault",
    ) -> None:
        self._result: T | None = None
        self._done = threading.Event()
        self._reader = reader
        self._state = state
        threading.Thread(target=self._run, name=f"status-{name}", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = self._reader(self._state)
        finally:
            self._done.set()

    def result(self) -> T | None:
        """Wait for the read (the reader bounds its own time) and return it."""
        self._done.wait()
        return self._result


def status_width(stream: TextIO) -> int | None:
    """The width to fit ``status`` to: the terminal's (60 to 140), or None (cut nothing) when ``stream`` is
    not a terminal: piped into a file or a ticket, every line is kept whole."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    width = shutil.get_terminal_size((100, 24)).columns
    return max(60, min(width, 140))


def unsynced_lists(state: ClusterState) -> tuple[str, ...]:
    """The OPC UA lists whose SecretSync maps files but has no synced Secret: their entries and size
    are known only from the vault's values, which ``status`` then reads without ``--vault-values``."""
    return tuple(s.list_name for s in state.syncs if s.present and s.mappings and not s.secret_present)


def run(args: argparse.Namespace) -> int:
    """Read the site once, print the summary (or JSON) and return the health as exit status."""
    as_json = bool(args.json)
    try:
        try:
            # The config file's auth, cloud and expiring_days apply as for every other command; an
            # unusable file is a usage error, UNKNOWN here (a report on other thresholds would mislead).
            settings = command_settings(args, load_user_config())
        except Refused as exc:
            return fail(str(exc), EXIT_USAGE, as_json=as_json)
        return _status(
            settings,
            as_json=as_json,
            no_vault=args.no_vault,
            vault_values=args.vault_values,
            show_all=bool(getattr(args, "all_findings", False)),
        )
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback over a ticket
        return fail(
            f"could not determine the status: {type(exc).__name__}: {exc}".splitlines()[0],
            EXIT_UNREACHABLE,
            as_json=as_json,
        )


def _status(
    settings: Settings, *, as_json: bool, no_vault: bool, vault_values: bool, show_all: bool = False
) -> int:
    try:
        model = settings.model
    except UsageError as exc:
        return fail(str(exc), EXIT_USAGE, as_json=as_json)
    clock = SystemClock()
    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        return fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE, as_json=as_json)
    warn("status", connection.warning)
    vault_reader = None
    vault_read: _Background[VaultSnapshot] | None = None
    try:
        if not no_vault:
            vault = settings.vault
            vault_reader = make_vault_reader(
                vault, clock=clock, quick=True, values=vault_values, timeout=settings.request_timeout
            )
            if vault.url and not vault_values:
                # The vault is known up front: list it while the cluster is read (the SPC plays no part).
                reader = vault_reader
                vault_read = _Background(lambda _: reader.for_spc(None))
        raw = read_once(connection.api_client, model, clock=clock, timeout=settings.timeouts)
        reason = unreachable_reason(raw)
        if reason is not None:
            return fail(
                f"cannot reach the cluster at {printable(connection.server)} "
                f"(context {printable(connection.context)}): {reason}",
                EXIT_UNREACHABLE,
                as_json=as_json,
            )
        # What the vault and ARM reads need from the cluster, without building the state twice (once
        # without them, once with): tui/commands/status/targets.py.
        targets = site_targets(raw, model.namespace)
        arm_reader = make_arm_reader(
            settings.arm, settings.vault, clock=clock, quick=True, timeout=settings.request_timeout
        )
        arm_ids = arm_target_for(settings.arm, targets.arm_ids)
        arm = _Background(lambda _: arm_reader.for_ids(arm_ids), name="arm")
        if vault_reader is not None and vault_read is None:
            # The vault is named by the lists' SPC (or values need the names it maps).
            reader, spc = vault_reader, targets.lists_spc
            vault_read = _Background(lambda _: reader.for_spc(spc))
        # Decoded certificates kept on disk by their SHA-256 spare the decoding (docs/design.md §10.1).
        decoded = DecodedStore(settings.state_dir)
        decoded.load_into(DEFAULT_CACHE)
        vault_snapshot = vault_read.result() if vault_read is not None else None
        if vault_reader is not None and not vault_values and targets.unsynced:
            # No synced Secret to read the entries from (refused as over 1 MiB, or not written yet):
            # only the vault's values say what the lists hold and how large the next sync is.
            values_reader = make_vault_reader(
                settings.vault, clock=clock, quick=True, values=True, timeout=settings.request_timeout
            )
            vault_snapshot = values_reader.for_spc(targets.lists_spc) or vault_snapshot
        state = build_state(raw, settings=model, now=clock.now(), vault=vault_snapshot, arm=arm.result())
        decoded.save_from(DEFAULT_CACHE)
    finally:
        connection.close()

    if as_json:
        doc = state_to_json(state)
        # The connector's own certificate as connector-cert speaks of it: where it is read, subject,
        # application URI, expiry, renewal (issue 12 item 14); never key material.
        connector = state.connector_certificate
        doc["connector_certificate"] = connector.to_json() if connector is not None else None
        print(json.dumps(doc, indent=2, sort_keys=False, default=str))
    else:
        print(render_status(state, width=status_width(sys.stdout), show_all=show_all))
    return int(exit_code(state))
