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
    CERT_MANAGER_NAMESPACE,
    QUICKSTART_CA_COMMON_NAME,
    SECRET_TLS_CRT,
    AioNames,
)
from tui.demo.seed.aio import (
    broker_listener,
    certificate,
    certificate_request,
    dataflow_endpoint,
    issued_secret,
    issued_status,
    issuer,
    issuer_ref,
    issuer_spec,
    tls_secret,
    trust_bundle,
    trust_configmap,
)
from tui.demo.seed.keys import ec_key, rsa_key
from tui.demo.seed.objects import k8s_object, renewal_time, stamp
from tui.demo.seed.x509 import Issued, build_ca, build_leaf, name

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
        """Record ``obj`` (giving it a uid, creationTimestamp and generation) and return it."""
        self.objects.append(stamp(obj, uid=self.uid(), created=self.installed_at))
        return obj


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
    ctx: SeedContext, ref: dict[str, str], signer: Issued, ca_pem: bytes, chain: bytes
) -> None:
    ns = ctx.names.namespace
    dns_names = ["aio-broker", f"aio-broker.{ns}", f"aio-broker.{ns}.svc.cluster.local"]
    cert = ctx.add(
        certificate(
            BROKER_CERT,
            ns,
            secret_name=BROKER_CERT,
            issuer=ref,
            common_name="aio-broker",
            dns_names=dns_names,
            duration=format_duration(BROKER_DURATION),
            renew_before=format_duration(BROKER_RENEW_BEFORE),
            private_key={"algorithm": "ECDSA", "size": 256, "rotationPolicy": "Always"},
            usages=["server auth", "digital signature", "key encipherment"],
        )
    )
    not_before = max(signer.cert.not_valid_before_utc, ctx.start - timedelta(days=5))
    # The CA issuer never signs past its own expiry (cert-manager truncates the leaf's notAfter).
    not_after = min(not_before + BROKER_DURATION, signer.cert.not_valid_after_utc)
    issued = build_leaf(
        name("aio-broker"),
        ec_key(ctx.seed, f"broker/{ns}"),
        serial=ctx.serial(),
        not_before=not_before,
        not_after=not_after,
        signer=signer,
        dns_names=dns_names,
    )
    # Issued at install time (revision 1) or renewed since (revision 2).
    revision = 1 if not_before - ctx.installed_at < timedelta(minutes=1) else 2
    cert["status"] = issued_status(issued, revision, BROKER_RENEW_BEFORE, not_before)
    ctx.add(issued_secret(cert, issued, ca_pem, chain=chain))
    ctx.add(certificate_request(cert, issued, ca_pem, revision, not_before, ctx.suffix()))


def _broker_and_dataflow(ctx: SeedContext, ref: dict[str, str], trust_configmap_name: str) -> None:
    ns = ctx.names.namespace
    ctx.add(broker_listener(ns, ref["name"], ref["kind"]))
    ctx.add(dataflow_endpoint(ns, trust_configmap_name))


def _bundle(ctx: SeedContext, name_: str, sources: list[dict], key: str, pem: bytes) -> None:
    ns = ctx.names.namespace
    ctx.add(trust_bundle(name_, sources, key=key, namespace=ns, now=ctx.start))
    ctx.add(trust_configmap(name_, ns, pem, key=key, bundle_name=name_))


def seed_quickstart(ctx: SeedContext, ca_duration: timedelta, renew_before: timedelta) -> Issued:
    """The default trust chain: self-signed root CA, its issuers, bundle, broker cert. Returns the CA."""
    names = ctx.names
    issued_at = ctx.start - ca_age(ca_duration, renew_before)
    ctx.add(issuer(SELFSIGNED_ISSUER, None, issuer_spec(), issued_at))
    cert = ctx.add(
        certificate(
            SELFSIGNED_ISSUER,
            CERT_MANAGER_NAMESPACE,
            secret_name=names.root_ca_secret,
            issuer=issuer_ref(SELFSIGNED_ISSUER),
            is_ca=True,
            common_name=QUICKSTART_CA_COMMON_NAME,
            organizations=[ROOT_CA_ORGANIZATION],
            duration=format_duration(ca_duration),
            renew_before=format_duration(renew_before),
            # rotationPolicy Always so a rotation brings a new key (the public replica says Never:
            # UNCONFIRMED).
            private_key={"algorithm": "RSA", "encoding": "PKCS1", "size": 2048, "rotationPolicy": "Always"},
            usages=["cert sign", "crl sign"],
        )
    )
    root = build_ca(
        name(QUICKSTART_CA_COMMON_NAME, organization=ROOT_CA_ORGANIZATION),
        rsa_key(ctx.seed, "quickstart-root-ca"),
        serial=ctx.serial(),
        not_before=issued_at,
        not_after=issued_at + ca_duration,
    )
    cert["status"] = issued_status(root, 1, renew_before, issued_at)
    ctx.add(issued_secret(cert, root, root.pem))
    ctx.add(certificate_request(cert, root, root.pem, 1, issued_at, ctx.suffix()))
    ctx.add(issuer(names.issuer_name, None, issuer_spec(ca_secret=names.root_ca_secret), issued_at))
    _bundle(
        ctx,
        names.trust_bundle_configmap,
        [{"secret": {"name": names.root_ca_secret, "key": SECRET_TLS_CRT}}],
        names.trust_bundle_key,
        root.pem,
    )
    ref = issuer_ref(names.issuer_name)
    _broker_certificate(ctx, ref, root, root.pem, b"")
    _broker_and_dataflow(ctx, ref, names.trust_bundle_configmap)
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
    ctx.add(tls_secret(BYO_ISSUER_SECRET, ns, issuing, root.pem, chain=root.pem))
    ctx.add(issuer(BYO_ISSUER, ns, issuer_spec(ca_secret=BYO_ISSUER_SECRET), ctx.start))
    ctx.add(trust_configmap(BYO_ROOT_CONFIGMAP, CERT_MANAGER_NAMESPACE, root.pem, key=BYO_ROOT_CONFIGMAP_KEY))
    _bundle(
        ctx,
        BYO_BUNDLE,
        [{"configMap": {"name": BYO_ROOT_CONFIGMAP, "key": BYO_ROOT_CONFIGMAP_KEY}}],
        BYO_BUNDLE_KEY,
        root.pem,
    )
    ref = issuer_ref(BYO_ISSUER, "Issuer")
    _broker_certificate(ctx, ref, issuing, root.pem, issuing.pem)
    _broker_and_dataflow(ctx, ref, BYO_BUNDLE)
    return issuing
