"""Build a :class:`~tui.core.model.ClusterState` from raw Kubernetes objects (and the vault).

This is where object shapes are read (domain.md is the reference for each field) and where the pieces
are joined: the root CA secret with its Certificate and issuer, the trust bundle with the CA, and each
OPC UA file across SecretSync mapping, SPC object, synced Secret key and Key Vault secret. Judgements
live in :mod:`tui.core.findings` and :mod:`tui.core.rotation`.

The live view rebuilds on every watch event, so decoding and signature checks are memoised by content
hash in a :class:`DecodeCache` that outlives a single build.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import threading
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tui.core import resources as rk
from tui.core.certs import (
    CertError,
    CertificateInfo,
    CrlInfo,
    cert_signed_by,
    crl_signed_by,
    decode_bytes,
    is_revoked,
)
from tui.core.durations import parse_duration
from tui.core.findings import (
    area_findings,
    bundle_findings,
    certificate_findings,
    condition_healthy,
    duplicate_keys,
    entry_findings,
    entry_flags,
    issuer_findings,
    root_ca_findings,
    sort_findings,
    spc_findings,
    sync_findings,
)
from tui.core.model import (
    Area,
    AreaView,
    CertificateView,
    ClusterState,
    Condition,
    DiscoveryView,
    Finding,
    IssuerRef,
    IssuerView,
    OpcUaEntry,
    RequestView,
    RootCAView,
    SyncView,
    TrustBundleView,
    VaultView,
    entry_key,
    issuer_key,
)
from tui.core.names import (
    ANNOTATION_CERTIFICATE_NAME,
    ANNOTATION_CERTIFICATE_REVISION,
    BROKER_LISTENER,
    DATAFLOW_ENDPOINT,
    OPCUA_LISTS,
    OPCUA_SPC,
    SECRET_CA_CRT,
    SECRET_SYNC_LABEL,
    SECRET_TLS_CRT,
    SECRET_TLS_KEY,
    TRUST_BUNDLE_LABEL,
    TRUST_BUNDLE_LABEL_V2,
    AioNames,
    is_default_spc_name,
    is_quickstart_subject,
)
from tui.core.rotation import (
    RotationEvent,
    assess_rotation,
    detect_rotation,
    extend_history,
    infer_rotation,
)
from tui.core.settings import ModelSettings
from tui.core.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.spc import SpcView, parse_spc

Obj = Mapping[str, Any]

# --- Memoised decoding -----


@dataclass(frozen=True)
class DecodedValue:
    """Decoding outcome of one byte string, independent of the name it was found under."""

    certificates: tuple[CertificateInfo, ...]
    crls: tuple[CrlInfo, ...]
    private_key_present: bool
    form: str | None
    error: str | None


class DecodeCache:
    """Bounded LRU memo of decodes (by SHA-256 of the bytes) and signature checks; thread-safe.

    One instance is shared by every build of a live view; a fresh one per test keeps tests independent.
    """

    def __init__(self, maxsize: int = 8192) -> None:
        self.maxsize = maxsize
        self._decoded: OrderedDict[bytes, DecodedValue] = OrderedDict()
        self._verified: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def _get(self, table: OrderedDict[Any, Any], key: Any) -> Any:
        with self._lock:
            value = table.get(key)
            if value is not None:
                table.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return value

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            table[key] = value
            while len(table) > self.maxsize:
                table.popitem(last=False)

    def ensure_capacity(self, items: int) -> None:
        """Grow the bound to at least ``items``: a cyclic scan larger than an LRU would miss every time."""
        with self._lock:
            self.maxsize = max(self.maxsize, items)

    def decode(self, data: bytes, digest: bytes, source: str) -> DecodedValue:
        """Decode ``data`` (whose SHA-256 is ``digest``); errors become ``error`` text, never raise."""
        cached = self._get(self._decoded, digest)
        if cached is not None:
            return cached
        # Checked on the raw bytes because the decoder refuses a key-only file without saying it held one.
        has_key = b"PRIVATE KEY-----" in data
        try:
            decoded = decode_bytes(data, source)
            value = DecodedValue(
                decoded.certificates, decoded.crls, decoded.private_key_present or has_key, decoded.form, None
            )
        except CertError as exc:
            value = DecodedValue((), (), has_key, None, exc.reason)
        self._put(self._decoded, digest, value)
        return value

    def verified(self, child: str, issuer: str, check: Callable[[], bool]) -> bool:
        """Memoised signature check keyed by the two SHA-256 fingerprints."""
        key = (child, issuer)
        cached = self._get(self._verified, key)
        if cached is not None:
            return bool(cached)
        result = check()
        self._put(self._verified, key, result)
        return result


DEFAULT_CACHE = DecodeCache()
"""Process-wide cache used when a caller passes none."""

# --- Small readers of object fields -----


_EMPTY: Obj = {}


def _map(value: Any) -> Obj:
    """``value`` when it is a mapping, else an empty one: objects from a cluster are not to be trusted."""
    return value if isinstance(value, Mapping) else _EMPTY


def _field(obj: Any, name: str) -> Obj:
    return _map(_map(obj).get(name))


def _meta(obj: Obj | None) -> Obj:
    return _field(obj, "metadata")


def _spec(obj: Obj | None) -> Obj:
    return _field(obj, "spec")


def _status(obj: Obj | None) -> Obj:
    return _field(obj, "status")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as the API writes it (``2026-01-01T12:00:00Z``); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _duration(value: Any) -> timedelta | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        return None


def parse_conditions(raw: Any) -> tuple[Condition, ...]:
    """Status conditions as :class:`Condition` values (malformed items skipped)."""
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("type"):
            continue
        out.append(
            Condition(
                type=str(item["type"]),
                status=str(item.get("status") or "Unknown"),
                reason=str(item.get("reason") or ""),
                message=str(item.get("message") or ""),
                last_transition=parse_time(item.get("lastTransitionTime")),
                observed_generation=_int(item.get("observedGeneration")),
            )
        )
    return tuple(out)


def _condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    return next((c for c in conditions if c.type == type_), None)


def _b64(value: Any) -> bytes | None:
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


# --- Areas -----

_AREA_RESOURCES: dict[Area, tuple[str, ...]] = {
    Area.ROOT_CA: (rk.SECRETS.key, rk.CERTIFICATES.key),
    Area.ISSUERS: (rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key, rk.CERTIFICATES.key),
    Area.TRUST_BUNDLE: (rk.CONFIGMAPS.key, rk.BUNDLES.key),
    Area.OPC_UA: (rk.SECRET_PROVIDER_CLASSES.key, rk.SECRET_SYNCS.key, rk.SECRETS.key),
}
# Worst first: a resource that cannot be read at all outranks one that is merely absent or catching up.
_STATE_ORDER = (
    AreaState.FORBIDDEN,
    AreaState.UNREACHABLE,
    AreaState.ERROR,
    AreaState.NOT_INSTALLED,
    AreaState.RECONNECTING,
    AreaState.PENDING,
    AreaState.OK,
)


def _area_view(area: Area, parts: Sequence[tuple[str, ResourceStatus]]) -> AreaView:
    worst = min((s.state for _, s in parts), key=_STATE_ORDER.index, default=AreaState.OK)
    problems = [
        f"{rk.BY_KEY[key].plural if key in rk.BY_KEY else key} {s.state.value}"
        + (f" ({s.message})" if s.message else "")
        for key, s in parts
        if s.state is not AreaState.OK
    ]
    return AreaView(area, worst, _one_line("; ".join(problems)), tuple(parts))


def build_areas(raw: RawSnapshot, vault: VaultSnapshot | None) -> tuple[AreaView, ...]:
    """Read state of each screen area from the per-resource statuses (and the vault's)."""
    views = [
        _area_view(area, [(key, raw.state_of(key)) for key in keys]) for area, keys in _AREA_RESOURCES.items()
    ]
    vault_status = (
        vault.status if vault is not None else ResourceStatus(AreaState.PENDING, "Key Vault not read")
    )
    views.append(
        AreaView(Area.VAULT, vault_status.state, _one_line(vault_status.message), (("vault", vault_status),))
    )
    return tuple(views)


# --- cert-manager -----


def parse_certificate(
    obj: Obj, requests: Mapping[tuple[str, str], RequestView] | None = None
) -> CertificateView:
    """A cert-manager Certificate object as a :class:`CertificateView` (with its newest request, if any
    is in ``requests``, keyed by ``(namespace, certificate name)``)."""
    meta, spec, status = _meta(obj), _spec(obj), _status(obj)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    ref = _field(spec, "issuerRef")
    conditions = parse_conditions(status.get("conditions"))
    return CertificateView(
        namespace=namespace,
        name=name,
        secret_name=str(spec.get("secretName") or ""),
        issuer_ref=IssuerRef(
            name=str(ref.get("name") or ""),
            kind=str(ref.get("kind") or "Issuer"),
            group=str(ref.get("group") or "cert-manager.io"),
        ),
        is_ca=bool(spec.get("isCA")),
        common_name=spec.get("commonName"),
        duration=_duration(spec.get("duration")),
        renew_before=_duration(spec.get("renewBefore")),
        renew_before_percentage=_int(spec.get("renewBeforePercentage")),
        rotation_policy=_field(spec, "privateKey").get("rotationPolicy"),
        not_before=parse_time(status.get("notBefore")),
        not_after=parse_time(status.get("notAfter")),
        renewal_time=parse_time(status.get("renewalTime")),
        revision=_int(status.get("revision")),
        ready=_condition(conditions, "Ready"),
        issuing=_condition(conditions, "Issuing"),
        conditions=conditions,
        failed_issuance_attempts=_int(status.get("failedIssuanceAttempts")) or 0,
        last_failure_time=parse_time(status.get("lastFailureTime")),
        next_private_key_secret_name=status.get("nextPrivateKeySecretName"),
        generation=_int(meta.get("generation")),
        resource_version=meta.get("resourceVersion"),
        latest_request=(requests or {}).get((namespace, name)),
    )


def parse_request(obj: Obj) -> RequestView:
    """A CertificateRequest object as a :class:`RequestView`."""
    meta, status = _meta(obj), _status(obj)
    conditions = parse_conditions(status.get("conditions"))
    approved = _condition(conditions, "Approved")
    denied = _condition(conditions, "Denied")
    return RequestView(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        revision=_int(_field(meta, "annotations").get(ANNOTATION_CERTIFICATE_REVISION)),
        ready=_condition(conditions, "Ready"),
        approved=False
        if denied is not None and denied.is_true
        else (None if approved is None else approved.is_true),
        failure_time=parse_time(status.get("failureTime")),
        created=parse_time(meta.get("creationTimestamp")),
    )


def latest_requests(raw: RawSnapshot) -> dict[tuple[str, str], RequestView]:
    """The newest CertificateRequest per ``(namespace, certificate name)``, by revision then creation."""
    best: dict[tuple[str, str], tuple[tuple[int, str, str], RequestView]] = {}
    for obj in raw.items(rk.CERTIFICATE_REQUESTS.key):
        owner = _field(_meta(obj), "annotations").get(ANNOTATION_CERTIFICATE_NAME)
        if not isinstance(owner, str):
            continue
        view = parse_request(obj)
        # RFC 3339 timestamps in one format sort as text.
        rank = (view.revision or 0, str(_meta(obj).get("creationTimestamp") or ""), view.name)
        key = (view.namespace, owner)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, view)
    return {k: v for k, (_, v) in best.items()}


