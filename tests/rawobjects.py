"""Test-side builders of realistic raw Kubernetes objects, shaped as ``../shared/domain.md`` describes.

Every function returns a plain dict as the API server would send it (Secret ``data`` base64, timestamps
RFC 3339 with ``Z``). :class:`Site` collects objects into a :class:`~tui.core.model.snapshot.RawSnapshot`
and :func:`quickstart_site` seeds a whole default AIO site around a given CA and OPC UA files::

    ca = certgen.make_ca(QUICKSTART_CA_COMMON_NAME)
    site = quickstart_site(NOW, ca=ca, trust={"plc-1.der": leaf.der}, issuer={"site-ca.crt": sub.pem})
    raw = site.snapshot()
    vault = site.vault_snapshot()

Colleagues may reuse these in their tests; nothing here talks to a network.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    DEFAULT_NAMESPACE,
    ISSUER_LIST_SYNC,
    OPCUA_SPC,
    ROOT_CA_SECRET,
    SECRET_SYNC_LABEL,
    SSC_SERVICE_ACCOUNT,
    TRUST_BUNDLE_LABEL,
    TRUST_LIST_SYNC,
    AioNames,
)
from tui.core.model.resources import ResourceKind
from tui.core.model.snapshot import (
    AreaState,
    ObjectKey,
    RawSnapshot,
    ResourceStatus,
    VaultSecret,
    VaultSnapshot,
)
from tui.core.model.spc import cli_object, serialize_objects

if TYPE_CHECKING:
    from tests.certgen import Issued

Obj = dict[str, Any]
_rv = itertools.count(1000)


def rfc3339(when: datetime | None) -> str | None:
    """A timestamp as Kubernetes writes it."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def b64(data: bytes) -> str:
    """Secret ``data`` encoding."""
    return base64.b64encode(data).decode("ascii")


def metadata(
    name: str,
    namespace: str = "",
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owners: Sequence[Obj] = (),
    generation: int | None = 1,
) -> Obj:
    """``metadata`` with a uid, resourceVersion and creationTimestamp, like a served object."""
    meta: Obj = {
        "name": name,
        "uid": f"uid-{namespace or 'cluster'}-{name}",
        "resourceVersion": str(next(_rv)),
        "creationTimestamp": "2025-01-01T00:00:00Z",
    }
    if namespace:
        meta["namespace"] = namespace
    if generation is not None:
        meta["generation"] = generation
    if labels:
        meta["labels"] = dict(labels)
    if annotations:
        meta["annotations"] = dict(annotations)
    if owners:
        meta["ownerReferences"] = list(owners)
    return meta


def condition(
    type_: str,
    status: bool | str,
    reason: str,
    message: str = "",
    at: datetime | None = None,
    generation: int | None = 1,
) -> Obj:
    """A metav1.Condition dict."""
    value = status if isinstance(status, str) else ("True" if status else "False")
    out: Obj = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": rfc3339(at or datetime(2025, 1, 1, tzinfo=UTC)),
    }
    if generation is not None:
        out["observedGeneration"] = generation
    return out


# --- cert-manager -----


def tls_secret(
    name: str,
    namespace: str,
    cert: Issued,
    *,
    ca: Issued | None = None,
    include_key: bool = True,
    certificate_name: str | None = None,
) -> Obj:
    """A kubernetes.io/tls Secret as cert-manager writes it (tls.crt, tls.key, ca.crt, annotations)."""
    data = {"tls.crt": b64(cert.pem), "ca.crt": b64((ca or cert).pem)}
    if include_key:
        data["tls.key"] = b64(cert.key_pem)
    annotations = {"cert-manager.io/certificate-name": certificate_name or name} if certificate_name else {}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(
            name,
            namespace,
            labels={"controller.cert-manager.io/fao": "true"},
            annotations=annotations,
            generation=None,
        ),
        "type": "kubernetes.io/tls",
        "data": data,
    }


