"""SecretSync views of the OPC UA lists: mappings, both condition families and the synced Secret."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tui.core.build.readers import Obj, field_of, meta_of, parse_conditions, parse_time, spec_of, status_of
from tui.core.health.findings import condition_healthy
from tui.core.model import resources as rk
from tui.core.model.names import OPCUA_SPC, SECRET_SYNC_LABEL, is_default_spc_name
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.spc import SpcView
from tui.core.model.state import SyncView


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


def build_sync(raw: RawSnapshot, namespace: str, list_name: str, sync_name: str) -> SyncView:
    """The SecretSync of one OPC UA list and the Secret the controller wrote for it."""
    sync = raw.get(rk.SECRET_SYNCS.key, namespace, sync_name)
    secret = raw.get(rk.SECRETS.key, namespace, sync_name)
    spec, status = spec_of(sync), status_of(sync)
    conditions = parse_conditions(status.get("conditions")) if sync else ()
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
        failing=tuple(c for c in conditions if not condition_healthy(c)),
        last_successful_sync=parse_time(status.get("lastSuccessfulSyncTime")),
        secret_present=secret is not None,
        secret_keys=tuple(sorted(str(k) for k in field_of(secret, "data"))),
        secret_managed=secret is not None and _secret_managed(secret, sync_name),
        resource_version=meta_of(sync).get("resourceVersion") if sync else None,
    )


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
