"""The immutable cluster model: what the dashboard, ``status`` and change plans read.

:func:`tui.core.build.assemble.build_state` turns a :class:`~tui.core.model.snapshot.RawSnapshot` (and
optionally a :class:`~tui.core.model.snapshot.VaultSnapshot`) into one :class:`ClusterState`. Every value
here is frozen and every collection a tuple, so a state can be shared between threads, compared with ``==``
and diffed by each row's stable ``key``. Nothing needs re-parsing above this layer: certificates and CRLs
arrive decoded (:class:`~tui.core.certs.model.CertificateInfo`, :class:`~tui.core.certs.model.CrlInfo`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING

from tui.core.certs.model import CertificateInfo, CrlInfo
from tui.core.model.arm import ArmKind, Owner
from tui.core.model.connector import ConnectorCertView
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.spc import SpcView

if TYPE_CHECKING:
    from tui.core.model.settings import ModelSettings


# -- root CA rotation (judged in tui.core.model.rotation) ----------------------------------------


class RotationPhase(StrEnum):
    """Where the root CA is in its renewal cycle."""

    STEADY = "steady"
    RENEWAL_DUE = "renewal-due"
    """renewalTime has passed but no issuance is running."""
    ISSUING = "issuing"
    ROTATED = "rotated"
    """A rotation completed recently (see :attr:`RotationView.rotated_at`)."""
    FAILED = "failed"
    """The last issuance failed; cert-manager retries at :attr:`RotationView.next_attempt`."""
    UNMANAGED = "unmanaged"
    """The CA secret exists but no cert-manager Certificate writes it."""
    UNKNOWN = "unknown"
    """Neither the CA secret nor its Certificate could be read."""
    LOADING = "loading"
    """What the phase depends on (the CA secret, its Certificate, where the issuer is) has not been listed
    yet: the dashboard draws before every collection has answered (:attr:`RootCAView.loading`)."""


@dataclass(frozen=True)
class RotationEvent:
    """One observed (or inferred) change of the root CA."""

    at: datetime
    """When the new CA took effect: its notBefore when plausible, else when it was seen."""
    revision: int | None
    serial: str | None
    sha1: str | None
    previous_sha1: str | None
    """Thumbprint of the CA it replaced; None when inferred without having seen the old one."""
    previous_serial: str | None = None

    @property
    def key(self) -> str:
        """Stable key: the new CA's thumbprint (or revision when the CA could not be decoded)."""
        return self.sha1 or f"revision-{self.revision}"


@dataclass(frozen=True)
class RotationView:
    """The root CA's rotation state at ``now``, ready to display."""

    phase: RotationPhase
    days_left: float | None
    not_before: datetime | None
    not_after: datetime | None
    renewal_time: datetime | None
    revision: int | None
    failed_attempts: int
    last_failure_time: datetime | None
    next_attempt: datetime | None
    """When cert-manager will retry after a failure (FAILED phase only)."""
    rotated_at: datetime | None
    """When the latest rotation took effect, if one is known."""
    reason: str
    """Issuing/Ready reason that explains the phase (empty when steady)."""
    message: str
    """One line for humans, e.g. ``failed 2x, next attempt 2026-01-01T12:00:00Z``."""
    retry_now: bool = False
    """The last issuance failed but the spec has changed since its request: cert-manager skips the backoff
    and tries again as soon as it sees the change (:attr:`next_attempt` is then None)."""


class Severity(StrEnum):
    """How urgent a finding is. ``status`` exits 2 on any critical, 1 on any warning."""

    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical, 1 for warning, 2 for info: sort ascending for worst first."""
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}


PARTIAL_SYNC = "PartialSync"
"""The condition reason Azure's Secret Store extension writes when only some items synced."""

SECRET_DATA_LIMIT = 1024 * 1024
"""Bytes of data a Secret may hold: the API server refuses more (docs/domain.md §1.2)."""