_ISSUER_TYPES = ("ca", "selfSigned", "acme", "vault", "venafi")


def _issuer_type(spec: Obj) -> str:
    return next((t for t in _ISSUER_TYPES if t in spec), "unknown")


def parse_issuers(
    raw: RawSnapshot, certificates: Sequence[CertificateView], roles: Mapping[str, tuple[str, ...]]
) -> tuple[IssuerView, ...]:
    """Every Issuer and ClusterIssuer, with how many Certificates each backs and how many fail."""
    backed: dict[str, int] = defaultdict(int)
    failing: dict[str, int] = defaultdict(int)
    for cert in certificates:
        if cert.issuer_ref.group != "cert-manager.io":
            continue
        key = cert.issuer_ref.issuer_key(cert.namespace)
        backed[key] += 1
        if not cert.is_ready:
            failing[key] += 1
    out = []
    for kind, resource in (("Issuer", rk.ISSUERS), ("ClusterIssuer", rk.CLUSTER_ISSUERS)):
        for obj in raw.items(resource.key):
            meta, spec = _meta(obj), _spec(obj)
            namespace = "" if kind == "ClusterIssuer" else str(meta.get("namespace") or "")
            name = str(meta.get("name") or "")
            key = issuer_key(kind, namespace, name)
            ready = _condition(parse_conditions(_status(obj).get("conditions")), "Ready")
            out.append(
                IssuerView(
                    name=name,
                    kind=kind,
                    namespace=namespace,
                    type=_issuer_type(spec),
                    ready=None if ready is None else ready.is_true,
                    reason=ready.reason if ready else "",
                    message=_one_line(ready.message) if ready else "",
                    last_transition=ready.last_transition if ready else None,
                    certificates_backed=backed.get(key, 0),
                    certificates_failing=failing.get(key, 0),
                    ca_secret_name=_field(spec, "ca").get("secretName"),
                    roles=roles.get(key, ()),
                )
            )
    return tuple(sorted(out, key=lambda i: i.key))


