"""The trust bundle view: the ConfigMap clients trust, its certificates, and the Bundle behind it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from tui.core.model.state import DiscoveryView, RootCAView, RotationEvent, TrustBundleView


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

    labels = field_of(meta_of(cm), "labels")
    bundle_name = labels.get(TRUST_BUNDLE_LABEL) or labels.get(TRUST_BUNDLE_LABEL_V2)
    # trust-manager names the target ConfigMap after its Bundle, so fall back to that.
    bundle = raw.get(rk.BUNDLES.key, "", bundle_name or name)
    ready = None
    sources: tuple[str, ...] = ()
    if bundle is not None:
        bundle_name = meta_of(bundle).get("name")
        conditions = parse_conditions(status_of(bundle).get("conditions"))
        ready = find_condition(conditions, "Ready") or find_condition(conditions, "Synced")
        raw_sources = spec_of(bundle).get("sources") or []
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
        bundle_message=one_line(ready.message) if ready else "",
        bundle_sources=sources,
    )