class Health(StrEnum):
    """Health flags of one OPC UA list entry (the words the dashboard filter understands)."""

    EXPIRED = "expired"
    EXPIRING = "expiring"
    NOT_YET_VALID = "not-yet-valid"
    CA_WITHOUT_CRL = "ca-without-crl"
    CRL_STALE = "crl-stale"
    CRL_BAD_SIGNATURE = "crl-bad-signature"
    CRL_WITHOUT_CA = "crl-without-ca"
    REVOKED = "revoked"
    NOT_CA = "not-ca"
    DUPLICATE = "duplicate"
    NOT_SYNCED = "not-synced"
    HAND_ADDED = "hand-added"
    """In the synced Secret, but no SecretSync mapping produces it: someone added it by hand (the AIO docs
    add a CRL so). It is not in Key Vault, and it goes with the Secret if the SecretSync is deleted
    (docs/domain.md §5.4)."""
    NO_SPC_OBJECT = "no-spc-object"
    OTHER_SPC = "other-spc"
    """Mapped, but its object sits in another SecretProviderClass than the one the SecretSync names, so
    the sync cannot fetch it (a newer CLI writes into the instance's default SPC, docs/domain.md §2.5)."""
    VAULT_MISSING = "vault-missing"
    VAULT_DIFFERS = "vault-differs"
    SYNC_FAILING = "sync-failing"
    UNDECODABLE = "undecodable"
    WRONG_FORMAT = "wrong-format"
    PRIVATE_KEY = "private-key"
    ARM_DRIFT = "arm-drift"
    """The mapping is on one side only: the cluster copy of an ARM-owned SecretSync, or its ARM resource
    (docs/domain.md §9.3: the next portal or CLI change rebuilds the list from ARM's copy)."""


class Area(StrEnum):
    """The parts of the screen whose data can fail independently."""

    ROOT_CA = "root-ca"
    ISSUERS = "issuers"
    TRUST_BUNDLE = "trust-bundle"
    OPC_UA = "opc-ua"
    VAULT = "vault"


@dataclass(frozen=True)
class Condition:
    """One Kubernetes status condition (cert-manager or SecretSync)."""

    type: str
    status: str
    """``True``, ``False`` or ``Unknown`` as the API writes it."""
    reason: str = ""
    message: str = ""
    last_transition: datetime | None = None
    observed_generation: int | None = None

    @property
    def is_true(self) -> bool:
        """True when ``status`` is ``True``."""
        return self.status == "True"


@dataclass(frozen=True)
class IssuerRef:
    """A cert-manager ``issuerRef``; kind defaults to Issuer and group to cert-manager.io, as in the API."""

    name: str
    kind: str = "Issuer"
    group: str = "cert-manager.io"

    def issuer_key(self, certificate_namespace: str) -> str:
        """The :attr:`IssuerView.key` this reference resolves to for a Certificate in that namespace."""
        namespace = "" if self.kind == "ClusterIssuer" else certificate_namespace
        return issuer_key(self.kind, namespace, self.name)


def issuer_key(kind: str, namespace: str, name: str) -> str:
    """Stable key of an issuer row: ``ClusterIssuer/name`` or ``Issuer/namespace/name``."""
    return f"{kind}/{name}" if kind == "ClusterIssuer" else f"{kind}/{namespace}/{name}"


@dataclass(frozen=True)
class RequestSpec:
    """What of a CertificateRequest cert-manager compares with its Certificate's spec to tell whether the
    spec changed since the request (docs/domain.md §3.3)."""

    is_ca: bool
    usages: tuple[str, ...]
    """Sorted."""
    duration: timedelta | None
    issuer: tuple[str, str, str]
    """``(name, kind, group)`` with the API's defaults (``Issuer``, ``cert-manager.io``) filled in."""
    names: tuple[tuple[str, tuple[str, ...]], ...]
    """``(spec field, sorted values)`` read from the CSR: ``spec.commonName``, ``spec.dnsNames``..."""