def certificate(
    name: str,
    namespace: str,
    *,
    secret_name: str,
    issuer_name: str,
    issuer_kind: str = "ClusterIssuer",
    is_ca: bool = False,
    common_name: str | None = None,
    duration: str | None = "2160h0m0s",
    renew_before: str | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    renewal_time: datetime | None = None,
    revision: int | None = 1,
    ready: bool | None = True,
    ready_reason: str = "Ready",
    ready_message: str = "Certificate is up to date and has not expired",
    issuing_reason: str | None = None,
    issuing_status: bool = True,
    issuing_message: str = "",
    failed_attempts: int | None = None,
    last_failure_time: datetime | None = None,
    rotation_policy: str | None = "Never",
) -> Obj:
    """A cert-manager Certificate with status (conditions Ready and, when given, Issuing)."""
    spec: Obj = {
        "secretName": secret_name,
        "isCA": is_ca,
        "issuerRef": {"name": issuer_name, "kind": issuer_kind, "group": "cert-manager.io"},
    }
    if common_name:
        spec["commonName"] = common_name
    if duration:
        spec["duration"] = duration
    if renew_before:
        spec["renewBefore"] = renew_before
    if rotation_policy:
        spec["privateKey"] = {
            "algorithm": "RSA",
            "encoding": "PKCS1",
            "size": 2048,
            "rotationPolicy": rotation_policy,
        }
    conditions = []
    if ready is not None:
        conditions.append(condition("Ready", ready, ready_reason, ready_message))
    if issuing_reason is not None:
        conditions.append(condition("Issuing", issuing_status, issuing_reason, issuing_message))
    status: Obj = {"conditions": conditions}
    for key, value in (
        ("notBefore", not_before),
        ("notAfter", not_after),
        ("renewalTime", renewal_time),
        ("lastFailureTime", last_failure_time),
    ):
        if value is not None:
            status[key] = rfc3339(value)
    if revision is not None:
        status["revision"] = revision
    if failed_attempts is not None:
        status["failedIssuanceAttempts"] = failed_attempts
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": metadata(name, namespace),
        "spec": spec,
        "status": status,
    }


def certificate_request(
    certificate_name: str,
    namespace: str,
    revision: int,
    *,
    issuer_name: str,
    failed_message: str | None = None,
    created: datetime | None = None,
    suffix: str | None = None,
) -> Obj:
    """A CertificateRequest as cert-manager creates it for ``revision`` (approved; issued unless failed)."""
    conditions = [condition("Approved", True, "cert-manager.io", "Certificate request has been approved")]
    status: Obj = {"conditions": conditions}
    if failed_message is None:
        conditions.append(condition("Ready", True, "Issued", "Certificate fetched from issuer successfully"))
    else:
        conditions.append(condition("Ready", False, "Failed", failed_message))
        status["failureTime"] = rfc3339(created or datetime(2025, 1, 1, tzinfo=UTC))
    meta = metadata(
        f"{certificate_name[:52]}-{suffix or revision}",
        namespace,
        annotations={
            "cert-manager.io/certificate-name": certificate_name,
            "cert-manager.io/certificate-revision": str(revision),
            "cert-manager.io/private-key-secret-name": f"{certificate_name}-key",
        },
    )
    if created is not None:
        meta["creationTimestamp"] = rfc3339(created)
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "CertificateRequest",
        "metadata": meta,
        "spec": {
            "issuerRef": {"name": issuer_name, "kind": "ClusterIssuer", "group": "cert-manager.io"},
            "request": b64(b"-----BEGIN CERTIFICATE REQUEST-----\n...\n"),
        },
        "status": status,
    }


def _issuer_spec(ca_secret: str | None, type_: str) -> Obj:
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


def _issuer_status(ready: bool | None, reason: str, message: str, at: datetime | None) -> Obj:
    return {"conditions": [] if ready is None else [condition("Ready", ready, reason, message, at)]}


def cluster_issuer(
    name: str,
    *,
    ca_secret: str | None = None,
    type_: str = "selfSigned",
    ready: bool | None = True,
    reason: str | None = None,
    message: str | None = None,
    at: datetime | None = None,
) -> Obj:
    """A ClusterIssuer: CA type when ``ca_secret`` is given, else ``type_`` (selfSigned by default)."""
    default_reason, default_message = (
        ("KeyPairVerified", "Signing CA verified") if ca_secret else ("IsReady", "")
    )
    return {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": metadata(name),
        "spec": _issuer_spec(ca_secret, type_),
        "status": _issuer_status(
            ready, reason or default_reason, message if message is not None else default_message, at
        ),
    }


def issuer(
    name: str,
    namespace: str,
    *,
    ca_secret: str | None = None,
    type_: str = "selfSigned",
    ready: bool | None = True,
    reason: str | None = None,
    message: str | None = None,
) -> Obj:
    """A namespaced Issuer (see :func:`cluster_issuer`)."""
    obj = cluster_issuer(name, ca_secret=ca_secret, type_=type_, ready=ready, reason=reason, message=message)
    obj["kind"] = "Issuer"
    obj["metadata"] = metadata(name, namespace)
    return obj


