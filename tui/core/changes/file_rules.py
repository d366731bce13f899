"""What one list file (or vault secret value) holds, judged by the rules of its extension and list.

These are the per-file rules of the change engine (docs/domain.md §7): the extensions each list
accepts, what each extension must hold (``.der`` one DER certificate, ``.crt`` one PEM certificate,
``.crl`` one DER CRL), no private key, no PKCS#12, only CA certificates in the issuer list, no expired
certificate. :mod:`tui.core.changes.validation` adds the rules that need the cluster (duplicates, collisions,
a CRL's CA). Every reason is one line and never quotes file content.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import datetime

from tui.core.certs import decode_bytes, is_expired, is_not_yet_valid
from tui.core.certs.decode import UTF16_PROBLEM, is_utf16
from tui.core.certs.model import CertError, CertificateInfo, CrlInfo, Decoded, iso_utc
from tui.core.changes.operations import FILE_ENCODING_TAG
from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.snapshot import VaultSecret

ALLOWED_EXTENSIONS: dict[str, tuple[str, ...]] = {
    LIST_TRUST: (".der", ".crt"),
    LIST_ISSUER: (".der", ".crt", ".crl"),
}
"""Extensions each list accepts (compared case-insensitively, as the official CLI does)."""

SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]+$")
"""The official CLI's rule for Key Vault secret names."""

SECRET_NAME_MAX = 127
"""Key Vault's limit on secret name length."""

# SecretSync secretObject.data[] sourcePath/targetKey pattern (docs/domain.md §5.2).
TARGET_KEY = re.compile(r"^[A-Za-z0-9.]([-A-Za-z0-9]+([-._a-zA-Z0-9]?[A-Za-z0-9])*)?(/([0-9]+))*$")
TARGET_KEY_MAX = 253

VAULT_VALUE_MAX = 25 * 1024
"""Key Vault's documented maximum secret value size ("25 KB"); hex doubles a file's size."""

PKCS12_CONTENT_TYPE = "application/x-pkcs12"
"""Content type of the secret behind a Key Vault *certificate* object: the wrong thing to pick."""


@dataclass(frozen=True)
class FileContent:
    """What a file holds, reduced to what a list entry can be."""

    kind: str | None
    """``der-certificate``, ``pem-certificate``, ``crl`` or None when the bytes are unusable."""
    certificate: CertificateInfo | None = None
    crl: CrlInfo | None = None
    problem: tuple[str, str] | None = None
    """``(rule code, one-line reason)`` when the bytes cannot be an entry at all."""

    @property
    def sha1(self) -> str | None:
        """SHA-1 thumbprint of the certificate (CRLs have none)."""
        return self.certificate.sha1 if self.certificate is not None else None

    @property
    def sha256(self) -> str | None:
        """SHA-256 of the certificate or CRL."""
        if self.certificate is not None:
            return self.certificate.sha256
        return self.crl.sha256 if self.crl is not None else None


def extension(file_name: str) -> str:
    """The lower-case extension with its dot (``.der``), or ``""``."""
    base = file_name.rsplit("/", 1)[-1]
    return "." + base.rsplit(".", 1)[-1].lower() if "." in base else ""


def name_problem(file_name: str) -> str | None:
    """Why ``file_name`` cannot be a target key (a file name in a list), or None."""
    if not file_name:
        return "empty file name"
    if "/" in file_name or "\\" in file_name:
        return "a file name in a list must not contain a path separator"
    if len(file_name) > TARGET_KEY_MAX:
        return f"file name longer than {TARGET_KEY_MAX} characters"
    if not TARGET_KEY.match(file_name):
        return (
            "not a valid SecretSync targetKey (letters, digits, '-', '.', '_'; start with a letter, "
            "digit or '.', end with a letter or digit)"
        )
    return None