@dataclass(frozen=True)
class RequestView:
    """A cert-manager CertificateRequest: one issuance attempt of a Certificate revision."""

    namespace: str
    name: str
    revision: int | None
    """``cert-manager.io/certificate-revision`` annotation: the revision this request would create."""
    ready: Condition | None
    """Ready condition: reason Pending, Issued, Failed or Denied."""
    approved: bool | None
    failure_time: datetime | None
    created: datetime | None
    spec: RequestSpec | None = None
    """What the request asked for; None when it carries no CSR that can be read."""

    @property
    def key(self) -> str:
        """Stable key ``namespace/name``."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class CertificateView:
    """A cert-manager Certificate: its spec lifetime settings and its status, without judgement."""

    namespace: str
    name: str
    secret_name: str
    issuer_ref: IssuerRef
    is_ca: bool
    common_name: str | None
    duration: timedelta | None
    """``spec.duration``; None means cert-manager's default (90 days)."""
    renew_before: timedelta | None
    renew_before_percentage: int | None
    rotation_policy: str | None
    """``spec.privateKey.rotationPolicy`` (Always/Never) when set."""
    not_before: datetime | None
    not_after: datetime | None
    renewal_time: datetime | None
    revision: int | None
    ready: Condition | None
    issuing: Condition | None
    conditions: tuple[Condition, ...]
    failed_issuance_attempts: int
    last_failure_time: datetime | None
    next_private_key_secret_name: str | None
    generation: int | None
    resource_version: str | None
    latest_request: RequestView | None = None
    """The newest CertificateRequest of this Certificate (kept after success, unlike cmctl's view)."""
    request_mismatch: tuple[str, ...] | None = None
    """Spec fields (``spec.dnsNames``...) in which the spec no longer matches the request for the next
    revision: cert-manager then skips its failure backoff and issues again as soon as it sees the
    Certificate (docs/domain.md §3.3). Empty when they match; None when there is no such request to
    compare with, or it cannot be read."""

    @property
    def key(self) -> str:
        """Stable row key ``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def is_ready(self) -> bool:
        """Ready condition is True."""
        return self.ready is not None and self.ready.is_true

    @property
    def is_issuing(self) -> bool:
        """Issuing condition is True (a (re)issuance is in progress)."""
        return self.issuing is not None and self.issuing.is_true


@dataclass(frozen=True)
class IssuerView:
    """An Issuer or ClusterIssuer with its readiness and the Certificates that name it."""

    name: str
    kind: str
    """``Issuer`` or ``ClusterIssuer``."""
    namespace: str
    """``""`` for a ClusterIssuer."""
    type: str
    """``ca``, ``selfSigned``, ``acme``, ``vault``, ``venafi`` or ``unknown``."""
    ready: bool | None
    """Ready condition status; None when the issuer has no Ready condition yet."""
    reason: str
    message: str
    last_transition: datetime | None
    certificates_backed: int
    """Certificates whose issuerRef resolves to this issuer."""
    certificates_failing: int
    """Of those, how many are not Ready."""
    ca_secret_name: str | None
    """``spec.ca.secretName`` for CA issuers."""
    roles: tuple[str, ...] = ()
    """``broker`` (signs broker server certificates), ``root-ca`` (issues the root CA)."""

    @property
    def key(self) -> str:
        """Stable row key (see :func:`issuer_key`)."""
        return issuer_key(self.kind, self.namespace, self.name)

    @property
    def display_name(self) -> str:
        """``name`` for a ClusterIssuer, ``namespace/name`` for an Issuer."""
        return self.name if self.kind == "ClusterIssuer" else f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class DiscoveryView:
    """Where the issuer and trust bundle were found, so a bring-your-own site is explained."""

    issuer_kind: str
    issuer_name: str
    issuer_namespace: str
    """Namespace of an Issuer; ``""`` for a ClusterIssuer."""
    issuer_source: str
    """``broker-listener``, ``flag`` or ``default``."""
    bundle_namespace: str
    bundle_configmap: str
    bundle_key: str
    bundle_source: str
    """``dataflow-endpoint``, ``flag`` or ``default``."""
    byo: bool
    """True when the issuer or bundle is not AIO's default (a bring-your-own issuer site)."""
    loading: tuple[str, ...] = ()
    """``brokerlisteners`` and/or ``dataflowendpoints`` when they were not listed yet and so could not
    say where the issuer (or the bundle) is: the location shown is the fallback, unconfirmed."""

    @property
    def issuer_unconfirmed(self) -> bool:
        """The issuer's location is the fallback while the broker listener is not listed yet."""
        return "brokerlisteners" in self.loading

    @property
    def bundle_unconfirmed(self) -> bool:
        """The bundle's location is the fallback while the dataflow endpoint is not listed yet."""
        return "dataflowendpoints" in self.loading

    @property
    def issuer_key(self) -> str:
        """Key of the discovered issuer's :class:`IssuerView`."""
        return issuer_key(self.issuer_kind, self.issuer_namespace, self.issuer_name)


