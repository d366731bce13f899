"""build_state: discovery (default and bring-your-own issuer), joins, immutability, robustness, cost."""

from __future__ import annotations

import base64
import copy
import statistics
import time
from datetime import timedelta
from types import MappingProxyType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests import certgen as cg
from tests.rawobjects import (
    Site,
    certificate,
    cluster_issuer,
    issuer,
    quickstart_site,
    tls_secret,
)
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.build.sync import choose_opcua_spc
from tui.core.model import resources as rk
from tui.core.model.names import QUICKSTART_CA_COMMON_NAME
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus
from tui.core.model.state import ClusterState, Health, RotationPhase
from tui.demo.seed.aio import broker_listener, dataflow_endpoint, trust_configmap

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
SITE_CA = cg.make_ca("Contoso Site Root CA")


def _build(site: Site, settings: ModelSettings | None = None, **kwargs: Any) -> ClusterState:
    return build_state(
        site.snapshot(), settings=settings or ModelSettings(), now=NOW, cache=DecodeCache(), **kwargs
    )


def test_default_site_is_fully_described() -> None:
    leaf = cg.make_leaf(SITE_CA, "plc-1", uris=("urn:plc-1",), days=365)
    crl = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=1))
    site = quickstart_site(
        NOW,
        ca=ROOT,
        trust={"plc-1.der": leaf.der},
        issuer_list={"site-ca.crt": SITE_CA.pem, "site-ca.crl": crl.der},
    )
    state = build_state(
        site.snapshot(), settings=ModelSettings(), now=NOW, vault=site.vault_snapshot(), cache=DecodeCache()
    )
    d = state.discovery
    assert (d.issuer_key, d.issuer_source, d.bundle_configmap, d.bundle_source, d.byo) == (
        "ClusterIssuer/azure-iot-operations-aio-certificate-issuer",
        "broker-listener",
        "azure-iot-operations-aio-ca-trust-bundle",
        "dataflow-endpoint",
        False,
    )
    root = state.root_ca
    assert root.key == "cert-manager/azure-iot-operations-aio-ca-certificate"
    assert root.certificate is not None and root.certificate.sha1 == cg_sha1(ROOT)
    assert root.quickstart and root.private_key_present
    assert root.anchor == root.certificate  # the quickstart CA is its own root
    assert root.resource is not None and root.resource.name == "azure-iot-operations-aio-selfsigned-root"
    assert root.rotation.phase is RotationPhase.STEADY
    assert root.days_left == pytest.approx(265)
    assert state.trust_bundle.holds_current_ca is True
    assert state.trust_bundle.bundle_name == "azure-iot-operations-aio-ca-trust-bundle"
    assert state.trust_bundle.bundle_ready is True
    assert state.trust_bundle.bundle_sources == (
        "secret azure-iot-operations-aio-ca-certificate key tls.crt",
    )
    roles = {i.name: (i.roles, i.type, i.certificates_backed) for i in state.issuers}
    assert roles == {
        "azure-iot-operations-aio-certificate-issuer": (("broker",), "ca", 0),
        "azure-iot-operations-aio-selfsigned-root": (("root-ca",), "selfSigned", 1),
    }
    plc = state.entry("trust/plc-1.der")
    assert plc is not None
    assert (plc.source_path, plc.spc_object, plc.synced, plc.vault_present, plc.vault_in_sync) == (
        "plc-1-der",
        True,
        True,
        True,
        True,
    )
    assert plc.vault_content_type == "application/pkix-cert"
    assert plc.vault_tags == (("file-encoding", "hex"),)
    assert plc.certificate is not None and plc.certificate.application_uri == "urn:plc-1"
    assert plc.signed_by == "issuer/site-ca.crt"
    assert state.opcua_spc == "opc-ua-connector"
    assert [e.key for e in state.opcua] == ["trust/plc-1.der", "issuer/site-ca.crl", "issuer/site-ca.crt"]
    assert all(a.ok for a in state.areas)
    assert [s.last_successful_sync for s in state.syncs] == [NOW - timedelta(minutes=1)] * 2


