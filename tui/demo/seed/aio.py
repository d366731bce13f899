"""The one builder of an AIO site's objects: for the seed, the simulated controllers and the tests.

cert-manager (Certificates, their status, CertificateRequests, issued Secrets, issuers), trust-manager
(Bundles and their ConfigMaps), the broker's listener and the dataflow endpoint, and the Secret Store
extension (SecretProviderClass, SecretSync, the Secret the sync controller writes), shaped as
docs/domain.md §2-§5 describes. Plain dicts as the API server stores them, without the fields the server sets
on create: :func:`tui.demo.seed.objects.stamp` adds those (the seed's ``SeedContext.add`` and the tests'
``Site`` both use it). The tests build on these through ``tests/rawobjects.py``, which only adds test
defaults (fixed dates and identities, ready conditions) and the test site collector.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_GROUP,
    SECRET_CA_CRT,
    SECRET_SYNC_LABEL,
    SECRET_TLS_CRT,
    SECRET_TLS_KEY,
    SSC_SERVICE_ACCOUNT,
    TRUST_BUNDLE_LABEL,
)
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
from tui.demo.seed.x509 import Issued, build_csr

Obj = dict[str, Any]

READY_MESSAGE = "Certificate is up to date and has not expired"
CR_APPROVED_MESSAGE = "Certificate request has been approved by cert-manager.io"
CR_ISSUED_MESSAGE = "Certificate fetched from issuer successfully"
BUNDLE_SYNCED_MESSAGE = "Successfully synced Bundle to all namespaces"

CONTENT_TYPES = {".der": "application/pkix-cert", ".crl": "application/pkix-crl"}
PEM_CONTENT_TYPE = "application/x-pem-file"
PROVISIONED: Obj = {"provisioningStatus": {"status": "Succeeded"}}
"""The status AIO's operator gives a broker listener or dataflow endpoint it has set up."""
FILE_ENCODING_TAG = "file-encoding"
"""The tag the official CLI puts on each uploaded file's secret (value ``hex``)."""


# --- cert-manager -----


def issuer_ref(name: str, kind: str = "ClusterIssuer") -> dict[str, str]:
    """A cert-manager ``issuerRef``."""
    return {"name": name, "kind": kind, "group": CERT_MANAGER_GROUP}


