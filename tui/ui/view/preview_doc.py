"""What the preview modal shows for an OPC UA entry, the root CA or an issuer, as plain data.

Built purely from the :class:`~tui.core.model.state.ClusterState`: every decoded field, the chain the item
belongs to, every place it lives, and the PEM text. The model holds no private key material (only
whether a key block was present), so none can reach the screen; the preview says a key exists and
nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from tui.core.certs.model import CertificateInfo, CrlInfo, serial_hex
from tui.core.model.arm import ArmKind, Owner
from tui.core.model.connector import ConnectorCertView
from tui.core.model.names import SECRET_TLS_CRT
from tui.core.model.rotation import key_policy_text
from tui.core.model.state import ClusterState, IssuerView, OpcUaEntry
from tui.ui.view import format as fmt
from tui.ui.view.levels import Level, days_level, severity_level


@dataclass(frozen=True)
class Field:
    """One labelled value."""

    label: str
    value: str
    level: Level = Level.PLAIN


@dataclass(frozen=True)
class Section:
    """A titled group of fields."""

    title: str
    fields: tuple[Field, ...]


@dataclass(frozen=True)
class PreviewDoc:
    """Everything the preview shows; ``copy_value`` is what ``c`` copies (a thumbprint)."""

    title: str
    sections: tuple[Section, ...]
    pem: str = ""
    copy_value: str | None = None
    copy_label: str = "thumbprint"
    notes: tuple[Field, ...] = field(default=())
    export: ConnectorCertView | None = None
    """The connector certificate whose public certificate the preview's ``w`` writes to a file."""


def _yes_no(value: bool | None, *, good: bool = True) -> tuple[str, Level]:
    if value is None:
        return "unknown", Level.MUTED
    ok_level, bad_level = (Level.OK, Level.WARNING) if good else (Level.WARNING, Level.OK)
    return ("yes", ok_level) if value else ("no", bad_level)


def _joined(values: Iterable[str]) -> str:
    items = list(values)
    return ", ".join(items) if items else fmt.DASH


def certificate_fields(cert: CertificateInfo, now: datetime, warn: int, critical: int) -> tuple[Field, ...]:
    """Every decoded field of one certificate, in the order ``openssl x509 -text`` would list them."""
    days = (cert.not_after - now).total_seconds() / 86400
    if now < cert.not_before:
        validity, level = f"not yet valid (starts {fmt.until(cert.not_before, now)})", Level.WARNING
    else:
        validity, level = fmt.days_text(days), days_level(days, warn, critical)
    ca_text = "yes" if cert.is_ca else "no"
    if cert.is_ca and cert.path_length is not None:
        ca_text += f" (path length {cert.path_length})"
    return (
        Field("Subject", cert.subject),
        Field("Issuer", cert.issuer),
        Field("Common name", cert.common_name or fmt.DASH),
        Field("Serial", cert.serial),
        Field("Not before", fmt.when(cert.not_before)),
        Field("Not after", fmt.when(cert.not_after)),
        Field("Days left", validity, level),
        Field("SHA-1", cert.sha1),
        Field("SHA-256", cert.sha256),
        Field("CA", ca_text),
        Field("Self-signed", "yes" if cert.self_signed else "no"),
        Field("Key", cert.key),
        Field("Signature", cert.signature_algorithm),
        Field("Key usage", _joined(cert.key_usage)),
        Field("Extended usage", _joined(cert.extended_key_usage)),
        Field("SAN", _joined(cert.san)),
        Field("Application URI", cert.application_uri or fmt.DASH),
        Field("Subject key id", cert.subject_key_id or fmt.DASH),
        Field("Authority key id", cert.authority_key_id or fmt.DASH),
        Field("Version", f"v{cert.version}"),
    )


def crl_fields(crl: CrlInfo, now: datetime) -> tuple[Field, ...]:
    """Every decoded field of one CRL."""
    stale = crl.next_update is not None and crl.next_update < now
    revoked = ", ".join(serial_hex(s) for s in sorted(crl.revoked_serials)[:8])
    if crl.revoked > 8:
        revoked += f", … ({crl.revoked - 8} more)"
    return (
        Field("Issuer", crl.issuer),
        Field("This update", fmt.when(crl.this_update)),
        Field("Next update", fmt.when(crl.next_update), Level.WARNING if stale else Level.PLAIN),
        Field("CRL number", str(crl.crl_number) if crl.crl_number is not None else fmt.DASH),
        Field("Revoked", f"{crl.revoked}" + (f": {revoked}" if revoked else "")),
        Field("Authority key id", crl.authority_key_id or fmt.DASH),
        Field("Signature", crl.signature_algorithm or fmt.DASH),
        Field("SHA-256", crl.sha256),
    )


