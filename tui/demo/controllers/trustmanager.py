"""Simulated trust-manager: keeps each Bundle's target ConfigMaps in step with its sources.

Sources are read from the trust namespace (``cert-manager``): ``secret {name, key}``, ``configMap {name,
key}`` and ``inLine``; ``useDefaultCAs`` adds nothing here (no public CA set in the demo). Targets are
ConfigMaps named like the Bundle in every namespace matching ``target.namespaceSelector``, labelled
``trust.cert-manager.io/bundle`` and annotated with ``trust.cert-manager.io/hash`` (docs/domain.md §4.2).

Like the real trust-manager, each pass rebuilds the bundle from the current sources alone (TM
``pkg/bundle/internal/source/source.go``, docs/domain.md §4.3): after a rotation the bundle holds only
the new CA, and leaves signed by the old key stop verifying for clients that pick it up.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tui.core.clock import Clock
from tui.core.model import resources as rk
from tui.core.model.names import CERT_MANAGER_NAMESPACE, TRUST_BUNDLE_LABEL
from tui.demo.controllers.base import Controller, KubeAccess, PassResult, by_key
from tui.demo.seed.aio import BUNDLE_SYNCED_MESSAGE, trust_configmap
from tui.demo.seed.objects import (
    BUNDLE_HASH_ANNOTATION,
    bundle_hash,
    condition,
    set_condition,
    unb64,
)


def _certs(pem: str | bytes) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(pem.encode() if isinstance(pem, str) else pem)
    except ValueError:
        return []


def _selector_matches(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    match = (selector or {}).get("matchLabels") or {}
    return all(labels.get(k) == v for k, v in match.items())


class TrustManagerController(Controller):
    """Writes each Bundle's PEM, built from its current sources, into its target ConfigMaps."""

    name = "trust-manager"
    watched = (rk.BUNDLES, rk.SECRETS, rk.CONFIGMAPS, rk.NAMESPACES)

    def __init__(
        self,
        kube: KubeAccess,
        clock: Clock,
        *,
        trust_namespace: str = CERT_MANAGER_NAMESPACE,
    ) -> None:
        super().__init__(kube, clock)
        self.trust_namespace = trust_namespace

    def _source_certs(self, sources: Sequence[Mapping[str, Any]]) -> list[x509.Certificate]:
        out: list[x509.Certificate] = []
        for source in sources:
            if "secret" in source:
                ref = source["secret"] or {}
                obj = self.kube.get(rk.SECRETS, self.trust_namespace, str(ref.get("name") or ""))
                value = ((obj or {}).get("data") or {}).get(str(ref.get("key") or ""))
                if value:
                    out += _certs(unb64(value))
            elif "configMap" in source:
                ref = source["configMap"] or {}
                obj = self.kube.get(rk.CONFIGMAPS, self.trust_namespace, str(ref.get("name") or ""))
                value = ((obj or {}).get("data") or {}).get(str(ref.get("key") or ""))
                if value:
                    out += _certs(value)
            elif "inLine" in source:
                out += _certs(str(source["inLine"] or ""))
        return out

    def _reconcile(self) -> PassResult:
        now = self.clock.now()
        namespaces = self.kube.list(rk.NAMESPACES)
        writes = sum(self._reconcile_bundle(b, namespaces, now) for b in self.kube.list(rk.BUNDLES))
        return PassResult(writes, None)  # nothing timed: every pass follows a watched change

    def _reconcile_bundle(
        self, bundle: Mapping[str, Any], namespaces: Sequence[Mapping[str, Any]], now: datetime
    ) -> int:
        name = bundle["metadata"]["name"]
        spec = bundle.get("spec") or {}
        target = spec.get("target") or {}
        key = str((target.get("configMap") or {}).get("key") or "")
        if not key:
            return 0
        current = self._source_certs(spec.get("sources") or [])
        targets = [
            ns["metadata"]["name"]
            for ns in namespaces
            if _selector_matches(target.get("namespaceSelector"), ns["metadata"].get("labels") or {})
        ]
        existing = by_key(self.kube.list(rk.CONFIGMAPS, label_selector=f"{TRUST_BUNDLE_LABEL}={name}"))
        pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in current).decode()
        data = {key: pem}
        writes = 0
        for ns in targets:
            cm = existing.get((ns, name)) or self.kube.get(rk.CONFIGMAPS, ns, name)
            if (
                cm is not None
                and (cm.get("data") or {}) == data
                and (
                    (cm["metadata"].get("annotations") or {}).get(BUNDLE_HASH_ANNOTATION) == bundle_hash(data)
                )
            ):
                continue
            # Labels and annotations others put on the ConfigMap stay; trust-manager's own are set.
            meta = (cm or {}).get("metadata", {})
            obj = trust_configmap(
                name,
                ns,
                pem.encode("ascii"),
                key=key,
                bundle_name=name,
                labels=meta.get("labels"),
                annotations=meta.get("annotations"),
            )
            self.kube.upsert(rk.CONFIGMAPS, obj, cm)
            writes += 1
        synced = condition(
            "Synced", True, "Synced", BUNDLE_SYNCED_MESSAGE, now, bundle["metadata"].get("generation")
        )
        conditions = (bundle.get("status") or {}).get("conditions") or []
        merged = set_condition(conditions, synced)
        if merged != conditions:
            self.kube.patch_status(rk.BUNDLES, None, name, {"conditions": merged})
            writes += 1
        return writes