@dataclass(frozen=True)
class RootCAView:
    """The CA that signs AIO's certificates, its Certificate resource and its rotation phase."""

    secret_namespace: str
    secret_name: str
    secret_present: bool
    certificate: CertificateInfo | None
    """First certificate of ``tls.crt`` (the signing CA); None when absent or undecodable."""
    chain: tuple[CertificateInfo, ...]
    """Further certificates from ``tls.crt`` and ``ca.crt`` (de-duplicated), for the preview."""
    anchor: CertificateInfo | None
    """The self-signed root at the top (the CA itself on a quickstart site; the customer root above a
    bring-your-own issuing CA); None when the chain does not reach one."""
    decode_error: str | None
    private_key_present: bool
    """Whether ``tls.key`` exists; its content is never read."""
    resource: CertificateView | None
    """The cert-manager Certificate whose ``spec.secretName`` is this secret."""
    days_left: float | None
    rotation: RotationView
    quickstart: bool
    """True for AIO's self-generated "Not for Production" CA."""
    note: str = ""
    """Why the CA could not be located, when it could not (one line)."""
    locatable: bool = True
    """False when the issuer keeps its CA outside the cluster (vault, ACME...): absence is expected."""
    old_key_certificates: tuple[str, ...] = ()
    """Keys of the Certificates this CA's issuer signs whose issued certificate names this CA but does not
    verify against its current key: signed before a key rotation, they fail for every client that has
    the new trust bundle until cert-manager issues them again (docs/domain.md §3.8, §4.3)."""
    loading: tuple[str, ...] = ()
    """Plural names of the collections this view still waits for (``secrets``, ``certificates``,
    ``brokerlisteners``...): what they would say is unknown, so nothing is judged absent from them."""

    @property
    def location_unconfirmed(self) -> bool:
        """Where the CA secret is depends on a collection not listed yet (the broker listener or the
        issuer): the secret shown, if any, may not be the one the site uses."""
        return bool({"brokerlisteners", "issuers", "clusterissuers"} & set(self.loading))

    @property
    def key(self) -> str:
        """Stable key ``namespace/name`` of the CA secret."""
        return f"{self.secret_namespace}/{self.secret_name}"


@dataclass(frozen=True)
class TrustBundleView:
    """The trust bundle ConfigMap, what it holds, whether it holds the current CA, and the trust-manager
    object that writes it (a ``Bundle`` or a ``ClusterBundle``).

    trust-manager rebuilds the bundle from its current sources on every change and keeps no previous CA
    (docs/domain.md §4.3), so there is nothing here about one.
    """

    namespace: str
    configmap: str
    key: str
    source: str
    """How the ConfigMap was found (see :attr:`DiscoveryView.bundle_source`)."""
    present: bool
    key_present: bool
    certificates: tuple[CertificateInfo, ...]
    decode_error: str | None
    holds_current_ca: bool | None
    """None when the current CA is unknown."""
    bundle_name: str | None
    """trust-manager object that writes this ConfigMap, if one was found."""
    bundle_ready: bool | None
    bundle_reason: str
    bundle_message: str
    bundle_sources: tuple[str, ...]
    """Human description of each source (``secret x key tls.crt``)."""
    bundle_kind: str | None = None
    """``Bundle`` (trust.cert-manager.io/v1alpha1) or ``ClusterBundle`` (trust-manager.io/v1alpha2)."""
    deprecated: Condition | None = None
    """The Bundle's ``Deprecated`` condition when True: trust-manager wants it migrated to a ClusterBundle."""
    migrated: Condition | None = None
    """The Bundle's ``Migrated`` condition when True: a ClusterBundle took over; the Bundle can go."""
    cluster_bundle: str | None = None
    """A ClusterBundle of the same name beside a Bundle (trust-manager's migration creates one)."""
    loading: tuple[str, ...] = ()
    """Plural names of the collections this view still waits for (``configmaps``, ``dataflowendpoints``,
    ``bundles``...): what they would say is unknown, so nothing is judged absent from them."""

    @property
    def discovery_pending(self) -> bool:
        """Which ConfigMap is the bundle depends on the dataflow endpoint, not listed yet."""
        return "dataflowendpoints" in self.loading


