"""A small OPC UA site for change-plan tests: a site CA in the issuer list, one PLC in the trust list.

Everything is built on a fixed clock (:data:`NOW`, 100 days after the certificates' notBefore) with
:mod:`tests.certgen` and :mod:`tests.rawobjects`, so plans, ids and diffs are reproducible::

    site = plan_site()
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from tests import certgen as cg
from tests.rawobjects import Site, quickstart_site
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.changes.changeset import Change, ChangeSet
from tui.core.changes.plan import Plan, make_plan
from tui.core.model import resources as rk
from tui.core.model.names import QUICKSTART_CA_COMMON_NAME
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import RawSnapshot, VaultSnapshot
from tui.core.model.state import ClusterState

NOW = cg.EPOCH + timedelta(days=100)
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME)
SITE_CA = cg.make_ca("Site CA")
OTHER_CA = cg.make_ca("Other CA")
PLC1 = cg.make_leaf(SITE_CA, "plc-1")
PLC2 = cg.make_leaf(SITE_CA, "plc-2")
PLC3 = cg.make_leaf(SITE_CA, "plc-3")
STRANGER = cg.make_leaf(OTHER_CA, "stranger")


SPC_VERSION = "500"
SYNC_VERSIONS = {"aio-opc-ua-broker-trust-list": "601", "aio-opc-ua-broker-issuer-list": "602"}


def plan_site(trust: Mapping[str, bytes] | None = None, issuer: Mapping[str, bytes] | None = None) -> Site:
    """The default site: ``trust`` defaults to plc-1.der, ``issuer`` to site-ca.crt (pass {} for none).

    The SPC and SecretSync resourceVersions are pinned (:data:`SPC_VERSION`, :data:`SYNC_VERSIONS`) so
    plan ids and diffs do not depend on how many objects other tests built first.
    """
    site = quickstart_site(
        NOW,
        ca=ROOT,
        trust={"plc-1.der": PLC1.der} if trust is None else trust,
        issuer_list={"site-ca.crt": SITE_CA.pem} if issuer is None else issuer,
    )
    for obj in site.objects[rk.SECRET_PROVIDER_CLASSES.key].values():
        obj["metadata"]["resourceVersion"] = SPC_VERSION
    for (_, name), obj in site.objects[rk.SECRET_SYNCS.key].items():
        obj["metadata"]["resourceVersion"] = SYNC_VERSIONS.get(name, "699")
    return site


@dataclass(frozen=True)
class Built:
    """A site read as the executor would: raw snapshot, vault snapshot, cluster state."""

    raw: RawSnapshot
    vault: VaultSnapshot
    state: ClusterState


def build(site: Site) -> Built:
    """Snapshot and build the site on :data:`NOW` (fresh decode cache: tests stay independent)."""
    raw = site.snapshot()
    vault = site.vault_snapshot()
    state = build_state(raw, settings=ModelSettings(), now=NOW, vault=vault, cache=DecodeCache())
    return Built(raw, vault, state)


def plan_for(site: Site, *changes: Change, **kwargs: Any) -> Plan:
    """``make_plan`` of ``changes`` against the site with its vault and raw objects, at :data:`NOW`."""
    built = build(site)
    kwargs.setdefault("vault_secrets", built.vault.secrets)
    kwargs.setdefault("raw", built.raw)
    return make_plan(ChangeSet.of(changes), built.state, now=NOW, **kwargs)
