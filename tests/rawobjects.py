"""Test additions on top of the one AIO object builder, :mod:`tui.demo.seed.aio`.

The shapes are the package's (the demo's seed and controllers write the same). What this adds for tests:

- :func:`served`: the metadata the API server would have set (``uid-<namespace>-<name>``, a
  resourceVersion from a counter, creationTimestamp :data:`CREATED`), through the seed's own rule;
- objects described by their state, with test defaults: a Certificate Ready or Issuing or failing, an
  issuer Ready or not, a SecretSync with conditions of either family, all dated :data:`CREATED`;
- :class:`Site`, which collects objects into a :class:`~tui.core.model.snapshot.RawSnapshot` and the
  vault into a :class:`~tui.core.model.snapshot.VaultSnapshot`, and :func:`quickstart_site`, a whole
  default AIO site around a given CA and OPC UA files::

    ca = certgen.make_ca(QUICKSTART_CA_COMMON_NAME)
    site = quickstart_site(NOW, ca=ca, trust={"plc-1.der": leaf.der}, issuer_list={"site-ca.crt": sub.pem})
    raw = site.snapshot()
    vault = site.vault_snapshot()

Shapes without test defaults (``trust_configmap``, ``broker_listener``, ``dataflow_endpoint``,
``secret_name_for``...) are imported from :mod:`tui.demo.seed.aio` directly. Nothing here talks to a
network.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any

from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    DEFAULT_NAMESPACE,
    ISSUER_LIST_SYNC,
    OPCUA_SPC,
    ROOT_CA_SECRET,
    SECRET_TLS_CRT,
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
from tui.demo.seed import aio
from tui.demo.seed.objects import CM_FAO_LABEL, b64, condition, iso, k8s_object, stamp
from tui.demo.seed.trust import SELFSIGNED_ISSUER
from tui.demo.seed.x509 import Issued

Obj = dict[str, Any]

CREATED = datetime(2025, 1, 1, tzinfo=UTC)
"""creationTimestamp of every object made here, and the time of its conditions unless a test says."""
TENANT_ID = "11111111-1111-1111-1111-111111111111"
CLIENT_ID = "00000000-0000-0000-0000-000000000001"
KEYVAULT = "kv-aio-test"

# Condition families of SecretSync status (docs/domain.md §5.3): released v0.0.x and upstream main. The
# demo's controller writes the released family only; the model must read both.
FAMILY_RELEASED = "released"
FAMILY_UPSTREAM = "upstream"

_rv = itertools.count(1000)


def _uid(namespace: str, name: str) -> str:
    return f"uid-{namespace or 'cluster'}-{name}"


def served(obj: Obj, *, created: datetime | None = None) -> Obj:
    """``obj`` with the metadata the API server sets, where it is missing (a stable uid from namespace and
    name, so owner references can name it before it is stored)."""
    meta = obj["metadata"]
    version = None if "resourceVersion" in meta else str(next(_rv))
    return stamp(
        obj,
        uid=_uid(meta.get("namespace", ""), meta["name"]),
        created=created or CREATED,
        resource_version=version,
    )


def _condition(
    type_: str, status: bool | str, reason: str, message: str = "", at: datetime | None = None
) -> Obj:
    return condition(type_, status, reason, message, at or CREATED, 1)


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
    """A kubernetes.io/tls Secret with cert-manager's label; ``certificate_name`` adds its annotation."""
    annotations = {"cert-manager.io/certificate-name": certificate_name} if certificate_name else None
    return served(
        aio.tls_secret(
            name,
            namespace,
            cert,
            (ca or cert).pem,
            include_key=include_key,
            labels={CM_FAO_LABEL: "true"},
            annotations=annotations,
        )
    )


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
    ready_message: str = aio.READY_MESSAGE,
    issuing_reason: str | None = None,
    issuing_status: bool = True,
    issuing_message: str = "",
    failed_attempts: int | None = None,
    last_failure_time: datetime | None = None,
    rotation_policy: str | None = "Never",
) -> Obj:
    """A cert-manager Certificate with status: a Ready condition (unless ``ready`` is None) and an Issuing
    one when ``issuing_reason`` is given."""
    conditions = []
    if ready is not None:
        conditions.append(_condition("Ready", ready, ready_reason, ready_message))
    if issuing_reason is not None:
        conditions.append(_condition("Issuing", issuing_status, issuing_reason, issuing_message))
    private_key = (
        {"algorithm": "RSA", "encoding": "PKCS1", "size": 2048, "rotationPolicy": rotation_policy}
        if rotation_policy
        else None
    )
    status = aio.certificate_status(
        conditions,
        not_before=not_before,
        not_after=not_after,
        renewal_at=renewal_time,
        last_failure_time=last_failure_time,
        revision=revision,
        failed_attempts=failed_attempts,
    )
    return served(
        aio.certificate(
            name,
            namespace,
            secret_name=secret_name,
            issuer=aio.issuer_ref(issuer_name, issuer_kind),
            is_ca=is_ca,
            common_name=common_name,
            duration=duration,
            renew_before=renew_before,
            private_key=private_key,
            status=status,
        )
    )


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
    """The CertificateRequest for ``revision`` of Certificate ``certificate_name``, created at ``created``:
    issued, or failed with ``failed_message``. It carries no CSR (the model does not read one)."""
    owner = aio.certificate(
        certificate_name, namespace, secret_name=certificate_name, issuer=aio.issuer_ref(issuer_name)
    )
    owner["metadata"]["uid"] = _uid(namespace, certificate_name)
    request = aio.certificate_request(
        owner, None, b"", revision, created or CREATED, suffix or str(revision), failed_message=failed_message
    )
    return served(request, created=created)


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
    spec = aio.issuer_spec(ca_secret=ca_secret, type_=type_)
    return served(aio.issuer(name, None, spec, at or CREATED, ready=ready, reason=reason, message=message))


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
    spec = aio.issuer_spec(ca_secret=ca_secret, type_=type_)
    return served(aio.issuer(name, namespace, spec, CREATED, ready=ready, reason=reason, message=message))