@dataclass(frozen=True)
class SyncView:
    """One SecretSync of an OPC UA list, its conditions and the Secret it produced."""

    namespace: str
    name: str
    list_name: str
    """``trust`` or ``issuer``."""
    present: bool
    spc_name: str | None
    service_account: str | None
    force_synchronization: str | None
    mappings: tuple[tuple[str, str], ...]
    """``(sourcePath, targetKey)`` pairs in spec order."""
    conditions: tuple[Condition, ...]
    """Every condition, whichever family (Create/Update or SecretCreated/SecretUpdated)."""
    failing: tuple[Condition, ...]
    """Conditions whose reason is not a success (see :func:`tui.core.health.findings.condition_healthy`)."""
    last_successful_sync: datetime | None
    secret_present: bool
    secret_keys: tuple[str, ...]
    secret_managed: bool
    """The Secret carries the controller's label or an ownerReference to this SecretSync."""
    resource_version: str | None
    owner: Owner = Owner.CLUSTER
    """ARM when the SecretSync is an ARM resource projected onto the cluster (:func:`owner_of`)."""
    arm_mappings: tuple[tuple[str, str], ...] | None = None
    """The ARM resource's ``objectSecretMapping`` as ``(sourcePath, targetKey)``; None when ARM was not
    read or holds no such resource."""
    item_failures: tuple[tuple[str, str], ...] = ()
    """``(item, reason)`` for each item a ``PartialSync`` condition's summary says failed: the item as
    the summary names it (a target key, or a vault secret name) (docs/domain.md §5.3)."""
    partial_unread: bool = False
    """A ``PartialSync`` condition whose summary could not be read: which items failed is unknown."""
    data_bytes: int | None = None
    """Bytes of data in the synced Secret (what the API server's 1 MiB limit counts); None without one."""
    next_bytes: int | None = None
    """Bytes the Secret would hold after the next sync, when the vault says it changes (an entry mapped
    but not synced yet, or synced with other bytes); None when no different size is known."""
    loading: tuple[str, ...] = ()
    """``secretsyncs`` and/or ``secrets`` when not listed yet: an absent SecretSync or Secret is then
    unknown, not absent."""

    @property
    def healthy(self) -> bool:
        """Present and no failing condition."""
        return self.present and not self.failing

    @property
    def whole_list_failing(self) -> bool:
        """A failure that concerns every item: any failing condition but a ``PartialSync`` whose failed
        items are known (those flag their own entries)."""
        return self.present and any(
            c.reason != PARTIAL_SYNC or self.partial_unread or not self.item_failures for c in self.failing
        )

    @property
    def size_bytes(self) -> int | None:
        """The larger of the Secret's size now and after the next sync: what decides whether it fits."""
        sizes = [b for b in (self.data_bytes, self.next_bytes) if b is not None]
        return max(sizes) if sizes else None

    @property
    def key(self) -> str:
        """Stable row key ``namespace/name``."""
        return f"{self.namespace}/{self.name}"


