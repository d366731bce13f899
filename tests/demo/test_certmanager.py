"""The simulated cert-manager and trust-manager, driven by a FrozenClock the test moves.

Rotation at renewalTime, the Issuing -> Ready sequence as a watcher sees it, a manual renew as
``cmctl renew`` does it, a failing issuer with cert-manager's backoff, and the trust bundle rebuilt from
its sources: after a rotation it holds only the new CA, as with the real trust-manager.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from kubernetes import watch as k8s_watch

from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.demo.controllers.base import PassResult
from tui.demo.controllers.certmanager import FAIL_ANNOTATION
from tui.demo.environment import DemoEnvironment
from tui.demo.seed import x509 as x509_seed
from tui.demo.seed.objects import condition, iso, parse_iso, set_condition

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NS = "azure-iot-operations"
CM = "cert-manager"
ROOT_CERT = "azure-iot-operations-aio-selfsigned-root"
ROOT_SECRET = "azure-iot-operations-aio-ca-certificate"
BUNDLE = f"{NS}-aio-ca-trust-bundle"


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def demo(clock: FrozenClock) -> Iterator[DemoEnvironment]:
    env = DemoEnvironment(
        clock=clock, ca_duration=timedelta(hours=2), renew_before=timedelta(minutes=90), run_controllers=False
    )
    with env:
        yield env


def _root(env: DemoEnvironment) -> tuple[dict[str, Any], x509.Certificate]:
    cert = env.kube.get(rk.CERTIFICATES, CM, ROOT_CERT)
    secret = env.kube.get(rk.SECRETS, CM, ROOT_SECRET)
    assert cert is not None and secret is not None
    return cert, x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))


def _bundle_certs(env: DemoEnvironment) -> list[x509.Certificate]:
    cm = env.kube.get(rk.CONFIGMAPS, NS, BUNDLE)
    assert cm is not None
    return x509.load_pem_x509_certificates(cm["data"]["ca.crt"].encode())


def _conditions(obj: dict[str, Any]) -> dict[str, tuple[str, str]]:
    return {c["type"]: (c["status"], c["reason"]) for c in obj["status"].get("conditions") or []}


def test_rotation_at_renewal_time_bumps_revision_and_bundle_holds_only_the_new_ca(
    demo: DemoEnvironment, clock: FrozenClock
) -> None:
    before, old = _root(demo)
    renewal = parse_iso(before["status"]["renewalTime"])
    clock.set(renewal - timedelta(seconds=1))
    assert demo.cert_manager.reconcile_once().writes == 0  # not due yet
    clock.set(renewal)
    result = demo.cert_manager.reconcile_once()
    assert result.writes > 0
    after, new = _root(demo)
    status = after["status"]
    assert status["revision"] == before["status"]["revision"] + 1
    assert new.serial_number != old.serial_number
    assert new.public_key() != old.public_key()  # rotationPolicy Always: a new key
    assert new.subject == old.subject
    assert parse_iso(status["notBefore"]) == renewal == new.not_valid_before_utc
    assert parse_iso(status["notAfter"]) == renewal + timedelta(hours=2)
    assert parse_iso(status["renewalTime"]) == renewal + timedelta(minutes=30)
    assert _conditions(after) == {"Ready": ("True", "Ready")}
    requests = [
        r
        for r in demo.kube.list(rk.CERTIFICATE_REQUESTS, CM)
        if r["metadata"]["annotations"]["cert-manager.io/certificate-revision"] == str(status["revision"])
    ]
    assert len(requests) == 1
    request = requests[0]
    assert request["metadata"]["ownerReferences"][0]["uid"] == after["metadata"]["uid"]
    assert request["metadata"]["generateName"] == f"{ROOT_CERT}-"
    assert x509.load_pem_x509_certificate(base64.b64decode(request["status"]["certificate"])) == new

    # The CA issuer re-verifies the new pair; trust-manager rebuilds the bundle from its source, the CA
    # Secret, which now holds only the new CA: the old one leaves the bundle at once.
    assert [c.serial_number for c in _bundle_certs(demo)] == [old.serial_number]
    assert demo.trust_manager.reconcile_once().writes == 1
    assert [c.serial_number for c in _bundle_certs(demo)] == [new.serial_number]
    issuer = demo.kube.get(rk.CLUSTER_ISSUERS, None, f"{NS}-aio-certificate-issuer")
    assert issuer is not None and _conditions(issuer)["Ready"] == ("True", "KeyPairVerified")
    # Nothing is kept for later: no timed pass is asked for, and a later pass changes nothing.
    assert demo.trust_manager.reconcile_once() == PassResult(0, None)
    clock.set(old.not_valid_after_utc)
    assert demo.trust_manager.reconcile_once().writes == 0
    assert [c.serial_number for c in _bundle_certs(demo)] == [new.serial_number]


def test_watcher_sees_issuing_then_ready(demo: DemoEnvironment, clock: FrozenClock) -> None:
    cert, _ = _root(demo)
    seen: list[tuple[int, dict[str, tuple[str, str]]]] = []
    done = threading.Event()
    watch = k8s_watch.Watch()

    def follow() -> None:
        stream = watch.stream(
            demo.kube.custom.list_namespaced_custom_object,
            "cert-manager.io",
            "v1",
            CM,
            "certificates",
            resource_version=cert["metadata"]["resourceVersion"],
            timeout_seconds=20,
        )
        for event in stream:
            obj = event["object"]
            seen.append((obj["status"].get("revision", 0), _conditions(obj)))
            if obj["status"].get("revision") == 2 and "Issuing" not in _conditions(obj):
                done.set()
                watch.stop()

    thread = threading.Thread(target=follow, daemon=True)
    thread.start()
    demo.api.wait_for_watches(1, "cert-manager.io/v1/certificates")
    clock.set(parse_iso(cert["status"]["renewalTime"]))
    demo.cert_manager.reconcile_once()
    assert done.wait(10), seen
    thread.join(5)
    issuing = [conds for rev, conds in seen if conds.get("Issuing", ("", ""))[0] == "True"]
    assert issuing and issuing[0]["Issuing"] == ("True", "Renewing")
    assert seen[-1] == (2, {"Ready": ("True", "Ready")})


def test_manual_renew_like_cmctl(demo: DemoEnvironment) -> None:
    cert, old = _root(demo)
    assert demo.cert_manager.reconcile_once().writes == 0
    renew = condition(
        "Issuing", True, "ManuallyTriggered", "Certificate re-issuance manually triggered", START, 1
    )
    conditions = set_condition(cert["status"]["conditions"], renew)
    demo.kube.patch_status(rk.CERTIFICATES, CM, ROOT_CERT, {"conditions": conditions})
    demo.cert_manager.reconcile_once()
    after, new = _root(demo)
    assert after["status"]["revision"] == 2
    assert new.serial_number != old.serial_number
    assert _conditions(after) == {"Ready": ("True", "Ready")}


def test_a_pass_over_unchanged_issuers_parses_no_key_again(
    demo: DemoEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every Secret write starts a pass, and each pass reads its issuers' keys; an RSA key's parse checks
    # its primes (about 0.1 s), so the keys are kept by their PEM bytes, and a renewal's new key is new.
    parsed: list[bytes] = []
    real = x509_seed.serialization.load_pem_private_key

    def counting(pem: bytes, password: bytes | None) -> Any:
        parsed.append(pem)
        return real(pem, password)

    monkeypatch.setattr(x509_seed.serialization, "load_pem_private_key", counting)
    assert demo.cert_manager.reconcile_once().writes == 0
    assert demo.cert_manager.reconcile_once().writes == 0
    assert parsed == []
    secret = demo.kube.get(rk.SECRETS, CM, ROOT_SECRET)
    assert secret is not None
    key_pem = base64.b64decode(secret["data"]["tls.key"])
    assert x509_seed.load_private_key(key_pem) is x509_seed.load_private_key(key_pem)
    for _ in range(2):  # an unreadable key is refused each time: refusals are not kept
        with pytest.raises(ValueError):
            x509_seed.load_private_key(
                b"-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n"
            )
    assert len(parsed) == 2


def test_failing_issuance_backs_off_then_recovers(demo: DemoEnvironment, clock: FrozenClock) -> None:
    cert, old = _root(demo)
    cert["metadata"].setdefault("annotations", {})[FAIL_ANNOTATION] = "signing backend unavailable"
    demo.kube.replace(rk.CERTIFICATES, cert)
    renewal = parse_iso(cert["status"]["renewalTime"])
    clock.set(renewal)
    demo.cert_manager.reconcile_once()
    failed, same = _root(demo)
    assert same == old and failed["status"]["revision"] == 1
    assert failed["status"]["failedIssuanceAttempts"] == 1
    assert failed["status"]["lastFailureTime"] == iso(renewal)
    issuing = next(c for c in failed["status"]["conditions"] if c["type"] == "Issuing")
    assert (issuing["status"], issuing["reason"]) == ("False", "Failed")
    assert "signing backend unavailable" in issuing["message"]
    failed_requests = [
        r
        for r in demo.kube.list(rk.CERTIFICATE_REQUESTS, CM)
        if _conditions(r)["Ready"] == ("False", "Failed")
    ]
    assert len(failed_requests) == 1

    # cert-manager waits 1h after the first failure, 2h after the second.
    clock.advance(timedelta(minutes=59))
    demo.cert_manager.reconcile_once()
    waiting, _ = _root(demo)
    assert waiting["status"]["failedIssuanceAttempts"] == 1
    clock.advance(timedelta(minutes=1))
    demo.cert_manager.reconcile_once()
    second, _ = _root(demo)
    assert second["status"]["failedIssuanceAttempts"] == 2

    fixed, _ = _root(demo)
    del fixed["metadata"]["annotations"][FAIL_ANNOTATION]
    demo.kube.replace(rk.CERTIFICATES, fixed)
    clock.advance(timedelta(hours=1, minutes=59))
    demo.cert_manager.reconcile_once()
    assert _root(demo)[0]["status"]["failedIssuanceAttempts"] == 2
    clock.advance(timedelta(minutes=1))
    demo.cert_manager.reconcile_once()
    recovered, new = _root(demo)
    assert recovered["status"]["revision"] == 2 and new.serial_number != old.serial_number
    assert "failedIssuanceAttempts" not in recovered["status"]
    assert "lastFailureTime" not in recovered["status"]
    assert _conditions(recovered) == {"Ready": ("True", "Ready")}


def test_broker_certificate_renews_from_the_ca_issuer() -> None:
    clock = FrozenClock(START)
    with DemoEnvironment(clock=clock, run_controllers=False) as env:  # default 90-day CA
        broker = env.kube.get(rk.CERTIFICATES, NS, "aio-broker-frontend-server-18883")
        assert broker is not None
        renewal = parse_iso(broker["status"]["renewalTime"])
        assert renewal == START + timedelta(days=15)  # 30 d issued 5 d ago, renewed 10 d before expiry
        clock.set(renewal)
        env.cert_manager.reconcile_once()
        _, root = _root(env)
        secret = env.kube.get(rk.SECRETS, NS, "aio-broker-frontend-server-18883")
        renewed = env.kube.get(rk.CERTIFICATES, NS, "aio-broker-frontend-server-18883")
        assert secret is not None and renewed is not None
        leaf = x509.load_pem_x509_certificate(base64.b64decode(secret["data"]["tls.crt"]))
        leaf.verify_directly_issued_by(root)
        assert leaf.not_valid_before_utc == renewal
        assert leaf.not_valid_after_utc == renewal + timedelta(days=30)
        assert base64.b64decode(secret["data"]["ca.crt"]) == root.public_bytes(Encoding.PEM)
        assert renewed["status"]["revision"] == broker["status"]["revision"] + 1
