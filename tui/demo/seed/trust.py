"""Seed: AIO's TLS trust chain as cert-manager and trust-manager leave it (docs/domain.md §2.2-§2.4, §3).

Two variants: the quickstart site (self-signed root CA in ``cert-manager``, the CA ClusterIssuer, the
trust bundle) and a bring-your-own-issuer site (a customer CA behind an ``Issuer`` in the AIO namespace,
a customer trust bundle ConfigMap with its own name and key). Both get the broker's server certificate,
BrokerListener ``default`` and DataflowEndpoint ``default`` pointing at the right issuer and bundle.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.core.durations import format_duration
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_GROUP,
    CERT_MANAGER_NAMESPACE,
    QUICKSTART_CA_COMMON_NAME,
    SECRET_CA_CRT,
    SECRET_TLS_CRT,
    SECRET_TLS_KEY,
    TRUST_BUNDLE_LABEL,
    AioNames,
)
from tui.demo.seed.keys import ec_key, rsa_key
from tui.demo.seed.objects import (
    BUNDLE_HASH_ANNOTATION,
    CM_FAO_LABEL,
    b64,
    bundle_hash,
    condition,
    iso,
    issued_secret_annotations,
    k8s_object,
    owner_reference,
    renewal_time,
    short_name,
)
from tui.demo.seed.x509 import Issued, build_ca, build_csr, build_leaf, name

SELFSIGNED_ISSUER = "azure-iot-operations-aio-selfsigned-root"
"""Self-signed ClusterIssuer and the Certificate that writes the root CA (public SDK replica naming)."""

ROOT_CA_ORGANIZATION = "Microsoft"
BROKER_CERT = "aio-broker-frontend-server-18883"
"""Broker server Certificate and Secret (UNCONFIRMED name, docs/domain.md §2.3)."""
BROKER_DURATION = timedelta(hours=720)
BROKER_RENEW_BEFORE = timedelta(hours=240)

# Bring-your-own issuer site: a customer PKI (names are ours; any would do).
BYO_ROOT_CN = "Contoso Manufacturing Root CA G2"
BYO_ISSUING_CN = "Contoso AIO Issuing CA"
BYO_ISSUER = "contoso-aio-issuer"
BYO_ISSUER_SECRET = "contoso-aio-issuing-ca"
BYO_ROOT_CONFIGMAP = "contoso-root-ca"
BYO_ROOT_CONFIGMAP_KEY = "root-ca.pem"
BYO_BUNDLE = "contoso-ca-bundle"
BYO_BUNDLE_KEY = "trust-bundle.pem"

READY_MESSAGE = "Certificate is up to date and has not expired"
CR_APPROVED_MESSAGE = "Certificate request has been approved by cert-manager.io"
CR_ISSUED_MESSAGE = "Certificate fetched from issuer successfully"
BUNDLE_SYNCED_MESSAGE = "Successfully synced Bundle to all namespaces"


@dataclass
class SeedContext:
    """Shared state of one seed run: options, names, the seeded random source, and the output."""

    seed: int
    start: datetime
    names: AioNames
    rng: random.Random
    installed_at: datetime
    """When the site was deployed: the creationTimestamp of seeded objects."""
    objects: list[dict[str, Any]] = field(default_factory=list)

    def uid(self) -> str:
        """A deterministic metadata.uid."""
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def serial(self) -> int:
        """A positive 127-bit certificate serial, as cert-manager's random serials."""
        return self.rng.getrandbits(126) | (1 << 126)

    def suffix(self, length: int = 5) -> str:
        """Random lower-case suffix like the API server's generateName."""
        return "".join(self.rng.choice("bcdfghjklmnpqrstvwxz2456789") for _ in range(length))

    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Record ``obj`` (giving it a uid and creationTimestamp) and return it."""
        meta = obj["metadata"]
        meta.setdefault("uid", self.uid())
        meta.setdefault("creationTimestamp", iso(self.installed_at))
        if obj["kind"] not in ("Secret", "ConfigMap", "Namespace"):
            meta.setdefault("generation", 1)
        self.objects.append(obj)
        return obj


def certificate_request(
    certificate: dict[str, Any],
    issued: Issued,
    ca_pem: bytes,
    revision: int,
    now: datetime,
    name_suffix: str,
    *,
    failed_message: str | None = None,
) -> dict[str, Any]:
    """The CertificateRequest cert-manager creates for ``revision`` of ``certificate`` (docs/domain.md §3.4).

    With ``failed_message`` the request is shown as failed (Ready=False, reason Failed).
    """
    meta = certificate["metadata"]
    spec = certificate["spec"]
    base = short_name(meta["name"])
    annotations = {
        "cert-manager.io/certificate-name": meta["name"],
        "cert-manager.io/certificate-revision": str(revision),
        "cert-manager.io/private-key-secret-name": f"{base}-{name_suffix}",
    }
    status: dict[str, Any] = {
        "conditions": [
            condition("Approved", True, "cert-manager.io", CR_APPROVED_MESSAGE, now),
        ]
    }
    if failed_message is None:
        status["conditions"].append(condition("Ready", True, "Issued", CR_ISSUED_MESSAGE, now))
        status["certificate"] = b64(issued.pem)
        status["ca"] = b64(ca_pem)
    else:
        status["conditions"].append(condition("Ready", False, "Failed", failed_message, now))
        status["failureTime"] = iso(now)
    obj = k8s_object(
        rk.CERTIFICATE_REQUESTS,
        f"{base}-{name_suffix}",
        meta["namespace"],
        annotations=annotations,
        owner_references=[owner_reference(certificate, controller=True)],
        spec={
            "request": b64(build_csr(issued)),
            "issuerRef": dict(spec["issuerRef"]),
            "duration": spec.get("duration"),
            "isCA": bool(spec.get("isCA", False)),
            "usages": list(spec.get("usages") or ["digital signature", "key encipherment"]),
            "username": "system:serviceaccount:cert-manager:cert-manager",
        },
        status=status,
    )
    obj["metadata"]["generateName"] = f"{base}-"
    return obj


def certificate_status(
    issued: Issued, revision: int, renew_before: timedelta | None, now: datetime, generation: int = 1
) -> dict[str, Any]:
    """Certificate.status after a successful issuance of ``issued``."""
    cert = issued.cert
    return {
        "conditions": [condition("Ready", True, "Ready", READY_MESSAGE, now, generation)],
        "notBefore": iso(cert.not_valid_before_utc),
        "notAfter": iso(cert.not_valid_after_utc),
        "renewalTime": iso(renewal_time(cert.not_valid_before_utc, cert.not_valid_after_utc, renew_before)),
        "revision": revision,
    }


def issued_secret(
    certificate: dict[str, Any], issued: Issued, ca_pem: bytes, *, chain: bytes = b""
) -> dict[str, Any]:
    """The ``kubernetes.io/tls`` Secret cert-manager writes for ``certificate``."""
    meta = certificate["metadata"]
    spec = certificate["spec"]
    return k8s_object(
        rk.SECRETS,
        spec["secretName"],
        meta["namespace"],
        labels={CM_FAO_LABEL: "true"},
        annotations=issued_secret_annotations(meta["name"], spec["issuerRef"], issued.cert),
        type="kubernetes.io/tls",
        data={
            SECRET_TLS_CRT: b64(issued.pem + chain),
            SECRET_TLS_KEY: b64(issued.tls_key_pem),
            SECRET_CA_CRT: b64(ca_pem),
        },
    )


def issuer_ready_condition(kind_of_issuer: str, now: datetime) -> dict[str, Any]:
    """Ready=True condition of a healthy ``ca`` or ``selfSigned`` issuer (docs/domain.md §3.6)."""
    if kind_of_issuer == "ca":
        return condition("Ready", True, "KeyPairVerified", "Signing CA verified", now, 1)
    return condition("Ready", True, "IsReady", "", now, 1)


def _issuer(kind: rk.ResourceKind, name_: str, namespace: str | None, spec: dict, now: datetime) -> dict:
    variant = "ca" if "ca" in spec else "selfSigned"
    return k8s_object(
        kind, name_, namespace, spec=spec, status={"conditions": [issuer_ready_condition(variant, now)]}
    )


def _namespace(name_: str) -> dict[str, Any]:
    return k8s_object(
        rk.NAMESPACES, name_, labels={"kubernetes.io/metadata.name": name_}, status={"phase": "Active"}
    )


def seed_namespaces(ctx: SeedContext) -> None:
    """The namespaces a site has (AIO, cert-manager, the secret store extension, the defaults)."""
    for ns in ("default", "kube-system", CERT_MANAGER_NAMESPACE, "azure-secret-store", ctx.names.namespace):
        ctx.add(_namespace(ns))


def ca_age(ca_duration: timedelta, renew_before: timedelta) -> timedelta:
    """How long ago the seeded root CA was issued: a third of the way to its renewal time.

    With cert-manager's defaults (90 d / 30 d) that is 20 days; with ``--ca-duration 60s
    --renew-before 45s`` it is 5 s, so the first rotation comes 10 s after start-up.
    """
    start = datetime(2000, 1, 1, tzinfo=UTC)
    to_renewal = renewal_time(start, start + ca_duration, renew_before) - start
    return to_renewal / 3


def _broker_certificate(
    ctx: SeedContext, issuer_ref: dict[str, str], signer: Issued, ca_pem: bytes, chain: bytes
) -> None:
    ns = ctx.names.namespace
    spec = {
        "secretName": BROKER_CERT,
        "duration": format_duration(BROKER_DURATION),
        "renewBefore": format_duration(BROKER_RENEW_BEFORE),
        "commonName": "aio-broker",
        "dnsNames": ["aio-broker", f"aio-broker.{ns}", f"aio-broker.{ns}.svc.cluster.local"],
        "privateKey": {"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
        "usages": ["server auth", "digital signature", "key encipherment"],
        "issuerRef": issuer_ref,
    }
    cert = ctx.add(k8s_object(rk.CERTIFICATES, BROKER_CERT, ns, spec=spec))
    not_before = max(signer.cert.not_valid_before_utc, ctx.start - timedelta(days=5))
    # The CA issuer never signs past its own expiry (cert-manager truncates the leaf's notAfter).
    not_after = min(not_before + BROKER_DURATION, signer.cert.not_valid_after_utc)
    issued = build_leaf(
        name(spec["commonName"]),
        ec_key(ctx.seed, f"broker/{ns}"),
        serial=ctx.serial(),
        not_before=not_before,
        not_after=not_after,
        signer=signer,
        dns_names=spec["dnsNames"],
    )
    # Issued at install time (revision 1) or renewed since (revision 2).
    revision = 1 if not_before - ctx.installed_at < timedelta(minutes=1) else 2
    cert["status"] = certificate_status(issued, revision, BROKER_RENEW_BEFORE, not_before)
    ctx.add(issued_secret(cert, issued, ca_pem, chain=chain))
    ctx.add(certificate_request(cert, issued, ca_pem, revision, not_before, ctx.suffix()))


def _broker_listener(ctx: SeedContext, issuer_ref: dict[str, str]) -> None:
    ctx.add(
        k8s_object(
            rk.BROKER_LISTENERS,
            "default",
            ctx.names.namespace,
            spec={
                "brokerRef": "default",
                "serviceName": "aio-broker",
                "serviceType": "ClusterIp",
                "ports": [
                    {
                        "port": 18883,
                        "authenticationRef": "default",
                        "protocol": "Mqtt",
                        "tls": {
                            "mode": "Automatic",
                            "certManagerCertificateSpec": {
                                "issuerRef": issuer_ref,
                                "privateKey": {"algorithm": "Ec256", "rotationPolicy": "Always"},
                            },
                        },
                    }
                ],
            },
            status={"provisioningStatus": {"status": "Succeeded"}},
        )
    )


def _dataflow_endpoint(ctx: SeedContext, trust_configmap: str) -> None:
    ctx.add(
        k8s_object(
            rk.DATAFLOW_ENDPOINTS,
            "default",
            ctx.names.namespace,
            spec={
                "endpointType": "Mqtt",
                "mqttSettings": {
                    "host": "aio-broker:18883",
                    "authentication": {
                        "method": "ServiceAccountToken",
                        "serviceAccountTokenSettings": {"audience": "aio-internal"},
                    },
                    "tls": {"mode": "Enabled", "trustedCaCertificateConfigMapRef": trust_configmap},
                },
            },
            status={"provisioningStatus": {"status": "Succeeded"}},
        )
    )


def _bundle(ctx: SeedContext, name_: str, sources: list[dict], key: str, pem: bytes) -> None:
    ns = ctx.names.namespace
    ctx.add(
        k8s_object(
            rk.BUNDLES,
            name_,
            spec={
                "sources": sources,
                "target": {
                    "configMap": {"key": key},
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ns}},
                },
            },
            status={"conditions": [condition("Synced", True, "Synced", BUNDLE_SYNCED_MESSAGE, ctx.start, 1)]},
        )
    )
    data = {key: pem.decode("ascii")}
    ctx.add(
        k8s_object(
            rk.CONFIGMAPS,
            name_,
            ns,
            labels={TRUST_BUNDLE_LABEL: name_},
            annotations={BUNDLE_HASH_ANNOTATION: bundle_hash(data)},
            data=data,
        )
    )


def seed_quickstart(ctx: SeedContext, ca_duration: timedelta, renew_before: timedelta) -> Issued:
    """The default trust chain: self-signed root CA, its issuers, bundle, broker cert. Returns the CA."""
    names = ctx.names
    issued_at = ctx.start - ca_age(ca_duration, renew_before)
    ctx.add(_issuer(rk.CLUSTER_ISSUERS, SELFSIGNED_ISSUER, None, {"selfSigned": {}}, issued_at))
    spec = {
        "isCA": True,
        "commonName": QUICKSTART_CA_COMMON_NAME,
        "subject": {"organizations": [ROOT_CA_ORGANIZATION]},
        "secretName": names.root_ca_secret,
        "duration": format_duration(ca_duration),
        "renewBefore": format_duration(renew_before),
        # rotationPolicy Always so a rotation brings a new key (the public replica says Never: UNCONFIRMED).
        "privateKey": {"algorithm": "RSA", "encoding": "PKCS1", "size": 2048, "rotationPolicy": "Always"},
        "usages": ["cert sign", "crl sign"],
        "issuerRef": {"name": SELFSIGNED_ISSUER, "kind": "ClusterIssuer", "group": CERT_MANAGER_GROUP},
    }
    cert = ctx.add(k8s_object(rk.CERTIFICATES, SELFSIGNED_ISSUER, CERT_MANAGER_NAMESPACE, spec=spec))
    root = build_ca(
        name(QUICKSTART_CA_COMMON_NAME, organization=ROOT_CA_ORGANIZATION),
        rsa_key(ctx.seed, "quickstart-root-ca"),
        serial=ctx.serial(),
        not_before=issued_at,
        not_after=issued_at + ca_duration,
    )
    cert["status"] = certificate_status(root, 1, renew_before, issued_at)
    ctx.add(issued_secret(cert, root, root.pem))
    ctx.add(certificate_request(cert, root, root.pem, 1, issued_at, ctx.suffix()))
    ca_spec = {"ca": {"secretName": names.root_ca_secret}}
    ctx.add(_issuer(rk.CLUSTER_ISSUERS, names.issuer_name, None, ca_spec, issued_at))
    _bundle(
        ctx,
        names.trust_bundle_configmap,
        [{"secret": {"name": names.root_ca_secret, "key": SECRET_TLS_CRT}}],
        names.trust_bundle_key,
        root.pem,
    )
    issuer_ref = {"name": names.issuer_name, "kind": "ClusterIssuer", "group": CERT_MANAGER_GROUP}
    _broker_certificate(ctx, issuer_ref, root, root.pem, b"")
    _broker_listener(ctx, issuer_ref)
    _dataflow_endpoint(ctx, names.trust_bundle_configmap)
    return root


def seed_byo_issuer(ctx: SeedContext) -> Issued:
    """A bring-your-own-issuer site: customer root and issuing CA, an Issuer, a custom trust bundle."""
    ns = ctx.names.namespace
    root = build_ca(
        name(BYO_ROOT_CN, organization="Contoso Ltd", country="US"),
        rsa_key(ctx.seed, "byo-root-ca"),
        serial=ctx.serial(),
        not_before=ctx.start - timedelta(days=900),
        not_after=ctx.start + timedelta(days=2750),
    )
    issuing = build_ca(
        name(BYO_ISSUING_CN, organization="Contoso Ltd", unit="Plant Operations", country="US"),
        ec_key(ctx.seed, "byo-issuing-ca", "secp384r1"),
        serial=ctx.serial(),
        not_before=ctx.start - timedelta(days=200),
        not_after=ctx.start + timedelta(days=530),
        signer=root,
        path_length=0,
    )
    # The customer installed this secret by hand: no cert-manager labels or annotations.
    ctx.add(
        k8s_object(
            rk.SECRETS,
            BYO_ISSUER_SECRET,
            ns,
            type="kubernetes.io/tls",
            data={
                SECRET_TLS_CRT: b64(issuing.pem + root.pem),
                SECRET_TLS_KEY: b64(issuing.tls_key_pem),
                SECRET_CA_CRT: b64(root.pem),
            },
        )
    )
    ctx.add(_issuer(rk.ISSUERS, BYO_ISSUER, ns, {"ca": {"secretName": BYO_ISSUER_SECRET}}, ctx.start))
    ctx.add(
        k8s_object(
            rk.CONFIGMAPS,
            BYO_ROOT_CONFIGMAP,
            CERT_MANAGER_NAMESPACE,
            data={BYO_ROOT_CONFIGMAP_KEY: root.pem.decode()},
        )
    )
    _bundle(
        ctx,
        BYO_BUNDLE,
        [{"configMap": {"name": BYO_ROOT_CONFIGMAP, "key": BYO_ROOT_CONFIGMAP_KEY}}],
        BYO_BUNDLE_KEY,
        root.pem,
    )
    issuer_ref = {"name": BYO_ISSUER, "kind": "Issuer", "group": CERT_MANAGER_GROUP}
    _broker_certificate(ctx, issuer_ref, issuing, root.pem, issuing.pem)
    _broker_listener(ctx, issuer_ref)
    _dataflow_endpoint(ctx, BYO_BUNDLE)
    return issuing