def cg_sha1(issued: cg.Issued) -> str:
    """SHA-1 thumbprint the way the model spells it."""
    from cryptography.hazmat.primitives import hashes

    return issued.cert.fingerprint(hashes.SHA1()).hex().upper()


def test_names_follow_a_non_default_namespace() -> None:
    site = quickstart_site(NOW, ca=ROOT, namespace="plant-7", trust={"a.der": SITE_CA.der})
    state = _build(site, ModelSettings(namespace="plant-7"))
    assert state.discovery.issuer_name == "plant-7-aio-certificate-issuer"
    assert state.trust_bundle.configmap == "plant-7-aio-ca-trust-bundle"
    assert state.trust_bundle.holds_current_ca is True
    assert state.entry("trust/a.der") is not None


def _byo_site(listener: bool, endpoint: bool) -> Site:
    """A bring-your-own-issuer site: Issuer `site-issuer` in the AIO namespace, bundle `site-bundle`."""
    site = Site(NOW)
    site.add(rk.ISSUERS, issuer("site-issuer", NS, ca_secret="site-ca"))
    site.add(rk.SECRETS, tls_secret("site-ca", NS, SITE_CA, include_key=True))
    site.add(
        rk.CERTIFICATES,
        certificate(
            "site-ca",
            NS,
            secret_name="site-ca",
            issuer_name="selfsigned-issuer",
            issuer_kind="Issuer",
            is_ca=True,
            not_before=SITE_CA.cert.not_valid_before_utc,
            not_after=SITE_CA.cert.not_valid_after_utc,
            renewal_time=SITE_CA.cert.not_valid_after_utc - timedelta(days=30),
        ),
    )
    site.add(rk.ISSUERS, issuer("selfsigned-issuer", NS))
    site.add(rk.CONFIGMAPS, trust_configmap("site-bundle", NS, SITE_CA.pem, key="trust-bundle.pem"))
    if listener:
        site.add(rk.BROKER_LISTENERS, broker_listener(NS, "site-issuer", issuer_kind="Issuer"))
    if endpoint:
        site.add(rk.DATAFLOW_ENDPOINTS, dataflow_endpoint(NS, "site-bundle"))
    return site


def test_byo_issuer_discovered_from_listener_and_endpoint() -> None:
    state = _build(_byo_site(listener=True, endpoint=True))
    d = state.discovery
    assert (d.issuer_key, d.issuer_source, d.bundle_key, d.bundle_source, d.byo) == (
        "Issuer/azure-iot-operations/site-issuer",
        "broker-listener",
        "trust-bundle.pem",
        "dataflow-endpoint",
        True,
    )
    assert state.root_ca.key == "azure-iot-operations/site-ca"  # an Issuer reads its own namespace
    assert state.root_ca.quickstart is False
    assert state.root_ca.resource is not None and state.root_ca.resource.name == "site-ca"
    assert state.trust_bundle.holds_current_ca is True
    assert "quickstart-ca" not in {f.code for f in state.findings}
    assert {i.name: i.roles for i in state.issuers} == {
        "site-issuer": ("broker",),
        "selfsigned-issuer": ("root-ca",),
    }