# Slots: a live view holds one of these per list file (2,000 and more) for as long as it runs; without a
# __dict__ each is about 1.3 KB smaller (docs/design.md §10.1).
@dataclass(frozen=True, slots=True)
class OpcUaEntry:
    """One file of the OPC UA trust or issuer list, joined across every place it lives."""

    list_name: str
    """``trust`` or ``issuer``."""
    target_key: str
    """File name in the list (the SecretSync targetKey and synced Secret key)."""
    source_path: str | None
    """Key Vault secret name (SecretSync sourcePath); None for a key added to the Secret by hand."""
    sync_name: str
    spc_name: str | None
    mapped: bool
    """The SecretSync maps this targetKey."""
    spc_object: bool
    """The SPC has an object whose file name is the sourcePath."""
    synced: bool
    """The synced Secret has this key."""
    vault_present: bool | None
    """Key Vault has the secret; None when the vault was not read."""
    vault_content_type: str | None
    vault_tags: tuple[tuple[str, str], ...]
    vault_enabled: bool | None
    vault_expires_on: datetime | None
    vault_in_sync: bool | None
    """The vault value (hex) equals the synced bytes; None when either is unknown."""
    size: int | None
    sha256: str | None
    """SHA-256 of the synced bytes (not of the certificate) for change detection."""
    content: str
    """``certificate``, ``crl``, ``undecodable``, ``missing`` (not synced, its vault value unknown) or
    ``loading`` (the synced Secret not listed yet)."""
    certificate: CertificateInfo | None
    extra_certificates: tuple[CertificateInfo, ...]
    crl: CrlInfo | None
    decode_error: str | None
    form: str | None
    """Outer encoding of the synced bytes: ``pem``, ``der`` or ``hex``."""
    format_problem: str | None
    """Why the file does not suit its extension (.der must be DER, .crt one PEM certificate, .crl DER)."""
    private_key_present: bool
    days_left: int | None
    """Whole days (rounded down, -1 on the first expired day) until the certificate's notAfter or the
    CRL's nextUpdate; whole days keep rows stable between rebuilds."""
    signed_by: str | None = None
    """Key of the list entry whose CA signed this certificate or CRL."""
    crl_key: str | None = None
    """For a CA: key of the entry holding its CRL."""
    revoked: bool | None = None
    """Whether the signing CA's CRL lists this certificate; None when no CRL applies."""
    issuer_in_list: bool = False
    """Some list entry's subject equals this certificate's (or CRL's) issuer name."""
    sync_error: str | None = None
    """Why the sync controller could not write this item, from a ``PartialSync`` summary; None otherwise."""
    object_spc: str | None = None
    """The other SecretProviderClass that holds this entry's object, when the SecretSync's own does not."""
    from_vault: bool = False
    """Not synced, and the certificate or CRL was decoded from its Key Vault value (what the next sync
    would write), not from the synced Secret."""
    flags: tuple[Health, ...] = ()
    severity: Severity | None = None
    """Worst severity among the flags; None when healthy."""
    checking: tuple[str, ...] = ()
    """What is being read again before this entry is judged against it (``vault``, ``arm``): the lists
    changed after the last read, so a finding from that read could be false."""
    loading: tuple[str, ...] = ()
    """Plural names of the collections of the lists not listed yet (``secrets``, ``secretsyncs``,
    ``secretproviderclasses``): whether the file is synced, mapped or in the SPC is unknown, so no flag
    is drawn from their absence (``content`` reads ``loading`` while the Secrets are not in)."""

    @property
    def key(self) -> str:
        """Stable row key ``list/targetKey``."""
        return entry_key(self.list_name, self.target_key)

    @property
    def healthy(self) -> bool:
        """No health flags."""
        return not self.flags


def entry_key(list_name: str, target_key: str) -> str:
    """Row key of an OPC UA entry."""
    return f"{list_name}/{target_key}"


@dataclass(frozen=True, slots=True)
class Finding:
    """One judgement worth a human's attention, on one line."""

    severity: Severity
    code: str
    """Machine-readable kind, e.g. ``entry-expired`` or ``root-ca-renewal-failing``."""
    message: str
    subject: str
    """Key of what it concerns: an entry key, ``root-ca``, an issuer key, ``area/<name>``..."""
    days_left: int | None = None
    """Whole days until what it concerns expires (negative once expired), for a finding about a date;
    within a severity the fewest days come first (:func:`tui.core.health.findings.sort_findings`)."""

    @property
    def key(self) -> str:
        """Stable key ``code@subject``."""
        return f"{self.code}@{self.subject}"


@dataclass(frozen=True)
class AreaView:
    """Read state of one screen area, from the resources it needs."""

    area: Area
    state: AreaState
    message: str
    """One line naming each resource that is not OK and why; empty when all are OK."""
    parts: tuple[tuple[str, ResourceStatus], ...]
    """``(resource key, status)`` of every resource behind the area."""

    @property
    def ok(self) -> bool:
        """Every resource behind the area was read."""
        return self.state is AreaState.OK


@dataclass(frozen=True)
class VaultView:
    """The Key Vault as far as it could be read."""

    url: str | None
    state: AreaState
    message: str
    secret_count: int
    values_pending: int = 0
    """Secret values still being read: until then whether entries match the vault is unknown."""


@dataclass(frozen=True)
class OwnerView:
    """Who owns one list object (an SPC or a SecretSync) and, for ARM, which resource it is."""

    kind: ArmKind
    name: str
    owner: Owner
    resource_id: str | None
    """The ARM resource id (from the annotation, else the ids ARM was read with); None when cluster-only."""
    in_arm: bool | None
    """ARM holds a resource of that kind and name; None when ARM could not be read."""

    @property
    def key(self) -> str:
        """Stable key ``<ARM type>/<name>``."""
        return f"{self.kind.value}/{self.name}"


@dataclass(frozen=True)
class ArmView:
    """Azure Resource Manager's side of the OPC UA lists, as far as it could be read (docs/domain.md §9).

    ``in_use`` is False on a cluster-only site: no object names an ARM resource and no ARM ids are
    known, so there is nothing to read and nothing to show.
    """

    state: AreaState = AreaState.PENDING
    message: str = "ARM not read"
    in_use: bool = False
    subscription: str | None = None
    resource_group: str | None = None
    custom_location: str | None = None
    resource_count: int = 0
    """List resources ARM holds on the site's custom location."""