# --- trust-manager -----


def trust_bundle(
    name: str,
    *,
    source_secret: str,
    source_key: str = "tls.crt",
    target_key: str = "ca.crt",
    namespace_selector: str = DEFAULT_NAMESPACE,
    ready: bool | None = True,
    reason: str = "Synced",
    message: str = "Successfully synced Bundle to all namespaces",
) -> Obj:
    """A trust-manager Bundle (cluster-scoped) copying a secret key into a ConfigMap of the same name."""
    return {
        "apiVersion": "trust.cert-manager.io/v1alpha1",
        "kind": "Bundle",
        "metadata": metadata(name),
        "spec": {
            "sources": [{"secret": {"name": source_secret, "key": source_key}}],
            "target": {
                "configMap": {"key": target_key},
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace_selector}},
            },
        },
        "status": {"conditions": [] if ready is None else [condition("Synced", ready, reason, message)]},
    }


def trust_configmap(
    name: str, namespace: str, pem: bytes, *, key: str = "ca.crt", bundle_name: str | None = None
) -> Obj:
    """The trust bundle ConfigMap (PEM text in ``data``), labelled by trust-manager when ``bundle_name``."""
    labels = {TRUST_BUNDLE_LABEL: bundle_name} if bundle_name else None
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": metadata(name, namespace, labels=labels, generation=None),
        "data": {key: pem.decode("ascii")},
    }


# --- AIO broker and dataflow -----


def broker_listener(
    namespace: str,
    issuer_name: str,
    issuer_kind: str = "ClusterIssuer",
    name: str = "default",
    port: int = 18883,
) -> Obj:
    """BrokerListener ``default`` with automatic TLS from ``issuer_kind/issuer_name``."""
    return {
        "apiVersion": "mqttbroker.iotoperations.azure.com/v1",
        "kind": "BrokerListener",
        "metadata": metadata(name, namespace),
        "spec": {
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
                            "issuerRef": {
                                "group": "cert-manager.io",
                                "kind": issuer_kind,
                                "name": issuer_name,
                            },
                            "privateKey": {"algorithm": "Ec256", "rotationPolicy": "Always"},
                        },
                    },
                }
            ],
        },
    }