def test_byo_issuing_ca_under_a_customer_root_is_in_sync_through_the_root() -> None:
    customer_root = cg.make_ca("Contoso Root CA", days=3000)
    issuing = cg.make_intermediate(customer_root, "Contoso AIO Issuing CA")
    site = _byo_site(listener=True, endpoint=False)
    site.add(rk.DATAFLOW_ENDPOINTS, dataflow_endpoint(NS, "site-bundle", flat_tls=True))
    secret = tls_secret("site-ca", NS, issuing, ca=customer_root)
    secret["data"]["tls.crt"] = base64.b64encode(issuing.pem + customer_root.pem).decode()
    site.add(rk.SECRETS, secret)
    site.add(rk.CONFIGMAPS, trust_configmap("site-bundle", NS, customer_root.pem, key="trust-bundle.pem"))
    state = _build(site)
    root = state.root_ca
    assert root.certificate is not None and root.certificate.common_name == "Contoso AIO Issuing CA"
    assert [c.common_name for c in root.chain] == ["Contoso Root CA"]
    assert root.anchor is not None and root.anchor.common_name == "Contoso Root CA"
    assert state.discovery.bundle_configmap == "site-bundle"  # read from the flat spec.tls form too
    assert state.trust_bundle.holds_current_ca is True
    assert "bundle-missing-current-ca" not in {f.code for f in state.findings}


def test_byo_issuer_from_flags_when_the_cluster_does_not_say() -> None:
    site = _byo_site(listener=False, endpoint=False)
    flagged = ModelSettings(
        issuer_override=("Issuer", "site-issuer"), trust_bundle_override=("site-bundle", "trust-bundle.pem")
    )
    state = _build(site, flagged)
    assert (state.discovery.issuer_source, state.discovery.bundle_source) == ("flag", "flag")
    assert state.root_ca.certificate is not None and state.trust_bundle.holds_current_ca is True
    # Without flags the AIO defaults are assumed, and their absence is reported, not raised.
    bare = _build(site)
    assert bare.discovery.issuer_source == "default"
    codes = {f.code for f in bare.findings}
    assert {"issuer-missing", "root-ca-missing", "bundle-missing"} <= codes


def test_listener_beats_flags_and_endpoint_key_can_come_from_flag() -> None:
    site = _byo_site(listener=True, endpoint=True)
    cm = site.get(rk.CONFIGMAPS, NS, "site-bundle")
    cm["data"]["other.pem"] = "x"  # two keys: the endpoint alone cannot say which one
    state = _build(
        site,
        ModelSettings(
            issuer_override=("ClusterIssuer", "ignored"),
            trust_bundle_override=("site-bundle", "trust-bundle.pem"),
        ),
    )
    assert state.discovery.issuer_name == "site-issuer"
    assert state.discovery.bundle_key == "trust-bundle.pem"
    assert _build(site).discovery.bundle_key == "ca.crt"


def test_issuer_with_ca_outside_the_cluster_is_explained_not_alarming() -> None:
    site = Site(NOW)
    site.add(
        rk.CLUSTER_ISSUERS,
        cluster_issuer("vault-issuer", type_="vault", reason="VaultVerified", message="Vault verified"),
    )
    site.add(rk.BROKER_LISTENERS, broker_listener(NS, "vault-issuer"))
    state = _build(site)
    assert state.root_ca.locatable is False
    assert state.root_ca.rotation.phase is RotationPhase.UNKNOWN
    finding = next(f for f in state.findings if f.code == "root-ca-not-visible")
    assert finding.message == (
        "root CA: issuer ClusterIssuer/vault-issuer is of type vault; its CA is not kept in the cluster"
    )
    assert finding.severity.value == "info"


def test_root_ca_certificate_found_by_secret_name_not_by_name() -> None:
    site = quickstart_site(NOW, ca=ROOT)
    site.remove(rk.CERTIFICATES, "cert-manager", "azure-iot-operations-aio-selfsigned-root")
    site.add(
        rk.CERTIFICATES,
        certificate(
            "renamed-in-a-later-release",
            "cert-manager",
            secret_name="azure-iot-operations-aio-ca-certificate",
            issuer_name="azure-iot-operations-aio-selfsigned-root",
            is_ca=True,
            revision=7,
        ),
    )
    site.add(
        rk.CERTIFICATES,
        certificate(
            "decoy",
            "azure-iot-operations",
            secret_name="azure-iot-operations-aio-ca-certificate",
            issuer_name="x",
            revision=1,
        ),
    )
    root = _build(site).root_ca
    assert root.resource is not None and root.resource.name == "renamed-in-a-later-release"
    assert root.rotation.revision == 7


