"""Build a :class:`~tui.core.model.state.ClusterState` from raw Kubernetes objects (and the vault).

This module assembles the state; each part is read and joined in a module named for what it holds:
:mod:`~tui.core.build.readers` (defensive field readers), :mod:`~tui.core.build.cache` (memoised
decoding), :mod:`~tui.core.build.certmanager` (Certificates, requests, issuers),
:mod:`~tui.core.build.discovery` (where the issuer and bundle are), :mod:`~tui.core.build.root_ca`,
:mod:`~tui.core.build.trust`, :mod:`~tui.core.build.sync` (SecretSyncs), :mod:`~tui.core.build.opcua`,
:mod:`~tui.core.build.opcua_rows`, :mod:`~tui.core.build.chains` and
:mod:`~tui.core.build.entry_findings` (the OPC UA list entries). Judgements live in
:mod:`tui.core.health.findings` and :mod:`tui.core.model.rotation`.

Rebuilds are incremental: the cache passed as ``cache`` (or :data:`DEFAULT_CACHE`) remembers the OPC UA
entries and their findings with the inputs they came from (:mod:`~tui.core.build.memo`), so a rebuild
caused by anything else reuses them; the result always equals a build from scratch.

"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime

from tui.core.build.arm import arm_view, discover_ids, entry_drift, join_owners
from tui.core.build.cache import DEFAULT_CACHE, DecodeCache
from tui.core.build.certmanager import latest_requests, parse_certificate, parse_issuers
from tui.core.build.connector import build_connector_certificate, connector_findings
from tui.core.build.discovery import discover
from tui.core.build.opcua import build_opcua_with_findings
from tui.core.build.readers import field_of, meta_of, one_line, spec_of
from tui.core.build.root_ca import build_root_ca
from tui.core.build.sync import build_sync, choose_opcua_spc, sync_mappings, with_next_size
from tui.core.build.trust import build_trust_bundle
from tui.core.health.findings import (
    area_findings,
    arm_findings,
    bundle_findings,
    certificate_findings,
    issuer_findings,
    root_ca_findings,
    sort_findings,
    spc_findings,
    sync_findings,
)
from tui.core.model import resources as rk
from tui.core.model.arm import ArmSnapshot
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.model.spc import parse_spc
from tui.core.model.state import Area, AreaView, ClusterState, Finding, VaultView

__all__ = ["build_areas", "build_state"]

_AREA_RESOURCES: dict[Area, tuple[str, ...]] = {
    Area.ROOT_CA: (rk.SECRETS.key, rk.CERTIFICATES.key),
    Area.ISSUERS: (rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key, rk.CERTIFICATES.key),
    Area.TRUST_BUNDLE: (rk.CONFIGMAPS.key, rk.BUNDLES.key, rk.CLUSTER_BUNDLES.key),
    Area.OPC_UA: (rk.SECRET_PROVIDER_CLASSES.key, rk.SECRET_SYNCS.key, rk.SECRETS.key),
}
# Worst first: a resource that cannot be read at all outranks one that is merely absent or catching up.
_STATE_ORDER = (
    AreaState.FORBIDDEN,
    AreaState.UNREACHABLE,
    AreaState.ERROR,
    AreaState.NOT_INSTALLED,
    AreaState.RECONNECTING,
    AreaState.PENDING,
    AreaState.OK,
)


def _area_view(area: Area, parts: Sequence[tuple[str, ResourceStatus]]) -> AreaView:
    worst = min((s.state for _, s in parts), key=_STATE_ORDER.index, default=AreaState.OK)
    problems = [
        f"{rk.BY_KEY[key].plural if key in rk.BY_KEY else key} {s.state.value}"
        + (f" ({s.message})" if s.message else "")
        for key, s in parts
        if s.state is not AreaState.OK
    ]
    return AreaView(area, worst, one_line("; ".join(problems)), tuple(parts))


# Kinds of which a site needs only one: trust-manager serves Bundle, ClusterBundle, or both while it
# migrates (docs/domain.md §4.1). One that is not installed beside one that is read is no gap.
_ALTERNATIVES = (frozenset({rk.BUNDLES.key, rk.CLUSTER_BUNDLES.key}),)


def _parts(raw: RawSnapshot, keys: Sequence[str]) -> list[tuple[str, ResourceStatus]]:
    parts = [(key, raw.state_of(key)) for key in keys]
    for group in _ALTERNATIVES:
        if any(k in group and s.state is AreaState.OK for k, s in parts):
            parts = [(k, s) for k, s in parts if k not in group or s.state is not AreaState.NOT_INSTALLED]
    return parts


def build_areas(raw: RawSnapshot, vault: VaultSnapshot | None) -> tuple[AreaView, ...]:
    """Read state of each screen area from the per-resource statuses (and the vault's)."""
    views = [_area_view(area, _parts(raw, keys)) for area, keys in _AREA_RESOURCES.items()]
    vault_status = (
        vault.status if vault is not None else ResourceStatus(AreaState.PENDING, "Key Vault not read")
    )
    views.append(
        AreaView(Area.VAULT, vault_status.state, one_line(vault_status.message), (("vault", vault_status),))
    )
    return tuple(views)


def _vault_view(vault: VaultSnapshot | None) -> VaultView:
    if vault is None:
        return VaultView(None, AreaState.PENDING, "Key Vault not read", 0)
    return VaultView(
        vault.vault_url,
        vault.status.state,
        one_line(vault.status.message),
        len(vault.secrets),
        vault.values_pending,
    )


def build_state(
    raw: RawSnapshot,
    *,
    settings: ModelSettings,
    now: datetime,
    vault: VaultSnapshot | None = None,
    previous: ClusterState | None = None,
    cache: DecodeCache | None = None,
    arm: ArmSnapshot | None = None,
) -> ClusterState:
    """Turn raw objects (and the vault and ARM, when read) into an immutable :class:`ClusterState`.

    ``previous`` (the last state of a live view) carries rotation history forward so a rotation seen
    happening reads "rotated at T". ``arm`` is what the ARM adapter read of the list resources: it
    decides who owns each list object and which entries drifted (:mod:`tui.core.build.arm`). Never
    raises on odd cluster content: what cannot be read becomes an area state, a decode error or a
    finding.
    """
    cache = cache or DEFAULT_CACHE
    ns = settings.namespace
    areas = build_areas(raw, vault)
    # Room for every list file, the CA and bundle decodes and as many signature checks, with headroom.
    files = sum(len(field_of(raw.get(rk.SECRETS.key, ns, name), "data")) for name in OPCUA_LISTS.values())
    cache.ensure_capacity(2 * files + 64)
    requests = latest_requests(raw)
    certificates = tuple(
        sorted((parse_certificate(o, requests) for o in raw.items(rk.CERTIFICATES.key)), key=lambda c: c.key)
    )
    discovery = discover(raw, settings)
    root, history = build_root_ca(raw, settings, discovery, certificates, now, cache, previous)

    roles: dict[str, tuple[str, ...]] = defaultdict(tuple)
    if not discovery.issuer_unconfirmed:  # the fallback issuer is no broker's until the listener says so
        roles[discovery.issuer_key] += ("broker",)
    if root.resource is not None:
        roles[root.resource.issuer_ref.issuer_key(root.resource.namespace)] += ("root-ca",)
    issuers = parse_issuers(raw, certificates, roles)
    bundle = build_trust_bundle(raw, discovery, root, cache)

    spcs = tuple(
        sorted(
            (
                parse_spc(o)
                for o in raw.items(rk.SECRET_PROVIDER_CLASSES.key)
                if meta_of(o).get("namespace") == ns
            ),
            key=lambda s: s.name,
        )
    )
    syncs = tuple(build_sync(raw, ns, list_name, sync_name) for list_name, sync_name in OPCUA_LISTS.items())
    entries, entry_problems = build_opcua_with_findings(raw, settings, syncs, spcs, vault, now, cache)
    syncs, owners = join_owners(raw, ns, syncs, spcs, arm)
    entries, drift_problems = entry_drift(entries, syncs, spcs, owners, arm)
    spc_by_name = {s.name: s for s in spcs}
    syncs = tuple(with_next_size(s, entries, spc_by_name.get(s.spc_name or ""), vault) for s in syncs)
    arm_state = arm_view(arm, owners, discover_ids(raw, ns))

    # Every SecretSync using an SPC counts when asking whether an SPC object is mapped at all.
    sources: dict[str, set[str]] = defaultdict(set)
    read = {s.name: s.mappings for s in syncs if s.present}
    for obj in raw.items(rk.SECRET_SYNCS.key):
        meta = meta_of(obj)
        if meta.get("namespace") != ns:
            continue
        spc_name = spec_of(obj).get("secretProviderClassName")
        if spc_name:
            # The OPC UA lists' mappings were read once already (2,000 items each at scale).
            name = meta.get("name")
            mappings = read[name] if name in read else sync_mappings(obj)
            sources[str(spc_name)].update(s for s, _ in mappings)

    vault_view = _vault_view(vault)

    def ok(*keys: str) -> bool:
        return all(raw.state_of(k).state is AreaState.OK for k in keys)

    findings: list[Finding] = []
    findings += area_findings(areas, vault_view)
    findings += root_ca_findings(root, settings, ok(rk.SECRETS.key, rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key))
    findings += bundle_findings(bundle, root, ok(rk.CONFIGMAPS.key))
    findings += issuer_findings(issuers, discovery, ok(rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key))
    findings += certificate_findings(certificates, root)
    findings += sync_findings(syncs, spcs, ok(rk.SECRET_PROVIDER_CLASSES.key, rk.SECRETS.key))
    findings += spc_findings(spcs, {k: frozenset(v) for k, v in sources.items()})
    findings += entry_problems
    findings += arm_findings(arm_state, owners)
    findings += drift_problems
    connector = build_connector_certificate(raw, ns, certificates, now, cache)
    findings += connector_findings(connector, settings, now)

    return ClusterState(
        namespace=ns,
        settings=settings,
        taken_at=raw.taken_at,
        built_at=now,
        discovery=discovery,
        root_ca=root,
        trust_bundle=bundle,
        issuers=issuers,
        certificates=certificates,
        syncs=syncs,
        spcs=spcs,
        opcua_spc=choose_opcua_spc(syncs, spcs),
        opcua=entries,
        vault=vault_view,
        areas=areas,
        findings=sort_findings(findings),
        rotation_history=history,
        arm=arm_state,
        owners=owners,
        connector_certificate=connector,
        loading=raw.loading,
    )
