"""Shapes of the Kubernetes objects the demo writes, shared by the seed and the simulated controllers.

Plain dicts as the API server stores them (``data`` base64, times RFC 3339 with ``Z``). The rules that
cert-manager, trust-manager and the secret sync controller follow for metadata and conditions are here
once, so the seeded site and the objects the controllers write later look alike (docs/domain.md §3-§5).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography import x509
from cryptography.x509.oid import NameOID

from tui.core.model.resources import ResourceKind

CM_FAO_LABEL = "controller.cert-manager.io/fao"
"""Label cert-manager puts on Secrets it issues into."""

BUNDLE_HASH_ANNOTATION = "trust.cert-manager.io/hash"


def iso(moment: datetime) -> str:
    """RFC 3339 UTC with seconds precision and ``Z``, as Kubernetes writes metav1.Time."""
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> datetime:
    """Parse a Kubernetes timestamp (``...Z`` or with an offset) into an aware UTC datetime."""
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def b64(data: bytes) -> str:
    """Base64 text of ``data`` for a Secret's ``data`` map."""
    return base64.b64encode(data).decode("ascii")


def unb64(text: str) -> bytes:
    """Bytes of a base64 value from a Secret's ``data`` map."""
    return base64.b64decode(text)


def k8s_object(
    kind: ResourceKind,
    name: str,
    namespace: str | None = None,
    *,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    owner_references: Sequence[Mapping[str, Any]] | None = None,
    **body: Any,
) -> dict[str, Any]:
    """An object of ``kind`` with metadata filled in; ``body`` gives spec, data, status, type..."""
    metadata: dict[str, Any] = {"name": name}
    if kind.namespaced:
        if not namespace:
            raise ValueError(f"{kind.kind} {name} needs a namespace")
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    if owner_references:
        metadata["ownerReferences"] = [dict(ref) for ref in owner_references]
    obj: dict[str, Any] = {"apiVersion": kind.group_version, "kind": kind.kind, "metadata": metadata}
    obj.update({k: v for k, v in body.items() if v is not None})
    return obj


def stamp(
    obj: dict[str, Any], *, uid: str, created: datetime, resource_version: str | None = None
) -> dict[str, Any]:
    """``obj`` with the metadata the API server sets on create, where it is missing: uid,
    resourceVersion (when given), creationTimestamp, and generation 1 for kinds that have a spec.

    One rule for the seed (which hands its objects to the emulated server) and the tests' sites.
    """
    meta = obj["metadata"]
    meta.setdefault("uid", uid)
    if resource_version is not None:
        meta.setdefault("resourceVersion", resource_version)
    meta.setdefault("creationTimestamp", iso(created))
    if obj["kind"] not in ("Secret", "ConfigMap", "Namespace"):
        meta.setdefault("generation", 1)
    return obj


def owner_reference(obj: Mapping[str, Any], *, controller: bool | None = None) -> dict[str, Any]:
    """An ownerReference pointing at ``obj`` (which must carry a uid once stored)."""
    meta = obj.get("metadata") or {}
    ref: dict[str, Any] = {
        "apiVersion": obj.get("apiVersion", ""),
        "kind": obj.get("kind", ""),
        "name": meta.get("name", ""),
        "uid": meta.get("uid", ""),
    }
    if controller is not None:
        ref["controller"] = controller
        ref["blockOwnerDeletion"] = controller
    return ref


def condition(
    type_: str,
    status: bool | str,
    reason: str,
    message: str,
    now: datetime,
    observed_generation: int | None = None,
) -> dict[str, Any]:
    """A metav1.Condition-shaped dict."""
    text = status if isinstance(status, str) else ("True" if status else "False")
    out: dict[str, Any] = {
        "type": type_,
        "status": text,
        "reason": reason,
        "message": message,
        "lastTransitionTime": iso(now),
    }
    if observed_generation is not None:
        out["observedGeneration"] = observed_generation
    return out


def set_condition(conditions: Sequence[Mapping[str, Any]] | None, new: Mapping[str, Any]) -> list[dict]:
    """Conditions with ``new`` merged in by type, keeping lastTransitionTime when status is unchanged.

    That is the apimachinery rule (meta.SetStatusCondition); docs/domain.md §3.6 notes why it matters.
    """
    out: list[dict] = []
    replaced = False
    for old in conditions or ():
        if old.get("type") == new.get("type"):
            merged = dict(new)
            if old.get("status") == new.get("status") and old.get("lastTransitionTime"):
                merged["lastTransitionTime"] = old["lastTransitionTime"]
            out.append(merged)
            replaced = True
        else:
            out.append(dict(old))
    if not replaced:
        out.append(dict(new))
    return out


def remove_condition(conditions: Sequence[Mapping[str, Any]] | None, type_: str) -> list[dict]:
    """Conditions without any of type ``type_``."""
    return [dict(c) for c in conditions or () if c.get("type") != type_]


def find_condition(obj: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    """The status condition of type ``type_`` on ``obj``, if any."""
    for cond in (obj.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_:
            return cond
    return None


def renewal_time(not_before: datetime, not_after: datetime, renew_before: timedelta | None) -> datetime:
    """When cert-manager schedules renewal: ``notAfter - renewBefore``, or at 2/3 of the actual
    lifetime when renewBefore is unset or not shorter than it (CM pkg/util/pki renewal time)."""
    lifetime = not_after - not_before
    before = renew_before if renew_before is not None and renew_before < lifetime else lifetime / 3
    return (not_after - before).replace(microsecond=0)


def _attr(cert: x509.Certificate, oid: x509.ObjectIdentifier) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(oid)]


def issued_secret_annotations(
    certificate_name: str, issuer_ref: Mapping[str, Any], cert: x509.Certificate
) -> dict[str, str]:
    """Annotations cert-manager writes on an issued Secret (docs/domain.md §3.5)."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        dns = san.get_values_for_type(x509.DNSName)
        ips = [str(i) for i in san.get_values_for_type(x509.IPAddress)]
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        dns, ips, uris = [], [], []
    out = {
        "cert-manager.io/certificate-name": certificate_name,
        "cert-manager.io/issuer-name": str(issuer_ref.get("name", "")),
        "cert-manager.io/issuer-kind": str(issuer_ref.get("kind", "Issuer")),
        "cert-manager.io/issuer-group": str(issuer_ref.get("group", "cert-manager.io")),
        "cert-manager.io/common-name": ",".join(_attr(cert, NameOID.COMMON_NAME)),
        "cert-manager.io/alt-names": ",".join(dns),
        "cert-manager.io/ip-sans": ",".join(ips),
        "cert-manager.io/uri-sans": ",".join(uris),
    }
    orgs = _attr(cert, NameOID.ORGANIZATION_NAME)
    if orgs:
        out["cert-manager.io/subject-organizations"] = ",".join(orgs)
    return out


def bundle_hash(data: Mapping[str, str]) -> str:
    """The value for trust-manager's hash annotation: a digest of the target data."""
    digest = hashlib.sha256()
    for key in sorted(data):
        digest.update(key.encode() + b"\0" + data[key].encode() + b"\0")
    return digest.hexdigest()


def short_name(name: str, limit: int = 52) -> str:
    """``name`` cut to ``limit`` characters without a trailing dash (cert-manager's generateName base)."""
    return name[:limit].rstrip("-.")