# --- Discovery (default and bring-your-own issuer) ------------------------------------------------------


def _listener_issuer_ref(listener: Obj | None) -> Obj | None:
    if listener is None:
        return None
    ports = _spec(listener).get("ports") or []
    refs = []
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, Mapping):
            continue
        ref = _field(_field(port, "tls"), "certManagerCertificateSpec").get("issuerRef")
        if isinstance(ref, Mapping) and ref.get("name"):
            refs.append((port.get("port") != 18883, ref))  # AIO's default TLS port first
    return min(refs, key=lambda r: r[0])[1] if refs else None


def discover(raw: RawSnapshot, settings: ModelSettings) -> DiscoveryView:
    """Where the issuer and trust bundle are: broker listener / dataflow endpoint, else flags, else AIO."""
    names = settings.names
    ns = settings.namespace
    ref = _listener_issuer_ref(raw.get(rk.BROKER_LISTENERS.key, ns, BROKER_LISTENER))
    if ref is not None:
        kind, name, source = str(ref.get("kind") or "Issuer"), str(ref["name"]), "broker-listener"
    elif settings.issuer_override is not None:
        (kind, name), source = settings.issuer_override, "flag"
    else:
        kind, name, source = "ClusterIssuer", names.issuer_name, "default"

    endpoint = raw.get(rk.DATAFLOW_ENDPOINTS.key, ns, DATAFLOW_ENDPOINT)
    # The AIO CRD nests TLS under mqttSettings (kafkaSettings for Kafka endpoints); a flat spec.tls is
    # accepted too in case a release moves it.
    endpoint_spec = _spec(endpoint)
    cm_ref = next(
        (
            ref
            for tls in (
                _field(_field(endpoint_spec, "mqttSettings"), "tls"),
                _field(_field(endpoint_spec, "kafkaSettings"), "tls"),
                _field(endpoint_spec, "tls"),
            )
            if isinstance(ref := tls.get("trustedCaCertificateConfigMapRef"), str) and ref
        ),
        None,
    )
    override = settings.trust_bundle_override
    if isinstance(cm_ref, str) and cm_ref:
        configmap, bundle_source = cm_ref, "dataflow-endpoint"
        key = override[1] if override and override[0] == cm_ref else _bundle_key(raw, ns, cm_ref)
    elif override is not None:
        (configmap, key), bundle_source = override, "flag"
    else:
        configmap, key, bundle_source = names.trust_bundle_configmap, names.trust_bundle_key, "default"
    byo = (kind, name) != ("ClusterIssuer", names.issuer_name) or configmap != names.trust_bundle_configmap
    return DiscoveryView(
        issuer_kind=kind,
        issuer_name=name,
        issuer_namespace="" if kind == "ClusterIssuer" else ns,
        issuer_source=source,
        bundle_namespace=ns,
        bundle_configmap=configmap,
        bundle_key=key,
        bundle_source=bundle_source,
        byo=byo,
    )


