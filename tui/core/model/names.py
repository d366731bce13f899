"""Every assumption aio-certs makes about AIO object names, labels and annotations, in one place.

Sources are in ``docs/domain.md`` (§2, §3.5, §4.2, §5.4). Names that depend on the AIO
namespace are derived from it (the official template does the same), so a site installed into another
namespace works without flags. Anything marked UNCONFIRMED there is a constant here so that a correction
is made once.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NAMESPACE = "azure-iot-operations"
"""Namespace AIO is installed into unless the custom location says otherwise."""

CERT_MANAGER_NAMESPACE = "cert-manager"
"""cert-manager's cluster resource namespace: where ClusterIssuer CA secrets live."""

ROOT_CA_SECRET = "azure-iot-operations-aio-ca-certificate"
"""The quickstart root CA secret (in the cert-manager namespace). Whether it follows the AIO namespace
is UNCONFIRMED, so it is a constant; discovery prefers the issuer's ``spec.ca.secretName``."""

QUICKSTART_CA_COMMON_NAME = "Azure IoT Operations Quickstart Root CA - Not for Production"
"""Common name of the self-signed CA AIO generates when no issuer of your own is brought."""

QUICKSTART_MARKER = "Not for Production"
"""Substring that marks a quickstart CA even if the rest of its subject changes between releases."""

ISSUER_SUFFIX = "-aio-certificate-issuer"
TRUST_BUNDLE_SUFFIX = "-aio-ca-trust-bundle"
TRUST_BUNDLE_KEY = "ca.crt"
"""Data key of the trust bundle ConfigMap that holds the PEM bundle."""

BROKER_LISTENER = "default"
"""BrokerListener whose TLS port carries the issuerRef that signs broker server certificates."""

DATAFLOW_ENDPOINT = "default"
"""DataflowEndpoint whose ``tls.trustedCaCertificateConfigMapRef`` names the trust bundle ConfigMap."""

TRUST_LIST_SYNC = "aio-opc-ua-broker-trust-list"
ISSUER_LIST_SYNC = "aio-opc-ua-broker-issuer-list"
CLIENT_CERT_SYNC = "aio-opc-ua-broker-client-certificate"

LIST_TRUST = "trust"
LIST_ISSUER = "issuer"
OPCUA_LISTS: dict[str, str] = {LIST_TRUST: TRUST_LIST_SYNC, LIST_ISSUER: ISSUER_LIST_SYNC}
"""OPC UA list name -> the SecretSync (and synced Secret) that carries it."""

OPCUA_SPC = "opc-ua-connector"
"""SPC the 2025-07 CLI creates; newer CLIs write into the instance's default SPC instead."""

DEFAULT_SPC_PREFIX = "spc-ops-"
"""Prefix of the default SPC created by ``az iot ops secretsync enable``."""

SSC_SERVICE_ACCOUNT = "aio-ssc-sa"

SECRET_SYNC_LABEL = "secrets-store.sync.x-k8s.io"
"""Label (empty value) and annotation the secret sync controller puts on the Secrets it writes."""

TRUST_BUNDLE_LABEL = "trust.cert-manager.io/bundle"
TRUST_BUNDLE_LABEL_V2 = "trust-manager.io/bundle"
"""trust-manager's label on target ConfigMaps (Bundle, and the newer ClusterBundle)."""

CERT_MANAGER_GROUP = "cert-manager.io"
ANNOTATION_CERTIFICATE_NAME = "cert-manager.io/certificate-name"
ANNOTATION_ISSUER_NAME = "cert-manager.io/issuer-name"
ANNOTATION_ISSUER_KIND = "cert-manager.io/issuer-kind"
ANNOTATION_CERTIFICATE_REVISION = "cert-manager.io/certificate-revision"

SECRET_TLS_CRT = "tls.crt"
SECRET_TLS_KEY = "tls.key"
SECRET_CA_CRT = "ca.crt"

ISSUER_KINDS = ("Issuer", "ClusterIssuer")


@dataclass(frozen=True)
class AioNames:
    """The AIO object names for one namespace; derived, never typed twice."""

    namespace: str = DEFAULT_NAMESPACE
    cert_manager_namespace: str = CERT_MANAGER_NAMESPACE

    @property
    def issuer_name(self) -> str:
        """The CA ClusterIssuer AIO creates: ``<ns>-aio-certificate-issuer``."""
        return f"{self.namespace}{ISSUER_SUFFIX}"

    @property
    def trust_bundle_configmap(self) -> str:
        """The trust bundle ConfigMap in the AIO namespace: ``<ns>-aio-ca-trust-bundle``."""
        return f"{self.namespace}{TRUST_BUNDLE_SUFFIX}"

    @property
    def trust_bundle_key(self) -> str:
        """Data key of the trust bundle ConfigMap."""
        return TRUST_BUNDLE_KEY

    @property
    def root_ca_secret(self) -> str:
        """Name of the quickstart root CA secret (lives in :attr:`cert_manager_namespace`)."""
        return ROOT_CA_SECRET

    def sync_name(self, list_name: str) -> str:
        """SecretSync (and synced Secret) name of an OPC UA list (``trust`` or ``issuer``)."""
        try:
            return OPCUA_LISTS[list_name]
        except KeyError:
            raise ValueError(f"unknown OPC UA list {list_name!r} (use trust or issuer)") from None

    def list_of_sync(self, sync_name: str) -> str | None:
        """The OPC UA list a SecretSync name carries, or None for other SecretSyncs."""
        for list_name, name in OPCUA_LISTS.items():
            if name == sync_name:
                return list_name
        return None


def is_quickstart_subject(subject: str) -> bool:
    """True when a certificate subject is AIO's quickstart CA (not meant for production)."""
    return QUICKSTART_MARKER.lower() in subject.lower()


def is_default_spc_name(name: str) -> bool:
    """True for names the official tooling gives the instance's default SPC."""
    return name.startswith(DEFAULT_SPC_PREFIX)


# --- Objects managed from Azure Resource Manager (Arc projection) -----
# Whether the SPC and the SecretSyncs of a site were created through ARM (the Secret Store extension's
# Microsoft.SecretSyncController resources projected onto the cluster through the custom location) and
# what that projection leaves on them is UNCONFIRMED (docs/domain.md §9.2). Resources that other Azure
# services create through a custom location carry ``management.azure.com/*`` annotations (resourceId,
# operationId, customLocation, location, tenantId, systemData: seen in Arc data services' documented
# objects), so that is the main signal; the rest are plausible guesses. A write to such an object may be
# reverted by Azure at its next reconciliation.

ARM_ANNOTATION_PREFIX = "management.azure.com/"
"""Annotation (or label) key prefix the Arc custom-location projection writes (UNCONFIRMED for SSE)."""

ARM_FIELD_MANAGERS = frozenset(
    {"clusterconnect-agent", "config-agent", "extension-manager", "resource-sync-agent"}
)
"""managedFields managers that would mean an Arc agent wrote the object (UNCONFIRMED guesses: the names of
the Arc agents' deployments in the azure-arc namespace)."""

ARM_OWNER_GROUP_SUFFIX = ".azure.com"
"""An ownerReference whose apiVersion group ends with this (an Azure operator's resource) (UNCONFIRMED)."""