def _entry_label(state: ClusterState, key: str | None) -> str:
    if key is None:
        return fmt.DASH
    other = state.entry(key)
    if other is not None and other.certificate is not None:
        return f"{key} ({other.certificate.subject})"
    return key


def _chain_fields(state: ClusterState, entry: OpcUaEntry) -> tuple[Field, ...]:
    fields: list[Field] = []
    if entry.signed_by is not None:
        fields.append(Field("Signed by", _entry_label(state, entry.signed_by), Level.OK))
        signer = state.entry(entry.signed_by)
        crl_key = signer.crl_key if signer is not None else None
        fields.append(
            Field("Signer's CRL", crl_key or "none in the lists", Level.PLAIN if crl_key else Level.WARNING)
        )
    elif entry.certificate is not None and entry.certificate.self_signed:
        fields.append(Field("Signed by", "itself (self-signed)"))
    else:
        text = (
            "a CA in the lists, but its signature does not verify"
            if entry.issuer_in_list
            else "no CA in the lists"
        )
        fields.append(Field("Signed by", text, Level.WARNING if entry.issuer_in_list else Level.MUTED))
    if entry.certificate is not None:
        if entry.revoked is None:
            fields.append(Field("Revoked", "no CRL applies", Level.MUTED))
        else:
            fields.append(
                Field("Revoked", "YES" if entry.revoked else "no", Level.ERROR if entry.revoked else Level.OK)
            )
        if entry.certificate.is_ca:
            fields.append(
                Field(
                    "Own CRL",
                    entry.crl_key or "none in the lists",
                    Level.PLAIN if entry.crl_key else Level.WARNING,
                )
            )
    for extra in entry.extra_certificates:
        fields.append(Field("Also in file", f"{extra.subject} ({fmt.thumb(extra.sha1, 16)})"))
    return tuple(fields)


def _vault_name(state: ClusterState) -> str:
    # The SPC's keyvaultName is what the technician knows the vault by (and what the portal shows).
    spc = next((s for s in state.spcs if s.name == state.opcua_spc), None)
    if spc is not None and spc.keyvault_name:
        return f"vault {spc.keyvault_name}"
    return state.vault.url or "the vault"


def _location_fields(state: ClusterState, entry: OpcUaEntry) -> tuple[Field, ...]:
    present, level = _yes_no(entry.vault_present)
    fields = [
        Field(
            "Key Vault secret",
            f"{entry.source_path} in {_vault_name(state)}: present {present}"
            if entry.source_path
            # No mapping produces it: added to the synced Secret by hand (docs/domain.md §5.4).
            else "none: added to the Secret by hand, not in Key Vault; gone if the SecretSync is deleted",
            level if entry.source_path else Level.WARNING,
        ),
    ]
    if entry.vault_present:
        tags = ", ".join(f"{k}={v}" for k, v in entry.vault_tags) or fmt.DASH
        in_sync, sync_level = _yes_no(entry.vault_in_sync)
        fields += [
            Field("  content type", entry.vault_content_type or fmt.DASH),
            Field("  tags", tags),
            Field("  enabled", fmt.ready_text(entry.vault_enabled)),
            Field("  expires", fmt.when(entry.vault_expires_on)),
            Field("  matches synced", in_sync, sync_level),
        ]
    spc_text, spc_level = _yes_no(entry.spc_object)
    fields.append(
        Field(
            "SPC object",
            f"{entry.spc_name or fmt.DASH}: object {entry.source_path or fmt.DASH} present {spc_text}"
            # The SecretSync fetches only from its own SPC: where the object is says what to fix.
            + (f" (it is in SPC {entry.object_spc})" if entry.object_spc else ""),
            spc_level,
        )
    )
    mapped, mapped_level = _yes_no(entry.mapped)
    fields.append(
        Field(
            "SecretSync mapping",
            f"{entry.sync_name}: {entry.source_path or fmt.DASH} -> {entry.target_key} (mapped {mapped})",
            mapped_level,
        )
    )
    synced, synced_level = _yes_no(entry.synced)
    size = f", {entry.size} bytes" if entry.size is not None else ""
    form = f", {entry.form}" if entry.form else ""
    fields.append(
        Field(
            "Synced Secret key",
            f"{state.namespace}/{entry.sync_name} key {entry.target_key}: synced {synced}{size}{form}",
            synced_level,
        )
    )
    if entry.sync_error is not None:
        fields.append(Field("  not synced", f"partial sync: {entry.sync_error}", Level.ERROR))
    if entry.sha256:
        fields.append(Field("  file SHA-256", entry.sha256))
    fields += _arm_fields(state, entry)
    return tuple(fields)


