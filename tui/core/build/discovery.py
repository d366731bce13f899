"""Where the issuer and the trust bundle are: the broker listener and dataflow endpoint, else flags.

Bring-your-own issuer sites ("trust settings", docs/domain.md §2.4) name their issuer in the default
broker listener's issuerRef and their trust bundle in the default dataflow endpoint's trusted-CA
ConfigMap; ``--issuer`` and ``--trust-bundle`` stand in when those objects do not say.
"""

from __future__ import annotations

from collections.abc import Mapping

from tui.core.build.readers import Obj, field_of, spec_of
from tui.core.model import resources as rk
from tui.core.model.names import BROKER_LISTENER, DATAFLOW_ENDPOINT, SECRET_CA_CRT
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import RawSnapshot
from tui.core.model.state import DiscoveryView


def _listener_issuer_ref(listener: Obj | None) -> Obj | None:
    if listener is None:
        return None
    ports = spec_of(listener).get("ports") or []
    refs = []
    for port in ports if isinstance(ports, list) else []:
        if not isinstance(port, Mapping):
            continue
        ref = field_of(field_of(port, "tls"), "certManagerCertificateSpec").get("issuerRef")
        if isinstance(ref, Mapping) and ref.get("name"):
            refs.append((port.get("port") != 18883, ref))  # AIO's default TLS port first
    return min(refs, key=lambda r: r[0])[1] if refs else None


def discover(raw: RawSnapshot, settings: ModelSettings) -> DiscoveryView:
    """Where the issuer and trust bundle are: broker listener / dataflow endpoint, else flags, else AIO."""
    names = settings.names
    ns = settings.namespace
    ref = listener_ref = _listener_issuer_ref(raw.get(rk.BROKER_LISTENERS.key, ns, BROKER_LISTENER))
    if ref is not None:
        kind, name, source = str(ref.get("kind") or "Issuer"), str(ref["name"]), "broker-listener"
    elif settings.issuer_override is not None:
        (kind, name), source = settings.issuer_override, "flag"
    else:
        kind, name, source = "ClusterIssuer", names.issuer_name, "default"

    endpoint = raw.get(rk.DATAFLOW_ENDPOINTS.key, ns, DATAFLOW_ENDPOINT)
    # The AIO CRD nests TLS under mqttSettings (kafkaSettings for Kafka endpoints); a flat spec.tls is
    # accepted too in case a release moves it.
    endpoint_spec = spec_of(endpoint)
    cm_ref = next(
        (
            ref
            for tls in (
                field_of(field_of(endpoint_spec, "mqttSettings"), "tls"),
                field_of(field_of(endpoint_spec, "kafkaSettings"), "tls"),
                field_of(endpoint_spec, "tls"),
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
    # A fallback location stands unconfirmed while the object that would override it is not listed yet.
    loading = tuple(
        resource.plural
        for resource, found in ((rk.BROKER_LISTENERS, listener_ref), (rk.DATAFLOW_ENDPOINTS, cm_ref))
        if not found and raw.pending(resource.key, ns)
    )
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
        loading=loading,
    )


def _bundle_key(raw: RawSnapshot, namespace: str, configmap: str) -> str:
    # The endpoint names only the ConfigMap: use ca.crt when present, else its only key.
    obj = raw.get(rk.CONFIGMAPS.key, namespace, configmap)
    data = field_of(obj, "data")
    if SECRET_CA_CRT in data or len(data) != 1:
        return SECRET_CA_CRT
    return next(iter(data))
