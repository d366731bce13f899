"""From a parsed ``cryptography`` certificate or CRL to :class:`CertificateInfo` / :class:`CrlInfo`.

Every name printed here is the one ``openssl x509 -text`` / ``-nameopt RFC2253`` prints, so what the
dashboard shows can be checked against openssl by a technician (and is, in
``tests/unit/test_openssl_agreement.py``). The tables are short on purpose: unknown OIDs fall back to
their dotted form, as openssl does.

Speed matters (trust bundles hold hundreds of certificates and are re-read on every change), so each
certificate is walked once: one pass over the extensions, names formatted without building
intermediate objects, and the costly self-signature check only when issuer and subject match.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtensionOID

from tui.core.certs.model import CertificateInfo, CrlInfo, serial_hex
from tui.core.certs.signatures import signature_verifies
from tui.core.shared import shared
from tui.core.text import printable

_T = TypeVar("_T")

# openssl's short names (FN_SN) for DN attributes; others print as dotted OIDs.
_ATTR_NAMES: dict[str, str] = {
    "2.5.4.3": "CN",
    "2.5.4.4": "SN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.7": "L",
    "2.5.4.8": "ST",
    "2.5.4.9": "street",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.12": "title",
    "2.5.4.13": "description",
    "2.5.4.15": "businessCategory",
    "2.5.4.17": "postalCode",
    "2.5.4.41": "name",
    "2.5.4.42": "GN",
    "2.5.4.43": "initials",
    "2.5.4.44": "generationQualifier",
    "2.5.4.46": "dnQualifier",
    "2.5.4.65": "pseudonym",
    "2.5.4.97": "organizationIdentifier",
    "0.9.2342.19200300.100.1.1": "UID",
    "0.9.2342.19200300.100.1.25": "DC",
    "1.2.840.113549.1.9.1": "emailAddress",
    "1.3.6.1.4.1.311.60.2.1.1": "jurisdictionL",
    "1.3.6.1.4.1.311.60.2.1.2": "jurisdictionST",
    "1.3.6.1.4.1.311.60.2.1.3": "jurisdictionC",
}

# openssl's long names for signature algorithms (what `openssl x509 -text` prints).
SIGNATURE_NAMES: dict[str, str] = {
    "1.2.840.113549.1.1.4": "md5WithRSAEncryption",
    "1.2.840.113549.1.1.5": "sha1WithRSAEncryption",
    "1.2.840.113549.1.1.14": "sha224WithRSAEncryption",
    "1.2.840.113549.1.1.11": "sha256WithRSAEncryption",
    "1.2.840.113549.1.1.12": "sha384WithRSAEncryption",
    "1.2.840.113549.1.1.13": "sha512WithRSAEncryption",
    "1.2.840.113549.1.1.10": "rsassaPss",
    "1.2.840.10045.4.1": "ecdsa-with-SHA1",
    "1.2.840.10045.4.3.1": "ecdsa-with-SHA224",
    "1.2.840.10045.4.3.2": "ecdsa-with-SHA256",
    "1.2.840.10045.4.3.3": "ecdsa-with-SHA384",
    "1.2.840.10045.4.3.4": "ecdsa-with-SHA512",
    "1.3.101.112": "ED25519",
    "1.3.101.113": "ED448",
    "1.2.840.10040.4.3": "dsaWithSHA1",
    "2.16.840.1.101.3.4.3.1": "dsa_with_SHA224",
    "2.16.840.1.101.3.4.3.2": "dsa_with_SHA256",
}

# Key usage bits in the words of `openssl x509 -text`, in its order.
_KEY_USAGE_BITS: tuple[tuple[str, str], ...] = (
    ("digital_signature", "Digital Signature"),
    ("content_commitment", "Non Repudiation"),
    ("key_encipherment", "Key Encipherment"),
    ("data_encipherment", "Data Encipherment"),
    ("key_agreement", "Key Agreement"),
    ("key_cert_sign", "Certificate Sign"),
    ("crl_sign", "CRL Sign"),
)

# openssl's long names for extended key usages.
EKU_NAMES: dict[str, str] = {
    "1.3.6.1.5.5.7.3.1": "TLS Web Server Authentication",
    "1.3.6.1.5.5.7.3.2": "TLS Web Client Authentication",
    "1.3.6.1.5.5.7.3.3": "Code Signing",
    "1.3.6.1.5.5.7.3.4": "E-mail Protection",
    "1.3.6.1.5.5.7.3.5": "IPSec End System",
    "1.3.6.1.5.5.7.3.6": "IPSec Tunnel",
    "1.3.6.1.5.5.7.3.7": "IPSec User",
    "1.3.6.1.5.5.7.3.8": "Time Stamping",
    "1.3.6.1.5.5.7.3.9": "OCSP Signing",
    "1.3.6.1.5.5.7.3.17": "ipsec Internet Key Exchange",
    "2.5.29.37.0": "Any Extended Key Usage",
    "1.3.6.1.5.5.7.3.10": "dvcs",
    "1.3.6.1.5.2.3.5": "Signing KDC Response",
    "1.3.6.1.4.1.311.20.2.2": "Microsoft Smartcard Login",
    "1.3.6.1.4.1.311.10.3.4": "Microsoft Encrypted File System",
    "1.3.6.1.4.1.311.10.3.3": "Microsoft Server Gated Crypto",
    "1.3.6.1.4.1.311.10.3.1": "Microsoft Trust List Signing",
    "1.3.6.1.4.1.311.2.1.21": "Microsoft Individual Code Signing",
    "1.3.6.1.4.1.311.2.1.22": "Microsoft Commercial Code Signing",
    "2.16.840.1.113730.4.1": "Netscape Server Gated Crypto",
}

_RSA = "1.2.840.113549.1.1.1"
_RSA_PSS = "1.2.840.113549.1.1.10"
_EC = "1.2.840.10045.2.1"
_DSA = "1.2.840.10040.4.1"
_NAMED_KEYS = {
    "1.3.101.112": "Ed25519",
    "1.3.101.113": "Ed448",
    "1.3.101.110": "X25519",
    "1.3.101.111": "X448",
}

# RFC 4514 specials plus control characters (openssl's ESC_CTRL) and C1 controls, which some
# terminals act on; a leading '#'/space and a trailing space are handled separately.
_SPECIAL = re.compile(r'[,+"\\<>;\x00-\x1f\x7f-\x9f]')


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    if char in ',+"\\<>;':
        return "\\" + char
    # Control characters are written as their UTF-8 bytes, \XX each, as openssl does.
    return "".join(f"\\{b:02X}" for b in char.encode("utf-8"))


def escape_dn_value(value: str) -> str:
    """Escape one attribute value the way ``openssl -nameopt RFC2253`` does (UTF-8 left as text)."""
    if not value:
        return ""
    out = _SPECIAL.sub(_escape_char, value) if _SPECIAL.search(value) else value
    lead = "\\" if out[0] in "# " else ""
    if len(value) > 1 and value[-1] == " ":
        out = out[:-1] + "\\ "
    return lead + out


def _attr_value(attr: x509.NameAttribute) -> str:
    value = attr.value
    if isinstance(value, bytes):  # BIT STRING attributes (x500UniqueIdentifier): hex, per RFC 4514
        return "#" + value.hex().upper()
    return escape_dn_value(value)


def format_name(name: x509.Name) -> str:
    """An X.509 name as an RFC 4514 string in openssl's spelling (most specific RDN first)."""
    parts = []
    for rdn in reversed(name.rdns):
        # openssl reverses the attributes inside a multi-valued RDN too (it stores them flat).
        attrs = [
            f"{_ATTR_NAMES.get(a.oid.dotted_string) or a.oid.dotted_string}={_attr_value(a)}"
            for a in (reversed(list(rdn)) if len(rdn) > 1 else rdn)
        ]
        parts.append("+".join(attrs))
    return ",".join(parts)


