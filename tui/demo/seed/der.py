"""DER surgery for certificate and CRL shapes that ``cryptography``'s builders refuse to write.

Old devices still carry X.509 v1 certificates, SHA-1 signatures, zero or negative serials, and CAs
publish CRLs without nextUpdate. The dashboard has to read all of them, so the tests need them: each
shape here is cut out of what the builder wrote and the signed part signed again with the same key.
Signatures stay deterministic (RSA PKCS#1 v1.5, RFC 6979 ECDSA, EdDSA), so the bytes do too.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

PrivateKey = (
    rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey
)
"""Every key type the builder signs with."""

_SHA1_ALGORITHM_IDS: dict[type, bytes] = {
    rsa.RSAPrivateKey: bytes.fromhex("300d06092a864886f70d0101050500"),  # sha1WithRSAEncryption
    ec.EllipticCurvePrivateKey: bytes.fromhex("300906072a8648ce3d0401"),  # ecdsa-with-SHA1
}


def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _elements(der: bytes) -> list[bytes]:
    """The whole-TLV children of the single DER element ``der``."""

    def header(pos: int) -> tuple[int, int]:
        first = der[pos + 1]
        if first < 0x80:
            return pos + 2, first
        count = first & 0x7F
        return pos + 2 + count, int.from_bytes(der[pos + 2 : pos + 2 + count], "big")

    start, length = header(0)
    out, pos = [], start
    while pos < start + length:
        cstart, clen = header(pos)
        out.append(der[pos : cstart + clen])
        pos = cstart + clen
    return out


def _sign_raw(key: PrivateKey, data: bytes, algorithm: hashes.HashAlgorithm | None) -> bytes:
    if isinstance(key, rsa.RSAPrivateKey):
        assert algorithm is not None
        return key.sign(data, padding.PKCS1v15(), algorithm)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        assert algorithm is not None
        return key.sign(data, ec.ECDSA(algorithm, deterministic_signing=True))
    return key.sign(data)


def _resign(
    tbs_parts: list[bytes], algorithm_id: bytes, key: PrivateKey, algorithm: hashes.HashAlgorithm | None
) -> bytes:
    tbs = _tlv(0x30, b"".join(tbs_parts))
    signature = _sign_raw(key, tbs, algorithm)
    return _tlv(0x30, tbs + algorithm_id + _tlv(0x03, b"\x00" + signature))


def with_sha1(cert: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    """``cert`` signed again by ``key`` with SHA-1 (RSA or EC keys only)."""
    algorithm_id = next((v for k, v in _SHA1_ALGORITHM_IDS.items() if isinstance(key, k)), None)
    if algorithm_id is None:
        raise ValueError("SHA-1 signatures need an RSA or EC key")
    outer = _elements(cert.public_bytes(serialization.Encoding.DER))
    # The algorithm appears twice: inside the signed part and next to the signature.
    tbs_parts = [algorithm_id if part == outer[1] else part for part in _elements(outer[0])]
    return x509.load_der_x509_certificate(_resign(tbs_parts, algorithm_id, key, hashes.SHA1()))


def as_v1(
    cert: x509.Certificate, key: PrivateKey, algorithm: hashes.HashAlgorithm | None
) -> x509.Certificate:
    """``cert`` as an X.509 v1 certificate (no version field), signed again by ``key``."""
    outer = _elements(cert.public_bytes(serialization.Encoding.DER))
    tbs_parts = _elements(outer[0])
    if tbs_parts[0][0] == 0xA0:  # drop the explicit [0] version: absent means v1
        tbs_parts = tbs_parts[1:]
    return x509.load_der_x509_certificate(_resign(tbs_parts, outer[1], key, algorithm))


def without_next_update(der: bytes, key: PrivateKey, algorithm: hashes.HashAlgorithm | None) -> bytes:
    """The DER CRL ``der`` without its nextUpdate field, signed again by ``key``."""
    outer = _elements(der)
    tbs_parts = _elements(outer[0])
    # version, signature, issuer, thisUpdate, nextUpdate, ...: drop the fifth (a UTCTime/GeneralizedTime).
    assert tbs_parts[4][0] in (0x17, 0x18)
    return _resign(tbs_parts[:4] + tbs_parts[5:], outer[1], key, algorithm)


def replace_serial(der: bytes, serial: int, key: PrivateKey, algorithm: hashes.HashAlgorithm | None) -> bytes:
    """The DER certificate ``der`` with any serial, zero or negative included, signed again by ``key``."""
    outer = _elements(der)
    tbs_parts = _elements(outer[0])
    index = 1 if tbs_parts[0][0] == 0xA0 else 0  # the serial follows the optional [0] version
    size = max(1, (serial.bit_length() + 8) // 8)  # room for the sign bit, as DER wants
    tbs_parts[index] = _tlv(0x02, serial.to_bytes(size, "big", signed=True))
    return _resign(tbs_parts, outer[1], key, algorithm)
