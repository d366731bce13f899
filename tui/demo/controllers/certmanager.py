"""Simulated cert-manager: issues and renews Certificates from ``selfSigned`` and ``ca`` issuers.

What it reproduces (docs/domain.md §3): renewal at ``status.renewalTime`` (from duration/renewBefore),
``cmctl renew`` (an ``Issuing=True, reason=ManuallyTriggered`` condition set on status), a new key per
``privateKey.rotationPolicy``, the Secret with cert-manager's labels and annotations, a CertificateRequest
per revision, ``status.revision``/``notBefore``/``notAfter``/``renewalTime``, ``Issuing`` then ``Ready``
conditions, and issuer readiness (``KeyPairVerified``). For tests, the annotation
:data:`FAIL_ANNOTATION` on a Certificate makes issuance fail the way a failing issuer does:
``Issuing=False``, ``failedIssuanceAttempts``, ``lastFailureTime`` and cert-manager's backoff.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tui.core.clock import Clock
from tui.core.durations import parse_duration
from tui.core.model import resources as rk
from tui.core.model.names import CERT_MANAGER_GROUP, CERT_MANAGER_NAMESPACE, SECRET_TLS_CRT, SECRET_TLS_KEY
from tui.demo.controllers.base import Controller, KubeAccess, PassResult, by_key
from tui.demo.seed.aio import (
    certificate_request,
    issued_secret,
    issued_status,
    issuer_ready_condition,
)
from tui.demo.seed.objects import (
    condition,
    find_condition,
    iso,
    parse_iso,
    remove_condition,
    renewal_time,
    set_condition,
    unb64,
)
from tui.demo.seed.x509 import (
    CLIENT_AUTH,
    SERVER_AUTH,
    Issued,
    PrivateKey,
    SigningKey,
    build_ca,
    build_leaf,
    load_private_key,
    name,
)

FAIL_ANNOTATION = "demo.aio-certs.io/fail-issuance"
"""Annotation (value = failure message) that makes the simulated issuer refuse this Certificate."""
DEFAULT_DURATION = timedelta(days=90)
BACKOFF_MIN = timedelta(hours=1)
BACKOFF_MAX = timedelta(hours=32)
MANUAL_REASON = "ManuallyTriggered"
FAILED_MESSAGE = "The certificate request has failed to complete and will be retried: {}"

KeyFactory = Callable[[Mapping[str, Any]], SigningKey]
"""Makes a new private key for a Certificate's ``spec.privateKey``."""


def new_private_key(private_key_spec: Mapping[str, Any]) -> SigningKey:
    """A fresh key as ``spec.privateKey`` asks (RSA 2048 by default, ECDSA P-256/P-384)."""
    algorithm = str(private_key_spec.get("algorithm") or "RSA").upper()
    size = int(private_key_spec.get("size") or 0)
    if algorithm == "ECDSA":
        return ec.generate_private_key(ec.SECP384R1() if size == 384 else ec.SECP256R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=size or 2048)


def backoff(failed_attempts: int) -> timedelta:
    """cert-manager's wait before retrying: 1h * 2^(n-1), bounded to 1h..32h (docs/domain.md §3.3)."""
    if failed_attempts <= 0:
        return timedelta(0)
    return max(BACKOFF_MIN, min(BACKOFF_MAX, BACKOFF_MIN * (2 ** min(failed_attempts - 1, 10))))


def _duration(spec: Mapping[str, Any], key: str) -> timedelta | None:
    text = spec.get(key)
    if not text:
        return None
    try:
        return parse_duration(str(text))
    except ValueError:
        return None


@dataclass(frozen=True)
class _KeyPair:
    """A TLS Secret's first certificate with its key, and the rest of the chain in ``tls.crt``."""

    issued: Issued
    chain: tuple[x509.Certificate, ...]

    @property
    def intermediates_pem(self) -> bytes:
        """Chain certificates a leaf's ``tls.crt`` carries after it: all but self-signed roots."""
        certs = (self.issued.cert, *self.chain)
        return b"".join(Issued(c, self.issued.key).pem for c in certs if c.subject != c.issuer)

    @property
    def root_pem(self) -> bytes:
        """The root-most certificate of the chain: what a CA issuer puts in ``ca.crt``."""
        return Issued((self.issued.cert, *self.chain)[-1], self.issued.key).pem