def _bundle_key(raw: RawSnapshot, namespace: str, configmap: str) -> str:
    # The endpoint names only the ConfigMap: use ca.crt when present, else its only key.
    obj = raw.get(rk.CONFIGMAPS.key, namespace, configmap)
    data = _field(obj, "data")
    if SECRET_CA_CRT in data or len(data) != 1:
        return SECRET_CA_CRT
    return next(iter(data))


# --- Root CA -----


def _decode_value(cache: DecodeCache, data: bytes, source: str) -> DecodedValue:
    return cache.decode(data, hashlib.sha256(data).digest(), source)


def _certs_from_secret(
    secret: Obj | None, key: str, cache: DecodeCache, source: str
) -> tuple[tuple[CertificateInfo, ...], str | None]:
    data = _b64(_field(secret, "data").get(key))
    if data is None:
        return (), None
    value = _decode_value(cache, data, source)
    return value.certificates, value.error


def build_root_ca(
    raw: RawSnapshot,
    settings: ModelSettings,
    discovery: DiscoveryView,
    certificates: Sequence[CertificateView],
    now: datetime,
    cache: DecodeCache,
    previous: ClusterState | None,
) -> tuple[RootCAView, tuple[RotationEvent, ...]]:
    """Locate the CA secret through the discovered issuer, decode it and judge its rotation."""
    names: AioNames = settings.names
    issuer_res = rk.CLUSTER_ISSUERS if discovery.issuer_kind == "ClusterIssuer" else rk.ISSUERS
    issuer_obj = raw.get(issuer_res.key, discovery.issuer_namespace, discovery.issuer_name)
    note = ""
    locatable = True
    secret_ns, secret_name = names.cert_manager_namespace, names.root_ca_secret
    if issuer_obj is not None:
        spec = _spec(issuer_obj)
        ca_secret = _field(spec, "ca").get("secretName")
        if ca_secret:
            secret_name = str(ca_secret)
            # A ClusterIssuer reads its secret from cert-manager's cluster resource namespace.
            secret_ns = (
                names.cert_manager_namespace
                if discovery.issuer_kind == "ClusterIssuer"
                else discovery.issuer_namespace
            )
        else:
            locatable = False
            note = (
                f"issuer {discovery.issuer_key} is of type {_issuer_type(spec)}; "
                "its CA is not kept in the cluster"
            )
    secret = raw.get(rk.SECRETS.key, secret_ns, secret_name)
    resource = next(
        (c for c in certificates if c.namespace == secret_ns and c.secret_name == secret_name), None
    )
    tls, tls_error = _certs_from_secret(secret, SECRET_TLS_CRT, cache, f"{secret_ns}/{secret_name} tls.crt")
    ca, _ = _certs_from_secret(secret, SECRET_CA_CRT, cache, f"{secret_ns}/{secret_name} ca.crt")
    certificate = tls[0] if tls else None
    seen = {certificate.sha256} if certificate else set()
    chain = []
    for extra in (*tls[1:], *ca):
        if extra.sha256 not in seen:
            seen.add(extra.sha256)
            chain.append(extra)
    if secret is not None and certificate is None and tls_error is None:
        tls_error = "secret has no tls.crt"

    history: tuple[RotationEvent, ...] = previous.rotation_history if previous is not None else ()
    recent = timedelta(seconds=settings.rotation_recent_seconds)
    event: RotationEvent | None = None
    if previous is None:
        event = infer_rotation(resource, certificate, now, recent)
    elif previous.root_ca.key == f"{secret_ns}/{secret_name}":
        # A different secret means a different issuer was discovered, which is not a rotation.
        before = previous.root_ca
        event = detect_rotation(
            before.certificate,
            before.resource.revision if before.resource else None,
            certificate,
            resource.revision if resource else None,
            now,
        )
    history = extend_history(history, event)
    rotation = assess_rotation(
        resource, certificate, now, history=history, recent=recent, secret_present=secret is not None
    )
    view = RootCAView(
        secret_namespace=secret_ns,
        secret_name=secret_name,
        secret_present=secret is not None,
        certificate=certificate,
        chain=tuple(chain),
        anchor=next((c for c in (*tls[:1], *chain) if c.self_signed), None),
        decode_error=tls_error if secret is not None else None,
        private_key_present=bool(_field(secret, "data").get(SECRET_TLS_KEY)),
        resource=resource,
        days_left=rotation.days_left,
        rotation=rotation,
        quickstart=certificate is not None and is_quickstart_subject(certificate.subject),
        note=note,
        locatable=locatable,
    )
    return view, history


