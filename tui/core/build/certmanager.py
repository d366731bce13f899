"""cert-manager objects as model views: Certificates, CertificateRequests, Issuers and ClusterIssuers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from tui.core.build.readers import (
    Obj,
    field_of,
    find_condition,
    meta_of,
    one_line,
    parse_conditions,
    parse_time,
    spec_of,
    status_of,
    to_duration,
    to_int,
)
from tui.core.build.request_match import request_spec, spec_mismatches
from tui.core.model import resources as rk
from tui.core.model.names import ANNOTATION_CERTIFICATE_NAME, ANNOTATION_CERTIFICATE_REVISION
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.state import CertificateView, IssuerRef, IssuerView, RequestView, issuer_key


def parse_certificate(
    obj: Obj, requests: Mapping[tuple[str, str], RequestView] | None = None
) -> CertificateView:
    """A cert-manager Certificate object as a :class:`CertificateView` (with its newest request, if any
    is in ``requests``, keyed by ``(namespace, certificate name)``)."""
    meta, spec, status = meta_of(obj), spec_of(obj), status_of(obj)
    namespace, name = str(meta.get("namespace") or ""), str(meta.get("name") or "")
    ref = field_of(spec, "issuerRef")
    conditions = parse_conditions(status.get("conditions"))
    revision = to_int(status.get("revision"))
    latest = (requests or {}).get((namespace, name))
    # cert-manager compares the spec with the request for the next revision only: the one a failed
    # issuance left behind (docs/domain.md §3.3).
    next_request = latest if latest is not None and latest.revision == (revision or 0) + 1 else None
    mismatch = (
        spec_mismatches(obj, next_request.spec)
        if next_request is not None and next_request.spec is not None
        else None
    )
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
        duration=to_duration(spec.get("duration")),
        renew_before=to_duration(spec.get("renewBefore")),
        renew_before_percentage=to_int(spec.get("renewBeforePercentage")),
        rotation_policy=field_of(spec, "privateKey").get("rotationPolicy"),
        not_before=parse_time(status.get("notBefore")),
        not_after=parse_time(status.get("notAfter")),
        renewal_time=parse_time(status.get("renewalTime")),
        revision=revision,
        ready=find_condition(conditions, "Ready"),
        issuing=find_condition(conditions, "Issuing"),
        conditions=conditions,
        failed_issuance_attempts=to_int(status.get("failedIssuanceAttempts")) or 0,
        last_failure_time=parse_time(status.get("lastFailureTime")),
        next_private_key_secret_name=status.get("nextPrivateKeySecretName"),
        generation=to_int(meta.get("generation")),
        resource_version=meta.get("resourceVersion"),
        latest_request=latest,
        request_mismatch=mismatch,
    )


def parse_request(obj: Obj) -> RequestView:
    """A CertificateRequest object as a :class:`RequestView`."""
    meta, status = meta_of(obj), status_of(obj)
    conditions = parse_conditions(status.get("conditions"))
    approved = find_condition(conditions, "Approved")
    denied = find_condition(conditions, "Denied")
    return RequestView(
        namespace=str(meta.get("namespace") or ""),
        name=str(meta.get("name") or ""),
        revision=to_int(field_of(meta, "annotations").get(ANNOTATION_CERTIFICATE_REVISION)),
        ready=find_condition(conditions, "Ready"),
        approved=False
        if denied is not None and denied.is_true
        else (None if approved is None else approved.is_true),
        failure_time=parse_time(status.get("failureTime")),
        created=parse_time(meta.get("creationTimestamp")),
        spec=request_spec(obj),
    )


def latest_requests(raw: RawSnapshot) -> dict[tuple[str, str], RequestView]:
    """The newest CertificateRequest per ``(namespace, certificate name)``, by revision then creation."""
    best: dict[tuple[str, str], tuple[tuple[int, str, str], RequestView]] = {}
    for obj in raw.items(rk.CERTIFICATE_REQUESTS.key):
        owner = field_of(meta_of(obj), "annotations").get(ANNOTATION_CERTIFICATE_NAME)
        if not isinstance(owner, str):
            continue
        view = parse_request(obj)
        # RFC 3339 timestamps in one format sort as text.
        rank = (view.revision or 0, str(meta_of(obj).get("creationTimestamp") or ""), view.name)
        key = (view.namespace, owner)
        if key not in best or rank > best[key][0]:
            best[key] = (rank, view)
    return {k: v for k, (_, v) in best.items()}


_ISSUER_TYPES = ("ca", "selfSigned", "acme", "vault", "venafi")


def issuer_type(spec: Obj) -> str:
    """The issuer type an Issuer spec configures (``ca``, ``selfSigned``, ...), else ``unknown``."""
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
            meta, spec = meta_of(obj), spec_of(obj)
            namespace = "" if kind == "ClusterIssuer" else str(meta.get("namespace") or "")
            name = str(meta.get("name") or "")
            key = issuer_key(kind, namespace, name)
            ready = find_condition(parse_conditions(status_of(obj).get("conditions")), "Ready")
            out.append(
                IssuerView(
                    name=name,
                    kind=kind,
                    namespace=namespace,
                    type=issuer_type(spec),
                    ready=None if ready is None else ready.is_true,
                    reason=ready.reason if ready else "",
                    message=one_line(ready.message) if ready else "",
                    last_transition=ready.last_transition if ready else None,
                    certificates_backed=backed.get(key, 0),
                    certificates_failing=failing.get(key, 0),
                    ca_secret_name=field_of(spec, "ca").get("secretName"),
                    roles=roles.get(key, ()),
                )
            )
    return tuple(sorted(out, key=lambda i: i.key))
