"""The trust bundle view: the ConfigMap clients trust, its certificates, and the trust-manager object
behind it: a ``Bundle`` (trust.cert-manager.io/v1alpha1) or its successor, a ``ClusterBundle``
(trust-manager.io/v1alpha2), with the conditions trust-manager's migration puts on a Bundle."""

from __future__ import annotations

from collections.abc import Mapping

from tui.core.build.cache import DecodeCache, decode_value
from tui.core.build.readers import (
    Obj,
    b64_bytes,
    field_of,
    find_condition,
    meta_of,
    one_line,
    parse_conditions,
    spec_of,
    status_of,
)
from tui.core.certs import CertificateInfo
from tui.core.model import resources as rk
from tui.core.model.names import TRUST_BUNDLE_LABEL, TRUST_BUNDLE_LABEL_V2
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.state import Condition, DiscoveryView, RootCAView, TrustBundleView


def _bundle_source_text(source: Obj) -> str:
    """One ``Bundle`` source (``spec.sources[]``) for people."""
    for kind in ("secret", "configMap"):
        ref = source.get(kind)
        if isinstance(ref, Mapping):
            return f"{kind} {ref.get('name', '?')} key {ref.get('key', '*')}"
    if "inLine" in source:
        return "inline"
    if source.get("useDefaultCAs"):
        return "default CAs"
    return "unknown source"


def _cluster_bundle_sources(spec: Obj) -> tuple[str, ...]:
    """A ``ClusterBundle``'s sources (``sourceRefs``, ``inLineCAs``, ``defaultCAs``) for people."""
    out = []
    refs = spec.get("sourceRefs")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, Mapping):
            kind = str(ref.get("kind") or "?")
            kind = kind[:1].lower() + kind[1:]  # as a Bundle's sources read: secret, configMap
            name = ref.get("name") or ("selected by label" if ref.get("selector") else "?")
            out.append(f"{kind} {name} key {ref.get('key', '*')}")
    if spec.get("inLineCAs"):
        out.append("inline")
    if field_of(spec, "defaultCAs").get("provider") == "System":
        out.append("default CAs")
    return tuple(out)


def _writer(raw: RawSnapshot, cm: Obj | None, configmap: str) -> tuple[str, Obj] | None:
    """The trust-manager object that writes the ConfigMap, as ``(kind, object)``: the one its label
    names (``trust.cert-manager.io/bundle`` for a Bundle, ``trust-manager.io/bundle`` for a
    ClusterBundle), else one named like the ConfigMap (trust-manager names targets after it)."""
    labels = field_of(meta_of(cm), "labels")
    candidates: list[tuple[str, str, str]] = []
    if isinstance(labels.get(TRUST_BUNDLE_LABEL), str):
        candidates.append(("Bundle", rk.BUNDLES.key, labels[TRUST_BUNDLE_LABEL]))
    if isinstance(labels.get(TRUST_BUNDLE_LABEL_V2), str):
        candidates.append(("ClusterBundle", rk.CLUSTER_BUNDLES.key, labels[TRUST_BUNDLE_LABEL_V2]))
    candidates += [
        ("Bundle", rk.BUNDLES.key, configmap),
        ("ClusterBundle", rk.CLUSTER_BUNDLES.key, configmap),
    ]
    for kind, key, name in candidates:
        obj = raw.get(key, "", name)
        if obj is not None:
            return kind, obj
    return None


def build_trust_bundle(
    raw: RawSnapshot,
    discovery: DiscoveryView,
    root: RootCAView,
    cache: DecodeCache,
) -> TrustBundleView:
    """The trust bundle ConfigMap, its certificates, whether the current CA is in it, and the
    trust-manager object (Bundle or ClusterBundle) that writes it with its conditions."""
    ns, name, key = discovery.bundle_namespace, discovery.bundle_configmap, discovery.bundle_key
    cm = raw.get(rk.CONFIGMAPS.key, ns, name)
    data = field_of(cm, "data")
    binary = field_of(cm, "binaryData")
    payload: bytes | None = None
    if isinstance(data.get(key), str):
        payload = data[key].encode("utf-8")
    elif key in binary:
        payload = b64_bytes(binary[key])
    certificates: tuple[CertificateInfo, ...] = ()
    error: str | None = None
    if payload is not None:
        value = decode_value(cache, payload, f"{ns}/{name} {key}")
        certificates, error = value.certificates, value.error
    current = root.certificate
    # A bundle is in step when it holds the CA itself or a CA above it in its chain (a bring-your-own
    # issuing CA is trusted through its root, which is all the bundle carries).
    accepted = {current.sha256, *(c.sha256 for c in root.chain)} if current is not None else set()
    # A CA found where the issuer's location is still unconfirmed may not be the site's: not judged.
    unknown = current is None or cm is None or root.location_unconfirmed
    holds_current = None if unknown else any(c.sha256 in accepted for c in certificates)

    found = _writer(raw, cm, name)
    kind: str | None = None
    bundle_name: str | None = None
    ready = deprecated = migrated = None
    sources: tuple[str, ...] = ()
    cluster_bundle: str | None = None
    if found is not None:
        kind, bundle = found
        bundle_name = str(meta_of(bundle).get("name") or "") or None
        conditions = parse_conditions(status_of(bundle).get("conditions"))
        ready = find_condition(conditions, "Ready") or find_condition(conditions, "Synced")
        if kind == "Bundle":
            raw_sources = spec_of(bundle).get("sources") or []
            sources = tuple(_bundle_source_text(s) for s in raw_sources if isinstance(s, Mapping))
            # trust-manager's migration marks a Bundle (docs/domain.md §4.1); only a True one says so.
            deprecated = _true(find_condition(conditions, "Deprecated"))
            migrated = _true(find_condition(conditions, "Migrated"))
            if bundle_name and raw.get(rk.CLUSTER_BUNDLES.key, "", bundle_name) is not None:
                cluster_bundle = bundle_name
        else:
            sources = _cluster_bundle_sources(spec_of(bundle))
    # What this view still waits for: an object missing from a collection not listed yet is unknown.
    loading = [p for p in discovery.loading if p == rk.DATAFLOW_ENDPOINTS.plural]
    if cm is None and raw.pending(rk.CONFIGMAPS.key, ns):
        loading.append(rk.CONFIGMAPS.plural)
    if found is None:
        loading += [r.plural for r in (rk.BUNDLES, rk.CLUSTER_BUNDLES) if raw.pending(r.key)]
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
        bundle_name=bundle_name,
        bundle_ready=None if ready is None else ready.is_true,
        bundle_reason=ready.reason if ready else "",
        bundle_message=one_line(ready.message) if ready else "",
        bundle_sources=sources,
        bundle_kind=kind,
        deprecated=deprecated,
        migrated=migrated,
        cluster_bundle=cluster_bundle,
        loading=tuple(loading),
    )


def _true(condition: Condition | None) -> Condition | None:
    return condition if condition is not None and condition.is_true else None
