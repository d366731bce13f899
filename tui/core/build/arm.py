"""The join of the cluster's list objects with their ARM resources: ownership and drift.

On a real site the SPC and the SecretSyncs behind the OPC UA lists are ARM resources projected onto the
cluster (docs/domain.md §9.2); the official tooling rebuilds a list from ARM's copy, so an entry mapped
on one side only is lost or comes back with the next portal or CLI change (§9.3). This module decides
who owns each object (:func:`tui.core.model.arm.owner_of`), summarises the ARM read for the header, and
flags the entries and SPCs whose two copies disagree. It runs after the OPC UA entries are built (and
remembered), so an ARM read never invalidates the decoded entries.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from tui.core.build.readers import meta_of, one_line
from tui.core.health.findings import arm_drift_findings
from tui.core.model import resources as rk
from tui.core.model.arm import (
    ARC_CONFIG_MAP,
    ARC_CONFIG_NAMESPACE,
    ARC_RESOURCE_GROUP_KEY,
    ARC_SUBSCRIPTION_KEY,
    RESOURCE_ID_ANNOTATION,
    ArmIds,
    ArmKind,
    ArmSnapshot,
    Owner,
    owner_of,
    parse_resource_id,
)
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.snapshot import AreaState, RawSnapshot
from tui.core.model.spc import SpcFormatError, SpcObject, SpcView, parse_objects
from tui.core.model.state import ArmView, Finding, Health, OpcUaEntry, OwnerView, Severity, SyncView

__all__ = ["DriftSide", "arm_view", "discover_ids", "entry_drift", "join_owners", "spc_objects_differ"]

CUSTOM_LOCATION_ANNOTATION = "management.azure.com/customLocation"
"""Annotation a custom location's projection puts on the cluster copy: the custom location's id
(docs/domain.md §9.4; seen on other services' projected objects, UNCONFIRMED for these kinds)."""


class DriftSide(StrEnum):
    """Which side holds a mapping the other lacks."""

    CLUSTER = "cluster"
    ARM = "arm"


def _annotation_id(obj: Mapping[str, Any] | None) -> str | None:
    annotations = meta_of(obj).get("annotations")
    value = annotations.get(RESOURCE_ID_ANNOTATION) if isinstance(annotations, Mapping) else None
    return str(value) if value else None


def _owner_view(
    kind: ArmKind, name: str, obj: Mapping[str, Any] | None, arm: ArmSnapshot | None
) -> OwnerView:
    owner = owner_of(kind, obj, name, arm)
    readable = arm is not None and arm.readable
    resource = arm.get(kind, name) if readable and arm is not None else None
    resource_id = _annotation_id(obj)
    if resource_id is None and owner is Owner.ARM:
        if resource is not None and resource.resource_id:
            resource_id = resource.resource_id
        elif arm is not None and arm.ids is not None:
            resource_id = arm.ids.resource_id(kind, name)
    return OwnerView(kind, name, owner, resource_id, (resource is not None) if readable else None)


def join_owners(
    raw: RawSnapshot,
    namespace: str,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    arm: ArmSnapshot | None,
) -> tuple[tuple[SyncView, ...], tuple[OwnerView, ...]]:
    """The list SecretSyncs with their owner and ARM mappings, and the owner of every list object.

    Covers each SPC in the AIO namespace, each SPC the lists name, and both list SecretSyncs, whether
    they exist on the cluster, in ARM, or both.
    """
    owners: dict[tuple[ArmKind, str], OwnerView] = {}
    out_syncs = []
    readable = arm is not None and arm.readable
    for sync in syncs:
        obj = raw.get(rk.SECRET_SYNCS.key, namespace, sync.name)
        view = _owner_view(ArmKind.SECRET_SYNC, sync.name, obj, arm)
        owners[(ArmKind.SECRET_SYNC, sync.name.lower())] = view
        resource = arm.get(ArmKind.SECRET_SYNC, sync.name) if readable and arm is not None else None
        arm_mappings = resource.mappings if resource is not None else None
        if view.owner is not sync.owner or arm_mappings != sync.arm_mappings:
            sync = dataclasses.replace(sync, owner=view.owner, arm_mappings=arm_mappings)
        out_syncs.append(sync)
    names = [s.name for s in spcs] + [s.spc_name for s in out_syncs if s.spc_name]
    for name in dict.fromkeys(names):
        key = (ArmKind.SPC, name.lower())
        if key not in owners:
            obj = raw.get(rk.SECRET_PROVIDER_CLASSES.key, namespace, name)
            owners[key] = _owner_view(ArmKind.SPC, name, obj, arm)
    ordered = sorted(owners.values(), key=lambda o: (o.kind.value, o.name))
    return tuple(out_syncs), tuple(ordered)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def discover_ids(raw: RawSnapshot, namespace: str) -> ArmIds | None:
    """Where the site's list resources live in ARM, as far as the cluster tells (docs/domain.md §9.4).

    Subscription and resource group from the ``management.azure.com/resourceId`` annotation of a list
    object in the AIO namespace, else from the Arc agents' ``azure-arc/azure-clusterconfig`` ConfigMap;
    the custom location from a list object's ``management.azure.com/customLocation`` annotation. None
    when neither names a subscription and resource group (a cluster not connected to Arc).
    """
    objects = [
        o
        for key in (rk.SECRET_PROVIDER_CLASSES.key, rk.SECRET_SYNCS.key)
        for o in sorted(raw.items(key), key=lambda o: str(meta_of(o).get("name") or ""))
        if meta_of(o).get("namespace") == namespace
    ]
    annotations = [a for o in objects if isinstance(a := meta_of(o).get("annotations"), Mapping)]
    ref = next(
        (r for a in annotations if (r := parse_resource_id(str(a.get(RESOURCE_ID_ANNOTATION) or "")))),
        None,
    )
    location = next((t for a in annotations if (t := _text(a.get(CUSTOM_LOCATION_ANNOTATION)))), None)
    if ref is not None:
        return ArmIds(ref.ids.subscription, ref.ids.resource_group, location)
    config = raw.get(rk.CONFIGMAPS.key, ARC_CONFIG_NAMESPACE, ARC_CONFIG_MAP)
    data = (config or {}).get("data")
    if isinstance(data, Mapping):
        subscription, group = _text(data.get(ARC_SUBSCRIPTION_KEY)), _text(data.get(ARC_RESOURCE_GROUP_KEY))
        if subscription and group:
            return ArmIds(subscription, group, location)
    return None


def arm_view(arm: ArmSnapshot | None, owners: Sequence[OwnerView], discovered: ArmIds | None) -> ArmView:
    """The header's ARM state: what was read, or why not; ``in_use`` when ARM matters to this site
    (an object names an ARM resource, or the cluster is connected to Arc)."""
    annotated = any(o.owner is Owner.ARM for o in owners)
    if arm is None:
        in_use = annotated or discovered is not None
        return ArmView(
            AreaState.PENDING,
            "ARM not read" if in_use else "no ARM ids known (a cluster-only site)",
            in_use=in_use,
            subscription=discovered.subscription if discovered else None,
            resource_group=discovered.resource_group if discovered else None,
            custom_location=discovered.custom_location if discovered else None,
        )
    ids = arm.ids or discovered
    return ArmView(
        arm.status.state,
        one_line(arm.status.message),
        in_use=True,
        subscription=ids.subscription if ids else None,
        resource_group=ids.resource_group if ids else None,
        custom_location=ids.custom_location if ids else None,
        resource_count=len(arm.resources) if arm.readable else 0,
    )


def _object_identity(obj: SpcObject) -> tuple[Any, ...]:
    # What the secret sync controller fetches for an object: which secret, which version, under which
    # file name. Field order and YAML quoting differ between writers and do not matter.
    return (
        obj.object_name,
        obj.object_type,
        obj.object_alias or None,
        obj.object_version or None,
        obj.object_encoding or None,
        obj.object_format or None,
    )


def spc_objects_differ(cluster_objects: Sequence[SpcObject], arm_objects_text: str | None) -> str | None:
    """Why the cluster SPC's objects differ from ARM's ``objects`` text (one line), or None when they
    name the same objects."""
    try:
        arm_objects = parse_objects(arm_objects_text)
    except SpcFormatError as exc:
        return f"ARM's objects cannot be read ({exc})"
    on_cluster = {_object_identity(o): o.file_name for o in cluster_objects}
    in_arm = {_object_identity(o): o.file_name for o in arm_objects}
    cluster_only = sorted(name for key, name in on_cluster.items() if key not in in_arm)
    arm_only = sorted(name for key, name in in_arm.items() if key not in on_cluster)
    if not cluster_only and not arm_only:
        return None
    parts = []
    if cluster_only:
        parts.append(f"{len(cluster_only)} object(s) only on the cluster ({_few(cluster_only)})")
    if arm_only:
        parts.append(f"{len(arm_only)} object(s) only in ARM ({_few(arm_only)})")
    return "; ".join(parts)


def _few(names: Sequence[str], limit: int = 3) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" +{len(names) - limit}" if len(names) > limit else "")