# --- Trust bundle -----


def _bundle_source_text(source: Obj) -> str:
    for kind in ("secret", "configMap"):
        ref = source.get(kind)
        if isinstance(ref, Mapping):
            return f"{kind} {ref.get('name', '?')} key {ref.get('key', '*')}"
    if "inLine" in source:
        return "inline"
    if source.get("useDefaultCAs"):
        return "default CAs"
    return "unknown source"


def build_trust_bundle(
    raw: RawSnapshot,
    discovery: DiscoveryView,
    root: RootCAView,
    history: Sequence[RotationEvent],
    cache: DecodeCache,
) -> TrustBundleView:
    """The trust bundle ConfigMap, its certificates, and whether the current and previous CA are in it."""
    ns, name, key = discovery.bundle_namespace, discovery.bundle_configmap, discovery.bundle_key
    cm = raw.get(rk.CONFIGMAPS.key, ns, name)
    data = _field(cm, "data")
    binary = _field(cm, "binaryData")
    payload: bytes | None = None
    if isinstance(data.get(key), str):
        payload = data[key].encode("utf-8")
    elif key in binary:
        payload = _b64(binary[key])
    certificates: tuple[CertificateInfo, ...] = ()
    error: str | None = None
    if payload is not None:
        value = _decode_value(cache, payload, f"{ns}/{name} {key}")
        certificates, error = value.certificates, value.error
    current = root.certificate
    # A bundle is in step when it holds the CA itself or a CA above it in its chain (a bring-your-own
    # issuing CA is trusted through its root, which is all the bundle carries).
    accepted = {current.sha256, *(c.sha256 for c in root.chain)} if current is not None else set()
    holds_current = None if current is None or cm is None else any(c.sha256 in accepted for c in certificates)
    previous_sha1 = next((e.previous_sha1 for e in reversed(history) if e.previous_sha1), None)
    previous_cas = tuple(
        c
        for c in certificates
        if current is not None
        and c.sha256 != current.sha256
        and (c.subject == current.subject or c.sha1 == previous_sha1)
    )
    holds_previous = None if previous_sha1 is None else any(c.sha1 == previous_sha1 for c in certificates)

    labels = _field(_meta(cm), "labels")
    bundle_name = labels.get(TRUST_BUNDLE_LABEL) or labels.get(TRUST_BUNDLE_LABEL_V2)
    # trust-manager names the target ConfigMap after its Bundle, so fall back to that.
    bundle = raw.get(rk.BUNDLES.key, "", bundle_name or name)
    ready = None
    sources: tuple[str, ...] = ()
    if bundle is not None:
        bundle_name = _meta(bundle).get("name")
        conditions = parse_conditions(_status(bundle).get("conditions"))
        ready = _condition(conditions, "Ready") or _condition(conditions, "Synced")
        raw_sources = _spec(bundle).get("sources") or []
        sources = tuple(_bundle_source_text(s) for s in raw_sources if isinstance(s, Mapping))
    return TrustBundleView(
        namespace=ns,
        configmap=name,
        key=key,
        source=discovery.bundle_source,
        present=cm is not None,
        key_present=payload is not None,
        certificates=certificates,
        decode_error=error,
        holds_current_ca=holds_current,
        previous_cas=previous_cas,
        previous_ca_sha1=previous_sha1,
        holds_previous_ca=holds_previous,
        bundle_name=bundle_name if bundle is not None else None,
        bundle_ready=None if ready is None else ready.is_true,
        bundle_reason=ready.reason if ready else "",
        bundle_message=_one_line(ready.message) if ready else "",
        bundle_sources=sources,
    )


# --- Secret sync and the OPC UA lists -----


def _mappings(sync: Obj | None) -> tuple[tuple[str, str], ...]:
    data = _field(_spec(sync), "secretObject").get("data")
    out = []
    for item in data if isinstance(data, list) else []:
        if isinstance(item, Mapping) and item.get("targetKey"):
            out.append((str(item.get("sourcePath") or ""), str(item["targetKey"])))
    return tuple(out)


