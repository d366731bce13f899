"""One decoder for every form a user or a cluster hands us: PEM, DER, Key Vault hex.

:func:`decode_bytes` finds the certificates and CRLs in a byte string, whatever the wrapping:

- PEM: any number of blocks, LF or CRLF, with text around them (``openssl x509 -text`` output);
  ``CERTIFICATE``/``TRUSTED CERTIFICATE``, ``X509 CRL`` and ``PKCS7`` blocks are read, key blocks are
  noted (never decoded), anything else is skipped.
- DER: one structure or several back to back (OPC UA chains are concatenated DER), certificate, CRL or
  a PKCS#7 certificate bag.
- Key Vault hex: the file bytes written as hex text, which is how ``az iot ops connector opcua`` stores
  certificates as secrets; the text inside is any of the above.

Anything else raises :class:`CertError` with a one-line reason: the caller prints it, never a traceback.
"""

from __future__ import annotations

import binascii
import os
import re
import warnings
from functools import lru_cache
from typing import BinaryIO

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning

from tui.core.certs.der import classify, element_end
from tui.core.certs.fields import certificate_info, crl_info
from tui.core.certs.model import CertError, CertificateInfo, CrlInfo, Decoded, Form
from tui.core.files import UnreadableFile, read_regular_file

# Old certificates with a zero or negative serial still exist; the serial is shown as it is (with a
# '-'), and the library's deprecation warning would only leak onto the user's terminal.
warnings.filterwarnings(
    "ignore", message="Parsed a serial number which wasn't positive", category=CryptographyDeprecationWarning
)
# Devices also ship subjects whose country is not two letters (C=Germany); the name is shown as written
# and the library's warning (two lines naming our source file) must not reach the terminal either.
warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)

MAX_BYTES = 4 * 1024 * 1024
"""Files above this are refused before being read: no certificate bundle is this large."""

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 #]{1,40})-----")
_CERT_LABELS = frozenset({b"CERTIFICATE", b"X509 CERTIFICATE", b"TRUSTED CERTIFICATE"})
_CRL_LABELS = frozenset({b"X509 CRL"})
_PKCS7_LABELS = frozenset({b"PKCS7", b"PKCS #7 SIGNED DATA", b"CMS"})
_WHITESPACE = b" \t\r\n\v\f"
_HEX = re.compile(rb"[0-9A-Fa-f]+")


class _Found:
    """Accumulates what one input holds, in order."""

    def __init__(self) -> None:
        self.entries: list[CertificateInfo | CrlInfo] = []
        self.private_key = False
        self.other_labels: list[str] = []