def entry_drift(
    entries: tuple[OpcUaEntry, ...],
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    owners: Sequence[OwnerView],
    arm: ArmSnapshot | None,
) -> tuple[tuple[OpcUaEntry, ...], list[Finding]]:
    """Flag the entries mapped on one side only, add a row for each mapping only ARM holds, and report
    SPCs whose objects differ from ARM's. Nothing is judged unless ARM was read.

    Only ARM-owned objects are compared: a cluster-only SecretSync has no ARM copy to drift from.
    """
    if arm is None or not arm.readable:
        return entries, []
    by_key = {(o.kind, o.name.lower()): o for o in owners}
    flagged: dict[str, DriftSide] = {}  # entry key -> side that holds the mapping
    added: list[OpcUaEntry] = []
    existing = {e.key: e for e in entries}
    findings: list[Finding] = []
    checked: set[str] = set()  # lists whose SecretSync changed since ARM was read: judged after the re-read
    for sync in syncs:
        owner = by_key.get((ArmKind.SECRET_SYNC, sync.name.lower()))
        if owner is None or owner.owner is not Owner.ARM:
            continue
        if (ArmKind.SECRET_SYNC, sync.name.lower()) in arm.checking:
            checked.add(sync.list_name)
            continue
        on_cluster = dict((t, s) for s, t in sync.mappings) if sync.present else {}
        in_arm = dict((t, s) for s, t in (sync.arm_mappings or ()))
        if sync.present and not owner.in_arm:
            findings.append(
                Finding(
                    Severity.WARNING,
                    "sync-arm-drift",
                    f"SecretSync {sync.name} is ARM-owned but ARM holds no such resource: the cluster copy "
                    "is all that is left of it",
                    f"sync/{sync.name}",
                )
            )
        for target, source in on_cluster.items():
            if in_arm.get(target) != source:
                flagged[f"{sync.list_name}/{target}"] = DriftSide.CLUSTER
        for target, source in in_arm.items():
            if on_cluster.get(target) == source:
                continue
            key = f"{sync.list_name}/{target}"
            if key in existing:
                # The cluster maps it to another secret, or only the synced Secret still holds it.
                flagged.setdefault(key, DriftSide.ARM)
            else:
                flagged[key] = DriftSide.ARM
                added.append(_arm_only_entry(sync, target, source, spcs))
    out = []
    for entry in entries:
        side = flagged.get(entry.key)
        if side is not None and Health.ARM_DRIFT not in entry.flags:
            entry = _with_drift(entry)
        elif entry.list_name in checked and "arm" not in entry.checking:
            entry = dataclasses.replace(entry, checking=(*entry.checking, "arm"))
        out.append(entry)
    if added:
        order = {name: index for index, name in enumerate(OPCUA_LISTS)}
        out = sorted(out + added, key=lambda e: (order.get(e.list_name, len(order)), e.target_key))
    drifted = tuple(out)
    findings += arm_drift_findings([e for e in drifted if e.key in flagged], flagged)
    findings += _spc_drift(spcs, by_key, arm)
    return drifted, findings


