"""Health flags and findings, each driven through build_state from realistic raw objects."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tests import certgen as cg
from tests.rawobjects import (
    FAMILY_RELEASED,
    FAMILY_UPSTREAM,
    Site,
    certificate,
    certificate_request,
    cluster_issuer,
    quickstart_site,
    secret_sync,
    served,
    spc,
    synced_secret,
)
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.build.sync import data_size
from tui.core.health.findings import condition_healthy, sort_findings
from tui.core.health.stale import stale_reasons
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    ISSUER_LIST_SYNC,
    OPCUA_SPC,
    QUICKSTART_CA_COMMON_NAME,
    ROOT_CA_SECRET,
    TRUST_LIST_SYNC,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState, Condition, Finding, Health, Severity
from tui.demo.seed.objects import b64, condition, k8s_object

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
SITE_CA = cg.make_ca("Site CA")
OTHER_CA = cg.make_ca("Other CA")


def _build(site: Site, *, vault: bool = True, settings: ModelSettings | None = None) -> ClusterState:
    return build_state(
        site.snapshot(),
        settings=settings or ModelSettings(),
        now=NOW,
        vault=site.vault_snapshot() if vault else None,
        cache=DecodeCache(),
    )


def _site(
    trust: dict[str, bytes] | None = None, issuer: dict[str, bytes] | None = None, **kwargs: Any
) -> Site:
    return quickstart_site(NOW, ca=ROOT, trust=trust, issuer_list=issuer, **kwargs)


def _flags(state: ClusterState, key: str) -> set[Health]:
    entry = state.entry(key)
    assert entry is not None, f"no entry {key}"
    return set(entry.flags)


def _codes(state: ClusterState) -> dict[str, Finding]:
    return {f.code: f for f in state.findings}


def _leaf(cn: str, days_left: float, ca: cg.Issued | None = None) -> bytes:
    # notAfter relative to NOW so thresholds are exact.
    return cg.make_leaf(
        ca, cn, not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=days_left)
    ).der


def test_healthy_entries_have_no_flags() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=1))
    state = _build(
        _site(
            trust={"plc-1.der": _leaf("plc-1", 200, SITE_CA)},
            issuer={"site-ca.der": SITE_CA.der, "site-ca.crl": crl.der},
        )
    )
    assert [(e.key, e.flags) for e in state.opcua] == [
        ("trust/plc-1.der", ()),
        ("issuer/site-ca.crl", ()),
        ("issuer/site-ca.der", ()),
    ]
    plc = state.entry("trust/plc-1.der")
    assert plc is not None and plc.signed_by == "issuer/site-ca.der" and plc.revoked is False
    assert state.entry("issuer/site-ca.der").crl_key == "issuer/site-ca.crl"  # type: ignore[union-attr]
    assert {f.code for f in state.findings} == {"quickstart-ca"}


@pytest.mark.parametrize(
    ("days_left", "flag", "severity"),
    [
        (-3, Health.EXPIRED, Severity.CRITICAL),
        (5, Health.EXPIRING, Severity.CRITICAL),
        (7, Health.EXPIRING, Severity.CRITICAL),
        (20, Health.EXPIRING, Severity.WARNING),
        (30, Health.EXPIRING, Severity.WARNING),
        (31, None, None),
    ],
)
def test_expiry_thresholds(days_left: float, flag: Health | None, severity: Severity | None) -> None:
    state = _build(_site(trust={"plc.der": _leaf("plc", days_left)}))
    entry = state.entry("trust/plc.der")
    assert entry is not None
    assert entry.flags == ((flag,) if flag else ())
    assert entry.severity is severity
    if flag:
        finding = _codes(state)[f"entry-{flag.value}"]
        assert finding.severity is severity and finding.subject == "trust/plc.der"


def test_thresholds_come_from_settings() -> None:
    site = _site(trust={"plc.der": _leaf("plc", 20)})
    strict = _build(site, settings=ModelSettings(expiring_warn_days=60, expiring_critical_days=25))
    relaxed = _build(site, settings=ModelSettings(expiring_warn_days=10, expiring_critical_days=5))
    assert strict.entry("trust/plc.der").severity is Severity.CRITICAL  # type: ignore[union-attr]
    assert relaxed.entry("trust/plc.der").flags == ()  # type: ignore[union-attr]


def test_not_yet_valid() -> None:
    future = cg.make_leaf(None, "future", not_before=NOW + timedelta(days=2), days=365).der
    state = _build(_site(trust={"future.der": future}))
    assert _flags(state, "trust/future.der") == {Health.NOT_YET_VALID}
    assert "not valid before 2025-04-13 00:00Z" in _codes(state)["entry-not-yet-valid"].message


def test_issuer_list_ca_without_crl_and_leaf_in_issuer_list() -> None:
    leaf = _leaf("plc", 200, SITE_CA)
    state = _build(_site(issuer={"site-ca.crt": SITE_CA.pem, "plc.der": leaf}))
    assert _flags(state, "issuer/site-ca.crt") == {Health.CA_WITHOUT_CRL}
    assert _flags(state, "issuer/plc.der") == {Health.NOT_CA}


def test_crl_stale_bad_signature_without_ca_and_revocation() -> None:
    revoked_leaf = cg.make_leaf(SITE_CA, "bad-plc", not_before=NOW - timedelta(days=1), days=100)
    stale = cg.make_crl(SITE_CA, revoked=[revoked_leaf.serial], this_update=NOW - timedelta(days=20))
    # A CRL naming Site CA but signed by another key: same issuer name, wrong signature.
    impostor_ca = cg.make_ca("Site CA", key="ec384")
    forged = cg.make_crl(impostor_ca, this_update=NOW - timedelta(days=1))
    orphan = cg.make_crl(OTHER_CA, this_update=NOW - timedelta(days=1))
    state = _build(
        _site(
            trust={"bad-plc.der": revoked_leaf.der},
            issuer={
                "site-ca.der": SITE_CA.der,
                "site-ca.crl": stale.der,
                "forged.crl": forged.der,
                "other.crl": orphan.der,
            },
        )
    )
    assert _flags(state, "issuer/site-ca.crl") == {Health.CRL_STALE}
    assert _flags(state, "issuer/forged.crl") == {Health.CRL_BAD_SIGNATURE}
    assert _flags(state, "issuer/other.crl") == {Health.CRL_WITHOUT_CA}
    assert _flags(state, "issuer/site-ca.der") == set()  # its real CRL is found despite the forgery
    assert _flags(state, "trust/bad-plc.der") == {Health.REVOKED}
    codes = _codes(state)
    assert codes["entry-crl-bad-signature"].severity is Severity.CRITICAL
    assert "CRL stale since 2025-03-29 00:00Z" in codes["entry-crl-stale"].message


def test_duplicate_thumbprint_within_a_list_only() -> None:
    leaf = _leaf("plc", 200)
    state = _build(
        _site(
            trust={"a.der": leaf, "b.der": leaf, "site-ca.der": SITE_CA.der},
            issuer={"site-ca.der": SITE_CA.der, "site-ca.crl": cg.make_crl(SITE_CA, this_update=NOW).der},
        )
    )
    assert Health.DUPLICATE in _flags(state, "trust/a.der")
    assert Health.DUPLICATE in _flags(state, "trust/b.der")
    # The same CA in the trust list and the issuer list is the documented setup, not a duplicate.
    assert Health.DUPLICATE not in _flags(state, "trust/site-ca.der")
    assert Health.DUPLICATE not in _flags(state, "issuer/site-ca.der")


def test_mapped_not_synced_hand_added_no_spc_object_vault_missing() -> None:
    site = _site(trust={"a.der": _leaf("a", 200), "b.der": _leaf("b", 200)})
    # The Secret lacks b.der and holds an unmapped key; the SPC lacks a-der; the vault lacks b-der.
    site.add(
        rk.SECRETS, synced_secret(TRUST_LIST_SYNC, NS, {"a.der": _leaf("a", 200), "old.der": _leaf("o", 200)})
    )
    site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, ["b-der"]))
    del site.vault_files["b.der"]
    state = _build(site)
    assert _flags(state, "trust/a.der") == {Health.NO_SPC_OBJECT}
    assert _flags(state, "trust/b.der") == {Health.NOT_SYNCED, Health.VAULT_MISSING}
    # A key no mapping produces was added by hand (the sync controller's apply leaves it be): an
    # info, not an orphan to clean up (docs/domain.md §5.4).
    assert _flags(state, "trust/old.der") == {Health.HAND_ADDED}
    hand = state.entry("trust/old.der")
    assert hand is not None and hand.source_path is None and hand.mapped is False
    assert hand.severity is Severity.INFO
    finding = next(f for f in state.findings if f.subject == "trust/old.der")
    assert finding.code == "entry-hand-added"
    assert "not in Key Vault" in finding.message and "SecretSync is deleted" in finding.message


def test_synced_bytes_that_differ_from_the_vault_are_a_warning() -> None:
    # A rollback or an edit of the vault the sync has not carried yet: the connector reads the old file.
    site = _site(trust={"a.der": _leaf("a", 200), "b.der": _leaf("b", 200)})
    site.vault_files["a.der"] = _leaf("a replaced", 200)
    state = _build(site)
    assert _flags(state, "trust/a.der") == {Health.VAULT_DIFFERS}
    assert _flags(state, "trust/b.der") == set()
    [finding] = [f for f in state.findings if f.subject == "trust/a.der"]
    assert finding.code == "entry-vault-differs" and finding.severity is Severity.WARNING
    assert "other bytes than its Key Vault secret" in finding.message
    # Listed without values (the default status read): nothing can be judged, nothing is flagged.
    unread = build_state(
        site.snapshot(),
        settings=ModelSettings(),
        now=NOW,
        vault=site.vault_snapshot(values=False),
        cache=DecodeCache(),
    )
    assert _flags(unread, "trust/a.der") == set()


def test_vault_not_read_leaves_vault_flags_unjudged() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.vault_files.clear()
    state = _build(site, vault=False)
    entry = state.entry("trust/a.der")
    assert entry is not None and entry.vault_present is None and entry.flags == ()


@pytest.mark.parametrize("family", [FAMILY_RELEASED, FAMILY_UPSTREAM])
def test_sync_failure_in_either_condition_family(family: str) -> None:
    site = _site(trust={"a.der": _leaf("a", 200)}, family=family)
    reason = "ProviderError" if family == FAMILY_RELEASED else "RemoteSecretStoreFetchFailed"
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(
            TRUST_LIST_SYNC,
            NS,
            OPCUA_SPC,
            [("a-der", "a.der")],
            family=family,
            failure=(reason, "failed to get secret a-der:\n403 Forbidden"),
        ),
    )
    state = _build(site)
    sync = state.sync("trust")
    assert sync is not None and not sync.healthy and [c.reason for c in sync.failing] == [reason]
    assert _flags(state, "trust/a.der") == {Health.SYNC_FAILING}
    finding = _codes(state)["sync-failing"]
    assert finding.severity is Severity.CRITICAL
    assert (
        finding.message == f"SecretSync {TRUST_LIST_SYNC} {sync.failing[0].type}: {reason} "
        "failed to get secret a-der: 403 Forbidden"
    )
    assert "entry-sync-failing" not in _codes(state)  # reported once per SecretSync, not per entry


@pytest.mark.parametrize(
    ("reason", "healthy"),
    [
        ("CreateSucceeded", True),
        ("UpdateValueChangeOrForceUpdateSucceeded", True),
        ("CreateSuccessful", True),
        ("SecretUpToDate", True),
        ("NoUpdatesAttemptedYet", True),
        ("PartialSync", False),
        ("ControllerSyncFailed", False),
        ("InvalidClusterSecretLabelError", False),
        ("", False),
    ],
)
def test_condition_health_by_reason(reason: str, healthy: bool) -> None:
    assert condition_healthy(Condition("Update", "True", reason)) is healthy


def test_undecodable_wrong_format_and_private_key() -> None:
    key_only = ROOT.key_pem
    state = _build(
        _site(
            trust={
                "junk.der": b"not a certificate",
                "pem-in.der": _leaf_pem("x"),
                "two.crt": SITE_CA.pem + OTHER_CA.pem,
                "key.crt": key_only,
            }
        )
    )
    assert _flags(state, "trust/junk.der") == {Health.UNDECODABLE}
    assert _flags(state, "trust/pem-in.der") == {Health.WRONG_FORMAT}
    assert _flags(state, "trust/two.crt") == {Health.WRONG_FORMAT}
    assert _flags(state, "trust/key.crt") == {Health.PRIVATE_KEY, Health.UNDECODABLE}
    by_subject = {(f.code, f.subject): f for f in state.findings}
    assert by_subject[("entry-private-key", "trust/key.crt")].severity is Severity.CRITICAL
    assert by_subject[("entry-wrong-format", "trust/pem-in.der")].message.endswith(
        "pem-in.der (x): .der file holds pem 1 certificate(s), not a DER certificate"
    )
    assert by_subject[("entry-wrong-format", "trust/two.crt")].message.endswith(
        ".crt file must hold exactly one PEM certificate (holds pem 2 certificate(s))"
    )
    assert "PRIVATE KEY" not in "".join(f.message for f in state.findings)


def _leaf_pem(cn: str) -> bytes:
    return cg.make_leaf(None, cn, not_before=NOW - timedelta(days=1), days=300).pem


def test_root_ca_findings_quickstart_expiring_and_failing() -> None:
    short = cg.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=80), days=85)
    site = quickstart_site(NOW, ca=short)
    site.add(
        rk.CERTIFICATES,
        certificate(
            "azure-iot-operations-aio-selfsigned-root",
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name="azure-iot-operations-aio-selfsigned-root",
            is_ca=True,
            not_before=short.cert.not_valid_before_utc,
            not_after=short.cert.not_valid_after_utc,
            renewal_time=NOW - timedelta(days=3),
            issuing_reason="Failed",
            issuing_status=False,
            failed_attempts=3,
            last_failure_time=NOW - timedelta(hours=1),
            ready=False,
            ready_reason="Expired",
        ),
    )
    selfsigned = "azure-iot-operations-aio-selfsigned-root"
    for revision, failure, minutes in (
        (1, None, 90),
        (2, "issuer down: connection refused", 60),
        (2, 'secret "x" not found', 30),
    ):
        site.add(
            rk.CERTIFICATE_REQUESTS,
            certificate_request(
                selfsigned,
                CERT_MANAGER_NAMESPACE,
                revision,
                issuer_name=selfsigned,
                failed_message=failure,
                created=NOW - timedelta(minutes=minutes),
                suffix=f"r{revision}-{minutes}",
            ),
        )
    state = _build(site)
    request = state.root_ca.resource.latest_request  # type: ignore[union-attr]
    assert request is not None and request.name == f"{selfsigned}-r2-30" and request.revision == 2
    assert request.ready is not None and request.ready.reason == "Failed" and request.approved is True
    codes = _codes(state)
    assert codes["root-ca-renewal-failing"].message.endswith('(Failed): secret "x" not found')
    assert codes["root-ca-expiring"].severity is Severity.CRITICAL
    assert codes["root-ca-expiring"].message == "root CA expires in 5d"
    assert codes["root-ca-renewal-failing"].message.startswith(
        "root CA renewal failing: failed 3x, next attempt"
    )
    assert codes["root-ca-not-ready"].severity is Severity.CRITICAL
    assert (
        codes["quickstart-ca"].message == "quickstart CA in use: not for production (bring your own issuer)"
    )


def test_bundle_missing_current_ca_and_issuer_not_ready() -> None:
    site = _site(bundle_extra=())
    cm = site.get(rk.CONFIGMAPS, NS, "azure-iot-operations-aio-ca-trust-bundle")
    cm["data"]["ca.crt"] = OTHER_CA.pem.decode()
    site.add(
        rk.CLUSTER_ISSUERS,
        cluster_issuer(
            "azure-iot-operations-aio-certificate-issuer",
            ca_secret=ROOT_CA_SECRET,
            ready=False,
            reason="ErrGetKeyPair",
            message="Error getting keypair for CA issuer: secret not found",
        ),
    )
    state = _build(site)
    codes = _codes(state)
    assert state.trust_bundle.holds_current_ca is False
    assert codes["bundle-missing-current-ca"].severity is Severity.CRITICAL
    issuer = codes["issuer-not-ready"]
    assert issuer.severity is Severity.CRITICAL  # the broker's issuer
    assert issuer.message == (
        "issuer ClusterIssuer/azure-iot-operations-aio-certificate-issuer not ready: "
        "ErrGetKeyPair Error getting keypair for CA issuer: secret not found"
    )


def test_unrelated_issuer_not_ready_is_only_a_warning() -> None:
    site = _site()
    site.add(
        rk.CLUSTER_ISSUERS,
        cluster_issuer(
            "letsencrypt", type_="acme", ready=False, reason="ErrRegisterACMEAccount", message="timeout"
        ),
    )
    assert _codes(_build(site))["issuer-not-ready"].severity is Severity.WARNING


def test_areas_forbidden_not_installed_and_vault_unreachable() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.set_state(rk.BUNDLES, AreaState.NOT_INSTALLED, "trust.cert-manager.io/v1alpha1 not served")
    site.set_state(rk.CLUSTER_BUNDLES, AreaState.NOT_INSTALLED, "trust-manager.io/v1alpha2 not served")
    site.set_state(rk.SECRET_SYNCS, AreaState.FORBIDDEN, "secretsyncs is forbidden: User cannot list")
    state = build_state(
        site.snapshot(),
        settings=ModelSettings(),
        now=NOW,
        cache=DecodeCache(),
        vault=site.vault_snapshot(state=AreaState.UNREACHABLE, message="connection refused"),
    )
    assert state.area("trust-bundle").state is AreaState.NOT_INSTALLED
    assert state.area("opc-ua").state is AreaState.FORBIDDEN
    assert state.area("root-ca").state is AreaState.OK
    assert state.area("vault").state is AreaState.UNREACHABLE
    codes = _codes(state)
    assert codes["area-forbidden"].severity is Severity.WARNING
    assert codes["area-forbidden"].message.startswith("opc-ua: forbidden: secretsyncs forbidden")
    assert codes["area-not-installed"].severity is Severity.INFO
    assert codes["vault-unreachable"].severity is Severity.WARNING
    # The ConfigMap could still be read: the bundle check works without trust-manager.
    assert state.trust_bundle.holds_current_ca is True
    assert "bundle-missing" not in codes


def test_spc_object_unmapped_and_spc_missing() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, ["a-der", "leftover-der"]))
    site.add(rk.SECRET_SYNCS, secret_sync(ISSUER_LIST_SYNC, NS, "spc-gone", [("x-der", "x.der")]))
    codes = _codes(_build(site))
    assert codes["spc-object-unmapped"].subject == f"spc/{OPCUA_SPC}/leftover-der"
    assert codes["spc-object-unmapped"].severity is Severity.INFO
    assert codes["spc-missing"].severity is Severity.CRITICAL


def test_findings_sort_worst_first_then_by_family() -> None:
    findings = [
        Finding(Severity.WARNING, "entry-expiring", "x", "trust/a"),
        Finding(Severity.INFO, "area-not-installed", "x", "area/trust-bundle"),
        Finding(Severity.CRITICAL, "entry-expired", "x", "trust/b"),
        Finding(Severity.WARNING, "quickstart-ca", "x", "root-ca"),
        Finding(Severity.CRITICAL, "root-ca-expired", "x", "root-ca"),
    ]
    assert [f.code for f in sort_findings(findings)] == [
        "root-ca-expired",
        "entry-expired",
        "quickstart-ca",
        "entry-expiring",
        "area-not-installed",
    ]


def test_secondary_findings_each_fire_once_for_their_cause() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    # A leaf Certificate that is not Ready, a Bundle that is not synced, an unparseable SPC `objects`,
    # a synced Secret written by someone else, and an old CA in the trust bundle (a Bundle source
    # would put it there: trust-manager itself keeps none, so the model says nothing of it).
    site.add(
        rk.CERTIFICATES,
        certificate(
            "broker-cert",
            NS,
            secret_name="broker-cert",
            issuer_name="azure-iot-operations-aio-certificate-issuer",
            ready=False,
            ready_reason="DoesNotExist",
            ready_message="Issuing",
        ),
    )
    bundle = site.get(rk.BUNDLES, "", "azure-iot-operations-aio-ca-trust-bundle")
    bundle["status"]["conditions"][0].update(
        status="False", reason="SourceNotFound", message="secret missing"
    )
    site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, objects_text="array: [\n"))
    site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["metadata"].pop("labels")
    site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["metadata"].pop("ownerReferences")
    old_root = cg.make_ca(QUICKSTART_CA_COMMON_NAME, serial=99, not_before=NOW - timedelta(days=400))
    cm = site.get(rk.CONFIGMAPS, NS, "azure-iot-operations-aio-ca-trust-bundle")
    cm["data"]["ca.crt"] += old_root.pem.decode()
    state = _build(site)
    found = [(f.code, f.severity) for f in state.findings]
    for expected in [
        ("certificate-not-ready", Severity.WARNING),
        ("bundle-not-ready", Severity.WARNING),
        ("spc-objects-invalid", Severity.CRITICAL),
        ("sync-secret-unmanaged", Severity.WARNING),
    ]:
        assert found.count(expected) == 1, expected
    assert not [code for code, _ in found if "previous" in code]
    assert len(state.trust_bundle.certificates) == 2 and state.trust_bundle.holds_current_ca is True
    # With the SPC unreadable as YAML its objects are unknown, so every mapped entry lacks its object.
    assert Health.NO_SPC_OBJECT in _flags(state, "trust/a.der")


def test_sync_without_secret_yet_and_root_ca_without_tls_crt() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.remove(rk.SECRETS, NS, TRUST_LIST_SYNC)
    site.get(rk.SECRETS, CERT_MANAGER_NAMESPACE, ROOT_CA_SECRET)["data"].pop("tls.crt")
    state = _build(site)
    codes = _codes(state)
    assert (
        codes["sync-secret-missing"].message == f"SecretSync {TRUST_LIST_SYNC}: synced Secret not written yet"
    )
    assert codes["root-ca-undecodable"].message == "root CA: secret has no tls.crt"
    assert _flags(state, "trust/a.der") == {Health.NOT_SYNCED}


def test_a_hand_added_crl_counts_as_its_cas_crl() -> None:
    # The AIO docs add a CRL to the trust list with kubectl patch: the sync controller's apply leaves
    # the key alone (docs/domain.md §5.4), and it is the CA's CRL like any mapped one.
    revoked_leaf = cg.make_leaf(SITE_CA, "bad-plc", not_before=NOW - timedelta(days=1), days=100)
    crl = cg.make_crl(SITE_CA, revoked=[revoked_leaf.serial], this_update=NOW - timedelta(days=1))
    without = _build(_site(issuer={"site-ca.der": SITE_CA.der}, trust={"bad-plc.der": revoked_leaf.der}))
    assert Health.CA_WITHOUT_CRL in _flags(without, "issuer/site-ca.der")
    site = _site(issuer={"site-ca.der": SITE_CA.der}, trust={"bad-plc.der": revoked_leaf.der})
    site.get(rk.SECRETS, NS, ISSUER_LIST_SYNC)["data"]["site-ca.crl"] = b64(crl.der)
    state = _build(site)
    assert _flags(state, "issuer/site-ca.crl") == {Health.HAND_ADDED}
    assert _flags(state, "issuer/site-ca.der") == set()
    ca_entry = state.entry("issuer/site-ca.der")
    assert ca_entry is not None and ca_entry.crl_key == "issuer/site-ca.crl"
    assert _flags(state, "trust/bad-plc.der") == {Health.REVOKED}


@pytest.mark.parametrize(("type_", "reason"), [("Unknown", "Unknown"), ("Update", "Unknown")])
def test_a_transient_unknown_condition_during_a_sync_is_not_a_failure(type_: str, reason: str) -> None:
    assert condition_healthy(Condition(type_, "Unknown", reason, "sync in progress"))
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.get(rk.SECRET_SYNCS, NS, TRUST_LIST_SYNC)["status"]["conditions"][1].update(
        type=type_, status="Unknown", reason=reason, message="sync in progress"
    )
    state = _build(site)
    sync = state.sync("trust")
    assert sync is not None and sync.healthy
    assert _flags(state, "trust/a.der") == set()
    assert not [f for f in state.findings if f.code.startswith("sync-")]


def _partial_site(message: str) -> Site:
    files = {"a.der": _leaf("a", 200), "b.der": _leaf("b", 200), "c.der": _leaf("c", 200)}
    site = _site(trust=files)
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(
            TRUST_LIST_SYNC,
            NS,
            OPCUA_SPC,
            [("a-der", "a.der"), ("b-der", "b.der"), ("c-der", "c.der")],
            failure=("PartialSync", message),
        ),
    )
    return site


def test_a_partial_sync_marks_exactly_the_items_its_summary_names() -> None:
    summary = (
        '{"items": [{"objectName": "a-der", "status": "Succeeded"}, '
        '{"objectName": "b-der", "status": "Failed", "error": "secret b-der: 403 Forbidden"}, '
        '{"objectName": "c-der", "status": "Succeeded"}]}'
    )
    state = _build(_partial_site(summary))
    assert _flags(state, "trust/b.der") == {Health.SYNC_FAILING}
    assert _flags(state, "trust/a.der") == set() and _flags(state, "trust/c.der") == set()
    b = state.entry("trust/b.der")
    assert b is not None and b.sync_error == "secret b-der: 403 Forbidden"
    codes = _codes(state)
    assert "sync-failing" not in codes  # the list as a whole still updates
    assert codes["sync-partial"].severity is Severity.WARNING
    assert "1 item(s) not synced (b-der)" in codes["sync-partial"].message
    assert codes["entry-sync-failing"].message.endswith(
        "not synced (partial sync): secret b-der: 403 Forbidden"
    )
    assert codes["entry-sync-failing"].subject == "trust/b.der"


def test_a_partial_sync_whose_summary_cannot_be_read_fails_the_whole_list() -> None:
    state = _build(_partial_site("some items failed, see logs"))
    assert all(_flags(state, f"trust/{n}.der") == {Health.SYNC_FAILING} for n in "abc")
    codes = _codes(state)
    assert codes["sync-failing"].severity is Severity.CRITICAL and "sync-partial" not in codes


def test_a_synced_secret_without_its_secretsync_is_shown_as_hand_added() -> None:
    # AIO's deployment creates aio-opc-ua-broker-trust-list before any SecretSync (docs/domain.md §2.5).
    site = _site(issuer={"site-ca.der": SITE_CA.der})
    site.add(
        rk.SECRETS, synced_secret(TRUST_LIST_SYNC, NS, {"plant.der": _leaf("plant", 200)}, managed=False)
    )
    state = _build(site)
    sync = state.sync("trust")
    assert sync is not None and not sync.present and sync.secret_present
    assert _flags(state, "trust/plant.der") == {Health.HAND_ADDED}
    codes = _codes(state)
    assert codes["sync-absent"].severity is Severity.INFO
    assert codes["sync-absent"].message.startswith(f"Secret {TRUST_LIST_SYNC} exists without its SecretSync")
    assert "sync-secret-unmanaged" not in codes


def test_an_object_in_another_spc_than_the_secretsyncs_is_flagged_with_where_it_is() -> None:
    site = _site(trust={"a.der": _leaf("a", 200), "b.der": _leaf("b", 200)})
    # A newer CLI wrote b-der into the instance's default SPC; the SecretSync still names its own.
    site.add(rk.SECRET_PROVIDER_CLASSES, spc(OPCUA_SPC, NS, ["a-der"]))
    site.add(rk.SECRET_PROVIDER_CLASSES, spc("spc-ops-abc1234", NS, ["b-der", "broker-secret"]))
    state = _build(site)
    assert _flags(state, "trust/a.der") == set()
    assert _flags(state, "trust/b.der") == {Health.OTHER_SPC}
    b = state.entry("trust/b.der")
    assert b is not None and b.object_spc == "spc-ops-abc1234"
    message = _codes(state)["entry-other-spc"].message
    assert "b-der is in SPC spc-ops-abc1234, not in opc-ua-connector" in message
    # Nowhere at all is still the plain finding.
    site.add(rk.SECRET_PROVIDER_CLASSES, spc("spc-ops-abc1234", NS, ["broker-secret"]))
    assert _flags(_build(site), "trust/b.der") == {Health.NO_SPC_OBJECT}


def test_a_list_near_or_over_the_secret_size_limit_is_a_finding() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    data = site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["data"]
    small = _build(site)
    sync = small.sync("trust")
    assert sync is not None and sync.data_bytes == len(_leaf("a", 200)) and sync.next_bytes is None
    assert "sync-size" not in _codes(small)

    # 80 % of 1 MiB and more: a warning (a hand-added blob makes the bulk here).
    data["bulk.bin"] = b64(b"\0" * 860_000)
    finding = _codes(_build(site))["sync-size"]
    assert finding.severity is Severity.WARNING
    assert finding.message.startswith(f"trust list Secret {TRUST_LIST_SYNC}: ")
    assert "of 1 MiB (82%): room for little more" in finding.message

    # Past the limit: the API server refuses the next write (docs/domain.md §1.2).
    data["bulk.bin"] = b64(b"\0" * (1024 * 1024))
    finding = _codes(_build(site))["sync-size"]
    assert finding.severity is Severity.CRITICAL and "the list stops updating" in finding.message


def test_a_vault_value_that_would_grow_the_list_past_80_percent_warns_before_the_sync() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    site.vault_files["a.der"] = b"\1" * 900_000  # the vault holds other, larger bytes than synced
    state = _build(site)
    sync = state.sync("trust")
    assert sync is not None and sync.next_bytes == 900_000 and sync.size_bytes == 900_000
    finding = _codes(state)["sync-size"]
    assert finding.severity is Severity.WARNING
    assert finding.message.startswith(f"trust list Secret {TRUST_LIST_SYNC} after the next sync: 878 KiB")
    # A vault not read says nothing about the next sync.
    assert "sync-size" not in _codes(_build(site, vault=False))


BUNDLE = "azure-iot-operations-aio-ca-trust-bundle"


def _cluster_bundle(*, synced: bool = True, reason: str = "Synced", message: str = "") -> dict[str, Any]:
    """trust-manager's ClusterBundle (trust-manager.io/v1alpha2) as its types define it."""
    return served(
        k8s_object(
            rk.CLUSTER_BUNDLES,
            BUNDLE,
            spec={
                "sourceRefs": [{"kind": "Secret", "name": ROOT_CA_SECRET, "key": "tls.crt"}],
                "target": {
                    "configMap": {"data": [{"key": "ca.crt"}]},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": NS}},
                },
            },
            status={"conditions": [condition("Synced", synced, reason, message, NOW, 1)]},
        )
    )


