"""Run ``aio-certs status``: read the site once, print the summary (or JSON), exit with its health."""

from __future__ import annotations

import argparse
import importlib
import os
from typing import TYPE_CHECKING, Any

from tui.cluster.config import ClusterConfigError, check_cluster_config
from tui.commands.shared.early_connect import child_wanted
from tui.commands.shared.exits import Refused
from tui.commands.shared.settings import Settings, UsageError, command_settings, load_user_config
from tui.commands.shared.vault_reader import make_vault_reader
from tui.commands.status.arguments import EXIT_UNREACHABLE, EXIT_USAGE, fail
from tui.commands.status.background import Pending, read_beside, status_width
from tui.commands.status.cluster_child import fork_cluster_read
from tui.core.clock import SystemClock
from tui.core.model.snapshot import VaultSnapshot
from tui.vault.sdk_imports import IDENTITY, VAULT, import_sdk

if TYPE_CHECKING:
    from tui.core.model.state import ClusterState

__all__ = ["run", "status_width", "unsynced_lists"]

# The heavy half (cryptography, the model, the build): imported once the vault listing and the cluster
# read are under way.
SITE = ("tui.commands.status.site",)


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
    connection = settings.connection
    try:
        # What connect() checks before loading anything, without the kubernetes client: a bad
        # kubeconfig is reported before any vault request is sent, as it was when connecting came first.
        check_cluster_config(connection.kubeconfig, connection.context)
    except ClusterConfigError as exc:
        return fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE, as_json=as_json)
    clock = SystemClock()
    vault_reader = None
    vault_read: Pending[VaultSnapshot] | None = None
    if not no_vault:
        vault = settings.vault
        vault_reader = make_vault_reader(
            vault, clock=clock, quick=True, values=vault_values, timeout=settings.request_timeout
        )
        mode = _early_auth(vault.auth) if vault.url and not vault_values else None
        if mode is not None:
            # The vault is known up front: list it (about 80 round trips at 2,000 secrets) while the
            # cluster client is imported, the cluster read and the state built: in a child process on
            # the other core where one can be forked (background.py), else on a thread. For a thread,
            # its SDK (and the credential's) is imported here first, and the rest after it through the
            # same gate: one thread imports at a time (tui/vault/sdk_imports.py), and the listing,
            # finding its modules imported, never waits for the main thread's import.
            sdk = VAULT if mode == "demo" else VAULT + IDENTITY
            reader = vault_reader
            vault_read = read_beside(lambda: reader.for_spc(None), prepare=lambda: import_sdk(sdk))
    # The cluster connected to and listed in a child on the other core too (cluster_child.py), while this
    # process imports the build and the ARM SDK; forked after the vault's, before any thread exists.
    cluster = fork_cluster_read(settings, model, clock) if child_wanted(os.environ) else None
    site = _import_site()
    return int(
        site.report(
            settings,
            model,
            clock=clock,
            vault_reader=vault_reader,
            vault_read=vault_read,
            as_json=as_json,
            vault_values=vault_values,
            show_all=show_all,
            cluster=cluster,
        )
    )


def _early_auth(auth: str | None) -> str | None:
    """The sign-in mode, when the vault may be read before the cluster is reached; None otherwise:
    device-code prints a prompt and waits for a person, which must not happen for a cluster that cannot
    be read, and an unknown mode is the reader's to report (in the vault's status, as before)."""
    # The vault adapter brings the Azure SDK: imported only when a vault is to be read early.
    from tui.vault.credentials import resolve_auth
    from tui.vault.errors import VaultError

    try:
        mode = resolve_auth(auth)
    except VaultError:
        return None
    return None if mode == "device-code" else mode


def _import_site() -> Any:
    """The heavy half, imported through the gate (the vault listing may be under way on its thread)."""
    import_sdk(SITE)
    return importlib.import_module(SITE[0])
