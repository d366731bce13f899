"""The DER header reader that sorts blobs before cryptography parses them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

from tests import certgen as g
from tui.core.certs.der import classify, element_end, tlv

CA = g.make_ca("DER CA", key="rsa")
NO_ENCRYPTION = serialization.NoEncryption()


def _key(
    spec: g.KeySpec,
    fmt: serialization.PrivateFormat,
    encryption: serialization.KeySerializationEncryption = NO_ENCRYPTION,
) -> bytes:
    return g.make_key(spec).private_bytes(serialization.Encoding.DER, fmt, encryption)


# Built lazily and named: RSA keys differ per process, so blobs must not become test ids (xdist).
BLOBS: dict[str, tuple[Callable[[], bytes], str]] = {
    "certificate": (lambda: CA.der, "cert-or-crl"),
    "crl": (lambda: g.make_crl(CA).der, "cert-or-crl"),
    "pkcs1-rsa-key": (lambda: _key("rsa", serialization.PrivateFormat.TraditionalOpenSSL), "key"),
    "sec1-ec-key": (lambda: _key("ec", serialization.PrivateFormat.TraditionalOpenSSL), "key"),
    "pkcs8-ed25519-key": (lambda: _key("ed25519", serialization.PrivateFormat.PKCS8), "key"),
    "encrypted-pkcs8": (
        lambda: _key("ec", serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"pw")),
        "key",
    ),
    "pkcs12": (
        lambda: pkcs12.serialize_key_and_certificates(b"n", CA.key, CA.cert, None, NO_ENCRYPTION),
        "pkcs12",
    ),
    "pkcs7": (lambda: pkcs7.serialize_certificates([CA.cert], serialization.Encoding.DER), "pkcs7"),
    "public-key": (
        lambda: CA.cert.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        "unknown",
    ),
    "small-sequence": (lambda: bytes.fromhex("3003020105"), "unknown"),
    "octet-string": (lambda: b"\x04\x00", "unknown"),
    "nothing": (lambda: b"", "unknown"),
}


@pytest.mark.parametrize("name", sorted(BLOBS))
def test_classify(name: str) -> None:
    make, kind = BLOBS[name]
    assert classify(make()) == kind


def test_tlv_short_and_long_lengths() -> None:
    assert tlv(bytes.fromhex("0401ff"), 0) == (0x04, 2, 3)
    long_form = bytes([0x30, 0x82, 0x01, 0x00]) + bytes(256)
    assert tlv(long_form, 0) == (0x30, 4, 260)
    assert element_end(CA.der) == len(CA.der)
    assert element_end(CA.der + CA.der, len(CA.der)) == 2 * len(CA.der)


@pytest.mark.parametrize(
    ("blob", "reason"),
    [
        (b"\x30", "truncated DER (no room for a header)"),
        (b"\x30\x80\x00\x00", "BER indefinite length is not DER"),
        (b"\x30\x85\x01\x02\x03\x04\x05", "DER length field too long"),
        (b"\x30\x82\x01", "truncated DER (length cut off)"),
        (b"\x30\x05\x00", "truncated DER (element needs 7 bytes, 3 present)"),
    ],
)
def test_tlv_refuses_what_is_not_complete_der(blob: bytes, reason: str) -> None:
    with pytest.raises(ValueError) as caught:
        tlv(blob, 0)
    assert str(caught.value) == reason