def test_a_cluster_bundle_alone_writes_the_trust_bundle() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    # A trust-manager that serves only ClusterBundle: the Bundle kind is not installed, which is no gap.
    site.remove(rk.BUNDLES, "", BUNDLE)
    site.set_state(rk.BUNDLES, AreaState.NOT_INSTALLED, "trust.cert-manager.io/v1alpha1 not served")
    cm = site.get(rk.CONFIGMAPS, NS, BUNDLE)
    cm["metadata"]["labels"] = {"trust-manager.io/bundle": BUNDLE}
    site.add(rk.CLUSTER_BUNDLES, _cluster_bundle(synced=False, reason="SourceNotFound", message="no secret"))
    state = _build(site)
    assert state.area("trust-bundle").state is AreaState.OK
    bundle = state.trust_bundle
    assert (bundle.bundle_kind, bundle.bundle_name) == ("ClusterBundle", BUNDLE)
    assert bundle.bundle_sources == (f"secret {ROOT_CA_SECRET} key tls.crt",)
    assert bundle.holds_current_ca is True
    codes = _codes(state)
    assert codes["bundle-not-ready"].message.startswith(f"trust-manager ClusterBundle {BUNDLE} not ready")
    assert "area-not-installed" not in codes
    # Neither kind served: trust-manager is not installed.
    site.set_state(rk.CLUSTER_BUNDLES, AreaState.NOT_INSTALLED, "trust-manager.io/v1alpha2 not served")
    assert _build(site).area("trust-bundle").state is AreaState.NOT_INSTALLED