def _short(exc: Exception) -> str:
    """A one-line, bounded reason from a cryptography exception (its texts can be long)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if "ParseError" in text or "asn1" in text.lower():
        return "malformed ASN.1"
    return text[:120]


class _NotThisKind(ValueError):
    """cryptography does not recognise the bytes as this kind of structure at all."""


@lru_cache(maxsize=4096)
def _certificate(der: bytes) -> CertificateInfo:
    # Cached by the exact bytes: a dashboard re-reads the same bundles on every change, and the
    # result is immutable, so a repeat costs a dictionary lookup instead of a parse.
    try:
        cert = x509.load_der_x509_certificate(der)
    except x509.InvalidVersion as exc:
        raise ValueError(f"X.509 version {exc.parsed_version + 1} is not supported") from None
    except Exception as exc:  # untrusted bytes: whatever the parser objects to means "not a certificate"
        raise _NotThisKind(_short(exc)) from None
    try:
        return certificate_info(cert, der)
    except Exception as exc:  # names, extensions, keys are parsed lazily and can fail here
        raise ValueError(f"malformed certificate ({_short(exc)})") from None


@lru_cache(maxsize=256)
def _crl(der: bytes) -> CrlInfo:
    try:
        crl = x509.load_der_x509_crl(der)
    except Exception as exc:  # untrusted bytes: whatever the parser objects to means "not a CRL"
        raise _NotThisKind(_short(exc)) from None
    try:
        return crl_info(crl, der)
    except Exception as exc:  # a lazily parsed part of a structurally valid CRL is broken
        raise ValueError(f"malformed CRL ({_short(exc)})") from None


def _add_cert_or_crl(found: _Found, der: bytes, what: str) -> None:
    try:
        found.entries.append(_certificate(der))
        return
    except _NotThisKind as cert_exc:
        not_cert = str(cert_exc)
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None
    try:
        found.entries.append(_crl(der))
    except _NotThisKind:
        raise ValueError(f"{what}: not a valid certificate or CRL ({not_cert})") from None
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _add_cert(found: _Found, der: bytes, what: str) -> None:
    try:
        found.entries.append(_certificate(der))
    except _NotThisKind as exc:
        raise ValueError(f"{what}: not a valid certificate ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _add_crl(found: _Found, der: bytes, what: str) -> None:
    try:
        found.entries.append(_crl(der))
    except _NotThisKind as exc:
        raise ValueError(f"{what}: not a valid CRL ({exc})") from None
    except ValueError as exc:
        raise ValueError(f"{what}: {exc}") from None


def _add_pkcs7(found: _Found, der: bytes, what: str) -> None:
    # Rare (Windows .p7b exports), so its module is only imported when one turns up.
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    try:
        certs = pkcs7.load_der_pkcs7_certificates(der)
    except Exception as exc:
        raise ValueError(f"{what}: not a valid PKCS#7 certificate bag ({_short(exc)})") from None
    for cert in certs:
        _add_cert(found, cert.public_bytes(Encoding.DER), what)


def _pkcs12_reason(source: str) -> str:
    target = "FILE" if source.startswith("<") else source
    return (
        "PKCS#12 (.p12/.pfx) is not supported; export the certificates as PEM: "
        f"openssl pkcs12 -in {target} -nokeys -out cert.pem"
    )


def _decode_der(data: bytes, found: _Found, source: str) -> None:
    """Read back-to-back DER elements; trailing zero or whitespace padding is tolerated."""
    pos = 0
    index = 0
    size = len(data)
    while pos < size:
        if data[pos] != 0x30 and not data[pos:].strip(_WHITESPACE + b"\x00"):
            break
        index += 1
        what = "DER" if index == 1 else f"DER element {index}"
        if data[pos] != 0x30:
            raise ValueError(f"{what}: not a certificate or CRL (unexpected byte 0x{data[pos]:02X})")
        end = element_end(data, pos)
        element = data[pos:end]
        kind = classify(element)
        if kind == "pkcs12":
            raise CertError(source, _pkcs12_reason(source))
        if kind == "key":
            found.private_key = True
        elif kind == "pkcs7":
            _add_pkcs7(found, element, what)
        else:
            _add_cert_or_crl(found, element, what)
        pos = end


def _decode_pem(data: bytes, found: _Found) -> None:
    index = 0
    pos = 0
    while True:
        match = _BEGIN.search(data, pos)
        if match is None:
            return
        index += 1
        label = match.group(1)
        name = label.decode("ascii")
        end_marker = b"-----END " + label + b"-----"
        end = data.find(end_marker, match.end())
        if end < 0:
            raise ValueError(f"PEM block {index} ({name}): truncated, no END line")
        pos = end + len(end_marker)
        if label.endswith(b"PRIVATE KEY"):
            # Note it and move on: key material is never decoded, kept or shown.
            found.private_key = True
            continue
        handler = (
            _add_cert
            if label in _CERT_LABELS
            else _add_crl
            if label in _CRL_LABELS
            else _add_pkcs7
            if label in _PKCS7_LABELS
            else None
        )
        if handler is None:
            found.other_labels.append(name)
            continue
        body = data[match.end() : end].translate(None, _WHITESPACE)
        what = f"PEM block {index} ({name})"
        try:
            der = binascii.a2b_base64(body, strict_mode=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"{what}: invalid base64") from None
        if not der:
            raise ValueError(f"{what}: empty")
        if label == b"TRUSTED CERTIFICATE":
            # OpenSSL's "trusted" form appends trust settings after the certificate; keep the cert.
            try:
                cert_end = element_end(der)
            except ValueError as exc:
                raise ValueError(f"{what}: {exc}") from None
            der = der[:cert_end]
        handler(found, der, what)


def _hex_payload(data: bytes) -> bytes | None:
    """The bytes behind Key Vault hex text, or None when ``data`` is not hex text."""
    compact = data.translate(None, _WHITESPACE)
    if len(compact) < 4 or len(compact) % 2 or not _HEX.fullmatch(compact):
        return None
    return bytes.fromhex(compact.decode("ascii"))


def _looks_like_der(data: bytes) -> bool:
    """True when ``data`` opens with a complete DER structure of a kind we know."""
    if not data or data[0] != 0x30:
        return False
    try:
        end = element_end(data)
    except ValueError:
        return False
    return classify(data[:end]) != "unknown"


UTF16_PROBLEM = "is UTF-16 text; save it as ASCII (UTF-8) PEM and upload that"
"""Why a UTF-16 file is not usable as a list file: it is uploaded as is, and the connector's PEM reader
cannot parse text with a NUL byte after every character. Upload refuses it and inspect says so."""


def is_utf16(data: bytes) -> bool:
    """Whether ``data`` is UTF-16 text (opens with a UTF-16 byte-order mark), as Windows tools export."""
    return data.startswith((b"\xff\xfe", b"\xfe\xff"))


def _normalise_text(data: bytes) -> bytes:
    """Strip a UTF-8 byte-order mark and turn UTF-16 text (Windows exports) into ASCII bytes."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    if is_utf16(data):
        try:
            return data.decode("utf-16").encode("ascii")
        except (UnicodeDecodeError, UnicodeEncodeError):
            return data
    return data


