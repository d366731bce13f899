"""The OPC UA trust and issuer list entries: each file decoded and joined across SecretSync mapping,
SPC object, synced Secret key and Key Vault secret, then linked into chains and flagged."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from tui.core import resources as rk
from tui.core.build_cache import DecodeCache, DecodedValue
from tui.core.build_chains import link_chains
from tui.core.build_readers import Obj, b64_bytes, field_of
from tui.core.certs import CertificateInfo, CrlInfo
from tui.core.findings import duplicate_keys, entry_flags
from tui.core.model import OpcUaEntry, SyncView
from tui.core.settings import ModelSettings
from tui.core.snapshot import AreaState, RawSnapshot, VaultSnapshot
from tui.core.spc import SpcView


def _format_problem(target_key: str, value: DecodedValue) -> str | None:
    # The connector reads each file by extension (domain.md 4.5); the generic decoder is more lenient.
    ext = target_key.rsplit(".", 1)[-1].lower() if "." in target_key else ""
    if value.error is not None:
        return None
    form = value.form or "no"
    if ext == "der" and (value.form != "der" or not value.certificates):
        return f".der file holds {form} {_kinds(value)}, not a DER certificate"
    if ext == "crt" and (value.form != "pem" or len(value.certificates) != 1 or value.crls):
        return f".crt file must hold exactly one PEM certificate (holds {form} {_kinds(value)})"
    if ext == "crl" and (value.form != "der" or not value.crls or value.certificates):
        return f".crl file holds {form} {_kinds(value)}, not a DER CRL"
    return None


def _kinds(value: DecodedValue) -> str:
    parts = []
    if value.certificates:
        parts.append(f"{len(value.certificates)} certificate(s)")
    if value.crls:
        parts.append(f"{len(value.crls)} CRL(s)")
    return " and ".join(parts) or "nothing"


_DAY = timedelta(days=1)


def _whole_days(until: datetime, now: datetime) -> int:
    # Whole days, rounded down (-1 on the first expired day): stable between rebuilds, so a row
    # only changes when something a human would notice changes.
    return (until - now) // _DAY


def _entry_fields(
    sync: SyncView,
    secret: Obj | None,
    spc: SpcView | None,
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> list[dict[str, Any]]:
    """Constructor arguments of each entry of one list (links and flags are added later)."""
    data = field_of(secret, "data")
    mapped = {target: source for source, target in sync.mappings}
    vault_ok = vault is not None and vault.status.state is AreaState.OK
    spc_name = spc.name if spc is not None else sync.spc_name
    out = []
    for target in sorted(set(mapped) | {str(k) for k in data}):
        source = mapped.get(target)
        raw_value = data.get(target)
        payload = b64_bytes(raw_value) if raw_value is not None else None
        certificate: CertificateInfo | None = None
        extra: tuple[CertificateInfo, ...] = ()
        crl: CrlInfo | None = None
        error: str | None = None
        form: str | None = None
        problem: str | None = None
        private_key = False
        digest_hex: str | None = None
        if raw_value is None:
            content = "missing"
        elif payload is None:
            content, error = "undecodable", "Secret value is not base64"
        else:
            digest = hashlib.sha256(payload).digest()
            digest_hex = digest.hex()
            value = cache.decode(payload, digest, f"{sync.name}/{target}")
            error, form, private_key = value.error, value.form, value.private_key_present
            if value.certificates:
                content, certificate, extra = "certificate", value.certificates[0], value.certificates[1:]
            elif value.crls:
                content, crl = "crl", value.crls[0]
            else:
                content = "undecodable"
            problem = _format_problem(target, value)
        if certificate is not None:
            left: int | None = _whole_days(certificate.not_after, now)
        elif crl is not None and crl.next_update is not None:
            left = _whole_days(crl.next_update, now)
        else:
            left = None
        spc_obj = spc.object_for_file(source) if spc is not None and source else None
        secret_v = vault.secrets.get(source) if vault_ok and vault is not None and source else None
        in_sync: bool | None = None
        if (
            secret_v is not None
            and secret_v.value is not None
            and payload is not None
            and spc_obj is not None
            and spc_obj.object_encoding == "hex"
        ):
            in_sync = secret_v.value.strip().lower() == payload.hex()
        out.append(
            {
                "list_name": sync.list_name,
                "target_key": target,
                "source_path": source,
                "sync_name": sync.name,
                "spc_name": spc_name,
                "mapped": source is not None,
                "spc_object": spc_obj is not None,
                "synced": raw_value is not None,
                "vault_present": (secret_v is not None) if vault_ok and source else None,
                "vault_content_type": secret_v.content_type if secret_v else None,
                "vault_tags": tuple(sorted(secret_v.tags.items())) if secret_v else (),
                "vault_enabled": secret_v.enabled if secret_v else None,
                "vault_expires_on": secret_v.expires_on if secret_v else None,
                "vault_in_sync": in_sync,
                "size": len(payload) if payload is not None else None,
                "sha256": digest_hex,
                "content": content,
                "certificate": certificate,
                "extra_certificates": extra,
                "crl": crl,
                "decode_error": error,
                "form": form,
                "format_problem": problem,
                "private_key_present": private_key,
                "days_left": left,
            }
        )
    return out



def build_opcua(
    raw: RawSnapshot,
    settings: ModelSettings,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> tuple[OpcUaEntry, ...]:
    """Every trust and issuer list entry, decoded, joined, linked into chains and flagged."""
    ns = settings.namespace
    spc_by_name = {s.name: s for s in spcs}
    spc_readable = raw.state_of(rk.SECRET_PROVIDER_CLASSES.key).state is AreaState.OK
    rows: list[dict[str, Any]] = []
    for sync in syncs:
        secret = raw.get(rk.SECRETS.key, ns, sync.name)
        rows.extend(_entry_fields(sync, secret, spc_by_name.get(sync.spc_name or ""), vault, now, cache))
    link_chains(rows, cache)
    failing = {s.list_name for s in syncs if s.present and s.failing}
    entries = [OpcUaEntry(**row) for row in rows]
    duplicates = duplicate_keys(entries)
    out = []
    for entry, row in zip(entries, rows, strict=True):
        flags, severity = entry_flags(
            entry,
            now=now,
            settings=settings,
            duplicate=entry.key in duplicates,
            sync_failing=entry.list_name in failing,
            spc_known=spc_readable,
        )
        # Constructing again from the row is several times cheaper than dataclasses.replace.
        out.append(OpcUaEntry(**row, flags=flags, severity=severity) if flags else entry)
    return tuple(out)

