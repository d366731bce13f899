"""Root CA rotation: backoff, phases and their precedence, rotation detection and history."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from tests import certgen as cg
from tests.rawobjects import certificate, quickstart_site, served, tls_secret
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.build.certmanager import parse_certificate
from tui.core.build.request_match import request_spec, spec_mismatches
from tui.core.certs import CertificateInfo, decode_bytes
from tui.core.model import resources as rk
from tui.core.model.names import CERT_MANAGER_NAMESPACE, QUICKSTART_CA_COMMON_NAME, ROOT_CA_SECRET
from tui.core.model.rotation import (
    HISTORY_LIMIT,
    assess_rotation,
    backoff_delay,
    detect_rotation,
    extend_history,
    infer_rotation,
    next_attempt,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.state import CertificateView, RotationEvent, RotationPhase
from tui.demo.seed import aio

T0 = cg.EPOCH
H = timedelta(hours=1)
SELF = "azure-iot-operations-aio-selfsigned-root"


def _ca(days: float = 365, not_before: datetime = T0, serial: int | None = None) -> cg.Issued:
    return cg.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=not_before, days=days, serial=serial)


def _info(issued: cg.Issued) -> CertificateInfo:
    return decode_bytes(issued.pem, "ca").certificates[0]


def _cert_view(**kwargs: Any) -> CertificateView:
    defaults = dict(
        secret_name=ROOT_CA_SECRET,
        issuer_name=SELF,
        is_ca=True,
        not_before=T0,
        not_after=T0 + timedelta(days=365),
        renewal_time=T0 + timedelta(days=335),
        revision=1,
    )
    defaults.update(kwargs)
    return parse_certificate(certificate(SELF, CERT_MANAGER_NAMESPACE, **defaults))


@pytest.mark.parametrize(
    ("attempts", "hours"), [(0, 1), (1, 1), (2, 2), (3, 4), (4, 8), (5, 16), (6, 32), (7, 32), (500, 32)]
)
def test_backoff_follows_cert_manager_bounded_1h_to_32h(attempts: int, hours: int) -> None:
    assert backoff_delay(attempts) == timedelta(hours=hours)


def test_next_attempt_after_failure() -> None:
    failed = _cert_view(failed_attempts=3, last_failure_time=T0 + 10 * H)
    assert next_attempt(failed) == T0 + 14 * H
    assert next_attempt(_cert_view()) is None


def test_steady_reports_days_left_and_next_renewal() -> None:
    view = assess_rotation(_cert_view(), _info(_ca()), T0 + timedelta(days=100))
    assert view.phase is RotationPhase.STEADY
    assert view.days_left == pytest.approx(265.0)
    assert view.message == "next renewal 2025-12-02 00:00Z"


def test_renewal_due_when_renewal_time_passed_and_not_issuing() -> None:
    now = T0 + timedelta(days=336)
    view = assess_rotation(_cert_view(), _info(_ca()), now)
    assert view.phase is RotationPhase.RENEWAL_DUE
    assert view.message == "renewal due since 2025-12-02 00:00Z"


def test_issuing_wins_over_due_and_failure() -> None:
    cert = _cert_view(issuing_reason="Renewing", failed_attempts=1, last_failure_time=T0)
    view = assess_rotation(cert, _info(_ca()), T0 + timedelta(days=340))
    assert view.phase is RotationPhase.ISSUING
    assert view.reason == "Renewing"
    assert view.next_attempt is None


def test_failed_shows_backoff_until_next_attempt() -> None:
    failure = T0 + timedelta(days=336)
    cert = _cert_view(
        issuing_reason="Failed",
        issuing_status=False,
        failed_attempts=2,
        last_failure_time=failure,
        issuing_message="The certificate request has failed to complete and will be retried",
    )
    view = assess_rotation(cert, _info(_ca()), failure + 30 * timedelta(minutes=1))
    assert view.phase is RotationPhase.FAILED
    assert view.next_attempt == failure + 2 * H
    assert view.failed_attempts == 2
    assert view.reason == "Failed"
    assert view.message == "failed 2x, next attempt 2025-12-03 02:00Z"


def test_rotated_phase_lasts_for_the_recent_window_only() -> None:
    event = RotationEvent(at=T0 + timedelta(days=10), revision=2, serial="01", sha1="AA", previous_sha1="BB")
    cert = _cert_view(revision=2)
    just_after = assess_rotation(cert, _info(_ca()), event.at + timedelta(minutes=5), history=[event])
    assert just_after.phase is RotationPhase.ROTATED
    assert just_after.rotated_at == event.at
    assert just_after.message == "rotated at 2025-01-11 00:00Z"
    later = assess_rotation(cert, _info(_ca()), event.at + timedelta(minutes=16), history=[event])
    assert later.phase is RotationPhase.STEADY
    assert later.rotated_at == event.at  # still shown as history, no longer the phase


def test_without_certificate_resource_phase_is_unmanaged_or_unknown() -> None:
    assert assess_rotation(None, _info(_ca()), T0).phase is RotationPhase.UNMANAGED
    assert assess_rotation(None, None, T0, secret_present=False).phase is RotationPhase.UNKNOWN


def test_detect_rotation_uses_the_new_ca_not_before_when_plausible() -> None:
    old, new = _info(_ca(serial=1)), _info(_ca(not_before=T0 + timedelta(days=300), serial=2))
    seen_at = T0 + timedelta(days=300, minutes=2)
    event = detect_rotation(old, 1, new, 2, seen_at)
    assert event is not None
    assert (event.at, event.previous_sha1, event.sha1, event.revision) == (
        new.not_before,
        old.sha1,
        new.sha1,
        2,
    )
    # A notBefore far in the past (backdated CA) is not believable as the rotation time.
    late = detect_rotation(old, 1, new, 2, seen_at + timedelta(days=3))
    assert late is not None and late.at == seen_at + timedelta(days=3)
    assert detect_rotation(old, 1, old, 1, seen_at) is None
    # A revision bump before the secret changes does not record the old CA as the new one.
    assert detect_rotation(old, 1, old, 2, seen_at) is None
    assert detect_rotation(None, 1, new, 2, seen_at) is not None


def test_infer_rotation_from_revision_and_recent_not_before() -> None:
    new = _info(_ca(not_before=T0, serial=3))
    recent = timedelta(minutes=15)
    cert = _cert_view(revision=2)
    assert infer_rotation(cert, new, T0 + timedelta(minutes=5), recent) is not None
    assert infer_rotation(cert, new, T0 + timedelta(hours=1), recent) is None
    assert infer_rotation(_cert_view(revision=1), new, T0 + timedelta(minutes=5), recent) is None


def test_history_ignores_repeats_and_is_bounded() -> None:
    events = [RotationEvent(T0 + i * H, i, f"{i:02X}", f"SHA{i}", None) for i in range(HISTORY_LIMIT + 5)]
    history: tuple[RotationEvent, ...] = ()
    for event in events:
        history = extend_history(history, event)
        history = extend_history(history, event)
    assert len(history) == HISTORY_LIMIT
    assert history[-1] == events[-1]
    assert history[0] == events[5]


def test_live_rebuilds_see_a_rotation_happen_and_keep_its_time() -> None:
    """Drive a whole rotation through build_state with a test-controlled clock."""
    cache = DecodeCache()
    settings = ModelSettings()
    old = _ca(days=2, serial=11)
    start = T0 + timedelta(days=1)
    site = quickstart_site(start, ca=old, renew_before=timedelta(hours=12))
    s1 = build_state(site.snapshot(), settings=settings, now=start, cache=cache)
    assert s1.root_ca.rotation.phase is RotationPhase.STEADY

    # renewalTime (notAfter - 12h) passes: due, then cert-manager starts issuing.
    due_at = T0 + timedelta(days=1, hours=13)
    s2 = build_state(site.snapshot(), settings=settings, now=due_at, previous=s1, cache=cache)
    assert s2.root_ca.rotation.phase is RotationPhase.RENEWAL_DUE
    assert any(f.code == "root-ca-renewal-overdue" for f in s2.findings)
    site.add(
        rk.CERTIFICATES,
        certificate(
            SELF,
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name=SELF,
            is_ca=True,
            not_before=old.cert.not_valid_before_utc,
            not_after=old.cert.not_valid_after_utc,
            renewal_time=due_at - H,
            revision=1,
            issuing_reason="Renewing",
        ),
    )
    s3 = build_state(
        site.snapshot(), settings=settings, now=due_at + timedelta(seconds=5), previous=s2, cache=cache
    )
    assert s3.root_ca.rotation.phase is RotationPhase.ISSUING

    # The new CA lands: secret, Certificate status (revision 2), and the bundle trust-manager rebuilds
    # from the current source: the new CA only (docs/domain.md §4.3).
    rotated_at = due_at + timedelta(seconds=7)
    new = _ca(days=2, not_before=rotated_at, serial=12)
    site.add(rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, new, certificate_name=SELF))
    site.add(
        rk.CERTIFICATES,
        certificate(
            SELF,
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name=SELF,
            is_ca=True,
            not_before=rotated_at,
            not_after=rotated_at + timedelta(days=2),
            renewal_time=rotated_at + timedelta(days=1, hours=12),
            revision=2,
        ),
    )
    cm = site.get(rk.CONFIGMAPS, "azure-iot-operations", "azure-iot-operations-aio-ca-trust-bundle")
    cm["data"]["ca.crt"] = new.pem.decode()
    s4 = build_state(
        site.snapshot(), settings=settings, now=rotated_at + timedelta(seconds=1), previous=s3, cache=cache
    )
    rotation = s4.root_ca.rotation
    assert rotation.phase is RotationPhase.ROTATED
    assert rotation.rotated_at == rotated_at
    assert rotation.revision == 2
    assert [e.previous_sha1 for e in s4.rotation_history] == [s1.root_ca.certificate.sha1]
    assert s4.trust_bundle.holds_current_ca is True
    assert [c.sha1 for c in s4.trust_bundle.certificates] == [s4.root_ca.certificate.sha1]

    # The history survives further rebuilds, the phase settles.
    s5 = build_state(
        site.snapshot(), settings=settings, now=rotated_at + timedelta(minutes=20), previous=s4, cache=cache
    )
    assert s5.root_ca.rotation.phase is RotationPhase.STEADY
    assert s5.root_ca.rotation.rotated_at == rotated_at
    assert s5.rotation_history == s4.rotation_history


def test_one_shot_build_infers_a_recent_rotation() -> None:
    ca = _ca(not_before=T0)
    site = quickstart_site(T0, ca=ca, ca_revision=4)
    state = build_state(
        site.snapshot(), settings=ModelSettings(), now=T0 + timedelta(minutes=3), cache=DecodeCache()
    )
    assert state.root_ca.rotation.phase is RotationPhase.ROTATED
    assert state.root_ca.rotation.rotated_at == T0
    assert state.rotation_history[0].previous_sha1 is None


def test_leaves_signed_by_the_old_key_are_named_once_the_bundle_holds_the_new_ca() -> None:
    """A key rotation with no previous CA kept: the leaf signed by the old key is what fails."""
    namespace = "azure-iot-operations"
    old = _ca(serial=11)
    site = quickstart_site(T0 + H, ca=old)
    issuer = f"{namespace}-aio-certificate-issuer"
    leaf = cg.make_leaf(old, "broker", not_before=T0)
    site.add(rk.CERTIFICATES, certificate("broker", namespace, secret_name="broker", issuer_name=issuer))
    site.add(rk.SECRETS, tls_secret("broker", namespace, leaf, ca=old))
    before = build_state(site.snapshot(), settings=ModelSettings(), now=T0 + H, cache=DecodeCache())
    assert before.root_ca.old_key_certificates == ()
    assert "root-ca-old-key-leaves" not in {f.code for f in before.findings}

    # Renewed with rotationPolicy Always: same subject, a new key; the bundle follows at once.
    new = cg.make_ca(
        QUICKSTART_CA_COMMON_NAME, not_before=T0 + H, days=365, serial=12, key=cg.make_key("ec", "next")
    )
    site.add(rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, new, certificate_name=SELF))
    cm = site.get(rk.CONFIGMAPS, namespace, "azure-iot-operations-aio-ca-trust-bundle")
    cm["data"]["ca.crt"] = new.pem.decode()
    after = build_state(site.snapshot(), settings=ModelSettings(), now=T0 + 2 * H, cache=DecodeCache())
    assert after.trust_bundle.holds_current_ca is True
    assert after.root_ca.old_key_certificates == (f"{namespace}/broker",)
    (finding,) = [f for f in after.findings if f.code == "root-ca-old-key-leaves"]
    assert finding.severity.value == "critical" and f"{namespace}/broker" in finding.message

    # Re-issued by the new key: nothing left to say.
    site.add(rk.SECRETS, tls_secret("broker", namespace, cg.make_leaf(new, "broker", not_before=T0), ca=new))
    again = build_state(site.snapshot(), settings=ModelSettings(), now=T0 + 2 * H, cache=DecodeCache())
    assert again.root_ca.old_key_certificates == ()


def _failed_root_site(now: datetime) -> tuple[Any, dict[str, Any]]:
    """A quickstart site whose root CA renewal (revision 2) failed twice, with that failed request."""
    ca = _ca(serial=21)
    site = quickstart_site(now, ca=ca)
    cert = certificate(
        SELF,
        CERT_MANAGER_NAMESPACE,
        secret_name=ROOT_CA_SECRET,
        issuer_name=SELF,
        is_ca=True,
        common_name=QUICKSTART_CA_COMMON_NAME,
        not_before=T0,
        not_after=T0 + timedelta(days=365),
        revision=1,
        ready=True,
        issuing_reason="Failed",
        issuing_status=False,
        failed_attempts=2,
        last_failure_time=now - H,
    )
    cert["spec"]["subject"] = {"organizations": [cg.TEST_ORGANIZATION]}
    site.add(rk.CERTIFICATES, cert)
    # The request cert-manager made for revision 2, as the demo's cert-manager writes it.
    renewed = _ca(serial=22, not_before=now - H)
    request = aio.certificate_request(
        cert, renewed, renewed.pem, 2, now - H, "x", failed_message="issuer down"
    )
    site.add(rk.CERTIFICATE_REQUESTS, served(request))
    return site, cert


def test_a_failed_renewal_waits_out_the_backoff_while_the_spec_matches_its_request() -> None:
    now = T0 + timedelta(days=10)
    site, _ = _failed_root_site(now)
    root = build_state(site.snapshot(), settings=ModelSettings(), now=now, cache=DecodeCache()).root_ca
    assert root.resource is not None and root.resource.request_mismatch == ()
    assert root.rotation.phase is RotationPhase.FAILED and not root.rotation.retry_now
    assert root.rotation.next_attempt == now - H + 2 * H  # 2 failures: 2h after the last one


def test_a_failed_renewal_whose_spec_changed_since_its_request_skips_the_backoff() -> None:
    now = T0 + timedelta(days=10)
    site, cert = _failed_root_site(now)
    # cert-manager's RequestMatchesSpec fields: here the duration and the DNS names.
    cert["spec"]["duration"] = "4320h0m0s"
    cert["spec"]["dnsNames"] = ["ca.example"]
    root = build_state(site.snapshot(), settings=ModelSettings(), now=now, cache=DecodeCache()).root_ca
    assert root.resource is not None and root.resource.request_mismatch == ("spec.dnsNames", "spec.duration")
    rotation = root.rotation
    assert rotation.phase is RotationPhase.FAILED and rotation.retry_now and rotation.next_attempt is None
    assert rotation.message == (
        "failed 2x; spec changed since (spec.dnsNames, spec.duration): next attempt as soon as "
        "cert-manager sees the change, no backoff"
    )
    # Only the request of the next revision counts: one for the current revision says nothing.
    (request,) = site.objects[rk.CERTIFICATE_REQUESTS.key].values()
    request["metadata"]["annotations"]["cert-manager.io/certificate-revision"] = "1"
    root = build_state(site.snapshot(), settings=ModelSettings(), now=now, cache=DecodeCache()).root_ca
    assert (
        root.resource is not None and root.resource.request_mismatch is None and not root.rotation.retry_now
    )


def test_request_spec_reads_the_csr_and_issuer_ref_with_cert_managers_defaults() -> None:
    leaf = cg.make_leaf(None, "broker", dns=("b.example", "a.example"), ips=("10.0.0.1",), uris=("urn:x",))
    owner = certificate("broker", "aio", secret_name="broker", issuer_name="ca", issuer_kind="ClusterIssuer")
    request = aio.certificate_request(owner, leaf, leaf.pem, 2, T0, "y")
    request["spec"]["issuerRef"] = {"name": "ca", "kind": "ClusterIssuer"}  # group left to its default
    spec = request_spec(request)
    assert spec is not None
    names = dict(spec.names)
    assert names["spec.commonName"] == ("broker",)
    assert names["spec.dnsNames"] == ("a.example", "b.example")
    assert names["spec.ipAddresses"] == ("10.0.0.1",) and names["spec.uris"] == ("urn:x",)
    assert spec.issuer == ("ca", "ClusterIssuer", "cert-manager.io")
    owner["spec"].update(commonName="broker", dnsNames=["b.example", "a.example"], ipAddresses=["10.0.0.1"])
    owner["spec"].update(uris=["urn:x"], subject={"organizations": [cg.TEST_ORGANIZATION]})
    owner["spec"]["issuerRef"] = {"name": "ca", "kind": "ClusterIssuer", "group": "cert-manager.io"}
    assert spec_mismatches(owner, spec) == ()
    owner["spec"]["issuerRef"]["name"] = "other"
    owner["spec"]["isCA"] = True
    assert spec_mismatches(owner, spec) == ("spec.isCA", "spec.issuerRef")
    request["spec"]["request"] = "bm90IGEgY3Ny"  # not a CSR: nothing to compare with
    assert request_spec(request) is None


def test_history_labels_a_certificate_with_the_revision_whose_request_issued_it() -> None:
    """Trial finding 14: after 1 -> 2 -> 3 within seconds the pane read ``serial 68709AAE… rev 1`` for
    revision 2. cert-manager writes the Secret before it moves ``status.revision`` on, so the status
    lags; the CertificateRequest that issued the certificate names its revision."""
    cache = DecodeCache()
    settings = ModelSettings()
    old = _ca(days=2, serial=21)
    start = T0 + timedelta(days=1)
    site = quickstart_site(start, ca=old)
    s1 = build_state(site.snapshot(), settings=settings, now=start, cache=cache)
    owner = site.get(rk.CERTIFICATES, CERT_MANAGER_NAMESPACE, SELF)

    def issue(revision: int, serial: int, at: datetime) -> cg.Issued:
        new = _ca(days=2, not_before=at, serial=serial)
        request = aio.certificate_request(owner, new, new.pem, revision, at, f"r{revision}")
        site.add(rk.CERTIFICATE_REQUESTS, served(request, created=at))
        # The Secret moves on; the Certificate's status.revision is still 1 (not yet written).
        site.add(rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, new, certificate_name=SELF))
        return new

    at2 = start + timedelta(seconds=1)
    second = issue(2, 22, at2)
    s2 = build_state(site.snapshot(), settings=settings, now=at2, previous=s1, cache=cache)
    at3 = at2 + timedelta(seconds=2)
    third = issue(3, 23, at3)
    s3 = build_state(site.snapshot(), settings=settings, now=at3, previous=s2, cache=cache)
    assert s3.root_ca.resource is not None and s3.root_ca.resource.revision == 1  # the lagging status
    labels = [(e.sha1, e.revision) for e in s3.rotation_history]
    assert labels == [(_info(second).sha1, 2), (_info(third).sha1, 3)]
    # A one-shot build (no history) infers the rotation with the request's revision too.
    fresh = build_state(site.snapshot(), settings=settings, now=at3, cache=DecodeCache())
    assert [e.revision for e in fresh.rotation_history] == [3]