def test_certificate_counts_per_issuer_include_failing() -> None:
    site = quickstart_site(NOW, ca=ROOT)
    for i, ready in enumerate((True, False, False)):
        site.add(
            rk.CERTIFICATES,
            certificate(
                f"leaf-{i}",
                NS,
                secret_name=f"leaf-{i}",
                issuer_name="azure-iot-operations-aio-certificate-issuer",
                ready=ready,
                ready_reason="Ready" if ready else "DoesNotExist",
            ),
        )
    issuer_view = next(i for i in _build(site).issuers if i.type == "ca")
    assert (issuer_view.certificates_backed, issuer_view.certificates_failing) == (3, 2)


def test_opcua_spc_choice() -> None:
    site = quickstart_site(NOW, ca=ROOT, spc_name="spc-ops-abc1234", trust={"a.der": SITE_CA.der})
    state = _build(site)
    assert state.opcua_spc == "spc-ops-abc1234"
    assert choose_opcua_spc((), state.spcs) == "spc-ops-abc1234"
    assert choose_opcua_spc((), ()) is None


def test_state_is_immutable_and_equal_for_equal_input() -> None:
    site = quickstart_site(NOW, ca=ROOT, trust={"a.der": SITE_CA.der})
    cache = DecodeCache()
    one = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache)
    two = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache)
    assert one == two
    assert one.opcua[0] is two.opcua[0]  # remembered, and shared rather than copied: it is frozen
    with pytest.raises(AttributeError):
        one.namespace = "x"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        one.opcua[0].target_key = "x"  # type: ignore[misc]
    assert isinstance(one.opcua, tuple) and isinstance(one.findings, tuple)


def test_decoding_is_memoised_across_builds() -> None:
    files = {f"plc-{i}.der": cg.make_leaf(SITE_CA, f"plc-{i}").der for i in range(5)}
    site = quickstart_site(NOW, ca=ROOT, trust=files)
    cache = DecodeCache()
    build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache)
    misses = cache.misses
    build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache)
    assert cache.misses == misses  # the second build decoded nothing
    small = DecodeCache(maxsize=2)
    small.decode(b"x", b"1", "a"), small.decode(b"y", b"2", "b"), small.decode(b"z", b"3", "c")
    assert len(small._decoded) == 2  # bounded
    # A build grows a too-small cache to fit its files, so rebuilds do not thrash it.
    build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=small)
    misses = small.misses
    build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=small)
    assert small.misses == misses


def test_empty_snapshot_never_raises_and_says_what_is_missing() -> None:
    raw = RawSnapshot(objects={}, status={}, taken_at=NOW)
    state = build_state(raw, settings=ModelSettings(), now=NOW, cache=DecodeCache())
    assert state.opcua == ()
    assert all(a.state is AreaState.PENDING for a in state.areas)
    assert state.root_ca.rotation.phase is RotationPhase.UNKNOWN
    # Nothing was read, so nothing is declared missing.
    assert not [f for f in state.findings if f.code.endswith("missing")]


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=8)
_json = st.recursive(
    _json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=12,
)
_MANGLE_PATHS = [
    ("spec",),
    ("status",),
    ("metadata",),
    ("data",),
    ("spec", "secretObject"),
    ("spec", "parameters"),
    ("status", "conditions"),
    ("spec", "ports"),
    ("spec", "issuerRef"),
    ("metadata", "labels"),
    ("metadata", "ownerReferences"),
    ("spec", "tls"),
]
_BASE_SITE = quickstart_site(
    NOW,
    ca=ROOT,
    trust={"a.der": SITE_CA.der},
    issuer_list={"b.crl": cg.make_crl(SITE_CA, this_update=NOW).der},
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mangled_objects_never_crash_the_build(data: st.DataObject) -> None:
    site = copy.deepcopy(_BASE_SITE)
    keys = [(kind, key) for kind, objs in site.objects.items() for key in objs]
    for _ in range(data.draw(st.integers(1, 4))):
        kind, key = data.draw(st.sampled_from(keys))
        path = data.draw(st.sampled_from(_MANGLE_PATHS))
        target = site.objects[kind][key]
        for part in path[:-1]:
            target = target.setdefault(part, {}) if isinstance(target, dict) else {}
        if isinstance(target, dict):
            target[path[-1]] = data.draw(_json)
    state = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=DecodeCache())
    assert isinstance(state.findings, tuple)