def _arm_fields(state: ClusterState, entry: OpcUaEntry) -> list[Field]:
    """Who owns the list (ARM or the cluster alone) and whether ARM's copy maps this entry too."""
    sync = state.sync(entry.list_name)
    owner = state.owner(ArmKind.SECRET_SYNC, entry.sync_name)
    if owner is None or owner.owner is Owner.CLUSTER:
        return [Field("Owner", "the cluster only (no ARM resource): edited on the cluster")]
    fields = [Field("Owner", f"ARM: {owner.resource_id or entry.sync_name} (edited through ARM)")]
    if sync is None or sync.arm_mappings is None:
        reason = state.arm.message or state.arm.state.value
        fields.append(Field("  ARM mapping", f"unknown: ARM not read ({reason})", Level.MUTED))
        return fields
    in_arm = dict((target, source) for source, target in sync.arm_mappings)
    source = in_arm.get(entry.target_key)
    if source is not None and source == entry.source_path and entry.mapped:
        fields.append(
            Field("  ARM mapping", f"{source} -> {entry.target_key} (same as on the cluster)", Level.OK)
        )
    elif source is not None and entry.mapped:
        fields.append(
            Field(
                "  ARM mapping",
                f"{source} -> {entry.target_key}: ARM maps another secret than the cluster",
                Level.WARNING,
            )
        )
    elif source is not None:
        fields.append(
            Field(
                "  ARM mapping",
                f"{source} -> {entry.target_key}: only in ARM; the next portal or CLI change brings it back",
                Level.WARNING,
            )
        )
    else:
        fields.append(
            Field(
                "  ARM mapping",
                "none: mapped on the cluster only; the next portal or CLI change drops it",
                Level.WARNING,
            )
        )
    return fields


def staged_preview(state: ClusterState, entry: OpcUaEntry) -> PreviewDoc:
    """The preview of a staged add (a row of its own until applied): what is staged, then the file's
    certificate or CRL; its health and place are not known until it is in the list."""
    doc = entry_preview(state, entry)
    staged = Section(
        "Staged",
        (
            Field("Change", f"add {entry.target_key} to the {entry.list_name} list", Level.INFO),
            Field("Vault secret", entry.source_path or "-"),
            Field("State", "not applied yet: a applies it, z unstages it", Level.INFO),
        ),
    )
    kept = tuple(s for s in doc.sections if s.title not in ("Health", "Where it lives"))
    return replace(doc, title=f"{doc.title} (staged add)", sections=(staged, *kept))


def with_staged(doc: PreviewDoc, label: str) -> PreviewDoc:
    """An entry's preview led by what is staged on it (``staged remove``): enter on a staged row says so."""
    staged = Section(
        "Staged", (Field("Change", f"{label}: not applied yet (a applies, z unstages)", Level.INFO),)
    )
    return replace(doc, title=f"{doc.title} ({label})", sections=(staged, *doc.sections))


