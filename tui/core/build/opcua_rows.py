"""One OPC UA list's files as entry rows: each Secret key decoded and joined with its SecretSync
mapping, SPC object and Key Vault secret.

A row is the constructor arguments of an :class:`~tui.core.model.state.OpcUaEntry` that do not depend on the
time or on the other entries ("static"); days left, chain links and flags are added by
:mod:`tui.core.build.opcua`. Rows are remembered per file with everything they were made from, so
when one file of a 2,000-file list changes, only that file is read again.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from tui.core.build.cache import DecodeCache, DecodedValue
from tui.core.build.memo import MISS
from tui.core.build.readers import b64_bytes
from tui.core.certs import CertificateInfo, CrlInfo
from tui.core.model.snapshot import VaultSecret
from tui.core.model.spc import SpcObject, SpcView
from tui.core.model.state import SyncView
from tui.core.shared import shared

Row = dict[str, Any]
"""Keyword arguments of an ``OpcUaEntry``; each call of :func:`list_rows` returns rows of its own."""

ROW_FIELDS = (
    "list_name",
    "target_key",
    "source_path",
    "sync_name",
    "spc_name",
    "mapped",
    "spc_object",
    "object_spc",
    "synced",
    "vault_present",
    "vault_content_type",
    "vault_tags",
    "vault_enabled",
    "vault_expires_on",
    "vault_in_sync",
    "size",
    "sha256",
    "content",
    "certificate",
    "extra_certificates",
    "crl",
    "decode_error",
    "form",
    "format_problem",
    "private_key_present",
    "from_vault",
    "checking",
)
"""The fields of a static row, in the order a remembered row keeps their values."""

RowTable = dict[str, tuple[tuple[Any, ...], tuple[Any, ...]]]
"""Remembered rows of one list: target key -> (what the row was made from, its values by
:data:`ROW_FIELDS`). Kept as a tuple, not the dict: a 27-key dict is about 1.2 KB, the tuple 0.3 KB, and the
memo keeps one per list file for as long as the dashboard runs (1.8 MiB at 2,000 files)."""


def _format_problem(target_key: str, value: DecodedValue) -> str | None:
    # The connector reads each file by extension (docs/domain.md §7.2); the generic decoder is more lenient.
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


def decode_list_file(
    cache: DecodeCache, sync_name: str, target: str, payload: bytes
) -> tuple[bytes, DecodedValue]:
    """One list file's decode through ``cache``: its SHA-256 and what it holds (shared by the build and
    :func:`prewarm_list_files`, so both hash and name it alike)."""
    digest = hashlib.sha256(payload).digest()
    return digest, cache.decode(payload, digest, f"{sync_name}/{target}")


def vault_bytes(secret_v: VaultSecret | None, spc_obj: SpcObject | None) -> bytes | None:
    """The file bytes a sync would write from a vault value, by the SPC object's ``objectEncoding``
    (``hex`` as the official tooling stores files, ``base64``, else the text as UTF-8, the provider's
    default); None when the value was not read or does not decode."""
    if secret_v is None or secret_v.value is None or spc_obj is None:
        return None
    text = secret_v.value.strip()
    encoding = (spc_obj.object_encoding or "utf-8").lower()
    try:
        if encoding == "hex":
            return bytes.fromhex(text)
        if encoding == "base64":
            return base64.b64decode(text, validate=True)
        return secret_v.value.encode("utf-8")
    except ValueError:  # binascii.Error is a ValueError
        return None


def _static_row(
    sync: SyncView,
    spc_name: str | None,
    target: str,
    source: str | None,
    raw_value: Any,
    spc_obj: SpcObject | None,
    secret_v: VaultSecret | None,
    vault_ok: bool,
    cache: DecodeCache,
    other_spc: str | None = None,
    checking: bool = False,
    secrets_read: bool = True,
) -> Row:
    payload = b64_bytes(raw_value) if raw_value is not None else None
    certificate: CertificateInfo | None = None
    extra: tuple[CertificateInfo, ...] = ()
    crl: CrlInfo | None = None
    error: str | None = None
    form: str | None = None
    problem: str | None = None
    private_key = False
    digest_hex: str | None = None
    from_vault = False
    if raw_value is None:
        content = "missing"
        # Not synced (the Secret was refused, or not written yet): what the next sync would write is
        # known from the vault's value, so the entry still has its subject and expiry.
        pending = vault_bytes(secret_v, spc_obj) if source and secrets_read else None
        if pending is not None:
            _, value = decode_list_file(cache, sync.name, target, pending)
            if value.certificates or value.crls:
                from_vault = True
                error, form, private_key = value.error, value.form, value.private_key_present
                if value.certificates:
                    content, certificate, extra = "certificate", value.certificates[0], value.certificates[1:]
                else:
                    content, crl = "crl", value.crls[0]
                problem = _format_problem(target, value)
    elif payload is None:
        content, error = "undecodable", "Secret value is not base64"
    else:
        digest, value = decode_list_file(cache, sync.name, target, payload)
        digest_hex = digest.hex()
        error, form, private_key = value.error, value.form, value.private_key_present
        if value.certificates:
            content, certificate, extra = "certificate", value.certificates[0], value.certificates[1:]
        elif value.crls:
            content, crl = "crl", value.crls[0]
        else:
            content = "undecodable"
        problem = _format_problem(target, value)
    in_sync: bool | None = None
    if (
        secret_v is not None
        and secret_v.value is not None
        and payload is not None
        and spc_obj is not None
        and spc_obj.object_encoding == "hex"
    ):
        in_sync = secret_v.value.strip().lower() == payload.hex()
    return {
        "list_name": sync.list_name,
        "target_key": target,
        "source_path": source,
        "sync_name": sync.name,
        "spc_name": spc_name,
        "mapped": source is not None,
        "spc_object": spc_obj is not None,
        "object_spc": other_spc if spc_obj is None else None,
        "synced": raw_value is not None,
        "vault_present": (secret_v is not None) if vault_ok and source else None,
        "vault_content_type": secret_v.content_type if secret_v else None,
        # One tuple per tag set, shared by every entry whose secret carries it.
        "vault_tags": shared(tuple(sorted(secret_v.tags.items()))) if secret_v else (),
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
        "from_vault": from_vault,
        # Mapped since the vault was read: not judged against that read (vault_present stays None).
        "checking": ("vault",) if checking else (),
    }


def list_rows(
    sync: SyncView,
    data: Mapping[str, Any],
    spc: SpcView | None,
    vault_secrets: Mapping[str, VaultSecret] | None,
    cache: DecodeCache,
    remembered: RowTable | object = MISS,
    spc_index: Mapping[str, tuple[str, ...]] | None = None,
    checking: frozenset[str] = frozenset(),
    secrets_read: bool = True,
) -> tuple[list[Row], RowTable]:
    """The static rows of one list, sorted by target key (new dicts, the caller's to change), and the
    table to remember them by.

    ``data`` is the synced Secret's ``data``; ``vault_secrets`` is None when the vault could not be read
    (nothing is then judged against it); ``spc_index`` names, per file name, every SPC of the namespace
    holding an object of that name (to say where a mapped object is when the SecretSync's own SPC lacks
    it); ``checking`` names (lower case) the vault secrets being read again since the lists came to map
    them: their entries are not judged against ``vault_secrets`` (docs/design.md §6); ``secrets_read``
    says the synced Secrets could be read, so a mapped file missing from ``data`` is known not to be
    synced and is decoded from its vault value (unread Secrets leave it unknown). A file whose
    inputs equal those in ``remembered`` reuses its row instead of being decoded and
    joined again.
    """
    mapped = {target: source for source, target in sync.mappings}
    vault_ok = vault_secrets is not None
    spc_name = spc.name if spc is not None else sync.spc_name
    old: RowTable = remembered if isinstance(remembered, dict) else {}
    table: RowTable = {}
    rows: list[Row] = []
    for target in sorted(set(mapped) | {str(k) for k in data}):
        source = mapped.get(target)
        raw_value = data.get(target)
        spc_obj = spc.object_for_file(source) if spc is not None and source else None
        rechecked = bool(checking) and source is not None and source.lower() in checking
        judged = vault_ok and not rechecked
        secret_v = vault_secrets.get(source) if vault_secrets is not None and source and judged else None
        other = (
            next((n for n in spc_index.get(source, ()) if n != spc_name), None)
            if spc_obj is None and source and spc_index
            else None
        )
        # Everything _static_row reads besides the decode cache, whose answers never change.
        inputs = (
            sync.list_name,
            sync.name,
            spc_name,
            source,
            raw_value,
            spc_obj,
            secret_v,
            judged,
            other,
            rechecked,
            secrets_read,
        )
        known = old.get(target)
        if known is not None and known[0] == inputs:
            values = known[1]
            row = dict(zip(ROW_FIELDS, values, strict=True))
        else:
            row = _static_row(
                sync,
                spc_name,
                target,
                source,
                raw_value,
                spc_obj,
                secret_v,
                judged,
                cache,
                other,
                rechecked,
                secrets_read,
            )
            values = tuple(row[field] for field in ROW_FIELDS)
        table[target] = (inputs, values)
        rows.append(row)
    return rows, table


def prewarm_list_files(secrets: Mapping[str, Mapping[str, Any]], cache: DecodeCache) -> int:
    """Decode the files of the synced list Secrets into ``cache`` ahead of a build; returns how many.

    ``secrets`` maps a list's SecretSync name to its Secret object. The live view calls this once the
    Secrets are listed but other collections are still arriving, so the first build finds the decodes
    done (a 2,000-file list is most of its cost). Decodes use the names a build uses, so the result of
    the build is the same with or without this step.
    """
    datas = [
        (name, secret.get("data") if isinstance(secret, Mapping) else None)
        for name, secret in secrets.items()
    ]
    cache.ensure_capacity(2 * sum(len(data) for _, data in datas if isinstance(data, Mapping)) + 64)
    done = 0
    for sync_name, data in datas:
        for target, raw_value in data.items() if isinstance(data, Mapping) else ():
            payload = b64_bytes(raw_value)
            if payload is not None:
                decode_list_file(cache, sync_name, target, payload)
                done += 1
    return done
