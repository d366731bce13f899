"""The demo's AIO site, generated at start-up: every Kubernetes object and Key Vault secret it starts with.

Deterministic: the same ``seed`` and ``start`` give byte-identical objects, keys and certificates (see
:mod:`~tui.demo.seed.keys`). The synced OPC UA Secrets and SecretSync status are *not* seeded: the
simulated secret sync controller produces them from the vault, exactly as on a real site.

Parts: :mod:`~tui.demo.seed.trust` (cert-manager, trust-manager, broker), :mod:`~tui.demo.seed.opcua`
(OPC UA lists, SPC, SecretSyncs, vault, and the ARM resources behind the lists), :mod:`~tui.demo.seed.arc`
(the Arc agents' cluster config). They build with the builders the controllers and the tests use
too: objects in :mod:`~tui.demo.seed.aio` (on :mod:`~tui.demo.seed.objects`), certificates in
:mod:`~tui.demo.seed.x509`, keys from :mod:`~tui.demo.seed.keys`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.core.model import resources as rk
from tui.core.model.arm import ArmKind
from tui.core.model.names import DEFAULT_NAMESPACE, AioNames
from tui.core.model.resources import ResourceKind
from tui.demo.arm.shapes import ArmSeed
from tui.demo.arm.site import DEMO_ARM_SITE, ArmSite
from tui.demo.seed.arc import arc_cluster_config, arc_namespace
from tui.demo.seed.connector import seed_connector
from tui.demo.seed.keys import derive_rng
from tui.demo.seed.opcua import OpcuaEntry, VaultSeed, seed_opcua
from tui.demo.seed.trust import SeedContext, ca_age, seed_byo_issuer, seed_namespaces, seed_quickstart

DEFAULT_KEYVAULT = "aio-demo-kv"
DEFAULT_CA_DURATION = timedelta(hours=8760)
"""One year: the quickstart root CA the public docs show is valid for one year (docs/domain.md §2.2)."""
DEFAULT_RENEW_BEFORE = timedelta(hours=720)
"""Renew 30 days before the CA expires."""

BYO_SITE_AGE = timedelta(days=60)

__all__ = ["ArmSeed", "OpcuaEntry", "SeedOptions", "Site", "VaultSeed", "build_site"]

_LIST_KINDS = {ArmKind.SPC: rk.SECRET_PROVIDER_CLASSES, ArmKind.SECRET_SYNC: rk.SECRET_SYNCS}


@dataclass(frozen=True)
class SeedOptions:
    """What to seed. ``start`` anchors every validity date (the demo's clock at start-up)."""

    start: datetime
    seed: int = 1
    namespace: str = DEFAULT_NAMESPACE
    ca_duration: timedelta = DEFAULT_CA_DURATION
    renew_before: timedelta = DEFAULT_RENEW_BEFORE
    scale: int = 0
    byo_issuer: bool = False
    keyvault_name: str = DEFAULT_KEYVAULT
    arm: ArmSite = DEMO_ARM_SITE
    """Where the site lives in Azure (the Arc cluster config names it; ARM-owned lists live there)."""
    cluster_only_lists: bool = False
    """Seed the SPC and SecretSyncs on the cluster alone (no ARM resources, no ARM markers)."""

    def __post_init__(self) -> None:
        if self.start.tzinfo is None:
            raise ValueError("seed start time must be timezone-aware")
        if self.scale < 0:
            raise ValueError(f"scale must be 0 or more, got {self.scale}")
        if self.ca_duration <= timedelta(0):
            raise ValueError("CA duration must be positive")
        if not timedelta(0) < self.renew_before < self.ca_duration:
            raise ValueError("renew-before must be positive and shorter than the CA duration")


@dataclass(frozen=True)
class Site:
    """A generated site: objects to store, vault secrets to create, and what each OPC UA entry is."""

    options: SeedOptions
    names: AioNames
    objects: tuple[dict[str, Any], ...]
    vault: tuple[VaultSeed, ...]
    entries: tuple[OpcuaEntry, ...]
    arm_resources: tuple[ArmSeed, ...] = ()
    """The ARM resources behind the lists (none on a cluster-only site). ``objects`` holds their cluster
    copies as the Arc projection makes them, less the annotations that change with each ARM write."""
    _index: Mapping[tuple[str, str, str], dict[str, Any]] = field(repr=False, default_factory=dict)

    def get(self, kind: ResourceKind, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A seeded object by kind, namespace (None for cluster scope) and name."""
        return self._index.get((kind.kind, namespace or "", name))

    def of_kind(self, kind: ResourceKind) -> list[dict[str, Any]]:
        """Every seeded object of ``kind``."""
        return [o for o in self.objects if o["kind"] == kind.kind and o["apiVersion"] == kind.group_version]

    def cluster_objects(self) -> tuple[dict[str, Any], ...]:
        """The objects to put on the cluster directly: all but the cluster copies of ARM resources, which
        the Arc projection creates from ARM."""
        projected = {(_LIST_KINDS[r.kind].kind, r.name) for r in self.arm_resources}
        return tuple(o for o in self.objects if (o["kind"], o["metadata"]["name"]) not in projected)


def build_site(options: SeedOptions) -> Site:
    """Generate the whole site for ``options`` (about a second; RSA keys are cached per process)."""
    names = AioNames(namespace=options.namespace)
    start = options.start.astimezone(UTC).replace(microsecond=0)
    # A quickstart site was deployed when its root CA was first issued; a BYO site some weeks ago.
    age = BYO_SITE_AGE if options.byo_issuer else ca_age(options.ca_duration, options.renew_before)
    ctx = SeedContext(
        seed=options.seed,
        start=start,
        names=names,
        rng=derive_rng(options.seed, f"site/{options.namespace}/{options.byo_issuer}"),
        installed_at=start - age,
    )
    seed_namespaces(ctx)
    if options.byo_issuer:
        seed_byo_issuer(ctx)
    else:
        seed_quickstart(ctx, options.ca_duration, options.renew_before)
    entries, vault, arm_resources = seed_opcua(
        ctx, options.keyvault_name, options.scale, arm=None if options.cluster_only_lists else options.arm
    )
    # Last, so that every object before keeps the uid it had before the Arc config was seeded.
    ctx.add(arc_namespace())
    ctx.add(arc_cluster_config(options.arm))
    if not options.byo_issuer:
        # After every other object, so that they keep the uids and serials they had before. The BYO
        # site, which the tests keep to its customer issuer alone, goes without.
        seed_connector(ctx)
    index = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in ctx.objects}
    return Site(
        options=options,
        names=names,
        objects=tuple(ctx.objects),
        vault=tuple(vault),
        entries=tuple(entries),
        arm_resources=tuple(arm_resources),
        _index=index,
    )