def dataflow_endpoint(
    namespace: str, configmap: str, name: str = "default", *, flat_tls: bool = False
) -> Obj:
    """DataflowEndpoint ``default`` trusting the broker through ``configmap`` (``mqttSettings.tls`` as
    the AIO CRD has it; ``flat_tls`` puts it at ``spec.tls`` instead)."""
    tls = {"mode": "Enabled", "trustedCaCertificateConfigMapRef": configmap}
    mqtt: Obj = {
        "host": f"aio-broker.{namespace}:18883",
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
    return {
        "apiVersion": "connectivity.iotoperations.azure.com/v1",
        "kind": "DataflowEndpoint",
        "metadata": metadata(name, namespace),
        "spec": spec,
    }


# --- Secret Store extension -----


def secret_name_for(file_name: str) -> str:
    """The Key Vault secret name the official CLI derives from a file name."""
    return file_name.replace(".", "-")


def spc(
    name: str,
    namespace: str,
    object_names: Sequence[str] | None = None,
    *,
    objects_text: str | None = None,
    keyvault: str = "kv-aio-test",
    style: str = "cli",
) -> Obj:
    """A SecretProviderClass whose ``objects`` lists hex-encoded secrets (or the given raw text)."""
    params: Obj = {
        "keyvaultName": keyvault,
        "clientID": "00000000-0000-0000-0000-000000000001",
        "tenantID": "11111111-1111-1111-1111-111111111111",
        "usePodIdentity": "false",
    }
    text = (
        objects_text
        if objects_text is not None
        else serialize_objects([cli_object(n) for n in object_names or ()], style=style)
    )  # type: ignore[arg-type]
    if text is not None:
        params["objects"] = text
    return {
        "apiVersion": "secrets-store.csi.x-k8s.io/v1",
        "kind": "SecretProviderClass",
        "metadata": metadata(name, namespace),
        "spec": {"provider": "azure", "parameters": params},
    }


# Condition families (domain.md 4.2): released v0.0.x and upstream main.
FAMILY_RELEASED = "released"
FAMILY_UPSTREAM = "upstream"


def secret_sync(
    name: str,
    namespace: str,
    spc_name: str,
    mappings: Sequence[tuple[str, str]],
    *,
    family: str = FAMILY_RELEASED,
    failure: tuple[str, str] | None = None,
    last_sync: datetime | None = None,
    force: str | None = None,
) -> Obj:
    """A SecretSync with status conditions of one family; ``failure`` is ``(reason, message)``."""
    if family == FAMILY_RELEASED:
        conditions = [
            condition("Create", True, "CreateSucceeded", "Secret created successfully"),
            condition("Update", True, "UpdateNoValueChangeSucceeded", "Secret is up to date"),
        ]
        if failure:
            conditions[1] = condition("Update", False, failure[0], failure[1])
    else:
        conditions = [
            condition("SecretCreated", True, "CreateSuccessful", "secret created"),
            condition("SecretUpdated", True, "SecretUpToDate", "secret up to date"),
        ]
        if failure:
            conditions[1] = condition("SecretUpdated", False, failure[0], failure[1])
    spec: Obj = {
        "secretProviderClassName": spc_name,
        "serviceAccountName": SSC_SERVICE_ACCOUNT,
        "secretObject": {"type": "Opaque", "data": [{"sourcePath": s, "targetKey": t} for s, t in mappings]},
    }
    if force:
        spec["forceSynchronization"] = force
    status: Obj = {"conditions": conditions, "syncHash": "0" * 16}
    if last_sync:
        status["lastSuccessfulSyncTime"] = rfc3339(last_sync)
    return {
        "apiVersion": "secret-sync.x-k8s.io/v1alpha1",
        "kind": "SecretSync",
        "metadata": metadata(name, namespace),
        "spec": spec,
        "status": status,
    }


def synced_secret(name: str, namespace: str, files: Mapping[str, bytes], *, managed: bool = True) -> Obj:
    """The Secret the sync controller writes: same name, label, annotation, ownerReference."""
    labels = {SECRET_SYNC_LABEL: ""} if managed else None
    annotations = {SECRET_SYNC_LABEL: ""} if managed else None
    owners = (
        [
            {
                "apiVersion": "secret-sync.x-k8s.io/v1alpha1",
                "kind": "SecretSync",
                "name": name,
                "uid": f"uid-{namespace}-{name}",
                "controller": True,
            }
        ]
        if managed
        else []
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": metadata(
            name, namespace, labels=labels, annotations=annotations, owners=owners, generation=None
        ),
        "type": "Opaque",
        "data": {k: b64(v) for k, v in files.items()},
    }


def content_type_for(file_name: str) -> str:
    """The contentType the official CLI writes for a file extension (domain.md 4.4)."""
    ext = file_name.rsplit(".", 1)[-1].lower()
    return {"crl": "application/pkix-crl", "der": "application/pkix-cert"}.get(ext, "application/x-pem-file")


# --- Collecting a site -----