def suggested_target_key(file_name: str) -> str | None:
    """A valid target key close to ``file_name`` (``my ca with space.der`` -> ``my-ca-with-space.der``),
    or None when none comes out of it."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", file_name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1])
    # No '-' or '_' next to a '.' or another of them: the targetKey pattern allows one between two
    # letters or digits only.
    name = re.sub(r"[-_]*\.[-_.]*", ".", re.sub(r"[-_]{2,}", "-", name))
    name = re.sub(r"^[^A-Za-z0-9.]+|[^A-Za-z0-9]+$", "", name)[:TARGET_KEY_MAX]
    # A name left with nothing before its extension (``ü.der`` -> ``.der``) is no suggestion.
    return name if name[:1].isalnum() and name_problem(name) is None else None


def extension_problem(list_name: str, file_name: str) -> str | None:
    """Why the list does not take this extension, or None."""
    allowed = ALLOWED_EXTENSIONS[list_name]
    ext = extension(file_name)
    if ext in allowed:
        return None
    shown = f"extension {ext}" if ext else "no extension"
    return f"{shown} is not allowed in the {list_name} list (use {' or '.join(allowed)})"


def extension_case_warning(file_name: str) -> str | None:
    """Why an extension that is not lower case (``.DER``, ``.Crt``) deserves a second look, or None.

    Accepted (the official CLI accepts any case too), but the official CLI then compares the extension
    as typed, so it would give such a file the wrong content type or read it in the wrong encoding
    (docs/domain.md §6.3, §7.2), and whether the connector reads it is unconfirmed (§10).
    """
    base = file_name.rsplit("/", 1)[-1]
    if "." not in base:
        return None
    typed = "." + base.rsplit(".", 1)[-1]
    if typed == typed.lower():
        return None
    stem = base.rsplit(".", 1)[0]
    return (
        f"extension {typed} is not lower case: the official CLI compares extensions case-sensitively "
        f"and would mis-type this file, and whether the connector reads it is unconfirmed; "
        f"consider naming it {stem}{typed.lower()}"
    )


def secret_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be the Key Vault secret of a list entry, or None."""
    if not name:
        return "empty secret name"
    if not SECRET_NAME.match(name):
        return "secret names may only hold letters, digits and '-' (^[0-9a-zA-Z-]+$)"
    if len(name) > SECRET_NAME_MAX:
        return f"secret name longer than Key Vault's {SECRET_NAME_MAX} characters"
    if name.startswith("-"):
        # Legal in Key Vault, but the SecretSync sourcePath that must name it cannot start with '-'.
        return "a secret name starting with '-' cannot be a SecretSync sourcePath"
    return None


def _classify(decoded: Decoded) -> FileContent:
    certs, crls = decoded.certificates, decoded.crls
    if decoded.private_key_present:
        reason = "holds a private key; list files must never hold one"
        return FileContent(None, problem=("private-key", reason))
    if decoded.form == "hex":
        return FileContent(None, problem=("format", "holds Key Vault hex text; use the original file"))
    if len(certs) + len(crls) > 1:
        what = f"{len(certs)} certificate(s)" + (f" and {len(crls)} CRL(s)" if crls else "")
        return FileContent(None, problem=("format", f"holds {what}; a list file holds exactly one"))
    if certs:
        kind = "der-certificate" if decoded.form == "der" else "pem-certificate"
        return FileContent(kind, certificate=certs[0])
    if decoded.form == "pem":
        return FileContent(None, problem=("format", "holds a PEM CRL; the connector reads .crl files as DER"))
    return FileContent("crl", crl=crls[0])


def read_content(data: bytes, source: str) -> FileContent:
    """Decode file bytes into one certificate or CRL, or say (code, reason) why they are unusable."""
    if is_utf16(data):
        # The decoder reads UTF-16 text (to inspect Windows exports), but the list file is uploaded as
        # is, and a PEM reader cannot parse text with a NUL byte after every character.
        return FileContent(None, problem=("format", UTF16_PROBLEM))
    try:
        decoded = decode_bytes(data, source)
    except CertError as exc:
        reason = exc.reason
        if reason.startswith("PKCS#12"):
            return FileContent(None, problem=("pkcs12", reason))
        if "private key" in reason:
            return FileContent(None, problem=("private-key", "holds a private key and no certificate"))
        return FileContent(None, problem=("undecodable", reason))
    return _classify(decoded)


_FORMAT_RULE = {
    ".der": ("der-certificate", "a .der file must hold one DER certificate"),
    ".crt": ("pem-certificate", "a .crt file must hold exactly one PEM certificate"),
    ".crl": ("crl", "a .crl file must hold one DER CRL"),
}

_KIND_WORDS = {
    "der-certificate": "a DER certificate",
    "pem-certificate": "a PEM certificate",
    "crl": "a DER CRL",
}


