"""The decoded forms of certificates and CRLs, and the one error type every decoder raises.

These are plain frozen values: the parser in :mod:`tui.core.certs.decode` builds them once per file, and
everything above it (model, findings, UI, ``inspect --json``) reads them without touching
``cryptography`` again. ``der`` keeps the exact bytes so a later step can verify signatures or write
the file back unchanged.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Form = Literal["pem", "der", "hex"]


class CertError(Exception):
    """A file (or byte string) that holds no usable certificate or CRL, with a one-line reason.

    ``str(err)`` is ``"<source>: <reason>"`` so callers can print it as it is.
    """

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(source, reason)
        self.source = source
        self.reason = reason

    def __str__(self) -> str:
        return f"{self.source}: {self.reason}"


def iso_utc(when: datetime | None) -> str | None:
    """``2025-01-31T12:00:00Z``: ISO 8601 in UTC, the form ``--json`` and findings use."""
    if when is None:
        return None
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _pem(label: str, der: bytes) -> str:
    body = base64.b64encode(der).decode("ascii")
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----\n"


# Slots: a site holds thousands of these for as long as the dashboard runs; without a __dict__ each is
# about 100 bytes smaller (docs/design.md §10.1, issue 14's memory figures).
@dataclass(frozen=True, slots=True)
class CertificateInfo:
    """Everything a technician (or a health check) reads from one X.509 certificate.

    Names follow ``openssl x509 -nameopt RFC2253`` (RFC 4514 order and escaping, UTF-8 kept as
    text); hex values are upper case without colons, as OPC UA tools name certificates by thumbprint.
    """

    subject: str
    issuer: str
    serial: str
    not_before: datetime
    not_after: datetime
    sha1: str
    sha256: str
    is_ca: bool
    path_length: int | None
    self_signed: bool
    key: str
    signature_algorithm: str
    key_usage: tuple[str, ...]
    extended_key_usage: tuple[str, ...]
    san: tuple[str, ...]
    application_uri: str | None
    subject_key_id: str | None
    authority_key_id: str | None
    version: int
    common_name: str | None
    der: bytes = field(repr=False)

    @property
    def pem(self) -> str:
        """The certificate as one PEM block (LF line ends, trailing newline)."""
        return _pem("CERTIFICATE", self.der)

    @property
    def serial_number(self) -> int:
        """The serial as an integer (what CRL entries hold)."""
        return -int(self.serial[1:], 16) if self.serial.startswith("-") else int(self.serial, 16)

    def to_json(self, source: str) -> dict[str, Any]:
        """The ``inspect --json`` object for this certificate; ``source`` names where it came from."""
        return {
            "kind": "certificate",
            "source": source,
            "subject": self.subject,
            "issuer": self.issuer,
            "serial": self.serial,
            "not_before": iso_utc(self.not_before),
            "not_after": iso_utc(self.not_after),
            "sha1": self.sha1,
            "sha256": self.sha256,
            "is_ca": self.is_ca,
            "path_length": self.path_length,
            "self_signed": self.self_signed,
            "key": self.key,
            "signature_algorithm": self.signature_algorithm,
            "key_usage": list(self.key_usage),
            "extended_key_usage": list(self.extended_key_usage),
            "san": list(self.san),
            "application_uri": self.application_uri,
            "subject_key_id": self.subject_key_id,
            "authority_key_id": self.authority_key_id,
            "version": self.version,
            "common_name": self.common_name,
        }


@dataclass(frozen=True, slots=True)
class CrlInfo:
    """One certificate revocation list: who issued it, when it was made, what it revokes."""

    issuer: str
    this_update: datetime
    next_update: datetime | None
    revoked: int
    revoked_serials: frozenset[int] = field(repr=False)
    authority_key_id: str | None
    sha256: str
    der: bytes = field(repr=False)
    crl_number: int | None = None
    signature_algorithm: str = ""

    @property
    def pem(self) -> str:
        """The CRL as one PEM block."""
        return _pem("X509 CRL", self.der)

    def to_json(self, source: str) -> dict[str, Any]:
        """The ``inspect --json`` object for this CRL; ``source`` names where it came from."""
        return {
            "kind": "crl",
            "source": source,
            "issuer": self.issuer,
            "this_update": iso_utc(self.this_update),
            "next_update": iso_utc(self.next_update),
            "revoked": self.revoked,
            "revoked_serials": [serial_hex(s) for s in sorted(self.revoked_serials)],
            "crl_number": self.crl_number,
            "authority_key_id": self.authority_key_id,
            "signature_algorithm": self.signature_algorithm,
            "sha256": self.sha256,
        }


def serial_hex(value: int) -> str:
    """A serial as ``openssl x509 -serial`` prints it: upper hex, whole bytes, '-' when negative."""
    magnitude = abs(value)
    digits = f"{magnitude:X}"
    if len(digits) % 2:
        digits = "0" + digits
    return ("-" if value < 0 else "") + digits


@dataclass(frozen=True, slots=True)
class Decoded:
    """What one file (or byte string) held.

    ``entries`` lists the certificates and CRLs in file order (``certificates`` and ``crls`` are
    the same objects split by kind). ``private_key_present`` says a key block was seen; its
    content is never decoded or kept. ``form`` is the outer encoding: ``pem``, ``der`` or ``hex``
    (Key Vault's encoding of the file bytes).
    """

    source: str
    certificates: tuple[CertificateInfo, ...]
    crls: tuple[CrlInfo, ...]
    private_key_present: bool
    form: Form
    entries: tuple[CertificateInfo | CrlInfo, ...] = ()
    utf16: bool = False
    """The file is UTF-16 text (read for inspection; unusable as a list file as is:
    :data:`tui.core.certs.decode.UTF16_PROBLEM`)."""

    def __post_init__(self) -> None:
        # Built by hand (tests, fakes) without an order: fall back to certificates, then CRLs.
        if not self.entries and (self.certificates or self.crls):
            object.__setattr__(self, "entries", (*self.certificates, *self.crls))
