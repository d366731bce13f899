"""Which collections to read for a :class:`ModelSettings`, and how their parts become one RawSnapshot.

Secrets and ConfigMaps are read only in the AIO and cert-manager namespaces (a real cluster has
thousands elsewhere, and they may hold credentials we have no business seeing); cluster-scoped kinds
are read cluster-wide; CertificateRequests are trimmed to the most recent few per Certificate. Shared
by the live feed (reflectors) and the one-shot reader of ``aio-certs status``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Any

from tui.cluster.listwatch import WatchTarget
from tui.core.model import resources as rk
from tui.core.model.arm import ARC_CONFIG_MAP, ARC_CONFIG_NAMESPACE
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ObjectKey, RawSnapshot, ResourceStatus, namespaced_status_key

# Kinds read in both the AIO and the cert-manager namespace: the root CA and its Certificate live in
# cert-manager, the broker's certificates, a bring-your-own Issuer and the trust bundle in the AIO one.
_BOTH_NAMESPACES = (rk.SECRETS, rk.CONFIGMAPS, rk.CERTIFICATES, rk.CERTIFICATE_REQUESTS, rk.ISSUERS)
_AIO_NAMESPACE_ONLY = (
    rk.SECRET_PROVIDER_CLASSES,
    rk.SECRET_SYNCS,
    rk.BROKER_LISTENERS,
    rk.DATAFLOW_ENDPOINTS,
)
_CLUSTER_WIDE = (rk.NAMESPACES, rk.CLUSTER_ISSUERS, rk.BUNDLES, rk.CLUSTER_BUNDLES)

ARC_CONFIG_TARGET = WatchTarget(
    rk.CONFIGMAPS, ARC_CONFIG_NAMESPACE, field_selector=f"metadata.name={ARC_CONFIG_MAP}"
)
"""The Arc agents' ConfigMap (subscription and resource group of an Arc-connected cluster, docs/domain.md
§9.4): one object, read by name. A side read: a cluster without Arc, or RBAC that keeps ``azure-arc``
closed, must not make the trust bundle's ConfigMaps look unreadable, so its status is kept apart."""

RECENT_REQUESTS_PER_CERTIFICATE = 5
"""CertificateRequests kept per Certificate (newest first); older ones only explain past rotations."""

# How bad a part's state is when several parts make up one resource key (worst wins).
_BADNESS = {
    AreaState.OK: 0,
    AreaState.PENDING: 1,
    AreaState.NOT_INSTALLED: 2,
    AreaState.RECONNECTING: 3,
    AreaState.ERROR: 4,
    AreaState.FORBIDDEN: 5,
    AreaState.UNREACHABLE: 6,
}


def watch_targets(settings: ModelSettings) -> tuple[WatchTarget, ...]:
    """Every collection the model needs for these settings, without duplicates."""
    namespaces = list(dict.fromkeys([settings.namespace, settings.cert_manager_namespace]))
    targets: list[WatchTarget] = []
    for kind in _BOTH_NAMESPACES:
        targets.extend(WatchTarget(kind, ns) for ns in namespaces)
    targets.extend(WatchTarget(kind, settings.namespace) for kind in _AIO_NAMESPACE_ONLY)
    targets.extend(WatchTarget(kind) for kind in _CLUSTER_WIDE)
    targets.append(ARC_CONFIG_TARGET)
    return tuple(targets)


def combine_status(parts: Iterable[ResourceStatus]) -> ResourceStatus:
    """One status for a resource key read in several parts: the worst part, with every bad message."""
    parts = list(parts)
    if not parts:
        return ResourceStatus(AreaState.PENDING)
    worst = max(parts, key=lambda s: _BADNESS.get(s.state, 4))
    if worst.state is AreaState.OK:
        return worst
    messages = [p.message for p in parts if p.state is not AreaState.OK and p.message]
    return ResourceStatus(worst.state, "; ".join(dict.fromkeys(messages)), worst.since)


def _recent_requests(items: Mapping[ObjectKey, Mapping[str, Any]]) -> dict[ObjectKey, Mapping[str, Any]]:
    """Keep the newest few CertificateRequests of each Certificate (by creationTimestamp)."""
    groups: dict[tuple[str, str], list[tuple[ObjectKey, Mapping[str, Any]]]] = defaultdict(list)
    for key, obj in items.items():
        meta = obj.get("metadata") or {}
        owner = (meta.get("annotations") or {}).get("cert-manager.io/certificate-name", "")
        groups[(key[0], owner)].append((key, obj))
    kept: dict[ObjectKey, Mapping[str, Any]] = {}
    for members in groups.values():
        # RFC 3339 timestamps in UTC sort correctly as text; the name breaks ties deterministically.
        members.sort(
            key=lambda kv: ((kv[1].get("metadata") or {}).get("creationTimestamp") or "", kv[0]), reverse=True
        )
        kept.update(members[:RECENT_REQUESTS_PER_CERTIFICATE])
    return kept