@dataclass(frozen=True)
class ClusterState:
    """Everything the product knows about one AIO site at one moment; immutable and cheap to diff."""

    namespace: str
    settings: ModelSettings
    taken_at: datetime
    """When the raw snapshot was taken."""
    built_at: datetime
    """The ``now`` every time-dependent judgement used."""
    discovery: DiscoveryView
    root_ca: RootCAView
    trust_bundle: TrustBundleView
    issuers: tuple[IssuerView, ...]
    """Every Issuer and ClusterIssuer, sorted by key."""
    certificates: tuple[CertificateView, ...]
    """Every cert-manager Certificate, sorted by key."""
    syncs: tuple[SyncView, ...]
    """The trust and issuer list SecretSyncs (always both, ``present`` says if they exist)."""
    spcs: tuple[SpcView, ...]
    """SecretProviderClasses in the AIO namespace."""
    opcua_spc: str | None
    """SPC the OPC UA lists use (and new entries should go to), if one can be determined."""
    opcua: tuple[OpcUaEntry, ...]
    """Trust list then issuer list entries, each sorted by targetKey."""
    vault: VaultView
    areas: tuple[AreaView, ...]
    findings: tuple[Finding, ...]
    """Sorted worst first."""
    rotation_history: tuple[RotationEvent, ...] = field(default=())
    """Root CA rotations seen by this process (oldest first, bounded)."""
    arm: ArmView = field(default=ArmView())
    owners: tuple[OwnerView, ...] = field(default=())
    """Who owns each SPC in the AIO namespace and each OPC UA list SecretSync (present on either side)."""
    connector_certificate: ConnectorCertView | None = None
    """The OPC UA connector's own application instance certificate; None when not read."""
    loading: tuple[str, ...] = ()
    """Plural names of the resources some part of which has not been listed yet (``secrets``...): a
    state built while the feed starts. Their absence proves nothing: no finding is drawn from it, and
    the panes say ``loading``. Empty in a complete state."""

    @property
    def complete(self) -> bool:
        """Every collection asked for has answered once."""
        return not self.loading

    def owner(self, kind: ArmKind, name: str | None) -> OwnerView | None:
        """The ownership of one list object (ARM names compare case-insensitively)."""
        if not name:
            return None
        wanted = name.lower()
        return next((o for o in self.owners if o.kind is kind and o.name.lower() == wanted), None)

    def list_owner(self, list_name: str) -> Owner:
        """Who owns an OPC UA list: its SecretSync's owner, else (no SecretSync yet) its SPC's."""
        sync = self.sync(list_name)
        found = self.owner(ArmKind.SECRET_SYNC, sync.name if sync is not None else None)
        if found is not None and (found.in_arm or (sync is not None and sync.present)):
            return found.owner
        spc = self.owner(ArmKind.SPC, (sync.spc_name if sync is not None else None) or self.opcua_spc)
        return spc.owner if spc is not None else Owner.CLUSTER

    @cached_property
    def _entries_by_key(self) -> dict[str, OpcUaEntry]:
        return {e.key: e for e in self.opcua}

    def entry(self, key: str) -> OpcUaEntry | None:
        """The OPC UA entry with this key."""
        return self._entries_by_key.get(key)

    def entries(self, list_name: str) -> tuple[OpcUaEntry, ...]:
        """Entries of one list (``trust`` or ``issuer``)."""
        return tuple(e for e in self.opcua if e.list_name == list_name)

    def area(self, area: Area | str) -> AreaView:
        """The read state of one area."""
        wanted = Area(area)
        for view in self.areas:
            if view.area is wanted:
                return view
        raise KeyError(wanted)

    def sync(self, list_name: str) -> SyncView | None:
        """The SecretSync view of one list."""
        for view in self.syncs:
            if view.list_name == list_name:
                return view
        return None

    def issuer(self, key: str) -> IssuerView | None:
        """An issuer by key."""
        for view in self.issuers:
            if view.key == key:
                return view
        return None

    @property
    def worst_severity(self) -> Severity | None:
        """Severity of the first (worst) finding; None when there are none."""
        return self.findings[0].severity if self.findings else None
