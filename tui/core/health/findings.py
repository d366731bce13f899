"""Health judgements: OPC UA entry flags and the findings list, as pure functions of the model views.

Each ``*_findings`` function looks at one part of the model and returns :class:`~tui.core.model.state.Finding`
values; :func:`sort_findings` orders them worst first (then by what they concern: areas, root CA, bundle,
issuers, sync, entries). Severities: anything that breaks or will soon break a connection is critical,
anything that needs a human before it does is a warning, and the rest is information.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from tui.core.certs import crl_is_stale
from tui.core.durations import days_left, expiry_phrase, screen_time
from tui.core.model.arm import Owner
from tui.core.model.names import LIST_ISSUER
from tui.core.model.settings import ModelSettings
from tui.core.model.sizes import limit_text, size_severity, size_text, usage_text
from tui.core.model.snapshot import AreaState
from tui.core.model.spc import SpcView
from tui.core.model.state import (
    PARTIAL_SYNC,
    SECRET_DATA_LIMIT,
    Area,
    AreaView,
    ArmView,
    CertificateView,
    Condition,
    DiscoveryView,
    Finding,
    Health,
    IssuerView,
    OpcUaEntry,
    OwnerView,
    RootCAView,
    RotationPhase,
    Severity,
    SyncView,
    TrustBundleView,
    VaultView,
)

_HEALTHY_SUFFIXES = ("Succeeded", "Successful", "UpToDate")
# Reasons the controller writes before (or instead of) a first update; normal, not a failure.
_BENIGN_REASONS = frozenset({"NoUpdatesAttemptedYet", "SyncStarting"})
# The released controller puts a condition of type and reason "Unknown" in place while a sync runs,
# replacing it with the outcome (docs/domain.md §5.3): a moment of it is not a failure.
_TRANSIENT = "Unknown"

FLAG_SEVERITY: dict[Health, Severity] = {
    Health.EXPIRED: Severity.CRITICAL,
    Health.EXPIRING: Severity.WARNING,  # raised to critical under the critical threshold
    Health.NOT_YET_VALID: Severity.WARNING,
    Health.CA_WITHOUT_CRL: Severity.WARNING,
    # Many OPC UA stacks reject every certificate of a CA whose CRL is past its nextUpdate.
    Health.CRL_STALE: Severity.CRITICAL,
    Health.CRL_BAD_SIGNATURE: Severity.CRITICAL,
    Health.CRL_WITHOUT_CA: Severity.WARNING,
    Health.REVOKED: Severity.WARNING,
    Health.NOT_CA: Severity.WARNING,
    Health.DUPLICATE: Severity.WARNING,
    Health.NOT_SYNCED: Severity.WARNING,
    # A documented practice (the AIO docs add a CRL so) that works today: worth knowing, not a fault.
    Health.HAND_ADDED: Severity.INFO,
    Health.NO_SPC_OBJECT: Severity.WARNING,
    Health.OTHER_SPC: Severity.WARNING,
    Health.VAULT_MISSING: Severity.WARNING,
    # The connector reads the synced bytes: until the next sync they are not what Key Vault says, and
    # after it they change under the connector (a rollback or an edit the sync has not caught up with).
    Health.VAULT_DIFFERS: Severity.WARNING,
    Health.SYNC_FAILING: Severity.WARNING,  # the SecretSync itself gets the critical finding
    Health.UNDECODABLE: Severity.WARNING,
    Health.WRONG_FORMAT: Severity.WARNING,
    Health.PRIVATE_KEY: Severity.CRITICAL,
    # Nothing breaks today; the next portal or CLI change silently undoes it (docs/domain.md §9.3).
    Health.ARM_DRIFT: Severity.WARNING,
}

# Order of finding families after severity: what a technician should read first.
_FAMILY_ORDER = (
    "area",
    "root-ca",
    "quickstart",
    "bundle",
    "issuer",
    "certificate",
    "connector",
    "sync",
    "spc",
    "entry",
)


def condition_healthy(condition: Condition) -> bool:
    """A SecretSync condition is healthy unless its reason names a failure.

    Success reasons of both condition families end in Succeeded, Successful or UpToDate; the
    controller's "nothing attempted yet" reasons are benign too, and so is the type or reason
    ``Unknown`` it holds for the moment a sync runs. Every other reason surfaces.
    """
    reason = condition.reason
    if condition.type == _TRANSIENT or reason == _TRANSIENT:
        return True
    return reason.endswith(_HEALTHY_SUFFIXES) or reason in _BENIGN_REASONS


def _worst(severities: Iterable[Severity]) -> Severity | None:
    return min(severities, key=lambda s: s.rank, default=None)


# --- OPC UA entries -----


def entry_flags(
    entry: OpcUaEntry,
    *,
    now: datetime,
    settings: ModelSettings,
    duplicate: bool,
    sync_failing: bool,
    spc_known: bool,
) -> tuple[tuple[Health, ...], Severity | None]:
    """Health flags of one entry and the worst severity among them.

    ``duplicate`` says another entry of the same list has the same thumbprint; ``spc_known`` says the
    SPC could be read (otherwise a missing object is not judged).
    """
    flags: list[Health] = []
    severities: list[Severity] = []

    def add(flag: Health, severity: Severity | None = None) -> None:
        flags.append(flag)
        severities.append(severity or FLAG_SEVERITY[flag])

    cert = entry.certificate
    if entry.private_key_present:
        add(Health.PRIVATE_KEY)
    if entry.content == "undecodable":
        add(Health.UNDECODABLE)
    if entry.format_problem:
        add(Health.WRONG_FORMAT)
    if cert is not None:
        left = entry.days_left if entry.days_left is not None else 0.0
        if left < 0:
            add(Health.EXPIRED)
        elif left <= settings.expiring_warn_days:
            severe = left <= settings.expiring_critical_days
            add(Health.EXPIRING, Severity.CRITICAL if severe else Severity.WARNING)
        if cert.not_before > now:
            add(Health.NOT_YET_VALID)
        if entry.list_name == LIST_ISSUER:
            # The official tool skips the CA check for v1 certificates, which have no extensions.
            if not cert.is_ca and cert.version != 1:
                add(Health.NOT_CA)
            elif entry.crl_key is None:
                add(Health.CA_WITHOUT_CRL)
        if entry.revoked:
            add(Health.REVOKED)
    if entry.crl is not None:
        if crl_is_stale(entry.crl, now):
            add(Health.CRL_STALE)
        if entry.signed_by is None:
            add(Health.CRL_BAD_SIGNATURE if entry.issuer_in_list else Health.CRL_WITHOUT_CA)
    if duplicate:
        add(Health.DUPLICATE)
    # Nothing is judged absent from a collection not listed yet (the dashboard draws before all are in).
    if entry.mapped and not entry.synced and "secrets" not in entry.loading:
        add(Health.NOT_SYNCED)
    if entry.synced and not entry.mapped and "secretsyncs" not in entry.loading:
        add(Health.HAND_ADDED)
    if entry.mapped and spc_known and not entry.spc_object:
        # Where the object is, when another SPC holds it, says what to fix.
        add(Health.OTHER_SPC if entry.object_spc else Health.NO_SPC_OBJECT)
    if entry.mapped and entry.vault_present is False:
        add(Health.VAULT_MISSING)
    if entry.mapped and entry.vault_in_sync is False:
        add(Health.VAULT_DIFFERS)
    if sync_failing:
        add(Health.SYNC_FAILING)
    return tuple(flags), _worst(severities)


def duplicate_keys(entries: Sequence[OpcUaEntry]) -> frozenset[str]:
    """Keys of entries whose certificate (or CRL) appears more than once in the same list."""

    def identity(e: OpcUaEntry) -> tuple[str, str] | None:
        if e.certificate is not None:
            return e.list_name, e.certificate.sha256
        if e.crl is not None:
            return e.list_name, e.crl.sha256
        return None

    counts = Counter(i for i in map(identity, entries) if i is not None)
    return frozenset(e.key for e in entries if (i := identity(e)) is not None and counts[i] > 1)


def _common_name(name: str) -> str:
    """The CN of an RFC 4514 name when it comes first (as openssl prints it), else the whole name."""
    if name.startswith("CN="):
        value, _, _ = name[3:].replace("\\,", "\0").partition(",")
        return value.replace("\0", ",")
    return name


def _describe(entry: OpcUaEntry) -> str:
    if entry.certificate is not None:
        return entry.certificate.common_name or entry.certificate.subject
    if entry.crl is not None:
        return f"CRL of {_common_name(entry.crl.issuer)}"
    return entry.source_path or ""


def entry_findings(entry: OpcUaEntry, settings: ModelSettings, now: datetime) -> list[Finding]:
    """One finding per flag of an entry (sync failures are reported once per SecretSync instead)."""
    out: list[Finding] = []
    what = _describe(entry)
    label = f"{entry.list_name} list {entry.target_key}" + (f" ({what})" if what else "")
    cert = entry.certificate
    for flag in entry.flags:
        severity = FLAG_SEVERITY[flag]
        if flag is Health.SYNC_FAILING and entry.sync_error is not None:
            # A partial sync: this very item failed, and the summary said why.
            message = f"{label}: not synced (partial sync): {_one_line(entry.sync_error)}"
            out.append(Finding(severity, f"entry-{flag.value}", message, entry.key))
            continue
        if flag in (Health.SYNC_FAILING, Health.ARM_DRIFT):
            continue  # once per SecretSync, and by arm_drift_findings (which knows the side)
        if flag is Health.EXPIRED and cert is not None:
            message = f"{label}: {expiry_phrase(days_left(cert.not_after, now))}"
        elif flag is Health.EXPIRING and cert is not None:
            left = entry.days_left or 0
            severity = Severity.CRITICAL if left <= settings.expiring_critical_days else Severity.WARNING
            message = f"{label}: {expiry_phrase(days_left(cert.not_after, now))}"
        elif flag is Health.NOT_YET_VALID and cert is not None:
            message = f"{label}: not valid before {screen_time(cert.not_before)}"
        elif flag is Health.WRONG_FORMAT:
            message = f"{label}: {entry.format_problem}"
        elif flag is Health.UNDECODABLE:
            message = f"{label}: {entry.decode_error or _FLAG_TEXT[flag]}"
        elif flag is Health.CRL_STALE and entry.crl is not None:
            message = f"{label}: CRL stale since {screen_time(entry.crl.next_update)}"
        elif flag is Health.OTHER_SPC:
            message = (
                f"{label}: its object {entry.source_path} is in SPC {entry.object_spc}, not in "
                f"{entry.spc_name or 'the SPC'} that SecretSync {entry.sync_name} reads: it cannot sync"
            )
        else:
            message = f"{label}: {_FLAG_TEXT[flag]}"
        dated = flag in (Health.EXPIRED, Health.EXPIRING, Health.CRL_STALE)
        days = entry.days_left if dated else None
        out.append(Finding(severity, f"entry-{flag.value}", message, entry.key, days))
    return out


_FLAG_TEXT: dict[Health, str] = {
    Health.EXPIRED: "expired",
    Health.EXPIRING: "expiring",
    Health.NOT_YET_VALID: "not yet valid",
    Health.CA_WITHOUT_CRL: "CA without a CRL in the list",
    Health.CRL_STALE: "CRL past its nextUpdate",
    Health.CRL_BAD_SIGNATURE: "CRL not signed by the CA of the same name in the list",
    Health.CRL_WITHOUT_CA: "CRL whose CA is not in the list",
    Health.REVOKED: "revoked by its CA's CRL",
    Health.NOT_CA: "not a CA certificate (issuer list holds CAs only)",
    Health.DUPLICATE: "same thumbprint as another entry of this list",
    Health.NOT_SYNCED: "mapped in the SecretSync but not in the synced Secret",
    Health.HAND_ADDED: "added by hand: in the synced Secret but in no mapping, so not in Key Vault, and "
    "gone if the SecretSync is deleted",
    Health.OTHER_SPC: "its object is in another SecretProviderClass than the SecretSync's",
    Health.NO_SPC_OBJECT: "mapped but the SecretProviderClass has no such object",
    Health.VAULT_MISSING: "Key Vault has no secret of that name",
    Health.VAULT_DIFFERS: "the synced Secret holds other bytes than its Key Vault secret (not synced since "
    "the vault changed)",
    Health.SYNC_FAILING: "SecretSync failing",
    Health.UNDECODABLE: "holds no certificate or CRL",
    Health.WRONG_FORMAT: "format does not match the file extension",
    Health.PRIVATE_KEY: "holds a private key (never put keys in a trust or issuer list)",
    Health.ARM_DRIFT: "mapped on the cluster or in ARM only",
}

_DRIFT_TEXT = {
    "cluster": "mapped on the cluster but not in ARM: the next portal or CLI change drops it",
    "arm": "mapped in ARM but not on the cluster: the next portal or CLI change brings it back",
}


def arm_drift_findings(entries: Iterable[OpcUaEntry], sides: Mapping[str, str]) -> list[Finding]:
    """One ``entry-arm-drift`` warning per entry whose mapping only one side holds.

    ``sides`` maps an entry key to ``cluster`` or ``arm``: where the mapping is (docs/domain.md §9.3).
    """
    out = []
    for entry in entries:
        side = sides.get(entry.key)
        if side is None:
            continue
        what = _describe(entry)
        label = f"{entry.list_name} list {entry.target_key}" + (f" ({what})" if what else "")
        out.append(
            Finding(
                Severity.WARNING,
                f"entry-{Health.ARM_DRIFT.value}",
                f"{label}: {_DRIFT_TEXT[side]}",
                entry.key,
            )
        )
    return out


# --- Root CA, bundle, issuers --------------------------------------------------------------------


def root_ca_findings(root: RootCAView, settings: ModelSettings, area_ok: bool) -> list[Finding]:
    """Missing, undecodable, expired/expiring, renewal overdue or failing, not ready, quickstart."""
    out: list[Finding] = []
    subject = "root-ca"
    if root.location_unconfirmed or (root.loading and not root.secret_present):
        # Where the CA is, or whether its secret exists, is not known until those collections are in.
        return out
    if not root.secret_present:
        if not root.locatable:
            out.append(Finding(Severity.INFO, "root-ca-not-visible", f"root CA: {root.note}", subject))
        elif area_ok:
            reason = root.note or f"secret {root.secret_namespace}/{root.secret_name} not found"
            out.append(Finding(Severity.CRITICAL, "root-ca-missing", f"root CA: {reason}", subject))
        return out
    if root.certificate is None:
        reason = root.decode_error or "no certificate in tls.crt"
        out.append(Finding(Severity.CRITICAL, "root-ca-undecodable", f"root CA: {reason}", subject))
        return out
    left = root.days_left if root.days_left is not None else 0
    if left < 0:
        out.append(
            Finding(
                Severity.CRITICAL, "root-ca-expired", f"root CA {expiry_phrase(left)}", subject, int(left)
            )
        )
    elif left <= settings.expiring_warn_days:
        severity = Severity.CRITICAL if left <= settings.expiring_critical_days else Severity.WARNING
        out.append(
            Finding(severity, "root-ca-expiring", f"root CA {expiry_phrase(left)}", subject, int(left))
        )
    rotation = root.rotation
    if rotation.phase is RotationPhase.FAILED:
        text = f"root CA renewal failing: {rotation.message}" + (
            f" ({rotation.reason})" if rotation.reason else ""
        )
        request = root.resource.latest_request if root.resource else None
        if (
            request is not None
            and request.ready is not None
            and not request.ready.is_true
            and request.ready.message
        ):
            # The request's message says why (issuer down, denied...); the Certificate only says "Failed".
            text += f": {request.ready.message}"
        out.append(Finding(Severity.CRITICAL, "root-ca-renewal-failing", _one_line(text), subject))
    elif rotation.phase is RotationPhase.RENEWAL_DUE:
        out.append(
            Finding(Severity.WARNING, "root-ca-renewal-overdue", f"root CA {rotation.message}", subject)
        )
    resource = root.resource
    if (
        resource is not None
        and resource.ready is not None
        and not resource.ready.is_true
        and rotation.phase is not RotationPhase.ISSUING
    ):
        text = (
            f"root CA Certificate {resource.key} not Ready: {resource.ready.reason} {resource.ready.message}"
        )
        out.append(Finding(Severity.CRITICAL, "root-ca-not-ready", _one_line(text), subject))
    if root.old_key_certificates:
        # trust-manager keeps no previous CA (docs/domain.md §4.3): these fail now, not at the CA's expiry.
        names = list(root.old_key_certificates)
        shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
        text = (
            f"{len(names)} certificate(s) still signed by the root CA's previous key ({shown}): clients "
            "with the current trust bundle reject them until they are issued again (renew them)"
        )
        out.append(Finding(Severity.CRITICAL, "root-ca-old-key-leaves", text, subject))
    if root.quickstart:
        out.append(
            Finding(
                Severity.WARNING,
                "quickstart-ca",
                "quickstart CA in use: not for production (bring your own issuer)",
                subject,
            )
        )
    return out


def bundle_findings(bundle: TrustBundleView, root: RootCAView, area_ok: bool) -> list[Finding]:
    """Bundle missing or undecodable, not holding the current CA; the trust-manager object not ready,
    deprecated (a ``Bundle`` to migrate) or migrated (a ``Bundle`` left behind)."""
    out: list[Finding] = []
    subject = "trust-bundle"
    where = f"{bundle.namespace}/{bundle.configmap}"
    if bundle.discovery_pending or (bundle.loading and not bundle.present):
        # Which ConfigMap it is, or whether it exists, is not known until those collections are in.
        return out
    if not bundle.present or not bundle.key_present:
        if area_ok:
            what = (
                f"ConfigMap {where} not found"
                if not bundle.present
                else f"ConfigMap {where} has no key {bundle.key}"
            )
            out.append(Finding(Severity.CRITICAL, "bundle-missing", f"trust bundle: {what}", subject))
        return out
    if bundle.decode_error:
        out.append(
            Finding(
                Severity.CRITICAL,
                "bundle-undecodable",
                f"trust bundle {where}: {bundle.decode_error}",
                subject,
            )
        )
    if bundle.holds_current_ca is False and root.certificate is not None:
        out.append(
            Finding(
                Severity.CRITICAL,
                "bundle-missing-current-ca",
                f"trust bundle {where} does not hold the current root CA ({root.certificate.sha1})",
                subject,
            )
        )
    kind = bundle.bundle_kind or "Bundle"
    if bundle.bundle_name and bundle.bundle_ready is False:
        reason = f"{bundle.bundle_reason} {bundle.bundle_message}"
        text = f"trust-manager {kind} {bundle.bundle_name} not ready: {reason}"
        out.append(Finding(Severity.WARNING, "bundle-not-ready", _one_line(text), subject))
    if bundle.migrated is not None:
        text = (
            f"trust-manager Bundle {bundle.bundle_name} is migrated to ClusterBundle "
            f"{bundle.cluster_bundle or bundle.bundle_name}: the Bundle can be deleted"
        )
        out.append(Finding(Severity.INFO, "bundle-migrated", text, subject))
    elif bundle.deprecated is not None:
        # What to do (docs/domain.md §4.1): whoever deploys the Bundle (AIO for its own, you on a
        # bring-your-own site) switches to the ClusterBundle trust-manager made from it; until then
        # trust-manager keeps both and the bundle still works.
        name = bundle.bundle_name
        text = (
            f"trust-manager Bundle {name} is deprecated: its deployer (AIO, for AIO's own) should deploy "
            f"ClusterBundle {bundle.cluster_bundle or name} (trust-manager.io/v1alpha2) instead, annotate "
            "it trust-manager.io/migrated, then delete the Bundle"
        )
        out.append(Finding(Severity.WARNING, "bundle-deprecated", text, subject))
    return out


def issuer_findings(issuers: Sequence[IssuerView], discovery: DiscoveryView, area_ok: bool) -> list[Finding]:
    """Issuers not Ready (critical for the ones AIO depends on) and a discovered issuer that is missing."""
    out: list[Finding] = []
    keys = {i.key for i in issuers}
    if area_ok and not discovery.issuer_unconfirmed and discovery.issuer_key not in keys:
        out.append(
            Finding(
                Severity.CRITICAL,
                "issuer-missing",
                f"issuer {discovery.issuer_key} ({discovery.issuer_source}) not found",
                discovery.issuer_key,
            )
        )
    for issuer in issuers:
        if issuer.ready is True:
            continue
        important = bool(issuer.roles) or (
            issuer.key == discovery.issuer_key and not discovery.issuer_unconfirmed
        )
        severity = Severity.CRITICAL if important else Severity.WARNING
        state = "not ready" if issuer.ready is False else "readiness unknown"
        text = (
            f"issuer {issuer.key} {state}"
            + (f": {issuer.reason}" if issuer.reason else "")
            + (f" {issuer.message}" if issuer.message else "")
        )
        out.append(Finding(severity, "issuer-not-ready", _one_line(text), issuer.key))
    return out


def certificate_findings(certificates: Sequence[CertificateView], root: RootCAView) -> list[Finding]:
    """Certificates other than the root CA that are not Ready (the root CA has its own findings)."""
    out: list[Finding] = []
    root_key = root.resource.key if root.resource else None
    for cert in certificates:
        if cert.key == root_key or cert.is_ready or cert.is_issuing:
            continue
        reason = f"{cert.ready.reason} {cert.ready.message}" if cert.ready else "no Ready condition"
        out.append(
            Finding(
                Severity.WARNING,
                "certificate-not-ready",
                _one_line(f"Certificate {cert.key} not Ready: {reason}"),
                cert.key,
            )
        )
    return out


# --- Secret sync and SPC -----


def sync_findings(syncs: Sequence[SyncView], spcs: Sequence[SpcView], area_ok: bool) -> list[Finding]:
    """SecretSyncs failing (wholly or for some items), SPC missing, synced Secret missing, not written by
    the controller, there without its SecretSync, or near or over the 1 MiB a Secret may hold."""
    out: list[Finding] = []
    spc_names = {s.name for s in spcs}
    for sync in syncs:
        out += _size_findings(sync)
        if not sync.present:
            if sync.secret_present and area_ok and not sync.loading:
                out.append(_absent_sync_finding(sync))
            continue
        subject = f"sync/{sync.name}"
        for condition in sync.failing:
            if condition.reason == PARTIAL_SYNC and sync.item_failures and not sync.partial_unread:
                out.append(_partial_finding(sync, condition))
                continue
            text = f"SecretSync {sync.name} {condition.type}: {condition.reason} {condition.message}"
            over = over_limit(sync)
            if over:
                text = f"{text.rstrip().rstrip('.')}: {over}"
            out.append(Finding(Severity.CRITICAL, "sync-failing", _one_line(text), subject))
        if area_ok and sync.spc_name and sync.spc_name not in spc_names:
            out.append(
                Finding(
                    Severity.CRITICAL,
                    "spc-missing",
                    f"SecretSync {sync.name} names SecretProviderClass {sync.spc_name}, which is missing",
                    subject,
                )
            )
        if area_ok and not sync.secret_present and not sync.failing:
            out.append(
                Finding(
                    Severity.WARNING,
                    "sync-secret-missing",
                    f"SecretSync {sync.name}: synced Secret not written yet",
                    subject,
                )
            )
        elif sync.secret_present and not sync.secret_managed:
            out.append(
                Finding(
                    Severity.WARNING,
                    "sync-secret-unmanaged",
                    f"Secret {sync.name} was not written by the secret sync controller",
                    subject,
                )
            )
    return out


def over_limit(sync: SyncView) -> str | None:
    """Why a failing sync fails when its next write is past the API server's 1 MiB (docs/domain.md
    §1.2, §5.3: the controller reports every refused patch as ``UnknownError``): ``the Secret would
    hold 1.05 MiB, over the 1 MiB limit``; None when the size is unknown or fits."""
    size = sync.next_bytes
    if size is None or size <= SECRET_DATA_LIMIT:
        return None
    return f"the Secret would hold {size_text(size)}, over the {limit_text()} limit the API server allows"


def _partial_finding(sync: SyncView, condition: Condition) -> Finding:
    """One warning for a partial sync: how many items failed and which; each failed entry has its own
    finding with the reason (the others synced, so the list as a whole still updates)."""
    names = [name for name, _ in sync.item_failures]
    shown = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    text = (
        f"SecretSync {sync.name} {condition.type}: {PARTIAL_SYNC}: {len(names)} item(s) not synced "
        f"({shown}); the others synced"
    )
    return Finding(Severity.WARNING, "sync-partial", _one_line(text), f"sync/{sync.name}")


def _absent_sync_finding(sync: SyncView) -> Finding:
    """The list's Secret is there but its SecretSync is not: AIO's deployment creates the Secret so, and
    until a first ``add`` creates the SecretSync every key in it was put there by hand."""
    count = len(sync.secret_keys)
    text = (
        f"Secret {sync.name} exists without its SecretSync (AIO's deployment creates it so): its {count} "
        f"key(s) were added by hand and are not in Key Vault; the first {sync.list_name} add creates the "
        "SecretSync"
    )
    return Finding(Severity.INFO, "sync-absent", text, f"sync/{sync.name}")


def _size_findings(sync: SyncView) -> list[Finding]:
    """The synced Secret near (80 %) or at the 1 MiB limit, now or after the next sync."""
    size = sync.size_bytes
    severity = size_severity(size)
    if size is None or severity is None:
        return []
    after = sync.next_bytes is not None and sync.next_bytes == size and size != sync.data_bytes
    when = " after the next sync" if after else ""
    if severity is Severity.CRITICAL:
        consequence = "over the limit: the sync cannot write it and the list stops updating"
        if size == SECRET_DATA_LIMIT:
            consequence = "at the limit: nothing more fits, the next addition stops the list updating"
    else:
        consequence = "room for little more"
    text = f"{sync.list_name} list Secret {sync.name}{when}: {usage_text(size)}: {consequence}"
    return [Finding(severity, "sync-size", text, f"sync/{sync.name}")]


def spc_findings(spcs: Sequence[SpcView], all_sync_sources: dict[str, frozenset[str]]) -> list[Finding]:
    """Unparseable ``objects`` and SPC objects that no SecretSync maps.

    ``all_sync_sources`` maps an SPC name to every sourcePath of every SecretSync (OPC UA or not) that
    uses it; only SPCs that some SecretSync uses are judged, since others may serve CSI volumes.
    """
    out: list[Finding] = []
    for spc in spcs:
        subject = f"spc/{spc.name}"
        if spc.objects_error:
            out.append(
                Finding(
                    Severity.CRITICAL, "spc-objects-invalid", f"SPC {spc.name}: {spc.objects_error}", subject
                )
            )
            continue
        sources = all_sync_sources.get(spc.name)
        if sources is None:
            continue
        for obj in spc.objects:
            if obj.file_name not in sources:
                out.append(
                    Finding(
                        Severity.INFO,
                        "spc-object-unmapped",
                        f"SPC {spc.name} object {obj.file_name} is not mapped by any SecretSync",
                        f"spc/{spc.name}/{obj.file_name}",
                    )
                )
    return out


# --- Areas and vault -----

_AREA_SEVERITY = {
    AreaState.FORBIDDEN: Severity.WARNING,
    AreaState.UNREACHABLE: Severity.WARNING,
    AreaState.ERROR: Severity.WARNING,
    AreaState.NOT_INSTALLED: Severity.INFO,
    AreaState.RECONNECTING: Severity.INFO,
}


def area_findings(areas: Sequence[AreaView], vault: VaultView) -> list[Finding]:
    """One finding per area that could not be read fully; an unreachable vault is a warning."""
    out: list[Finding] = []
    for view in areas:
        if view.area is Area.VAULT:
            continue
        severity = _AREA_SEVERITY.get(view.state)
        if severity is None:
            continue
        out.append(
            Finding(
                severity,
                f"area-{view.state.value}",
                _one_line(f"{view.area.value}: {view.state.value}: {view.message}"),
                f"area/{view.area.value}",
            )
        )
    severity = _AREA_SEVERITY.get(vault.state)
    if severity is not None:
        code = "vault-not-installed" if vault.state is AreaState.NOT_INSTALLED else "vault-unreachable"
        where = vault.url or "Key Vault"
        out.append(
            Finding(
                Severity.WARNING if code == "vault-unreachable" else severity,
                code,
                _one_line(f"{where}: {vault.state.value}: {vault.message}"),
                "area/vault",
            )
        )
    return out


def arm_findings(arm: ArmView, owners: Sequence[OwnerView]) -> list[Finding]:
    """A warning when ARM owns a list object but could not be read: drift cannot be checked, and a
    change to those lists has to go through ARM (docs/domain.md §9)."""
    severity = _AREA_SEVERITY.get(arm.state)
    if severity is None or severity is Severity.INFO or not arm.in_use:
        return []
    if not any(o.owner is Owner.ARM for o in owners):
        return []
    return [
        Finding(
            Severity.WARNING,
            f"arm-{arm.state.value}",
            _one_line(f"Azure Resource Manager: {arm.state.value}: {arm.message}"),
            "area/arm",
        )
    ]


# --- Ordering -----


def _family(code: str) -> int:
    for index, prefix in enumerate(_FAMILY_ORDER):
        if code.startswith(prefix):
            return index
    if code.startswith(("vault", "arm-")):
        return 0
    return len(_FAMILY_ORDER)


_ONE_THING = frozenset({"connector", "entry"})
"""Families about one certificate (the connector's, a list entry) rather than the whole site."""


def _urgency(finding: Finding) -> tuple[int, int, int, str, str]:
    # Site-wide problems without a date first (an area unread, a failing sync: they explain the rest),
    # then dated findings (an expiry, a CRL's nextUpdate) by days left, fewest first, so the top of a
    # long list is what runs out soonest; then the undated ones about one certificate.
    family = _family(finding.code)
    if finding.days_left is not None:
        bucket, days = 1, finding.days_left
    else:
        one = family < len(_FAMILY_ORDER) and _FAMILY_ORDER[family] in _ONE_THING
        bucket, days = (2 if one else 0), 0
    return (bucket, days, family, finding.subject, finding.code)


def sort_findings(findings: Iterable[Finding]) -> tuple[Finding, ...]:
    """Worst first. Within a severity: site-wide findings without a date (areas, root CA, bundle,
    issuers, Certificates, sync, SPC), then the dated ones by days left (fewest first, then by name:
    the entry key, ``root-ca``...), then the other findings about one certificate (the connector's, a
    list entry's)."""
    return tuple(sorted(findings, key=lambda f: (f.severity.rank, *_urgency(f))))


def _one_line(text: str) -> str:
    return " ".join(text.split())