def test_a_bundle_deprecated_then_migrated_by_trust_managers_migration() -> None:
    site = _site(trust={"a.der": _leaf("a", 200)})
    bundle = site.get(rk.BUNDLES, "", BUNDLE)
    # trust-manager made a ClusterBundle of the same name and marks the Bundle (its Bundle reconciler).
    bundle["status"]["conditions"].append(
        condition("Deprecated", True, "MigrationRequired", "Bundle is deprecated; please migrate", NOW, 1)
    )
    site.add(rk.CLUSTER_BUNDLES, _cluster_bundle())
    state = _build(site)
    assert state.trust_bundle.bundle_kind == "Bundle" and state.trust_bundle.cluster_bundle == BUNDLE
    deprecated = _codes(state)["bundle-deprecated"]
    assert deprecated.severity is Severity.WARNING
    assert f"deploy ClusterBundle {BUNDLE} (trust-manager.io/v1alpha2)" in deprecated.message
    assert "trust-manager.io/migrated" in deprecated.message
    # The ClusterBundle annotated as taken over: the Bundle says Migrated and can go.
    bundle["status"]["conditions"][-1] = condition(
        "Migrated", True, "MigrationDetected", "Bundle is migrated to ClusterBundle by user", NOW, 1
    )
    codes = _codes(_build(site))
    assert codes["bundle-migrated"].severity is Severity.INFO and "bundle-deprecated" not in codes
    assert codes["bundle-migrated"].message.endswith("the Bundle can be deleted")
    # A condition that is not True says nothing.
    bundle["status"]["conditions"][-1]["status"] = "False"
    assert not {"bundle-migrated", "bundle-deprecated"} & set(_codes(_build(site)))