def _common_name(name: x509.Name) -> str | None:
    for attr in name:
        if attr.oid.dotted_string == "2.5.4.3":
            value = attr.value
            return printable(value) if isinstance(value, str) else value.hex()
    return None


def _public_key(cert: x509.Certificate) -> CertificatePublicKeyTypes | None:
    try:
        return cert.public_key()
    except (ValueError, UnsupportedAlgorithm, TypeError):
        return None  # unknown algorithm or a key that does not decode: described, never verified


def describe_key(cert: x509.Certificate, key: CertificatePublicKeyTypes | None) -> str:
    """``RSA 2048``, ``EC secp256r1``, ``Ed25519``...; ``unknown (<oid>)`` for what we cannot read."""
    try:
        oid = cert.public_key_algorithm_oid.dotted_string
    except ValueError:
        return "unknown"
    named = _NAMED_KEYS.get(oid)
    if named:
        return named
    if key is None:
        return f"unknown ({oid})"
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    label = {_RSA: "RSA", _RSA_PSS: "RSA-PSS", _DSA: "DSA"}.get(oid)
    size = getattr(key, "key_size", None)
    if label and size:
        return f"{label} {size}"
    return f"unknown ({oid})"


def _general_name(gn: x509.GeneralName) -> str:
    if isinstance(gn, x509.DNSName):
        return "DNS:" + printable(gn.value)
    if isinstance(gn, x509.IPAddress):
        return f"IP:{gn.value}"
    if isinstance(gn, x509.UniformResourceIdentifier):
        return "URI:" + printable(gn.value)
    if isinstance(gn, x509.RFC822Name):
        return "email:" + printable(gn.value)
    if isinstance(gn, x509.DirectoryName):
        return "DirName:" + format_name(gn.value)
    if isinstance(gn, x509.RegisteredID):
        return "Registered ID:" + gn.value.dotted_string
    if isinstance(gn, x509.OtherName):
        return "othername:" + gn.type_id.dotted_string
    return "unknown"