def _decode(data: bytes, source: str, found: _Found, nested: bool) -> Form:
    if _looks_like_der(data):
        # Checked before PEM and hex: a DER structure can by chance contain such text.
        _decode_der(data, found, source)
        return "der"
    data = _normalise_text(data)
    if b"-----BEGIN " in data:
        _decode_pem(data, found)
        return "pem"
    if not nested:
        payload = _hex_payload(data)
        if payload is not None:
            _decode(payload, source, found, nested=True)
            return "hex"
    if data[:1] == b"\x30":
        _decode_der(data, found, source)  # raises with the precise DER problem
        return "der"
    if nested:
        raise ValueError("Key Vault hex holds neither PEM nor DER")
    compact = data.translate(None, _WHITESPACE)
    if len(compact) % 2 and _HEX.fullmatch(compact):
        raise ValueError("odd number of hex digits (Key Vault hex cut short?)")
    raise ValueError("not a certificate or CRL (no PEM block, not DER, not Key Vault hex)")


def decode_bytes(data: bytes, source: str = "<bytes>") -> Decoded:
    """Find every certificate and CRL in ``data``; ``source`` names it in errors and results.

    Raises CertError with a one-line reason when nothing usable is found or any part is broken
    (a damaged bundle is reported, not silently shortened).
    """
    if len(data) > MAX_BYTES:
        raise CertError(source, f"too large ({len(data)} bytes; limit {MAX_BYTES // (1024 * 1024)} MiB)")
    if not isinstance(data, bytes):
        data = bytes(data)  # a bytearray or memoryview: slices must be hashable for the parse cache
    if not data.strip(_WHITESPACE + b"\x00"):
        raise CertError(source, "empty file")
    found = _Found()
    try:
        form = _decode(data, source, found, nested=False)
    except ValueError as exc:
        raise CertError(source, str(exc)) from None
    if not found.entries:
        if found.private_key:
            raise CertError(source, "no certificate found (file holds a private key)")
        if found.other_labels:
            raise CertError(source, f"no certificate found (file holds {', '.join(found.other_labels)})")
        raise CertError(source, "no certificate or CRL found")
    certs = tuple(e for e in found.entries if isinstance(e, CertificateInfo))
    crls = tuple(e for e in found.entries if isinstance(e, CrlInfo))
    return Decoded(
        source=source,
        certificates=certs,
        crls=crls,
        private_key_present=found.private_key,
        form=form,
        entries=tuple(found.entries),
        utf16=is_utf16(data),
    )


def read_capped(stream: BinaryIO, source: str) -> bytes:
    """Read at most :data:`MAX_BYTES` from ``stream``; raises CertError when there is more."""
    data = stream.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise CertError(source, f"too large (over {MAX_BYTES // (1024 * 1024)} MiB)")
    return data


def decode_file(path: str | os.PathLike[str]) -> Decoded:
    """Decode the regular file at ``path``; its size is checked before it is read.

    Every failure (missing, unreadable, a directory, a FIFO, socket or device, too large, undecodable)
    is a CertError whose source is the path as given; nothing blocks (see :mod:`tui.core.files`).
    """
    source = os.fspath(path)
    try:
        data = read_regular_file(source, limit=MAX_BYTES)
    except UnreadableFile as exc:
        raise CertError(source, str(exc)) from None
    return decode_bytes(data, source)
