"""SecretSync views of the OPC UA lists: mappings, both condition families, a partial sync's failed
items, and the synced Secret with its size against the API server's limit."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from tui.core.build.opcua_rows import vault_bytes
from tui.core.build.partial_sync import failed_items
from tui.core.build.readers import Obj, field_of, meta_of, parse_conditions, parse_time, spec_of, status_of
from tui.core.health.findings import condition_healthy
from tui.core.model import resources as rk
from tui.core.model.names import OPCUA_SPC, SECRET_SYNC_LABEL, is_default_spc_name
from tui.core.model.snapshot import AreaState, RawSnapshot, VaultSnapshot
from tui.core.model.spc import SpcView
from tui.core.model.state import PARTIAL_SYNC, OpcUaEntry, SyncView


def sync_mappings(sync: Obj | None) -> tuple[tuple[str, str], ...]:
    """``(sourcePath, targetKey)`` of each ``spec.secretObject.data`` item of a SecretSync."""
    data = field_of(spec_of(sync), "secretObject").get("data")
    out = []
    for item in data if isinstance(data, list) else []:
        # The exact-type test first: an ABC isinstance check per item is most of the cost at 2,000 items.
        if (type(item) is dict or isinstance(item, Mapping)) and item.get("targetKey"):
            out.append((str(item.get("sourcePath") or ""), str(item["targetKey"])))
    return tuple(out)


def _secret_managed(secret: Obj, sync_name: str) -> bool:
    meta = meta_of(secret)
    if SECRET_SYNC_LABEL in field_of(meta, "labels"):
        return True
    owners = meta.get("ownerReferences")
    # A hand-edited Secret can hold anything there; only a list of references names an owner.
    return isinstance(owners, list) and any(
        isinstance(o, Mapping) and o.get("kind") == "SecretSync" and o.get("name") == sync_name
        for o in owners
    )


def data_size(secret: Obj | None) -> int | None:
    """Bytes of ``data`` in a Secret, as the API server counts them for its limit (the decoded values,
    keys excluded: docs/domain.md §1.2); None without a Secret.

    Counted from the base64 text without decoding it, in bulk (2,000 values at scale, every build):
    each value decodes to three bytes per four characters, less one per ``=`` of padding.
    """
    if secret is None:
        return None
    values = list(field_of(secret, "data").values())
    try:
        chars, padding = sum(map(len, values)), "".join(v[-2:] for v in values).count("=")
    except TypeError:  # a value that is not text (never from the API server): count the text ones
        values = [v for v in values if isinstance(v, str)]
        chars, padding = sum(map(len, values)), "".join(v[-2:] for v in values).count("=")
    return max(chars * 3 // 4 - padding, 0)


def build_sync(raw: RawSnapshot, namespace: str, list_name: str, sync_name: str) -> SyncView:
    """The SecretSync of one OPC UA list and the Secret the controller wrote for it."""
    sync = raw.get(rk.SECRET_SYNCS.key, namespace, sync_name)
    secret = raw.get(rk.SECRETS.key, namespace, sync_name)
    spec, status = spec_of(sync), status_of(sync)
    conditions = parse_conditions(status.get("conditions")) if sync else ()
    failing = tuple(c for c in conditions if not condition_healthy(c))
    partial = [c for c in failing if c.reason == PARTIAL_SYNC]
    summaries = [failed_items(c.message) for c in partial]
    items = tuple(dict.fromkeys(i for s in summaries if s is not None for i in s))
    # Absent from a collection not listed yet is unknown, not absent.
    loading = tuple(
        resource.plural
        for resource, obj in ((rk.SECRET_SYNCS, sync), (rk.SECRETS, secret))
        if obj is None and raw.pending(resource.key, namespace)
    )
    return SyncView(
        namespace=namespace,
        name=sync_name,
        list_name=list_name,
        present=sync is not None,
        spc_name=spec.get("secretProviderClassName") if sync else None,
        service_account=spec.get("serviceAccountName") if sync else None,
        force_synchronization=spec.get("forceSynchronization") if sync else None,
        mappings=sync_mappings(sync),
        conditions=conditions,
        failing=failing,
        last_successful_sync=parse_time(status.get("lastSuccessfulSyncTime")),
        secret_present=secret is not None,
        secret_keys=tuple(sorted(str(k) for k in field_of(secret, "data"))),
        secret_managed=secret is not None and _secret_managed(secret, sync_name),
        resource_version=meta_of(sync).get("resourceVersion") if sync else None,
        item_failures=items,
        partial_unread=any(s is None for s in summaries),
        data_bytes=data_size(secret),
        loading=loading,
    )


def with_next_size(
    sync: SyncView,
    entries: Sequence[OpcUaEntry],
    spc: SpcView | None,
    vault: VaultSnapshot | None,
) -> SyncView:
    """``sync`` with :attr:`~SyncView.next_bytes`: the Secret's size once the vault's values are synced.

    Counted only from what is known: a mapped entry contributes its vault value (decoded by the SPC
    object's encoding: hex, as the official tooling stores files, is half the text) when the vault was
    read with values, else its synced bytes; a hand-added key stays as it is. With no synced Secret at
    all (never written, or refused by the API server for its size) the size is that of every mapped
    value the vault gave. None when nothing would change.
    """
    # Only a vault that was read says anything (as for the entries' own vault judgements).
    values = vault.secrets if vault is not None and vault.status.state is AreaState.OK else None
    if not values or (sync.data_bytes is None and not sync.present):
        return sync
    delta, changed = 0, False
    for entry in entries:
        # A synced entry whose bytes equal the vault's (or cannot be compared) keeps its size: only
        # the others are looked at, a handful of 2,000 at scale.
        if entry.list_name != sync.list_name or not entry.mapped or not entry.source_path:
            continue
        if entry.synced and entry.vault_in_sync is not False:
            continue
        obj = spc.object_for_file(entry.source_path) if spc is not None else None
        pending = vault_bytes(values.get(entry.source_path), obj)
        if pending is None:
            continue
        size = len(pending)
        now = (entry.size or 0) if entry.synced else None
        if size != now:
            changed = True
            delta += size - (now or 0)
    if not changed:
        return sync
    return dataclasses.replace(sync, next_bytes=(sync.data_bytes or 0) + delta)


def choose_opcua_spc(syncs: Sequence[SyncView], spcs: Sequence[SpcView]) -> str | None:
    """The SPC the OPC UA lists use: the SecretSyncs' own, else ``opc-ua-connector``, else the default SPC."""
    for sync in syncs:
        if sync.present and sync.spc_name:
            return sync.spc_name
    names = [s.name for s in spcs]
    if OPCUA_SPC in names:
        return OPCUA_SPC
    defaults = sorted(n for n in names if is_default_spc_name(n))
    if defaults:
        return defaults[0]
    return names[0] if len(names) == 1 else None