def _secret_managed(secret: Obj, sync_name: str) -> bool:
    meta = _meta(secret)
    if SECRET_SYNC_LABEL in _field(meta, "labels"):
        return True
    owners = meta.get("ownerReferences") or []
    return any(
        isinstance(o, Mapping) and o.get("kind") == "SecretSync" and o.get("name") == sync_name
        for o in owners
    )


def build_sync(raw: RawSnapshot, namespace: str, list_name: str, sync_name: str) -> SyncView:
    """The SecretSync of one OPC UA list and the Secret the controller wrote for it."""
    sync = raw.get(rk.SECRET_SYNCS.key, namespace, sync_name)
    secret = raw.get(rk.SECRETS.key, namespace, sync_name)
    spec, status = _spec(sync), _status(sync)
    conditions = parse_conditions(status.get("conditions")) if sync else ()
    return SyncView(
        namespace=namespace,
        name=sync_name,
        list_name=list_name,
        present=sync is not None,
        spc_name=spec.get("secretProviderClassName") if sync else None,
        service_account=spec.get("serviceAccountName") if sync else None,
        force_synchronization=spec.get("forceSynchronization") if sync else None,
        mappings=_mappings(sync),
        conditions=conditions,
        failing=tuple(c for c in conditions if not condition_healthy(c)),
        last_successful_sync=parse_time(status.get("lastSuccessfulSyncTime")),
        secret_present=secret is not None,
        secret_keys=tuple(sorted(str(k) for k in _field(secret, "data"))),
        secret_managed=secret is not None and _secret_managed(secret, sync_name),
        resource_version=_meta(sync).get("resourceVersion") if sync else None,
    )


def choose_opcua_spc(syncs: Sequence[SyncView], spcs: Sequence[SpcView]) -> str | None:
    """The SPC the OPC UA lists use: the SecretSyncs' own, else ``opc-ua-connector``, else the default SPC."""
    for sync in syncs:
        if sync.present and sync.spc_name:
            return sync.spc_name
    names = [s.name for s in spcs]
    if OPCUA_SPC in names:
        return OPCUA_SPC
    defaults = sorted(n for n in names if is_default_spc_name(n))
    if defaults:
        return defaults[0]
    return names[0] if len(names) == 1 else None


def _format_problem(target_key: str, value: DecodedValue) -> str | None:
    # The connector reads each file by extension (domain.md 4.5); the generic decoder is more lenient.
    ext = target_key.rsplit(".", 1)[-1].lower() if "." in target_key else ""
    if value.error is not None:
        return None
    form = value.form or "no"
    if ext == "der" and (value.form != "der" or not value.certificates):
        return f".der file holds {form} {_kinds(value)}, not a DER certificate"
    if ext == "crt" and (value.form != "pem" or len(value.certificates) != 1 or value.crls):
        return f".crt file must hold exactly one PEM certificate (holds {form} {_kinds(value)})"
    if ext == "crl" and (value.form != "der" or not value.crls or value.certificates):
        return f".crl file holds {form} {_kinds(value)}, not a DER CRL"
    return None


def _kinds(value: DecodedValue) -> str:
    parts = []
    if value.certificates:
        parts.append(f"{len(value.certificates)} certificate(s)")
    if value.crls:
        parts.append(f"{len(value.crls)} CRL(s)")
    return " and ".join(parts) or "nothing"


_DAY = timedelta(days=1)


def _whole_days(until: datetime, now: datetime) -> int:
    # Whole days, rounded down (-1 on the first expired day): stable between rebuilds, so a row
    # only changes when something a human would notice changes.
    return (until - now) // _DAY