def entry_preview(state: ClusterState, entry: OpcUaEntry) -> PreviewDoc:
    """The preview of one OPC UA trust or issuer list entry."""
    settings = state.settings
    warn, critical = settings.expiring_warn_days, settings.expiring_critical_days
    now = state.built_at
    health = tuple(Field(flag.value, "", severity_level(entry.severity)) for flag in entry.flags)
    sections: list[Section] = [
        Section("Health", health or (Field("healthy", "", Level.OK),)),
    ]
    notes: list[Field] = []
    if entry.decode_error:
        notes.append(Field("Cannot decode", entry.decode_error, Level.ERROR))
    if entry.format_problem:
        notes.append(Field("Format", entry.format_problem, Level.WARNING))
    if entry.private_key_present:
        notes.append(Field("Private key", "the file also holds a private key (never shown)", Level.ERROR))
    if entry.certificate is not None:
        sections.append(Section("Certificate", certificate_fields(entry.certificate, now, warn, critical)))
    if entry.crl is not None:
        sections.append(Section("CRL", crl_fields(entry.crl, now)))
    sections.append(Section("Chain", _chain_fields(state, entry)))
    sections.append(Section("Where it lives", _location_fields(state, entry)))
    pem_parts: list[str] = []
    if entry.certificate is not None:
        pem_parts.append(entry.certificate.pem)
        pem_parts += [c.pem for c in entry.extra_certificates]
    if entry.crl is not None:
        pem_parts.append(entry.crl.pem)
    copy_value, copy_label = None, "thumbprint"
    if entry.certificate is not None:
        copy_value = entry.certificate.sha1
    elif entry.crl is not None:
        copy_value, copy_label = entry.crl.sha256, "CRL SHA-256"
    return PreviewDoc(
        title=f"{entry.list_name} list: {entry.target_key}",
        sections=tuple(sections),
        pem="".join(pem_parts),
        copy_value=copy_value,
        copy_label=copy_label,
        notes=tuple(notes),
    )


def root_ca_preview(state: ClusterState) -> PreviewDoc:
    """The preview of the root CA: certificate, rotation, its cert-manager Certificate, the trust bundle."""
    root = state.root_ca
    settings = state.settings
    now = state.built_at
    sections: list[Section] = []
    notes: list[Field] = []
    if root.note:
        notes.append(Field("Note", root.note, Level.WARNING))
    if root.decode_error:
        notes.append(Field("Cannot decode", root.decode_error, Level.ERROR))
    if root.quickstart:
        notes.append(Field("Quickstart CA", "self-generated by AIO: not for production", Level.WARNING))
    if root.certificate is not None:
        sections.append(
            Section(
                "Certificate",
                certificate_fields(
                    root.certificate, now, settings.expiring_warn_days, settings.expiring_critical_days
                ),
            )
        )
    rotation = root.rotation
    sections.append(
        Section(
            "Rotation",
            (
                Field("Phase", rotation.phase.value),
                Field("Status", rotation.message),
                Field(
                    "Renewal time",
                    f"{fmt.when(rotation.renewal_time)} {fmt.until(rotation.renewal_time, now)}",
                ),
                Field(
                    "Failed attempts",
                    str(rotation.failed_attempts),
                    Level.WARNING if rotation.failed_attempts else Level.PLAIN,
                ),
                Field(
                    "Next attempt",
                    # cert-manager skips its backoff once the spec no longer matches the failed request.
                    "at once: the spec changed since the failed request, so cert-manager skips its backoff"
                    if rotation.retry_now
                    else fmt.when(rotation.next_attempt),
                    Level.WARNING if rotation.retry_now else Level.PLAIN,
                ),
                Field("Rotated at", fmt.when(rotation.rotated_at)),
            ),
        )
    )
    resource = root.resource
    if resource is not None:
        sections.append(
            Section(
                "cert-manager Certificate",
                (
                    Field("Name", resource.key),
                    Field("Issuer", f"{resource.issuer_ref.kind}/{resource.issuer_ref.name}"),
                    Field("Revision", str(resource.revision) if resource.revision is not None else fmt.DASH),
                    Field(
                        "Ready",
                        fmt.condition_text(resource.ready),
                        Level.OK if resource.is_ready else Level.WARNING,
                    ),
                    Field(
                        "Ready message", fmt.one_line(resource.ready.message) if resource.ready else fmt.DASH
                    ),
                    Field(
                        "Issuing",
                        fmt.condition_text(resource.issuing),
                        Level.INFO if resource.is_issuing else Level.PLAIN,
                    ),
                    Field("Duration", str(resource.duration) if resource.duration else "default (90d)"),
                    Field("Renew before", str(resource.renew_before) if resource.renew_before else fmt.DASH),
                    Field(
                        "Key rotation",
                        key_policy_text(resource.rotation_policy),
                        Level.PLAIN if resource.rotation_policy == "Never" else Level.WARNING,
                    ),
                ),
            )
        )
    bundle = state.trust_bundle
    holds, holds_level = _yes_no(bundle.holds_current_ca)
    writer = f"{bundle.bundle_kind or 'Bundle'} {bundle.bundle_name}" if bundle.bundle_name else fmt.DASH
    stale = root.old_key_certificates
    sections.append(
        Section(
            "Where it lives",
            (
                Field(
                    "Secret", f"{root.key} key {SECRET_TLS_CRT}: present {_yes_no(root.secret_present)[0]}"
                ),
                Field(
                    "Private key",
                    "present in the Secret (never shown)" if root.private_key_present else "absent",
                    Level.MUTED,
                ),
                Field("Trust bundle", f"{bundle.namespace}/{bundle.configmap} key {bundle.key}"),
                Field("  written by", f"trust-manager {writer}"),
                Field("  holds current CA", holds, holds_level),
                Field("  certificates", str(len(bundle.certificates))),
                # trust-manager keeps no previous CA (docs/domain.md §4.3): the risk of a key rotation.
                Field(
                    "  old CA",
                    "not kept: trust-manager rebuilds the bundle from the current CA, so after a key "
                    "rotation leaves signed by the old key stop verifying as soon as the bundle updates",
                    Level.MUTED,
                ),
                Field(
                    "  old-key leaves",
                    ", ".join(stale) if stale else "none",
                    Level.ERROR if stale else Level.OK,
                ),
            ),
        )
    )
    if root.chain:
        sections.append(
            Section(
                "Chain",
                tuple(Field("Also in secret", f"{c.subject} ({fmt.thumb(c.sha1, 16)})") for c in root.chain),
            )
        )
    if state.rotation_history:
        sections.append(
            Section(
                "Rotations seen this run",
                tuple(
                    Field(fmt.when(e.at), f"serial {e.serial or fmt.DASH} revision {e.revision or fmt.DASH}")
                    for e in reversed(state.rotation_history)
                ),
            )
        )
    pem = "".join([root.certificate.pem] + [c.pem for c in root.chain]) if root.certificate else ""
    return PreviewDoc(
        title=f"Root CA: {root.key}",
        sections=tuple(sections),
        pem=pem,
        copy_value=root.certificate.sha1 if root.certificate else None,
        notes=tuple(notes),
    )