def test_a_hand_added_crl_is_not_stale_for_being_hand_added() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=1))
    site = _site(issuer={"site-ca.der": SITE_CA.der}, trust={"a.der": _leaf("a", 200)})
    site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["data"]["site-ca.crl"] = b64(crl.der)
    state = _build(site)
    assert _flags(state, "trust/site-ca.crl") == {Health.HAND_ADDED}
    assert "trust/site-ca.crl" not in stale_reasons(state)
    # Expired, it is stale like any other entry.
    site.get(rk.SECRETS, NS, TRUST_LIST_SYNC)["data"]["old.der"] = b64(_leaf("old", -3))
    assert stale_reasons(_build(site))["trust/old.der"].startswith("expired at ")


def test_a_secrets_data_size_is_its_decoded_bytes_whatever_the_padding() -> None:
    values = [b"", b"a", b"ab", b"abc", b"abcd", b"\0" * 1000]
    secret = {"data": {f"k{i}": b64(v) for i, v in enumerate(values)}}
    assert data_size(secret) == sum(len(v) for v in values)
    assert data_size({"data": {}}) == 0 and data_size(None) is None
    assert data_size({"data": {"a": b64(b"abc"), "n": 12}}) == 3  # not text: not counted


def test_within_a_severity_the_fewest_days_left_come_first_then_the_name() -> None:
    """Trial finding 9: ``(top 10 of 14)`` hid an 18-day expiry behind 25- and 26-day ones sorted by name."""
    days = {"a-plc.der": 26, "b-plc.der": 25, "c-plc.der": 25, "z-plc.der": 18}
    site = _site(trust={name: _leaf(name, left + 0.5) for name, left in days.items()})
    state = _build(site)
    expiring = [f for f in state.findings if f.code == "entry-expiring"]
    assert [f.subject for f in expiring] == [
        "trust/z-plc.der",
        "trust/b-plc.der",
        "trust/c-plc.der",
        "trust/a-plc.der",
    ]
    assert [f.days_left for f in expiring] == [18, 25, 25, 26]
    # A site-wide warning without a date (the quickstart CA) comes before them.
    warnings = [f.code for f in state.findings if f.severity is Severity.WARNING]
    assert warnings.index("quickstart-ca") < warnings.index("entry-expiring")
    # Dated findings of any family sort together: the connector's, the root CA's, an entry's.
    mixed = [
        Finding(Severity.WARNING, "entry-expiring", "x", "trust/a", 20),
        Finding(Severity.WARNING, "connector-cert-expiring", "x", "connector-cert", 5),
        Finding(Severity.WARNING, "root-ca-expiring", "x", "root-ca", 12),
        Finding(Severity.WARNING, "entry-duplicate", "x", "trust/a"),
        Finding(Severity.WARNING, "sync-size", "x", "sync/x"),
    ]
    assert [(f.code, f.days_left) for f in sort_findings(mixed)] == [
        ("sync-size", None),
        ("connector-cert-expiring", 5),
        ("root-ca-expiring", 12),
        ("entry-expiring", 20),
        ("entry-duplicate", None),
    ]