class Site:
    """Raw objects by resource kind, read states by resource, and the vault's secrets."""

    def __init__(self, taken_at: datetime, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.taken_at = taken_at
        self.namespace = namespace
        self.objects: dict[str, dict[ObjectKey, Obj]] = {k.key: {} for k in rk.ALL_KINDS}
        self.states: dict[str, ResourceStatus] = {k.key: ResourceStatus(AreaState.OK) for k in rk.ALL_KINDS}
        self.vault_files: dict[str, bytes] = {}
        self.vault_url = "https://kv-aio-test.vault.azure.net/"

    def add(self, kind: ResourceKind, obj: Obj) -> Site:
        """Add or replace one object."""
        meta = obj["metadata"]
        self.objects[kind.key][(meta.get("namespace", ""), meta["name"])] = obj
        return self

    def get(self, kind: ResourceKind, namespace: str, name: str) -> Obj:
        """One object (for tests that edit it in place)."""
        return self.objects[kind.key][(namespace, name)]

    def remove(self, kind: ResourceKind, namespace: str, name: str) -> Site:
        """Drop one object."""
        self.objects[kind.key].pop((namespace, name), None)
        return self

    def set_state(self, kind: ResourceKind, state: AreaState, message: str = "") -> Site:
        """Mark a resource as forbidden / not installed / ...; its objects are dropped unless OK."""
        self.states[kind.key] = ResourceStatus(state, message)
        if state in (AreaState.FORBIDDEN, AreaState.NOT_INSTALLED, AreaState.UNREACHABLE):
            self.objects[kind.key] = {}
        return self

    def snapshot(self, taken_at: datetime | None = None) -> RawSnapshot:
        """The RawSnapshot an adapter would hand over (objects deep enough to stay immutable here)."""
        return RawSnapshot(
            objects={k: MappingProxyType(dict(v)) for k, v in self.objects.items()},
            status=dict(self.states),
            taken_at=taken_at or self.taken_at,
        )

    def vault_snapshot(
        self, *, state: AreaState = AreaState.OK, message: str = "", values: bool = True
    ) -> VaultSnapshot:
        """The vault as the adapter reads it: hex values, content type and tag as the CLI writes them."""
        secrets = {}
        if state is AreaState.OK:
            for file_name, data in self.vault_files.items():
                name = secret_name_for(file_name)
                secrets[name] = VaultSecret(
                    name=name,
                    value=data.hex() if values else None,
                    content_type=content_type_for(file_name),
                    tags=MappingProxyType({"file-encoding": "hex"}),
                )
        return VaultSnapshot(
            self.vault_url, ResourceStatus(state, message), MappingProxyType(secrets), self.taken_at
        )


def quickstart_site(
    now: datetime,
    *,
    ca: Issued,
    trust: Mapping[str, bytes] | None = None,
    issuer_list: Mapping[str, bytes] | None = None,
    namespace: str = DEFAULT_NAMESPACE,
    ca_revision: int = 1,
    ca_duration: timedelta = timedelta(days=365),
    renew_before: timedelta = timedelta(days=30),
    bundle_extra: Iterable[Issued] = (),
    family: str = FAMILY_RELEASED,
    spc_name: str = OPCUA_SPC,
) -> Site:
    """A default AIO site: quickstart CA chain, trust bundle, broker listener, OPC UA lists synced.

    The CA Certificate's notBefore/notAfter come from ``ca`` itself, renewalTime is notAfter minus
    ``renew_before``. ``trust`` and ``issuer_list`` map file names (targetKeys) to file bytes; each
    is mapped, synced and present in the SPC and the vault, so the site starts healthy apart from
    what the certificates themselves say.
    """
    names = AioNames(namespace, CERT_MANAGER_NAMESPACE)
    site = Site(now, namespace)
    not_before, not_after = ca.cert.not_valid_before_utc, ca.cert.not_valid_after_utc
    selfsigned = "azure-iot-operations-aio-selfsigned-root"
    site.add(rk.CLUSTER_ISSUERS, cluster_issuer(selfsigned))
    site.add(rk.CLUSTER_ISSUERS, cluster_issuer(names.issuer_name, ca_secret=ROOT_CA_SECRET))
    site.add(
        rk.CERTIFICATES,
        certificate(
            selfsigned,
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name=selfsigned,
            is_ca=True,
            common_name=ca.cert.subject.rfc4514_string(),
            duration=f"{int(ca_duration.total_seconds() // 3600)}h0m0s",
            renew_before=f"{int(renew_before.total_seconds() // 3600)}h0m0s",
            not_before=not_before,
            not_after=not_after,
            renewal_time=not_after - renew_before,
            revision=ca_revision,
        ),
    )
    site.add(rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, ca, certificate_name=selfsigned))
    pem = b"".join([ca.pem, *(c.pem for c in bundle_extra)])
    site.add(rk.BUNDLES, trust_bundle(names.trust_bundle_configmap, source_secret=ROOT_CA_SECRET))
    site.add(
        rk.CONFIGMAPS,
        trust_configmap(
            names.trust_bundle_configmap, namespace, pem, bundle_name=names.trust_bundle_configmap
        ),
    )
    site.add(rk.BROKER_LISTENERS, broker_listener(namespace, names.issuer_name))
    site.add(rk.DATAFLOW_ENDPOINTS, dataflow_endpoint(namespace, names.trust_bundle_configmap))
    object_names: list[str] = []
    for sync_name, files in ((TRUST_LIST_SYNC, trust), (ISSUER_LIST_SYNC, issuer_list)):
        if not files:
            continue
        mappings = [(secret_name_for(f), f) for f in files]
        object_names += [s for s, _ in mappings]
        site.add(
            rk.SECRET_SYNCS,
            secret_sync(
                sync_name, namespace, spc_name, mappings, family=family, last_sync=now - timedelta(minutes=1)
            ),
        )
        site.add(rk.SECRETS, synced_secret(sync_name, namespace, files))
        site.vault_files.update(files)
    site.add(rk.SECRET_PROVIDER_CLASSES, spc(spc_name, namespace, object_names))
    return site