def test_resource_read_states_are_reported_per_area() -> None:
    site = quickstart_site(NOW, ca=ROOT, trust={"a.der": SITE_CA.der})
    site.set_state(rk.SECRETS, AreaState.RECONNECTING, "watch dropped; retrying in 2s")
    state = _build(site)
    assert state.area("root-ca").state is AreaState.RECONNECTING
    assert state.area("opc-ua").message == "secrets reconnecting (watch dropped; retrying in 2s)"
    assert state.area("issuers").ok
    # Data kept by a reconnecting reflector is still used.
    assert state.entry("trust/a.der") is not None and state.root_ca.certificate is not None


def test_secret_values_that_are_not_base64_are_reported() -> None:
    site = quickstart_site(NOW, ca=ROOT, trust={"a.der": SITE_CA.der})
    site.get(rk.SECRETS, NS, "aio-opc-ua-broker-trust-list")["data"]["a.der"] = "%%%not base64"
    entry = _build(site).entry("trust/a.der")
    assert entry is not None and entry.decode_error == "Secret value is not base64"
    assert Health.UNDECODABLE in entry.flags


@pytest.fixture(scope="module")
def big_site() -> Site:
    """2,000 distinct trust-list certificates (the benchmark scale of the issue)."""
    files = {
        f"device-{i:04d}.der": cg.make_leaf(SITE_CA, f"device-{i:04d}", days=365 + i % 400).der
        for i in range(2000)
    }
    return quickstart_site(NOW, ca=ROOT, trust=files, issuer_list={"site-ca.crt": SITE_CA.pem})


def test_rebuild_of_2000_entries_is_fast(big_site: Site) -> None:
    cache = DecodeCache()
    raw = big_site.snapshot()
    vault = big_site.vault_snapshot()
    first = time.perf_counter()
    state = build_state(raw, settings=ModelSettings(), now=NOW, vault=vault, cache=cache)
    first = time.perf_counter() - first
    assert len(state.entries("trust")) == 2000
    assert all(e.signed_by == "issuer/site-ca.crt" for e in state.entries("trust"))
    timings = []
    for i in range(15):
        start = time.perf_counter()
        state = build_state(
            raw,
            settings=ModelSettings(),
            now=NOW + timedelta(seconds=i),
            vault=vault,
            previous=state,
            cache=cache,
        )
        timings.append(time.perf_counter() - start)
    p95 = sorted(timings)[int(len(timings) * 0.95) - 1]
    print(
        f"\nbuild 2000 entries: first {first * 1000:.0f} ms, warm median "
        f"{statistics.median(timings) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms"
    )
    # The target is p95 < 100 ms on this machine; the bound leaves room for a loaded CI runner.
    assert statistics.median(timings) < 0.1


def test_snapshot_objects_are_not_modified() -> None:
    site = quickstart_site(NOW, ca=ROOT, trust={"a.der": SITE_CA.der})
    before = copy.deepcopy(site.objects)
    raw = RawSnapshot(
        objects={k: MappingProxyType(v) for k, v in site.objects.items()},
        status={k: ResourceStatus(AreaState.OK) for k in site.objects},
        taken_at=NOW,
    )
    build_state(raw, settings=ModelSettings(), now=NOW, cache=DecodeCache())
    assert site.objects == before