# --- Secret Store extension -----


def spc(
    name: str,
    namespace: str,
    object_names: Sequence[str] | None = None,
    *,
    objects_text: str | None = None,
    keyvault: str = KEYVAULT,
    style: str = "cli",
) -> Obj:
    """A SecretProviderClass whose ``objects`` lists hex-encoded secrets (or the given raw text)."""
    text = (
        objects_text
        if objects_text is not None
        else serialize_objects([cli_object(n) for n in object_names or ()], style=style)  # type: ignore[arg-type]
    )
    return served(
        aio.secret_provider_class(
            name, namespace, text, keyvault_name=keyvault, tenant_id=TENANT_ID, client_id=CLIENT_ID
        )
    )


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
            _condition("Create", True, "CreateSucceeded", "Secret created successfully"),
            _condition("Update", True, "UpdateNoValueChangeSucceeded", "Secret is up to date"),
        ]
        if failure:
            conditions[1] = _condition("Update", False, failure[0], failure[1])
    else:
        conditions = [
            _condition("SecretCreated", True, "CreateSuccessful", "secret created"),
            _condition("SecretUpdated", True, "SecretUpToDate", "secret up to date"),
        ]
        if failure:
            conditions[1] = _condition("SecretUpdated", False, failure[0], failure[1])
    status: Obj = {"conditions": conditions, "syncHash": "0" * 16}
    if last_sync:
        status["lastSuccessfulSyncTime"] = iso(last_sync)
    return served(aio.secret_sync(name, namespace, spc_name, mappings, force=force, status=status))


def synced_secret(name: str, namespace: str, files: Mapping[str, bytes], *, managed: bool = True) -> Obj:
    """The Secret the sync controller writes for SecretSync ``name``; ``managed=False`` gives a plain
    Opaque Secret of that name that the controller did not write."""
    data = {key: b64(value) for key, value in files.items()}
    if not managed:
        return served(k8s_object(rk.SECRETS, name, namespace, type="Opaque", data=data))
    sync = aio.secret_sync(name, namespace, OPCUA_SPC, [])
    sync["metadata"]["uid"] = _uid(namespace, name)
    return served(aio.synced_secret(sync, files))


# --- Collecting a site -----


class Site:
    """Raw objects by resource kind, read states by resource, and the vault's secrets."""

    def __init__(self, taken_at: datetime, namespace: str = DEFAULT_NAMESPACE) -> None:
        self.taken_at = taken_at
        self.namespace = namespace
        self.objects: dict[str, dict[ObjectKey, Obj]] = {k.key: {} for k in rk.ALL_KINDS}
        self.states: dict[str, ResourceStatus] = {k.key: ResourceStatus(AreaState.OK) for k in rk.ALL_KINDS}
        self.vault_files: dict[str, bytes] = {}
        self.vault_url = f"https://{KEYVAULT}.vault.azure.net/"

    def add(self, kind: ResourceKind, obj: Obj) -> Site:
        """Add or replace one object (given the server's metadata when it has none yet)."""
        meta = served(obj)["metadata"]
        self.objects[kind.key][(meta.get("namespace", ""), meta["name"])] = obj
        return self

    def add_all(self, objects: Iterable[Obj]) -> Site:
        """Add objects of any kind the model reads (the demo's seeded site, for instance)."""
        kinds = {(k.group_version, k.kind): k for k in rk.ALL_KINDS}
        for obj in objects:
            self.add(kinds[(obj["apiVersion"], obj["kind"])], obj)
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
                name = aio.secret_name_for(file_name)
                secrets[name] = VaultSecret(
                    name=name,
                    value=data.hex() if values else None,
                    content_type=aio.content_type_for(file_name),
                    tags=MappingProxyType({aio.FILE_ENCODING_TAG: "hex"}),
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
    site.add(rk.CLUSTER_ISSUERS, cluster_issuer(SELFSIGNED_ISSUER))
    site.add(rk.CLUSTER_ISSUERS, cluster_issuer(names.issuer_name, ca_secret=ROOT_CA_SECRET))
    site.add(
        rk.CERTIFICATES,
        certificate(
            SELFSIGNED_ISSUER,
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name=SELFSIGNED_ISSUER,
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
    site.add(
        rk.SECRETS, tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, ca, certificate_name=SELFSIGNED_ISSUER)
    )
    pem = b"".join([ca.pem, *(c.pem for c in bundle_extra)])
    bundle = names.trust_bundle_configmap
    sources = [{"secret": {"name": ROOT_CA_SECRET, "key": SECRET_TLS_CRT}}]
    site.add(rk.BUNDLES, aio.trust_bundle(bundle, sources, key="ca.crt", namespace=namespace, now=CREATED))
    site.add(rk.CONFIGMAPS, aio.trust_configmap(bundle, namespace, pem, bundle_name=bundle))
    site.add(rk.BROKER_LISTENERS, aio.broker_listener(namespace, names.issuer_name))
    site.add(rk.DATAFLOW_ENDPOINTS, aio.dataflow_endpoint(namespace, bundle))
    object_names: list[str] = []
    for sync_name, files in ((TRUST_LIST_SYNC, trust), (ISSUER_LIST_SYNC, issuer_list)):
        if not files:
            continue
        mappings = [(aio.secret_name_for(f), f) for f in files]
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