def issuer_preview(state: ClusterState, issuer: IssuerView) -> PreviewDoc:
    """The preview of an Issuer or ClusterIssuer (it has no certificate of its own to show)."""
    ready_level = Level.OK if issuer.ready else (Level.MUTED if issuer.ready is None else Level.ERROR)
    backed = [c for c in state.certificates if c.issuer_ref.issuer_key(c.namespace) == issuer.key]
    fields = [
        Field("Kind", issuer.kind),
        Field("Namespace", issuer.namespace or "(cluster)"),
        Field("Type", issuer.type),
        Field("Ready", fmt.ready_text(issuer.ready), ready_level),
        Field("Reason", issuer.reason or fmt.DASH),
        Field("Message", fmt.one_line(issuer.message) or fmt.DASH),
        Field("Last transition", fmt.when(issuer.last_transition)),
        Field("CA secret", issuer.ca_secret_name or fmt.DASH),
        Field("Roles", _joined(issuer.roles)),
        Field(
            "Certificates",
            f"{issuer.certificates_backed} backed, {issuer.certificates_failing} failing",
            Level.WARNING if issuer.certificates_failing else Level.PLAIN,
        ),
    ]
    certs = tuple(
        Field(
            c.key,
            "ready" if c.is_ready else f"not ready ({c.ready.reason if c.ready else 'no condition'})",
            Level.OK if c.is_ready else Level.WARNING,
        )
        for c in backed
    )
    sections = [Section("Issuer", tuple(fields))]
    if certs:
        sections.append(Section("Certificates it backs", certs))
    return PreviewDoc(title=f"{issuer.kind} {issuer.key.split('/', 1)[1]}", sections=tuple(sections))