def _with_drift(entry: OpcUaEntry) -> OpcUaEntry:
    severity = entry.severity
    if severity is None or severity.rank > Severity.WARNING.rank:
        severity = Severity.WARNING
    return dataclasses.replace(entry, flags=(*entry.flags, Health.ARM_DRIFT), severity=severity)


def _arm_only_entry(sync: SyncView, target: str, source: str, spcs: Sequence[SpcView]) -> OpcUaEntry:
    """A row for a mapping only ARM holds: not on the cluster, so nothing synced to decode."""
    spc = next((s for s in spcs if s.name == sync.spc_name), None)
    return OpcUaEntry(
        list_name=sync.list_name,
        target_key=target,
        source_path=source,
        sync_name=sync.name,
        spc_name=sync.spc_name,
        mapped=False,
        spc_object=spc is not None and any(o.file_name == source for o in spc.objects),
        synced=False,
        vault_present=None,
        vault_content_type=None,
        vault_tags=(),
        vault_enabled=None,
        vault_expires_on=None,
        vault_in_sync=None,
        size=None,
        sha256=None,
        content="missing",
        certificate=None,
        extra_certificates=(),
        crl=None,
        decode_error=None,
        form=None,
        format_problem=None,
        private_key_present=False,
        days_left=None,
        flags=(Health.ARM_DRIFT,),
        severity=Severity.WARNING,
    )


def _spc_drift(
    spcs: Sequence[SpcView], owners: Mapping[tuple[ArmKind, str], OwnerView], arm: ArmSnapshot
) -> list[Finding]:
    out = []
    for spc in spcs:
        owner = owners.get((ArmKind.SPC, spc.name.lower()))
        if owner is None or owner.owner is not Owner.ARM or spc.objects_error:
            continue
        if (ArmKind.SPC, spc.name.lower()) in arm.checking:
            continue  # changed since ARM was read: judged once the re-read is in
        resource = arm.get(ArmKind.SPC, spc.name)
        reason: str | None
        if resource is None:
            reason = "ARM holds no such resource: the cluster copy is all that is left of it"
        else:
            reason = spc_objects_differ(spc.objects, resource.objects)
        if reason is not None:
            out.append(
                Finding(
                    Severity.WARNING,
                    "spc-arm-drift",
                    one_line(f"SPC {spc.name} differs from its ARM resource: {reason}"),
                    f"spc/{spc.name}",
                )
            )
    return out
