"""Just enough DER to tell what a blob is before handing it to ``cryptography``.

Only headers are read (tag, length, the first few children): enough to split concatenated DER,
to report truncation precisely, and to recognise a private key or a PKCS#12 file without parsing
(or ever touching) its content.
"""

from __future__ import annotations

from typing import Literal

Kind = Literal["cert-or-crl", "key", "pkcs12", "pkcs7", "unknown"]

# OID contents (after tag and length) of the PKCS#7 content types.
_OID_PKCS7_DATA = bytes.fromhex("2a864886f70d010701")
_OID_PKCS7_SIGNED = bytes.fromhex("2a864886f70d010702")


def tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """``(tag, start of content, end of content)`` of the DER element at ``pos``.

    Raises ValueError with a short reason on truncated or indefinite-length input.
    """
    size = len(data)
    if pos + 2 > size:
        raise ValueError("truncated DER (no room for a header)")
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        start, length = pos + 2, first
    else:
        count = first & 0x7F
        if count == 0:
            raise ValueError("BER indefinite length is not DER")
        if count > 4:
            raise ValueError("DER length field too long")
        if pos + 2 + count > size:
            raise ValueError("truncated DER (length cut off)")
        length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
        start = pos + 2 + count
    end = start + length
    if end > size:
        raise ValueError(f"truncated DER (element needs {end - pos} bytes, {size - pos} present)")
    return tag, start, end


def children(data: bytes, start: int, end: int, limit: int = 3) -> list[tuple[int, int, int]]:
    """The first ``limit`` elements inside a constructed element (fewer if it holds fewer)."""
    out: list[tuple[int, int, int]] = []
    pos = start
    while pos < end and len(out) < limit:
        tag, cstart, cend = tlv(data, pos)
        if cend > end:
            raise ValueError("DER element overruns its parent")
        out.append((tag, cstart, cend))
        pos = cend
    return out


def classify(der: bytes) -> Kind:
    """Guess what a top-level DER SEQUENCE is: certificate-or-crl, key, pkcs12, pkcs7, unknown.

    Only the first few headers are read; the real parse happens in cryptography.
    """
    try:
        tag, start, end = tlv(der, 0)
        if tag != 0x30:
            return "unknown"
        kids = children(der, start, end)
    except ValueError:
        return "unknown"
    if not kids:
        return "unknown"
    tag0, s0, e0 = kids[0]
    if tag0 == 0x02:  # INTEGER first: a private key (PKCS#1/#8/SEC1) or a PKCS#12 (version 3)
        version = der[s0:e0]
        if version == b"\x03" and len(kids) > 1 and kids[1][0] == 0x30:
            # authSafe is a PKCS#7 ContentInfo: its OID opens the second element.
            head = der[kids[1][1] : kids[1][1] + 16]
            if _OID_PKCS7_DATA in head or _OID_PKCS7_SIGNED in head:
                return "pkcs12"
        if version in (b"\x00", b"\x01"):
            return "key"
        return "unknown"
    if tag0 == 0x06 and der[s0:e0] == _OID_PKCS7_SIGNED:
        return "pkcs7"
    if tag0 == 0x30 and len(kids) > 1:
        if kids[1][0] == 0x04:  # SEQUENCE{AlgorithmIdentifier, OCTET STRING}: encrypted PKCS#8
            try:
                inner = children(der, s0, e0, 1)
            except ValueError:
                return "unknown"
            if inner and inner[0][0] == 0x06:
                return "key"
        if kids[1][0] == 0x30:
            return "cert-or-crl"
    return "unknown"


def element_end(data: bytes, pos: int = 0) -> int:
    """Where the DER element starting at ``pos`` ends; ValueError when it is cut short."""
    return tlv(data, pos)[2]