def tls_secret(
    name: str,
    namespace: str,
    issued: Issued,
    ca_pem: bytes,
    *,
    chain: bytes = b"",
    include_key: bool = True,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    """A ``kubernetes.io/tls`` Secret: ``tls.crt`` (the certificate, then ``chain``), ``tls.key`` as
    cert-manager writes it, ``ca.crt``."""
    data = {SECRET_TLS_CRT: b64(issued.pem + chain)}
    if include_key:
        data[SECRET_TLS_KEY] = b64(issued.tls_key_pem)
    data[SECRET_CA_CRT] = b64(ca_pem)
    return k8s_object(
        rk.SECRETS,
        name,
        namespace,
        labels=labels,
        annotations=annotations,
        type="kubernetes.io/tls",
        data=data,
    )


def issued_secret(
    certificate: Mapping[str, Any], issued: Issued, ca_pem: bytes, *, chain: bytes = b""
) -> Obj:
    """The ``kubernetes.io/tls`` Secret cert-manager writes for ``certificate``, with its label and
    annotations (docs/domain.md §3.5)."""
    meta = certificate["metadata"]
    spec = certificate["spec"]
    return tls_secret(
        spec["secretName"],
        meta["namespace"],
        issued,
        ca_pem,
        chain=chain,
        labels={CM_FAO_LABEL: "true"},
        annotations=issued_secret_annotations(meta["name"], spec["issuerRef"], issued.cert),
    )


def certificate(
    name: str,
    namespace: str,
    *,
    secret_name: str,
    issuer: Mapping[str, str],
    is_ca: bool | None = None,
    common_name: str | None = None,
    organizations: Sequence[str] = (),
    dns_names: Sequence[str] = (),
    duration: str | None = None,
    renew_before: str | None = None,
    private_key: Mapping[str, Any] | None = None,
    usages: Sequence[str] = (),
    status: Obj | None = None,
) -> Obj:
    """A cert-manager Certificate; only the fields given are written (``issuer`` is an :func:`issuer_ref`)."""
    spec: Obj = {}
    if is_ca is not None:
        spec["isCA"] = is_ca
    if common_name:
        spec["commonName"] = common_name
    if organizations:
        spec["subject"] = {"organizations": list(organizations)}
    spec["secretName"] = secret_name
    for key, value in (
        ("dnsNames", list(dns_names)),
        ("duration", duration),
        ("renewBefore", renew_before),
        ("privateKey", dict(private_key) if private_key else None),
        ("usages", list(usages)),
    ):
        if value:
            spec[key] = value
    spec["issuerRef"] = dict(issuer)
    return k8s_object(rk.CERTIFICATES, name, namespace, spec=spec, status=status)


def certificate_status(
    conditions: Sequence[Obj],
    *,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    renewal_at: datetime | None = None,
    last_failure_time: datetime | None = None,
    revision: int | None = None,
    failed_attempts: int | None = None,
) -> Obj:
    """A Certificate's ``status``; only the fields given are written."""
    status: Obj = {"conditions": list(conditions)}
    for key, moment in (
        ("notBefore", not_before),
        ("notAfter", not_after),
        ("renewalTime", renewal_at),
        ("lastFailureTime", last_failure_time),
    ):
        if moment is not None:
            status[key] = iso(moment)
    if revision is not None:
        status["revision"] = revision
    if failed_attempts is not None:
        status["failedIssuanceAttempts"] = failed_attempts
    return status


def issued_status(
    issued: Issued, revision: int, renew_before: timedelta | None, now: datetime, generation: int = 1
) -> Obj:
    """Certificate.status after a successful issuance of ``issued``."""
    cert = issued.cert
    return certificate_status(
        [condition("Ready", True, "Ready", READY_MESSAGE, now, generation)],
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        renewal_at=renewal_time(cert.not_valid_before_utc, cert.not_valid_after_utc, renew_before),
        revision=revision,
    )


def certificate_request(
    certificate: Mapping[str, Any],
    issued: Issued | None,
    ca_pem: bytes,
    revision: int,
    now: datetime,
    name_suffix: str,
    *,
    failed_message: str | None = None,
) -> Obj:
    """The CertificateRequest cert-manager creates for ``revision`` of ``certificate`` (docs/domain.md §3.4).

    With ``failed_message`` the request is shown as failed (Ready=False, reason Failed). Without
    ``issued`` it carries no CSR and no issued certificate (tests that only look at its status).
    """
    meta = certificate["metadata"]
    spec = certificate["spec"]
    base = short_name(meta["name"])
    annotations = {
        "cert-manager.io/certificate-name": meta["name"],
        "cert-manager.io/certificate-revision": str(revision),
        "cert-manager.io/private-key-secret-name": f"{base}-{name_suffix}",
    }
    status: Obj = {"conditions": [condition("Approved", True, "cert-manager.io", CR_APPROVED_MESSAGE, now)]}
    if failed_message is None:
        status["conditions"].append(condition("Ready", True, "Issued", CR_ISSUED_MESSAGE, now))
        if issued is not None:
            status["certificate"] = b64(issued.pem)
            status["ca"] = b64(ca_pem)
    else:
        status["conditions"].append(condition("Ready", False, "Failed", failed_message, now))
        status["failureTime"] = iso(now)
    request_spec: Obj = {"request": b64(build_csr(issued))} if issued is not None else {}
    request_spec.update(
        {
            "issuerRef": dict(spec["issuerRef"]),
            "duration": spec.get("duration"),
            "isCA": bool(spec.get("isCA", False)),
            # As cert-manager's request manager does: the spec's own usages, none when it has none (a
            # default here would read as a spec change since the request, docs/domain.md §3.3).
            "usages": list(spec.get("usages") or []),
            "username": "system:serviceaccount:cert-manager:cert-manager",
        }
    )
    obj = k8s_object(
        rk.CERTIFICATE_REQUESTS,
        f"{base}-{name_suffix}",
        meta["namespace"],
        annotations=annotations,
        owner_references=[owner_reference(certificate, controller=True)],
        spec=request_spec,
        status=status,
    )
    obj["metadata"]["generateName"] = f"{base}-"
    return obj


def issuer_spec(*, ca_secret: str | None = None, type_: str = "selfSigned") -> Obj:
    """An issuer's spec: a CA issuer when ``ca_secret`` is given, else ``type_`` (selfSigned, vault, acme)."""
    if ca_secret:
        return {"ca": {"secretName": ca_secret}}
    if type_ == "selfSigned":
        return {"selfSigned": {}}
    if type_ == "vault":
        return {
            "vault": {
                "server": "https://vault.example",
                "path": "pki/sign/aio",
                "auth": {"kubernetes": {"role": "aio", "mountPath": "/v1/auth/kubernetes"}},
            }
        }
    if type_ == "acme":
        return {"acme": {"server": "https://acme.example/directory", "privateKeySecretRef": {"name": "acme"}}}
    return {type_: {}}


def issuer_ready_condition(kind_of_issuer: str, now: datetime) -> Obj:
    """Ready=True condition of a healthy ``ca`` or ``selfSigned`` issuer (docs/domain.md §3.6)."""
    if kind_of_issuer == "ca":
        return condition("Ready", True, "KeyPairVerified", "Signing CA verified", now, 1)
    return condition("Ready", True, "IsReady", "", now, 1)


def issuer(
    name: str,
    namespace: str | None,
    spec: Obj,
    now: datetime,
    *,
    ready: bool | None = True,
    reason: str | None = None,
    message: str | None = None,
) -> Obj:
    """An Issuer in ``namespace``, or a ClusterIssuer when it is None, with its Ready condition.

    Ready=True reads as a healthy issuer of its type says it; ``reason`` and ``message`` replace that,
    ``ready=None`` leaves the condition out (an issuer cert-manager has not looked at yet).
    """
    kind = rk.ISSUERS if namespace else rk.CLUSTER_ISSUERS
    variant = "ca" if "ca" in spec else "selfSigned"
    conditions: list[Obj] = []
    if ready is not None:
        default = issuer_ready_condition(variant, now)
        conditions.append(
            condition(
                "Ready",
                ready,
                reason or default["reason"],
                message if message is not None else default["message"],
                now,
                1,
            )
        )
    return k8s_object(kind, name, namespace, spec=spec, status={"conditions": conditions})


# --- trust-manager -----


def trust_bundle(
    name: str,
    sources: Sequence[Obj],
    *,
    key: str,
    namespace: str,
    now: datetime,
    ready: bool | None = True,
    reason: str = "Synced",
    message: str = BUNDLE_SYNCED_MESSAGE,
) -> Obj:
    """A trust-manager Bundle (cluster-scoped) writing ``sources`` into ConfigMap ``name``/``key`` in
    ``namespace``; ``ready=None`` leaves its Synced condition out."""
    conditions = [] if ready is None else [condition("Synced", ready, reason, message, now, 1)]
    return k8s_object(
        rk.BUNDLES,
        name,
        spec={
            "sources": list(sources),
            "target": {
                "configMap": {"key": key},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}},
            },
        },
        status={"conditions": conditions},
    )