NOT_KUBERNETES = "not a Kubernetes API server (no core API: /api/v1 answers 404)"


def _not_kubernetes(
    parts: list[tuple[WatchTarget, Mapping[ObjectKey, Mapping[str, Any]], ResourceStatus]],
) -> bool:
    """Whether the server answered, but not as Kubernetes: nothing listed, and every core (``v1``) kind,
    which every Kubernetes API server serves, was a 404 ("not installed").

    Any web server answers 404 to ``/api/v1/namespaces``; counting that as "nothing installed" would
    report an empty, healthy site. A Kubernetes API server lists core kinds even in a namespace that
    does not exist (an empty list), so a 404 there means the URL is not one.
    """
    core = [status for target, _items, status in parts if not target.kind.group]
    return (
        bool(core)
        and all(s.state is AreaState.NOT_INSTALLED for s in core)
        and not any(status.state is AreaState.OK for _target, _items, status in parts)
    )


def _unreachable(target: WatchTarget, status: ResourceStatus) -> ResourceStatus:
    return ResourceStatus(AreaState.UNREACHABLE, f"{target.describe()}: {NOT_KUBERNETES}", status.since)


def assemble(
    parts: Iterable[tuple[WatchTarget, Mapping[ObjectKey, Mapping[str, Any]], ResourceStatus]],
    taken_at: datetime,
) -> RawSnapshot:
    """Merge per-target objects and statuses into a RawSnapshot keyed by resource key.

    A resource read in several namespaces gets its worst part under the resource key, and each part
    under :func:`namespaced_status_key` as well, so a consumer can tell "secrets forbidden in
    cert-manager" from "secrets forbidden everywhere". A server that is not Kubernetes at all (see
    :func:`_not_kubernetes`) makes every part unreachable.
    """
    parts = list(parts)
    if _not_kubernetes(parts):
        # Reported as unreachable, like a refused connection: there is no cluster to report on.
        parts = [(target, items, _unreachable(target, status)) for target, items, status in parts]
    objects: dict[str, dict[ObjectKey, Mapping[str, Any]]] = defaultdict(dict)
    statuses: dict[str, list[ResourceStatus]] = defaultdict(list)
    per_namespace: dict[str, ResourceStatus] = {}
    for target, items, status in parts:
        key = target.kind.key
        objects[key].update(items)
        if target == ARC_CONFIG_TARGET:
            # Only under its own key: whether Arc's ConfigMap could be read says nothing of the others.
            per_namespace[namespaced_status_key(key, ARC_CONFIG_NAMESPACE)] = status
            continue
        statuses[key].append(status)
        if target.kind.namespaced and target.namespace:
            per_namespace[namespaced_status_key(key, target.namespace)] = status
    if rk.CERTIFICATE_REQUESTS.key in objects:
        objects[rk.CERTIFICATE_REQUESTS.key] = _recent_requests(objects[rk.CERTIFICATE_REQUESTS.key])
    combined = {k: combine_status(v) for k, v in statuses.items()}
    return RawSnapshot(
        objects=MappingProxyType({k: MappingProxyType(v) for k, v in objects.items()}),
        status=MappingProxyType({**per_namespace, **combined}),
        taken_at=taken_at,
    )


def unreachable_reason(raw: RawSnapshot) -> str | None:
    """A one-line reason when nothing at all could be read (the cluster is out of reach), else None.

    Forbidden or missing pieces on an otherwise readable cluster are normal at the edge and are not
    "unreachable"; every piece failing (refused, TLS, 401 everywhere) is.
    """
    states = [s for k, s in raw.status.items() if "@" not in k]
    if not states or any(s.state in (AreaState.OK, AreaState.NOT_INSTALLED) for s in states):
        return None
    worst = combine_status(states)
    first = worst.message.split("; ")[0] if worst.message else worst.state.value
    # Drop the "<resource>: " prefix: the reason is the same for every resource.
    return first.split(": ", 1)[1] if ": " in first else first