def _load_pair(secret: Mapping[str, Any] | None) -> _KeyPair | None:
    """The certificate chain and key in a TLS Secret, or None when missing or unreadable."""
    if not secret:
        return None
    data = secret.get("data") or {}
    try:
        certs = x509.load_pem_x509_certificates(unb64(data[SECRET_TLS_CRT]))
        key = load_private_key(unb64(data[SECRET_TLS_KEY]))
    except (KeyError, ValueError, IndexError):
        return None
    if not certs:
        return None
    return _KeyPair(Issued(certs[0], key), tuple(certs[1:]))


class CertManagerController(Controller):
    """Keeps Certificates issued and renewed and issuers' Ready condition current."""

    name = "cert-manager"
    watched = (rk.CERTIFICATES, rk.ISSUERS, rk.CLUSTER_ISSUERS, rk.SECRETS)

    def __init__(
        self,
        kube: KubeAccess,
        clock: Clock,
        *,
        cluster_resource_namespace: str = CERT_MANAGER_NAMESPACE,
        key_factory: KeyFactory = new_private_key,
    ) -> None:
        super().__init__(kube, clock)
        self.cluster_resource_namespace = cluster_resource_namespace
        self._new_key = key_factory

    # -- issuers -------------------------------------------------------------------------------

    def _issuer_secret_namespace(self, issuer: Mapping[str, Any]) -> str:
        # A ClusterIssuer reads its CA from the controller's cluster resource namespace (docs/domain.md §2.1).
        if issuer.get("kind") == "ClusterIssuer":
            return self.cluster_resource_namespace
        return str(issuer["metadata"].get("namespace") or "")

    def _issuer_condition(self, issuer: Mapping[str, Any], now: datetime) -> dict[str, Any]:
        spec = issuer.get("spec") or {}
        if "selfSigned" in spec:
            return issuer_ready_condition("selfSigned", now)
        if "ca" not in spec:
            message = "issuer type not simulated by the demo"
            return condition("Ready", False, "UnsupportedIssuer", message, now, 1)
        secret_name = str((spec.get("ca") or {}).get("secretName") or "")
        secret = self.kube.get(rk.SECRETS, self._issuer_secret_namespace(issuer), secret_name)
        pair = _load_pair(secret)
        if pair is None:
            why = f'secret "{secret_name}" not found' if secret is None else "no valid certificate and key"
            message = f"Error getting keypair for CA issuer: {why}"
            return condition("Ready", False, "ErrGetKeyPair", message, now, 1)
        try:
            is_ca = pair.issued.cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        except x509.ExtensionNotFound:
            is_ca = False
        if not is_ca:
            message = "Error getting keypair for CA issuer: certificate is not a CA"
            return condition("Ready", False, "ErrInvalidKeyPair", message, now, 1)
        return issuer_ready_condition("ca", now)

    def _reconcile_issuers(self, now: datetime) -> tuple[int, dict[tuple[str, str, str], Mapping[str, Any]]]:
        writes = 0
        issuers: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        for kind in (rk.ISSUERS, rk.CLUSTER_ISSUERS):
            for issuer in self.kube.list(kind):
                meta = issuer["metadata"]
                ns = meta.get("namespace") or ""
                issuers[(kind.kind, ns, meta["name"])] = issuer
                wanted = self._issuer_condition(issuer, now)
                current = (issuer.get("status") or {}).get("conditions") or []
                merged = set_condition(current, wanted)
                if merged != current:
                    self.kube.patch_status(kind, ns or None, meta["name"], {"conditions": merged})
                    writes += 1
                issuer.setdefault("status", {})["conditions"] = merged
        return writes, issuers

    # -- certificates ------------------------------------------------------------------------

    def _reconcile(self) -> PassResult:
        now = self.clock.now()
        writes, issuers = self._reconcile_issuers(now)
        due: datetime | None = None
        secrets_by_key = by_key(self.kube.list(rk.SECRETS))
        for cert in self.kube.list(rk.CERTIFICATES):
            made, next_due = self._reconcile_certificate(cert, issuers, secrets_by_key, now)
            writes += made
            if next_due is not None and (due is None or next_due < due):
                due = next_due
        return PassResult(writes, due)

    def _issuer_for(
        self, cert: Mapping[str, Any], issuers: Mapping[tuple[str, str, str], Mapping[str, Any]]
    ) -> Mapping[str, Any] | None:
        ref = (cert.get("spec") or {}).get("issuerRef") or {}
        if (ref.get("group") or CERT_MANAGER_GROUP) != CERT_MANAGER_GROUP:
            return None  # an external issuer: not ours to simulate
        kind = ref.get("kind") or "Issuer"
        ns = cert["metadata"]["namespace"] if kind == "Issuer" else ""
        return issuers.get((kind, ns, str(ref.get("name") or "")))

    def _trigger(
        self, cert: Mapping[str, Any], current: _KeyPair | None, now: datetime
    ) -> tuple[str | None, str, datetime | None]:
        """Why (re)issue now, with cert-manager's message, or (None, "", when it will be due)."""
        issuing = find_condition(cert, "Issuing")
        if issuing and issuing.get("status") == "True" and issuing.get("reason") == MANUAL_REASON:
            return MANUAL_REASON, "Certificate re-issuance manually triggered", None
        if current is None:
            return "DoesNotExist", "Issuing certificate as Secret does not exist", None
        status = cert.get("status") or {}
        leaf = current.issued.cert
        renew_at = (
            parse_iso(status["renewalTime"])
            if status.get("renewalTime")
            else renewal_time(
                leaf.not_valid_before_utc, leaf.not_valid_after_utc, _duration(cert["spec"], "renewBefore")
            )
        )
        if now >= leaf.not_valid_after_utc:
            return "Expired", "Issuing certificate as Secret has expired", None
        if now >= renew_at:
            return "Renewing", f"Renewing certificate as renewal was scheduled at {iso(renew_at)}", None
        return None, "", renew_at

    def _reconcile_certificate(
        self,
        cert: dict[str, Any],
        issuers: Mapping[tuple[str, str, str], Mapping[str, Any]],
        secrets_by_key: Mapping[tuple[str, str], Mapping[str, Any]],
        now: datetime,
    ) -> tuple[int, datetime | None]:
        issuer = self._issuer_for(cert, issuers)
        if issuer is None or (find_condition(issuer, "Ready") or {}).get("status") != "True":
            return 0, None  # cert-manager waits for the issuer; a later pass (watch event) retries
        meta, spec = cert["metadata"], cert["spec"]
        secret = secrets_by_key.get((meta["namespace"], str(spec.get("secretName") or "")))
        current = _load_pair(secret)
        reason, message, due = self._trigger(cert, current, now)
        if reason is None:
            return 0, due
        status = cert.get("status") or {}
        failures = int(status.get("failedIssuanceAttempts") or 0)
        if failures and reason != MANUAL_REASON and status.get("lastFailureTime"):
            retry_at = parse_iso(status["lastFailureTime"]) + backoff(failures)
            if now < retry_at:
                return 0, retry_at
        return self._issue(cert, issuer, current, secret, reason, message, now)

    def _signer(self, issuer: Mapping[str, Any]) -> _KeyPair | None:
        ca = (issuer.get("spec") or {}).get("ca")
        if ca is None:
            return None
        namespace = self._issuer_secret_namespace(issuer)
        return _load_pair(self.kube.get(rk.SECRETS, namespace, str(ca.get("secretName") or "")))

    def _build(
        self, cert: Mapping[str, Any], key: PrivateKey, signer: Issued | None, now: datetime
    ) -> Issued:
        spec = cert["spec"]
        subject = spec.get("subject") or {}
        orgs = subject.get("organizations") or []
        common_name = str(spec.get("commonName") or "")
        not_after = now + (_duration(spec, "duration") or DEFAULT_DURATION)
        if signer is not None:
            # The CA issuer never signs past its own expiry.
            not_after = min(not_after, signer.cert.not_valid_after_utc)
        serial = secrets.randbits(126) | (1 << 126)
        organization = orgs[0] if orgs else None
        subject_name = name(common_name, organization=organization) if common_name else x509.Name([])
        usages = spec.get("usages") or []
        if spec.get("isCA"):
            return build_ca(
                subject_name, key, serial=serial, not_before=now, not_after=not_after, signer=signer
            )
        return build_leaf(
            subject_name,
            key,
            serial=serial,
            not_before=now,
            not_after=not_after,
            signer=signer,
            dns_names=list(spec.get("dnsNames") or []),
            uris=list(spec.get("uris") or []),
            ip_addresses=list(spec.get("ipAddresses") or []),
            extended_key_usage=(SERVER_AUTH, CLIENT_AUTH) if "client auth" in usages else (SERVER_AUTH,),
        )

    def _create_request(self, request: dict[str, Any]) -> None:
        # The API server drops status on create (status subresource), so it is written afterwards.
        status = request.pop("status")
        created = self.kube.create(rk.CERTIFICATE_REQUESTS, request)
        meta = created["metadata"]
        self.kube.patch_status(rk.CERTIFICATE_REQUESTS, meta["namespace"], meta["name"], status)

    def _issue(
        self,
        cert: dict[str, Any],
        issuer: Mapping[str, Any],
        current: _KeyPair | None,
        secret: Mapping[str, Any] | None,
        reason: str,
        message: str,
        now: datetime,
    ) -> tuple[int, datetime | None]:
        meta, spec = cert["metadata"], cert["spec"]
        ns, cert_name = meta["namespace"], meta["name"]
        status = dict(cert.get("status") or {})
        generation = int(meta.get("generation") or 1)
        revision = int(status.get("revision") or 0) + 1
        issuing = condition("Issuing", True, reason, message, now, generation)
        conditions = set_condition(status.get("conditions"), issuing)
        self.kube.patch_status(rk.CERTIFICATES, ns, cert_name, {"conditions": conditions})
        writes = 1
        suffix = "".join(secrets.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(5))
        failure = (meta.get("annotations") or {}).get(FAIL_ANNOTATION)
        ca_pair = self._signer(issuer)
        if failure is None and "ca" in (issuer.get("spec") or {}):
            if ca_pair is None:
                failure = "the CA issuer's key pair could not be read"
            elif ca_pair.issued.cert.not_valid_after_utc <= now:
                failure = "the CA issuer's certificate has expired"
        policy = str((spec.get("privateKey") or {}).get("rotationPolicy") or "Always")
        if current is not None and policy == "Never":
            key = current.issued.key
        else:
            key = self._new_key(spec.get("privateKey") or {})
        # A failed request still carries a CSR; a self-signed stand-in provides it.
        signer = ca_pair.issued if ca_pair is not None and failure is None else None
        issued = self._build(cert, key, signer, now)
        # ca.crt: the issuer's root for a CA issuer, the certificate itself when self-signed.
        ca_pem = ca_pair.root_pem if ca_pair else issued.pem
        if failure is not None:
            request = certificate_request(cert, issued, ca_pem, revision, now, suffix, failed_message=failure)
            self._create_request(request)
            failures = int(status.get("failedIssuanceAttempts") or 0) + 1
            failed = condition("Issuing", False, "Failed", FAILED_MESSAGE.format(failure), now, generation)
            patch = {
                "conditions": set_condition(conditions, failed),
                "failedIssuanceAttempts": failures,
                "lastFailureTime": iso(now),
            }
            self.kube.patch_status(rk.CERTIFICATES, ns, cert_name, patch)
            return writes + 3, now + backoff(failures)
        self._create_request(certificate_request(cert, issued, ca_pem, revision, now, suffix))
        chain = ca_pair.intermediates_pem if ca_pair else b""
        new_secret = issued_secret(cert, issued, ca_pem, chain=chain)
        if secret is not None:
            # Keep what others put on the Secret; cert-manager only owns its own keys.
            old_meta = secret["metadata"]
            new_meta = new_secret["metadata"]
            new_meta["labels"] = {**(old_meta.get("labels") or {}), **new_meta["labels"]}
            new_meta["annotations"] = {**(old_meta.get("annotations") or {}), **new_meta["annotations"]}
        self.kube.upsert(rk.SECRETS, new_secret, secret)
        done = issued_status(issued, revision, _duration(spec, "renewBefore"), now, generation)
        done["conditions"] = set_condition(remove_condition(conditions, "Issuing"), done["conditions"][0])
        done["failedIssuanceAttempts"] = None  # merge patch: null removes the field
        done["lastFailureTime"] = None
        self.kube.patch_status(rk.CERTIFICATES, ns, cert_name, done)
        return writes + 4, parse_iso(done["renewalTime"])