def _entry_fields(
    sync: SyncView,
    secret: Obj | None,
    spc: SpcView | None,
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> list[dict[str, Any]]:
    """Constructor arguments of each entry of one list (links and flags are added later)."""
    data = _field(secret, "data")
    mapped = {target: source for source, target in sync.mappings}
    vault_ok = vault is not None and vault.status.state is AreaState.OK
    spc_name = spc.name if spc is not None else sync.spc_name
    out = []
    for target in sorted(set(mapped) | {str(k) for k in data}):
        source = mapped.get(target)
        raw_value = data.get(target)
        payload = _b64(raw_value) if raw_value is not None else None
        certificate: CertificateInfo | None = None
        extra: tuple[CertificateInfo, ...] = ()
        crl: CrlInfo | None = None
        error: str | None = None
        form: str | None = None
        problem: str | None = None
        private_key = False
        digest_hex: str | None = None
        if raw_value is None:
            content = "missing"
        elif payload is None:
            content, error = "undecodable", "Secret value is not base64"
        else:
            digest = hashlib.sha256(payload).digest()
            digest_hex = digest.hex()
            value = cache.decode(payload, digest, f"{sync.name}/{target}")
            error, form, private_key = value.error, value.form, value.private_key_present
            if value.certificates:
                content, certificate, extra = "certificate", value.certificates[0], value.certificates[1:]
            elif value.crls:
                content, crl = "crl", value.crls[0]
            else:
                content = "undecodable"
            problem = _format_problem(target, value)
        if certificate is not None:
            left: int | None = _whole_days(certificate.not_after, now)
        elif crl is not None and crl.next_update is not None:
            left = _whole_days(crl.next_update, now)
        else:
            left = None
        spc_obj = spc.object_for_file(source) if spc is not None and source else None
        secret_v = vault.secrets.get(source) if vault_ok and vault is not None and source else None
        in_sync: bool | None = None
        if (
            secret_v is not None
            and secret_v.value is not None
            and payload is not None
            and spc_obj is not None
            and spc_obj.object_encoding == "hex"
        ):
            in_sync = secret_v.value.strip().lower() == payload.hex()
        out.append(
            {
                "list_name": sync.list_name,
                "target_key": target,
                "source_path": source,
                "sync_name": sync.name,
                "spc_name": spc_name,
                "mapped": source is not None,
                "spc_object": spc_obj is not None,
                "synced": raw_value is not None,
                "vault_present": (secret_v is not None) if vault_ok and source else None,
                "vault_content_type": secret_v.content_type if secret_v else None,
                "vault_tags": tuple(sorted(secret_v.tags.items())) if secret_v else (),
                "vault_enabled": secret_v.enabled if secret_v else None,
                "vault_expires_on": secret_v.expires_on if secret_v else None,
                "vault_in_sync": in_sync,
                "size": len(payload) if payload is not None else None,
                "sha256": digest_hex,
                "content": content,
                "certificate": certificate,
                "extra_certificates": extra,
                "crl": crl,
                "decode_error": error,
                "form": form,
                "format_problem": problem,
                "private_key_present": private_key,
                "days_left": left,
            }
        )
    return out


def _link_chains(rows: Sequence[dict[str, Any]], cache: DecodeCache) -> None:
    """Add ``signed_by``, ``issuer_in_list``, ``crl_key`` and ``revoked`` to entry rows in place.

    A certificate or CRL is linked to a list CA whose subject is its issuer name and whose key verifies
    its signature (same list preferred); each CA gets its CRL; a certificate is revoked when its signing
    CA's CRL lists its serial. Signature checks are memoised in ``cache``.
    """
    cas: dict[str, list[tuple[str, str, str, CertificateInfo]]] = defaultdict(list)
    for row in rows:
        cert = row["certificate"]
        if cert is not None and (cert.is_ca or cert.version == 1):
            key = entry_key(row["list_name"], row["target_key"])
            cas[cert.subject].append((key, row["list_name"], row["target_key"], cert))
    for candidates in cas.values():
        candidates.sort(key=lambda c: c[2])

    def pick(
        row: dict[str, Any], key: str, issuer: str, check: Callable[[CertificateInfo], bool]
    ) -> str | None:
        candidates = [c for c in cas.get(issuer, ()) if c[0] != key]
        row["issuer_in_list"] = bool(candidates)
        # Prefer a CA in the same list, then the other list.
        candidates.sort(key=lambda c: c[1] != row["list_name"])
        return next((c[0] for c in candidates if check(c[3])), None)

    crl_of: dict[str, dict[str, Any]] = {}
    ca_list: dict[str, str] = {c[0]: c[1] for group in cas.values() for c in group}
    for row in rows:
        key = entry_key(row["list_name"], row["target_key"])
        cert, crl = row["certificate"], row["crl"]
        if cert is not None and not cert.self_signed:
            row["signed_by"] = pick(
                row,
                key,
                cert.issuer,
                lambda ca, child=cert: cache.verified(
                    child.sha256, ca.sha256, lambda: cert_signed_by(child, ca)
                ),
            )
        elif crl is not None:
            signer = pick(
                row,
                key,
                crl.issuer,
                lambda ca, crl=crl: cache.verified(crl.sha256, ca.sha256, lambda: crl_signed_by(crl, ca)),
            )
            row["signed_by"] = signer
            if signer is not None:
                known = crl_of.get(signer)
                # Several CRLs for one CA: the one in the CA's own list wins, then the newest.
                mine = (row["list_name"] == ca_list[signer], crl.this_update)
                if known is None or mine > (known["list_name"] == ca_list[signer], known["crl"].this_update):
                    crl_of[signer] = row
    by_key = {entry_key(row["list_name"], row["target_key"]): row for row in rows}
    for ca_key, crl_row in crl_of.items():
        by_key[ca_key]["crl_key"] = entry_key(crl_row["list_name"], crl_row["target_key"])
    for row in rows:
        signer = row.get("signed_by")
        if row["certificate"] is not None and signer is not None and signer in crl_of:
            row["revoked"] = is_revoked(row["certificate"], crl_of[signer]["crl"])


def build_opcua(
    raw: RawSnapshot,
    settings: ModelSettings,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> tuple[OpcUaEntry, ...]:
    """Every trust and issuer list entry, decoded, joined, linked into chains and flagged."""
    ns = settings.namespace
    spc_by_name = {s.name: s for s in spcs}
    spc_readable = raw.state_of(rk.SECRET_PROVIDER_CLASSES.key).state is AreaState.OK
    rows: list[dict[str, Any]] = []
    for sync in syncs:
        secret = raw.get(rk.SECRETS.key, ns, sync.name)
        rows.extend(_entry_fields(sync, secret, spc_by_name.get(sync.spc_name or ""), vault, now, cache))
    _link_chains(rows, cache)
    failing = {s.list_name for s in syncs if s.present and s.failing}
    entries = [OpcUaEntry(**row) for row in rows]
    duplicates = duplicate_keys(entries)
    out = []
    for entry, row in zip(entries, rows, strict=True):
        flags, severity = entry_flags(
            entry,
            now=now,
            settings=settings,
            duplicate=entry.key in duplicates,
            sync_failing=entry.list_name in failing,
            spc_known=spc_readable,
        )
        # Constructing again from the row is several times cheaper than dataclasses.replace.
        out.append(OpcUaEntry(**row, flags=flags, severity=severity) if flags else entry)
    return tuple(out)


# --- The whole state -----


def _vault_view(vault: VaultSnapshot | None) -> VaultView:
    if vault is None:
        return VaultView(None, AreaState.PENDING, "Key Vault not read", 0)
    return VaultView(vault.vault_url, vault.status.state, _one_line(vault.status.message), len(vault.secrets))


def build_state(
    raw: RawSnapshot,
    *,
    settings: ModelSettings,
    now: datetime,
    vault: VaultSnapshot | None = None,
    previous: ClusterState | None = None,
    cache: DecodeCache | None = None,
) -> ClusterState:
    """Turn raw objects (and the vault, when read) into an immutable :class:`ClusterState`.

    ``previous`` (the last state of a live view) carries rotation history forward so a rotation seen
    happening reads "rotated at T". Never raises on odd cluster content: what cannot be read becomes an
    area state, a decode error or a finding.
    """
    cache = cache or DEFAULT_CACHE
    ns = settings.namespace
    areas = build_areas(raw, vault)
    # Room for every list file, the CA and bundle decodes and as many signature checks, with headroom.
    files = sum(len(_field(raw.get(rk.SECRETS.key, ns, name), "data")) for name in OPCUA_LISTS.values())
    cache.ensure_capacity(2 * files + 64)
    requests = latest_requests(raw)
    certificates = tuple(
        sorted((parse_certificate(o, requests) for o in raw.items(rk.CERTIFICATES.key)), key=lambda c: c.key)
    )
    discovery = discover(raw, settings)
    root, history = build_root_ca(raw, settings, discovery, certificates, now, cache, previous)

    roles: dict[str, tuple[str, ...]] = defaultdict(tuple)
    roles[discovery.issuer_key] += ("broker",)
    if root.resource is not None:
        roles[root.resource.issuer_ref.issuer_key(root.resource.namespace)] += ("root-ca",)
    issuers = parse_issuers(raw, certificates, roles)
    bundle = build_trust_bundle(raw, discovery, root, history, cache)

    spcs = tuple(
        sorted(
            (
                parse_spc(o)
                for o in raw.items(rk.SECRET_PROVIDER_CLASSES.key)
                if _meta(o).get("namespace") == ns
            ),
            key=lambda s: s.name,
        )
    )
    syncs = tuple(build_sync(raw, ns, list_name, sync_name) for list_name, sync_name in OPCUA_LISTS.items())
    entries = build_opcua(raw, settings, syncs, spcs, vault, now, cache)

    # Every SecretSync using an SPC counts when asking whether an SPC object is mapped at all.
    sources: dict[str, set[str]] = defaultdict(set)
    for obj in raw.items(rk.SECRET_SYNCS.key):
        if _meta(obj).get("namespace") != ns:
            continue
        spc_name = _spec(obj).get("secretProviderClassName")
        if spc_name:
            sources[str(spc_name)].update(s for s, _ in _mappings(obj))

    vault_view = _vault_view(vault)

    def ok(*keys: str) -> bool:
        return all(raw.state_of(k).state is AreaState.OK for k in keys)

    findings: list[Finding] = []
    findings += area_findings(areas, vault_view)
    findings += root_ca_findings(root, settings, ok(rk.SECRETS.key, rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key))
    findings += bundle_findings(bundle, root, ok(rk.CONFIGMAPS.key))
    findings += issuer_findings(issuers, discovery, ok(rk.ISSUERS.key, rk.CLUSTER_ISSUERS.key))
    findings += certificate_findings(certificates, root)
    findings += sync_findings(syncs, spcs, ok(rk.SECRET_PROVIDER_CLASSES.key, rk.SECRETS.key))
    findings += spc_findings(spcs, {k: frozenset(v) for k, v in sources.items()})
    for entry in entries:
        if entry.flags:
            findings += entry_findings(entry, settings, now)

    return ClusterState(
        namespace=ns,
        settings=settings,
        taken_at=raw.taken_at,
        built_at=now,
        discovery=discovery,
        root_ca=root,
        trust_bundle=bundle,
        issuers=issuers,
        certificates=certificates,
        syncs=syncs,
        spcs=spcs,
        opcua_spc=choose_opcua_spc(syncs, spcs),
        opcua=entries,
        vault=vault_view,
        areas=areas,
        findings=sort_findings(findings),
        rotation_history=history,
    )
