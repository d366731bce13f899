"""The heavy half of ``aio-certs status``: read the cluster once, build, print.

Imported by :mod:`.run` through the SDK import gate once the vault listing (when the vault is known up
front) and the cluster read (``cluster_child.py``) are under way: this module brings cryptography, the
model and the build, and with a child reading the cluster it then imports the ARM SDK while the child
connects and lists; the `kubernetes` client is imported here only when there is no child to read.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass

from tui.cluster.decoded_store import DecodedStore
from tui.commands.shared.arm_reader import ARM_SDK, arm_target_for, make_arm_reader
from tui.commands.shared.exits import warn
from tui.commands.shared.settings import Settings
from tui.commands.shared.vault_reader import SiteVaultReader, make_vault_reader
from tui.commands.status.arguments import EXIT_UNREACHABLE, fail
from tui.commands.status.background import Background, Pending, status_width
from tui.commands.status.cluster_child import ForkedClusterRead
from tui.commands.status.targets import site_targets
from tui.core.build.assemble import build_state
from tui.core.build.cache import DEFAULT_CACHE
from tui.core.build.opcua_rows import prewarm_list_files
from tui.core.clock import Clock
from tui.core.health.report import exit_code, render_status, state_to_json
from tui.core.model import resources as rk
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import RawSnapshot, VaultSnapshot
from tui.core.text import printable
from tui.vault.sdk_imports import import_sdk


def report(
    settings: Settings,
    model: ModelSettings,
    *,
    clock: Clock,
    vault_reader: SiteVaultReader | None,
    vault_read: Pending[VaultSnapshot] | None,
    as_json: bool,
    vault_values: bool,
    show_all: bool,
    cluster: ForkedClusterRead | None = None,
) -> int:
    """Read the site, print the summary (or JSON) and return the exit status; ``vault_read`` is the
    listing already under way (the vault named up front), else it is started here once the lists' SPC
    is known; ``cluster`` the cluster's read under way in a child (else it is read here)."""
    # Decoded certificates kept on disk by their SHA-256 spare the decoding (docs/design.md §10.1): loaded
    # while the cluster child connects and lists (~40 ms at 2,000), not after its read.
    decoded = DecodedStore(settings.state_dir)
    loaded = decoded.load_into(DEFAULT_CACHE)
    read = _read_cluster(settings, model, clock=clock, cluster=cluster, as_json=as_json)
    if isinstance(read, int):
        return read
    raw = read.raw
    if read.unreachable is not None:
        return fail(
            f"cannot reach the cluster at {printable(read.server)} "
            f"(context {printable(read.context)}): {read.unreachable}",
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
    arm = Background(lambda: arm_reader.for_ids(arm_ids), name="arm")
    if vault_reader is not None and vault_read is None:
        # The vault is named by the lists' SPC (or values need the names it maps).
        reader, spc = vault_reader, targets.lists_spc
        vault_read = Background(lambda: reader.for_spc(spc))
    if not loaded and vault_read is not None:
        # No decoded copy (a first run here): decode the list files, by the names the build uses,
        # while the listing is on the wire, so the build finds them done (2,000 decodes, ~0.5 s).
        # With a copy there is nothing to gain: the build only hashes them again to look them up.
        secrets = {name: raw.get(rk.SECRETS.key, model.namespace, name) for name in OPCUA_LISTS.values()}
        prewarm_list_files({k: v for k, v in secrets.items() if v is not None}, DEFAULT_CACHE)
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


@dataclass(frozen=True)
class _Read:
    raw: RawSnapshot
    unreachable: str | None
    server: str
    context: str


def _read_cluster(
    settings: Settings,
    model: ModelSettings,
    *,
    clock: Clock,
    cluster: ForkedClusterRead | None,
    as_json: bool,
) -> _Read | int:
    """The cluster's collections listed once (by the child when there is one), or the exit status of a
    connection that could not be made."""
    warned = False
    if cluster is not None:
        try:
            # The ARM SDK (~0.15 s), which the ARM read below needs, while the child connects and lists.
            import_sdk(ARM_SDK)
            where = cluster.connected()
            if isinstance(where, str):
                return fail(f"cannot reach the cluster: {where}", EXIT_UNREACHABLE, as_json=as_json)
            if where is not None:
                warn("status", where.warning)
                warned = True
                read = cluster.read()
                if read is not None:
                    return _Read(read.raw, read.unreachable, where.server, where.context)
        finally:
            cluster.close()
    # No child, or it ended without its read: the cluster client is imported and the cluster read here.
    from tui.cluster.config import ClusterConfigError, connect
    from tui.cluster.oneshot import read_once
    from tui.cluster.watch_set import unreachable_reason

    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        return fail(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE, as_json=as_json)
    if not warned:
        warn("status", connection.warning)
    try:
        raw = read_once(connection.api_client, model, clock=clock, timeout=settings.timeouts)
    finally:
        connection.close()
    return _Read(raw, unreachable_reason(raw), connection.server, connection.context)
