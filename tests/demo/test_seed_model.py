"""Contract between the demo's seeded site and the model: every seeded entry is judged as the seed intends.

The demo labels each OPC UA file it seeds with the health the dashboard should report (``expect``).
The synced Secrets are normally written by the demo's sync controller; here they are built from the
seeded files with the same builder the controller uses, so the check stays pure and fast.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import pytest

from tests.rawobjects import Site
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.model import resources as rk
from tui.core.model.names import ISSUER_LIST_SYNC, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.core.model.state import ClusterState, Health, RotationPhase, Severity
from tui.demo.seed.aio import synced_secret
from tui.demo.seed.site import SeedOptions, build_site

START = datetime(2026, 3, 1, 12, tzinfo=UTC)

# expect label -> (flags that must be present, severity of the entry)
EXPECTED: dict[str, tuple[set[Health], Severity | None]] = {
    "expired": ({Health.EXPIRED}, Severity.CRITICAL),
    "expiring-7d": ({Health.EXPIRING}, Severity.CRITICAL),
    "expiring-30d": ({Health.EXPIRING}, Severity.WARNING),
    "not-yet-valid": ({Health.NOT_YET_VALID}, Severity.WARNING),
    "duplicate": ({Health.DUPLICATE}, Severity.WARNING),
    "ca-no-crl": ({Health.CA_WITHOUT_CRL}, Severity.WARNING),
    "crl-stale": ({Health.CRL_STALE}, Severity.CRITICAL),  # stacks reject every certificate then
    "ca": (set(), None),
    "crl": (set(), None),
}


def _state(byo: bool) -> tuple[ClusterState, Any]:
    site = build_site(SeedOptions(start=START, byo_issuer=byo))
    ns = site.names.namespace
    raw = Site(START, ns).add_all(site.objects)
    files: dict[str, dict[str, bytes]] = defaultdict(dict)
    for entry in site.entries:
        files[entry.list_name][entry.target_key] = entry.content
    for list_name, sync in (("trust", TRUST_LIST_SYNC), ("issuer", ISSUER_LIST_SYNC)):
        # What the sync controller would write for the seeded SecretSync.
        raw.add(rk.SECRETS, synced_secret(raw.get(rk.SECRET_SYNCS, ns, sync), files[list_name]))
    # The vault as the demo fills it (the seed's own records, not re-derived from the files).
    secrets = {
        v.name: VaultSecret(v.name, v.value, v.content_type, MappingProxyType(v.tags)) for v in site.vault
    }
    vault = VaultSnapshot(
        "https://aio-demo-kv.vault.azure.net/", ResourceStatus(AreaState.OK), MappingProxyType(secrets), START
    )
    return build_state(
        raw.snapshot(), settings=ModelSettings(namespace=ns), now=START, vault=vault, cache=DecodeCache()
    ), site


@pytest.mark.parametrize("byo", [False, True], ids=["quickstart", "byo-issuer"])
def test_every_seeded_entry_is_judged_as_intended(byo: bool) -> None:
    state, site = _state(byo)
    assert len(state.opcua) == len(site.entries)
    for seeded in site.entries:
        entry = state.entry(f"{seeded.list_name}/{seeded.target_key}")
        assert entry is not None, seeded.target_key
        assert entry.vault_present is True and entry.spc_object and entry.synced, seeded.target_key
        if seeded.expect == "healthy":
            # The original of a duplicated file is healthy in itself but shares the duplicate flag.
            assert set(entry.flags) <= {Health.DUPLICATE}, (seeded.target_key, entry.flags)
            continue
        flags, severity = EXPECTED[seeded.expect]
        assert set(entry.flags) == flags, (seeded.target_key, seeded.expect, entry.flags)
        assert entry.severity is severity, (seeded.target_key, seeded.expect)


def test_quickstart_and_byo_trust_chains_are_understood() -> None:
    quick, _ = _state(False)
    assert quick.root_ca.quickstart and quick.root_ca.rotation.phase is RotationPhase.STEADY
    assert quick.trust_bundle.holds_current_ca is True
    assert quick.discovery.byo is False
    byo, _ = _state(True)
    assert byo.discovery.byo is True and byo.discovery.issuer_kind == "Issuer"
    assert byo.root_ca.quickstart is False
    assert byo.root_ca.anchor is not None and byo.root_ca.anchor != byo.root_ca.certificate
    assert byo.trust_bundle.holds_current_ca is True
    assert not [f for f in byo.findings if f.code.startswith(("root-ca", "bundle", "issuer"))]
