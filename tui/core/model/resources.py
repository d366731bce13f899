"""The Kubernetes resource kinds aio-certs reads, in one place.

Both the cluster adapter (which lists and watches them) and the embedded API server (which serves
them) use this table, so a correction to a group, version or scope is made once. Sources are in
``docs/domain.md`` §1.1.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResourceKind:
    """One served/watched resource: where it lives in the API and what it is called."""

    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short_names: tuple[str, ...] = ()
    has_status: bool = False

    @property
    def key(self) -> str:
        """Stable identifier such as ``v1/secrets`` or ``cert-manager.io/v1/certificates``."""
        return f"{self.group_version}/{self.plural}"

    @property
    def group_version(self) -> str:
        """``apiVersion`` as written in objects: ``v1`` or ``group/version``."""
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        """Lower-case singular name, as discovery reports it."""
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        """The ``kind`` of a list response, e.g. ``SecretList``."""
        return f"{self.kind}List"


SECRETS = ResourceKind("", "v1", "secrets", "Secret", True)
CONFIGMAPS = ResourceKind("", "v1", "configmaps", "ConfigMap", True, ("cm",))
NAMESPACES = ResourceKind("", "v1", "namespaces", "Namespace", False, ("ns",), has_status=True)

CM_GROUP = "cert-manager.io"
CERTIFICATES = ResourceKind(CM_GROUP, "v1", "certificates", "Certificate", True, ("cert", "certs"), True)
CERTIFICATE_REQUESTS = ResourceKind(
    CM_GROUP, "v1", "certificaterequests", "CertificateRequest", True, ("cr", "crs"), True
)
ISSUERS = ResourceKind(CM_GROUP, "v1", "issuers", "Issuer", True, (), True)
CLUSTER_ISSUERS = ResourceKind(CM_GROUP, "v1", "clusterissuers", "ClusterIssuer", False, (), True)

BUNDLES = ResourceKind("trust.cert-manager.io", "v1alpha1", "bundles", "Bundle", False, (), True)
# trust-manager's successor of Bundle (docs/domain.md §4.1); a cluster has either, or both while migrating.
CLUSTER_BUNDLES = ResourceKind(
    "trust-manager.io", "v1alpha2", "clusterbundles", "ClusterBundle", False, (), True
)

SECRET_PROVIDER_CLASSES = ResourceKind(
    "secrets-store.csi.x-k8s.io", "v1", "secretproviderclasses", "SecretProviderClass", True, ("spc",), True
)
SECRET_SYNCS = ResourceKind("secret-sync.x-k8s.io", "v1alpha1", "secretsyncs", "SecretSync", True, (), True)

BROKER_LISTENERS = ResourceKind(
    "mqttbroker.iotoperations.azure.com", "v1", "brokerlisteners", "BrokerListener", True, (), True
)
# Group and version of dataflow endpoints: docs/domain.md §1.1 (earlier AIO previews served v1beta1).
DATAFLOW_ENDPOINTS = ResourceKind(
    "connectivity.iotoperations.azure.com", "v1", "dataflowendpoints", "DataflowEndpoint", True, (), True
)

ALL_KINDS: tuple[ResourceKind, ...] = (
    SECRETS,
    CONFIGMAPS,
    NAMESPACES,
    CERTIFICATES,
    CERTIFICATE_REQUESTS,
    ISSUERS,
    CLUSTER_ISSUERS,
    BUNDLES,
    CLUSTER_BUNDLES,
    SECRET_PROVIDER_CLASSES,
    SECRET_SYNCS,
    BROKER_LISTENERS,
    DATAFLOW_ENDPOINTS,
)

BY_KEY: dict[str, ResourceKind] = {k.key: k for k in ALL_KINDS}