def format_problem(file_name: str, content: FileContent) -> str | None:
    """Why this content does not suit the file's extension (the connector reads by extension), or None."""
    rule = _FORMAT_RULE.get(extension(file_name))
    if rule is None or content.kind is None or content.kind == rule[0]:
        return None
    return f"{rule[1]} (it holds {_KIND_WORDS[content.kind]})"


def ca_rule(list_name: str, cert: CertificateInfo) -> tuple[str, str] | None:
    """``("error"|"warning", reason)`` for a certificate in the issuer list that may not be a CA.

    The official CLI requires basicConstraints cA=true for v3 certificates and skips v1 ones. Here a v1
    certificate is accepted only when self-signed (a legacy root: RFC 5280 6.1 lets any trust anchor be
    v1, and OpenSSL treats a self-signed v1 certificate as a CA); a v1 certificate signed by someone
    else cannot say it is a CA and path validation would reject it as an intermediate.
    """
    if list_name != LIST_ISSUER:
        return None
    if cert.version == 1:
        if cert.self_signed:
            return (
                "warning",
                "X.509 v1 certificate accepted as a CA because it is self-signed "
                "(v1 has no basicConstraints)",
            )
        return (
            "error",
            "X.509 v1 certificate that is not self-signed cannot be a CA "
            "(no basicConstraints); only CA certificates can be added to the issuer list",
        )
    if not cert.is_ca:
        return (
            "error",
            "only CA certificates can be added to the issuer list (basicConstraints cA is false or absent)",
        )
    return None


def validity_rule(cert: CertificateInfo, now: datetime) -> tuple[str, str, str] | None:
    """``(severity, code, reason)`` for an expired (error) or not-yet-valid (warning) certificate."""
    if is_expired(cert, now):
        return ("error", "expired", f"certificate expired at {iso_utc(cert.not_after)}")
    if is_not_yet_valid(cert, now):
        return ("warning", "not-yet-valid", f"certificate is not valid before {iso_utc(cert.not_before)}")
    return None


def vault_value_problem(file_bytes: int) -> str | None:
    """Why a file of this size cannot be stored as a hex Key Vault secret, or None."""
    size = 2 * file_bytes
    if size > VAULT_VALUE_MAX:
        return (
            f"too large for a Key Vault secret ({file_bytes} bytes are {size} hex characters; "
            f"limit {VAULT_VALUE_MAX})"
        )
    return None


@dataclass(frozen=True)
class VaultValue:
    """The file bytes behind a Key Vault secret value and the SPC objectEncoding that yields them."""

    payload: bytes | None
    object_encoding: str | None
    problem: str | None = None


def _hex_text(value: str) -> bytes | None:
    compact = "".join(value.split())
    if not compact or len(compact) % 2:
        return None
    try:
        return bytes.fromhex(compact)
    except ValueError:
        return None


def vault_value(secret: VaultSecret) -> VaultValue:
    """Turn a vault secret's value into the file bytes the provider would write, by its tag.

    ``file-encoding=hex`` (what the official tooling writes) is hex-decoded; ``base64`` is
    base64-decoded; an untagged value is read as hex when it is hex text, else as PEM text (the
    provider's default utf-8 encoding writes it unchanged).
    """
    value = secret.value
    if value is None:
        return VaultValue(None, None, "its value was not read (list the vault with values)")
    tag = (secret.tags.get(FILE_ENCODING_TAG) or "").strip().lower()
    if tag == "hex":
        payload = _hex_text(value)
        if payload is None:
            return VaultValue(None, None, "tagged file-encoding=hex but the value is not hex")
        return VaultValue(payload, "hex")
    if tag == "base64":
        try:
            return VaultValue(base64.b64decode("".join(value.split()), validate=True), "base64")
        except (binascii.Error, ValueError):
            return VaultValue(None, None, "tagged file-encoding=base64 but the value is not base64")
    if tag:
        return VaultValue(None, None, f"unknown file-encoding tag {tag!r} (expected hex)")
    payload = _hex_text(value)
    if payload is not None:
        return VaultValue(payload, "hex")
    if "-----BEGIN " in value:
        return VaultValue(value.encode("utf-8", "replace"), "utf-8")
    return VaultValue(None, None, "the value is neither hex (file-encoding=hex) nor PEM text")