def _key_usage(ku: x509.KeyUsage) -> tuple[str, ...]:
    names = [label for attr, label in _KEY_USAGE_BITS if getattr(ku, attr)]
    if ku.key_agreement:
        # cryptography only exposes these two when key_agreement is set (RFC 5280 says so).
        if ku.encipher_only:
            names.append("Encipher Only")
        if ku.decipher_only:
            names.append("Decipher Only")
    return tuple(names)


def _version(cert: x509.Certificate) -> int:
    try:
        return cert.version.value + 1
    except x509.InvalidVersion as exc:
        return exc.parsed_version + 1


def _self_signed(
    cert: x509.Certificate, key: CertificatePublicKeyTypes | None, subject: str, issuer: str
) -> bool:
    # Signature verification costs far more than parsing, so only do it when the names say it can
    # be self-issued at all.
    if subject != issuer or key is None:
        return False
    return signature_verifies(key, cert)


def certificate_info(cert: x509.Certificate, der: bytes) -> CertificateInfo:
    """Read every field of ``cert`` (parsed from exactly ``der``).

    Raises ValueError (or another cryptography error) when a lazily parsed part is malformed; the
    decoder turns that into a CertError naming the file.
    """
    subject_name = cert.subject
    subject = format_name(subject_name)
    issuer = format_name(cert.issuer)
    is_ca = False
    path_length: int | None = None
    key_usage: tuple[str, ...] = ()
    eku: tuple[str, ...] = ()
    san: tuple[str, ...] = ()
    application_uri: str | None = None
    ski: str | None = None
    aki: str | None = None
    for ext in cert.extensions:
        value = ext.value
        if isinstance(value, x509.BasicConstraints):
            is_ca = value.ca
            path_length = value.path_length
        elif isinstance(value, x509.KeyUsage):
            key_usage = _key_usage(value)
        elif isinstance(value, x509.ExtendedKeyUsage):
            eku = tuple(EKU_NAMES.get(o.dotted_string, o.dotted_string) for o in value)
        elif isinstance(value, x509.SubjectAlternativeName):
            san = tuple(_general_name(gn) for gn in value)
            for gn in value:
                if isinstance(gn, x509.UniformResourceIdentifier):
                    application_uri = printable(gn.value)
                    break
        elif isinstance(value, x509.SubjectKeyIdentifier):
            ski = value.digest.hex().upper()
        elif isinstance(value, x509.AuthorityKeyIdentifier):
            aki = value.key_identifier.hex().upper() if value.key_identifier is not None else None
    sig_oid = cert.signature_algorithm_oid.dotted_string
    key = _public_key(cert)
    return CertificateInfo(
        subject=subject,
        # Self-signed (most OPC UA application certificates): the subject's string serves as the issuer.
        issuer=subject if issuer == subject else shared(issuer),
        serial=serial_hex(cert.serial_number),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        sha1=hashlib.sha1(der).hexdigest().upper(),
        sha256=hashlib.sha256(der).hexdigest().upper(),
        is_ca=is_ca,
        path_length=path_length,
        self_signed=_self_signed(cert, key, subject, issuer),
        key=shared(describe_key(cert, key)),
        signature_algorithm=shared(SIGNATURE_NAMES.get(sig_oid, sig_oid)),
        key_usage=shared(key_usage),
        extended_key_usage=shared(eku),
        san=san,
        application_uri=application_uri,
        subject_key_id=ski,
        authority_key_id=None if aki is None else shared(aki),
        version=_version(cert),
        common_name=_common_name(subject_name),
        der=der,
    )


def crl_info(crl: x509.CertificateRevocationList, der: bytes) -> CrlInfo:
    """Read every field of ``crl`` (parsed from exactly ``der``)."""
    serials = frozenset(entry.serial_number for entry in crl)
    aki: str | None = None
    number: int | None = None
    for ext in crl.extensions:
        value = ext.value
        if isinstance(value, x509.AuthorityKeyIdentifier) and value.key_identifier is not None:
            aki = value.key_identifier.hex().upper()
        elif ext.oid == ExtensionOID.CRL_NUMBER and isinstance(value, x509.CRLNumber):
            number = value.crl_number
    next_update: datetime | None = crl.next_update_utc
    sig_oid = crl.signature_algorithm_oid.dotted_string
    return CrlInfo(
        issuer=shared(format_name(crl.issuer)),
        this_update=crl.last_update_utc,
        next_update=next_update,
        revoked=len(crl),
        revoked_serials=serials,
        authority_key_id=aki,
        sha256=hashlib.sha256(der).hexdigest().upper(),
        der=der,
        crl_number=number,
        signature_algorithm=shared(SIGNATURE_NAMES.get(sig_oid, sig_oid)),
    )