def trust_configmap(
    name: str,
    namespace: str,
    pem: bytes,
    *,
    key: str = "ca.crt",
    bundle_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    """A ConfigMap holding PEM text under ``key``; with ``bundle_name`` it is that Bundle's target, with
    trust-manager's label and hash annotation (added to ``labels`` and ``annotations``)."""
    data = {key: pem.decode("ascii")}
    if bundle_name:
        labels = {**(labels or {}), TRUST_BUNDLE_LABEL: bundle_name}
        annotations = {**(annotations or {}), BUNDLE_HASH_ANNOTATION: bundle_hash(data)}
    return k8s_object(rk.CONFIGMAPS, name, namespace, labels=labels, annotations=annotations, data=data)


# --- AIO broker and dataflow -----


def broker_listener(
    namespace: str,
    issuer_name: str,
    issuer_kind: str = "ClusterIssuer",
    *,
    name: str = "default",
    port: int = 18883,
) -> Obj:
    """A BrokerListener with automatic TLS from ``issuer_kind/issuer_name``."""
    return k8s_object(
        rk.BROKER_LISTENERS,
        name,
        namespace,
        spec={
            "brokerRef": "default",
            "serviceName": "aio-broker",
            "serviceType": "ClusterIp",
            "ports": [
                {
                    "port": port,
                    "authenticationRef": "default",
                    "protocol": "Mqtt",
                    "tls": {
                        "mode": "Automatic",
                        "certManagerCertificateSpec": {
                            "issuerRef": issuer_ref(issuer_name, issuer_kind),
                            "privateKey": {"algorithm": "Ec256", "rotationPolicy": "Always"},
                        },
                    },
                }
            ],
        },
        status=PROVISIONED,
    )


def dataflow_endpoint(
    namespace: str, configmap: str, name: str = "default", *, flat_tls: bool = False
) -> Obj:
    """A DataflowEndpoint trusting the broker through ``configmap`` (``mqttSettings.tls`` as the AIO CRD
    has it; ``flat_tls`` puts it at ``spec.tls`` instead)."""
    tls = {"mode": "Enabled", "trustedCaCertificateConfigMapRef": configmap}
    mqtt: Obj = {
        "host": "aio-broker:18883",
        "authentication": {
            "method": "ServiceAccountToken",
            "serviceAccountTokenSettings": {"audience": "aio-internal"},
        },
    }
    spec: Obj = {"endpointType": "Mqtt", "mqttSettings": mqtt}
    if flat_tls:
        spec["tls"] = tls
    else:
        mqtt["tls"] = tls
    return k8s_object(rk.DATAFLOW_ENDPOINTS, name, namespace, spec=spec, status=PROVISIONED)


# --- Secret Store extension -----


def secret_name_for(file_name: str) -> str:
    """The CLI's default vault secret name for a file: every dot becomes a dash."""
    return file_name.replace(".", "-")


def content_type_for(file_name: str) -> str:
    """The content type the CLI sets for a file, by extension (docs/domain.md §6.3)."""
    for ext, ctype in CONTENT_TYPES.items():
        if file_name.lower().endswith(ext):
            return ctype
    return PEM_CONTENT_TYPE


def secret_provider_class(
    name: str,
    namespace: str,
    objects: str | None,
    *,
    keyvault_name: str,
    tenant_id: str,
    client_id: str,
    cloud_name: str | None = None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    """A SecretProviderClass of the Azure provider; ``objects`` is its ``parameters.objects`` text."""
    parameters = {"keyvaultName": keyvault_name, "tenantID": tenant_id, "clientID": client_id}
    if cloud_name is not None:
        parameters["cloudName"] = cloud_name
    if objects is not None:
        parameters["objects"] = objects
    return k8s_object(
        rk.SECRET_PROVIDER_CLASSES,
        name,
        namespace,
        labels=labels,
        annotations=annotations,
        spec={"provider": "azure", "parameters": parameters},
    )


def secret_sync(
    name: str,
    namespace: str,
    spc_name: str,
    mappings: Sequence[tuple[str, str]],
    *,
    force: str | None = None,
    status: Obj | None = None,
    service_account: str = SSC_SERVICE_ACCOUNT,
    secret_type: str = "Opaque",
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
) -> Obj:
    """A SecretSync mapping ``(sourcePath, targetKey)`` pairs of ``spc_name`` into a Secret of
    ``secret_type`` (Opaque, as the official CLI creates them)."""
    spec: Obj = {
        "secretProviderClassName": spc_name,
        "serviceAccountName": service_account,
        "secretObject": {
            "type": secret_type,
            "data": [{"sourcePath": source, "targetKey": target} for source, target in mappings],
        },
    }
    if force:
        spec["forceSynchronization"] = force
    return k8s_object(
        rk.SECRET_SYNCS, name, namespace, labels=labels, annotations=annotations, spec=spec, status=status
    )


def synced_secret(sync: Mapping[str, Any], data: Mapping[str, bytes]) -> Obj:
    """The Secret the sync controller writes for ``sync``: same name, the ``secretObject``'s type, labels
    and annotations plus the controller's own, an ownerReference to ``sync``, and ``data``."""
    meta = sync["metadata"]
    secret_object = (sync.get("spec") or {}).get("secretObject") or {}
    return k8s_object(
        rk.SECRETS,
        meta["name"],
        meta["namespace"],
        labels={**(secret_object.get("labels") or {}), SECRET_SYNC_LABEL: ""},
        annotations={**(secret_object.get("annotations") or {}), SECRET_SYNC_LABEL: ""},
        owner_references=[owner_reference(sync)],
        type=secret_object.get("type") or "Opaque",
        data={k: b64(v) for k, v in data.items()},
    )
