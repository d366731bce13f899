"""A state built while some collections are still being listed judges nothing by their absence.

The dashboard draws as the lists arrive (docs/design.md §10.1), so the model is built from part of the
collections. Before, a pending collection read as an empty one: with Secrets pending every OPC UA entry
read ``missing``/``not-synced``, with SecretSyncs pending every entry ``hand-added``, with Certificates
pending the root CA ``unmanaged``, with the broker listener pending a bring-your-own site's root CA and
issuer "not found". Here every single pending collection of the demo's seeded site (quickstart and
bring-your-own) is built and compared with the complete state built from the same objects.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

import pytest

from tests import certgen
from tests.rawobjects import Site, quickstart_site
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.health.report import unread_reason
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    ISSUER_LIST_SYNC,
    QUICKSTART_CA_COMMON_NAME,
    TRUST_LIST_SYNC,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import (
    AreaState,
    ResourceStatus,
    VaultSecret,
    VaultSnapshot,
    namespaced_status_key,
)
from tui.core.model.state import Area, ClusterState, Health, RotationPhase
from tui.demo.seed.aio import synced_secret
from tui.demo.seed.site import SeedOptions, build_site

START = datetime(2026, 3, 1, 12, tzinfo=UTC)

# Outcomes that say something is absent: none may come from a collection that was not listed yet.
ABSENCE_FLAGS = frozenset(
    {Health.NOT_SYNCED, Health.HAND_ADDED, Health.NO_SPC_OBJECT, Health.OTHER_SPC, Health.VAULT_MISSING}
)
GUESSED_PHASES = frozenset({RotationPhase.UNMANAGED, RotationPhase.UNKNOWN})


def _site(byo: bool) -> tuple[Site, VaultSnapshot, str]:
    seeded = build_site(SeedOptions(start=START, byo_issuer=byo))
    ns = seeded.names.namespace
    site = Site(START, ns).add_all(seeded.objects)
    files: dict[str, dict[str, bytes]] = defaultdict(dict)
    for entry in seeded.entries:
        files[entry.list_name][entry.target_key] = entry.content
    for list_name, sync in (("trust", TRUST_LIST_SYNC), ("issuer", ISSUER_LIST_SYNC)):
        site.add(rk.SECRETS, synced_secret(site.get(rk.SECRET_SYNCS, ns, sync), files[list_name]))
    secrets = {
        v.name: VaultSecret(v.name, v.value, v.content_type, MappingProxyType(v.tags)) for v in seeded.vault
    }
    vault = VaultSnapshot(
        "https://aio-demo-kv.vault.azure.net/", ResourceStatus(AreaState.OK), MappingProxyType(secrets), START
    )
    return site, vault, ns


def _build(
    site: Site, vault: VaultSnapshot | None, ns: str, previous: ClusterState | None = None
) -> ClusterState:
    return build_state(
        site.snapshot(),
        settings=ModelSettings(namespace=ns),
        now=START,
        vault=vault,
        previous=previous,
        cache=DecodeCache(),
    )


def _pending(site: Site, kind: rk.ResourceKind) -> Site:
    """``site`` as the feed sees it before ``kind`` answered its first list."""
    site.objects[kind.key] = {}
    site.states[kind.key] = ResourceStatus(AreaState.PENDING, f"{kind.plural}: not listed yet")
    return site


CASES = [(byo, kind) for byo in (False, True) for kind in rk.ALL_KINDS]


@pytest.mark.parametrize(
    ("byo", "kind"), CASES, ids=[f"{'byo' if b else 'quickstart'}-{k.plural}" for b, k in CASES]
)
def test_a_pending_collection_is_loading_never_absent(byo: bool, kind: rk.ResourceKind) -> None:
    site, vault, ns = _site(byo)
    complete = _build(site, vault, ns)
    # The vault is read only once every collection is in (the feed holds it), so partial states lack it.
    partial = _build(_pending(_site(byo)[0], kind), None, ns)
    assert complete.loading == () and complete.complete
    assert partial.loading == (kind.plural,) and not partial.complete

    # No finding the complete state would not have: nothing was drawn from the missing collection. So
    # the header's and the tab strip's counts never count something that goes away once it is listed.
    extra = {f.key for f in partial.findings} - {f.key for f in complete.findings}
    assert not extra, [f.message for f in partial.findings if f.key in extra]

    for entry in partial.opcua:
        assert not (set(entry.flags) & ABSENCE_FLAGS), (entry.key, entry.flags)
        assert entry.content != "missing", entry.key
    if kind in (rk.SECRETS, rk.SECRET_SYNCS, rk.SECRET_PROVIDER_CLASSES):
        # The word the OPC UA table shows, not only a colour.
        assert partial.opcua and all(entry.loading == (kind.plural,) for entry in partial.opcua)
    else:
        assert all(not entry.loading for entry in partial.opcua)
    if kind is rk.SECRETS:
        assert {e.content for e in partial.opcua} == {"loading"}

    phase = partial.root_ca.rotation.phase
    assert phase not in GUESSED_PHASES or phase is complete.root_ca.rotation.phase, phase
    if kind in (rk.CERTIFICATES, rk.BROKER_LISTENERS) or (byo and kind in (rk.SECRETS, rk.ISSUERS)):
        # What decides the phase is loading: it says so, not "unmanaged" or "unknown".
        assert phase is RotationPhase.LOADING, phase
        assert kind.plural in partial.root_ca.rotation.message
    for sync in partial.syncs:
        if kind is rk.SECRET_SYNCS:
            assert sync.loading and not sync.present


@pytest.mark.parametrize("byo", [False, True], ids=["quickstart", "byo"])
def test_a_state_with_every_collection_pending_judges_nothing(byo: bool) -> None:
    site, _vault, ns = _site(byo)
    for kind in rk.ALL_KINDS:
        _pending(site, kind)
    state = _build(site, None, ns)
    assert state.findings == ()
    assert state.opcua == ()
    assert state.root_ca.rotation.phase is RotationPhase.LOADING
    assert unread_reason(state, Area.ROOT_CA) == "loading"
    assert state.loading == tuple(sorted(k.plural for k in rk.ALL_KINDS))


def test_secrets_pending_in_one_namespace_only_hold_what_lives_there() -> None:
    # Secrets are listed per namespace: the cert-manager part (the root CA) may lag the AIO one (lists).
    site, vault, ns = _site(False)
    complete = _build(site, vault, ns)
    site.objects[rk.SECRETS.key] = {k: v for k, v in site.objects[rk.SECRETS.key].items() if k[0] == ns}
    site.states[rk.SECRETS.key] = ResourceStatus(AreaState.PENDING)
    site.states[namespaced_status_key(rk.SECRETS.key, ns)] = ResourceStatus(AreaState.OK)
    site.states[namespaced_status_key(rk.SECRETS.key, CERT_MANAGER_NAMESPACE)] = ResourceStatus(
        AreaState.PENDING
    )
    partial = _build(site, None, ns)
    assert partial.root_ca.loading == ("secrets",) and not partial.root_ca.secret_present
    assert "root-ca-missing@root-ca" not in {f.key for f in partial.findings}
    # The lists' own Secrets are in: their entries are judged as in the complete state.
    assert all(not e.loading for e in partial.opcua)
    assert {e.key: e.flags for e in partial.opcua if Health.VAULT_MISSING not in e.flags} == {
        e.key: tuple(f for f in e.flags if f is not Health.VAULT_MISSING)
        for e in complete.opcua
        if Health.VAULT_MISSING not in e.flags
    }


def test_a_rotation_is_inferred_once_the_state_is_complete() -> None:
    # A state built from part of the collections is no "before": the complete state infers a recent
    # rotation as a first look would, instead of comparing with a root CA that had not arrived.
    ca = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=START - timedelta(minutes=2), days=90)
    site = quickstart_site(START, ca=ca, ca_revision=2, ca_duration=timedelta(days=90))
    settings = ModelSettings(namespace=site.namespace)
    alone = build_state(site.snapshot(), settings=settings, now=START, cache=DecodeCache())
    assert alone.rotation_history, "the fixture must show a recent rotation"
    for kind in (rk.CERTIFICATES, rk.SECRETS):
        early = quickstart_site(START, ca=ca, ca_revision=2, ca_duration=timedelta(days=90))
        partial = build_state(
            _pending(early, kind).snapshot(), settings=settings, now=START, cache=DecodeCache()
        )
        after = build_state(
            site.snapshot(), settings=settings, now=START, previous=partial, cache=DecodeCache()
        )
        assert after.rotation_history == alone.rotation_history, kind.plural
        assert after.root_ca.rotation.phase is alone.root_ca.rotation.phase
