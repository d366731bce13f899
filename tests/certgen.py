"""Test-side factory for certificates, chains and CRLs, built with ``cryptography``.

Everything is deterministic where the algorithms allow it: EC and Ed25519/Ed448 keys are derived from
a seed string, ECDSA signs deterministically (RFC 6979), serials and dates default to fixed values.
RSA keys cannot be derived from a seed, so they are generated once per process and cached by
``(bits, seed)``: same seed, same key within a run.

Typical use::

    root = make_ca("Site Root CA")
    sub = make_intermediate(root, "Site Issuing CA")
    leaf = make_leaf(sub, "plc-1", uris=("urn:plc-1",), dns=("plc-1.local",))
    crl = make_crl(sub, revoked=(leaf.serial,))
    bundle(leaf, sub, root)          # PEM bytes, leaf first
    kv_hex(leaf.der)                 # what Key Vault stores for a .der file

``make_ca``/``make_leaf`` take ``version=1`` for X.509 v1 certificates (no extensions), which
cryptography's builder cannot write: they are re-assembled from the builder's output and re-signed.
"""

from __future__ import annotations

import hashlib
import ipaddress
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
"""Default not_before of everything made here; tests place their clock relative to it."""

KeySpec = Literal["rsa", "rsa1024", "rsa3072", "rsa4096", "ec", "ec384", "ec521", "ed25519", "ed448"]
PrivateKey = (rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
              | ed448.Ed448PrivateKey)

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

_CURVES: dict[str, ec.EllipticCurve] = {
    "ec": ec.SECP256R1(), "ec384": ec.SECP384R1(), "ec521": ec.SECP521R1(),
}
_RSA_BITS = {"rsa": 2048, "rsa1024": 1024, "rsa3072": 3072, "rsa4096": 4096}


@cache
def _rsa_key(bits: int, seed: str) -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def make_key(spec: KeySpec = "ec", seed: str = "default") -> PrivateKey:
    """A private key of the given kind; the same ``seed`` gives the same key (RSA: per process)."""
    digest = hashlib.sha512(f"{spec}/{seed}".encode()).digest()
    if spec in _RSA_BITS:
        return _rsa_key(_RSA_BITS[spec], seed)
    if spec in _CURVES:
        # 200 bits keep the scalar below every supported curve order; +1 avoids zero.
        return ec.derive_private_key(int.from_bytes(digest[:25], "big") + 1, _CURVES[spec])
    if spec == "ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(digest[:32])
    if spec == "ed448":
        return ed448.Ed448PrivateKey.from_private_bytes(digest[:57])
    raise ValueError(f"unknown key spec {spec!r}")


def _digest_for(key: PrivateKey, algorithm: hashes.HashAlgorithm | None) -> hashes.HashAlgorithm | None:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return algorithm or hashes.SHA256()


@dataclass(frozen=True)
class Issued:
    """A certificate with the key that belongs to it."""

    cert: x509.Certificate
    key: PrivateKey

    @property
    def der(self) -> bytes:
        """The certificate in DER."""
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def pem(self) -> bytes:
        """The certificate as one PEM block."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def key_pem(self) -> bytes:
        """The private key as unencrypted PKCS#8 PEM (test material only)."""
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())

    @property
    def subject(self) -> x509.Name:
        """The certificate's subject name."""
        return self.cert.subject

    @property
    def serial(self) -> int:
        """The certificate's serial number."""
        return self.cert.serial_number


@dataclass(frozen=True)
class IssuedCrl:
    """A CRL and its encodings."""

    crl: x509.CertificateRevocationList
    der: bytes

    @property
    def pem(self) -> bytes:
        """The CRL as one PEM block."""
        return self.crl.public_bytes(serialization.Encoding.PEM)


def name(cn: str | None = None, *, o: str | None = None, ou: str | None = None, c: str | None = None,
         extra: Sequence[tuple[x509.ObjectIdentifier, str]] = ()) -> x509.Name:
    """An X.509 name, most general attribute first (C, O, OU, extra..., CN), as openssl writes it."""
    attrs: list[x509.NameAttribute] = []
    if c:
        attrs.append(x509.NameAttribute(NameOID.COUNTRY_NAME, c))
    if o:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, o))
    if ou:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou))
    attrs.extend(x509.NameAttribute(oid, value) for oid, value in extra)
    if cn is not None:
        attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    return x509.Name(attrs)


def _default_serial(*parts: str) -> int:
    # Positive, 16 bytes, stable for the same inputs (names, dates) and different when they differ:
    # like cert-manager's random serials in size.
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:16], "big") >> 1 | 1


def _resolve_key(key: KeySpec | PrivateKey, seed: str) -> PrivateKey:
    return make_key(key, seed) if isinstance(key, str) else key


def _build(subject: x509.Name, issuer: Issued | None, key: PrivateKey, *, serial: int, not_before: datetime,
           days: float, extensions: Iterable[tuple[x509.ExtensionType, bool]], version: int,
           hash_algorithm: hashes.HashAlgorithm | None, not_after: datetime | None = None,
           pss: bool = False) -> Issued:
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after or not_before + timedelta(days=days))
    )
    if version == 3:
        for ext, critical in extensions:
            builder = builder.add_extension(ext, critical=critical)
    algorithm = _digest_for(signer, hash_algorithm)
    # cryptography refuses to sign certificates with SHA-1; old devices still carry them, so such
    # certificates are built with SHA-256 and re-signed below.
    sha1 = isinstance(algorithm, hashes.SHA1)
    if sha1:
        algorithm = hashes.SHA256()
    deterministic = True if isinstance(signer, ec.EllipticCurvePrivateKey) else None
    rsa_padding = None
    if pss and isinstance(signer, rsa.RSAPrivateKey):
        assert algorithm is not None
        rsa_padding = padding.PSS(mgf=padding.MGF1(algorithm), salt_length=padding.PSS.DIGEST_LENGTH)
    cert = builder.sign(signer, algorithm, ecdsa_deterministic=deterministic, rsa_padding=rsa_padding)
    if sha1:
        algorithm = hashes.SHA1()
        cert = _with_sha1(cert, signer)
    if version == 1:
        cert = _as_v1(cert, signer, algorithm)
    return Issued(cert, key)


def _ski(key: PrivateKey) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(key.public_key())


def _aki(issuer_key: PrivateKey) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key())


def make_ca(cn: str = "Test Root CA", *, key: KeySpec | PrivateKey = "ec", issuer: Issued | None = None,
            not_before: datetime = EPOCH, days: float = 3650, not_after: datetime | None = None,
            path_length: int | None = None, serial: int | None = None, subject: x509.Name | None = None,
            version: int = 3, hash_algorithm: hashes.HashAlgorithm | None = None) -> Issued:
    """A CA certificate: self-signed root unless ``issuer`` is given. ``version=1`` has no extensions."""
    own_key = _resolve_key(key, cn)
    subject = subject or name(cn, o="aio-certs tests")
    signer_key = issuer.key if issuer else own_key
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (x509.KeyUsage(digital_signature=True, content_commitment=False, key_encipherment=False,
                       data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                       encipher_only=False, decipher_only=False), True),
        (_ski(own_key), False),
        (_aki(signer_key), False),
    ]
    issuer_cn = issuer.subject.rfc4514_string() if issuer else cn
    default_serial = _default_serial("ca", cn, issuer_cn, not_before.isoformat(), str(days), str(not_after))
    return _build(subject, issuer, own_key, serial=serial or default_serial,
                  not_before=not_before, days=days, not_after=not_after, extensions=extensions,
                  version=version, hash_algorithm=hash_algorithm)


def make_intermediate(parent: Issued, cn: str = "Test Intermediate CA", *, path_length: int | None = 0,
                      **kwargs: object) -> Issued:
    """A CA certificate signed by ``parent`` (path length 0 by default)."""
    return make_ca(cn, issuer=parent, path_length=path_length, **kwargs)  # type: ignore[arg-type]


def make_leaf(issuer: Issued | None, cn: str = "leaf", *, key: KeySpec | PrivateKey = "ec",
              dns: Sequence[str] = (), ips: Sequence[str] = (), uris: Sequence[str] = (),
              emails: Sequence[str] = (), eku: Sequence[x509.ObjectIdentifier] = (SERVER_AUTH, CLIENT_AUTH),
              not_before: datetime = EPOCH, days: float = 365, not_after: datetime | None = None,
              serial: int | None = None, subject: x509.Name | None = None, version: int = 3,
              hash_algorithm: hashes.HashAlgorithm | None = None,
              key_usage: x509.KeyUsage | None = None, pss: bool = False) -> Issued:
    """An end-entity certificate; ``issuer=None`` makes it self-signed (like an OPC UA app cert).

    ``pss=True`` signs with RSASSA-PSS when the signer's key is RSA.
    """
    own_key = _resolve_key(key, cn)
    subject = subject or name(cn, o="aio-certs tests")
    signer_key = issuer.key if issuer else own_key
    general: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    general += [x509.DNSName(d) for d in dns]
    general += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
    general += [x509.RFC822Name(e) for e in emails]
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (key_usage or x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=True,
                                    data_encipherment=True, key_agreement=False, key_cert_sign=False,
                                    crl_sign=False, encipher_only=False, decipher_only=False), True),
        (_ski(own_key), False),
        (_aki(signer_key), False),
    ]
    if eku:
        extensions.append((x509.ExtendedKeyUsage(list(eku)), False))
    if general:
        extensions.append((x509.SubjectAlternativeName(general), False))
    issuer_cn = issuer.subject.rfc4514_string() if issuer else cn
    default_serial = _default_serial("leaf", cn, issuer_cn, not_before.isoformat(), str(days), str(not_after))
    return _build(subject, issuer, own_key, serial=serial or default_serial,
                  not_before=not_before, days=days, not_after=not_after, extensions=extensions,
                  version=version, hash_algorithm=hash_algorithm, pss=pss)


def make_crl(issuer: Issued, revoked: Iterable[int] = (), *, this_update: datetime = EPOCH,
             next_update: datetime | Literal["default"] | None = "default", crl_number: int | None = 1,
             revoked_at: datetime | None = None,
             hash_algorithm: hashes.HashAlgorithm | None = None) -> IssuedCrl:
    """A CRL signed by ``issuer`` listing ``revoked`` serials.

    ``next_update`` defaults to ``this_update`` + 7 days; ``None`` writes a CRL without one (allowed
    by X.509, rare in practice), re-assembled from the builder's output.
    """
    nxt = this_update + timedelta(days=7) if next_update == "default" else next_update
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(nxt or this_update + timedelta(days=1))
        .add_extension(_aki(issuer.key), critical=False)
    )
    if crl_number is not None:
        builder = builder.add_extension(x509.CRLNumber(crl_number), critical=False)
    for serial in revoked:
        entry = (x509.RevokedCertificateBuilder().serial_number(serial)
                 .revocation_date(revoked_at or this_update).build())
        builder = builder.add_revoked_certificate(entry)
    algorithm = _digest_for(issuer.key, hash_algorithm)
    deterministic = True if isinstance(issuer.key, ec.EllipticCurvePrivateKey) else None
    crl = builder.sign(issuer.key, algorithm, ecdsa_deterministic=deterministic)
    der = crl.public_bytes(serialization.Encoding.DER)
    if nxt is None:
        der = _without_next_update(der, issuer.key, algorithm)
        crl = x509.load_der_x509_crl(der)
    return IssuedCrl(crl, der)


def bundle(*items: Issued | IssuedCrl | bytes) -> bytes:
    """PEM bytes of several certificates/CRLs (raw bytes are appended as they are)."""
    return b"".join(item if isinstance(item, bytes) else item.pem for item in items)


def kv_hex(data: bytes) -> bytes:
    """What Key Vault holds for a file uploaded by ``az iot ops``: its bytes as lower-case hex."""
    return data.hex().encode("ascii")


# -- DER surgery for shapes the builders refuse to write --------------------------------------------


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


def _resign(tbs_parts: list[bytes], algorithm_id: bytes, key: PrivateKey,
            algorithm: hashes.HashAlgorithm | None) -> bytes:
    tbs = _tlv(0x30, b"".join(tbs_parts))
    signature = _sign_raw(key, tbs, algorithm)
    return _tlv(0x30, tbs + algorithm_id + _tlv(0x03, b"\x00" + signature))


_SHA1_ALGORITHM_IDS = {
    rsa.RSAPrivateKey: bytes.fromhex("300d06092a864886f70d0101050500"),  # sha1WithRSAEncryption
    ec.EllipticCurvePrivateKey: bytes.fromhex("300906072a8648ce3d0401"),  # ecdsa-with-SHA1
}


def _with_sha1(cert: x509.Certificate, key: PrivateKey) -> x509.Certificate:
    algorithm_id = next((v for k, v in _SHA1_ALGORITHM_IDS.items() if isinstance(key, k)), None)
    if algorithm_id is None:
        raise ValueError("SHA-1 signatures need an RSA or EC key")
    outer = _elements(cert.public_bytes(serialization.Encoding.DER))
    # The algorithm appears twice: inside the signed part and next to the signature.
    tbs_parts = [algorithm_id if part == outer[1] else part for part in _elements(outer[0])]
    return x509.load_der_x509_certificate(_resign(tbs_parts, algorithm_id, key, hashes.SHA1()))


def _as_v1(cert: x509.Certificate, key: PrivateKey,
           algorithm: hashes.HashAlgorithm | None) -> x509.Certificate:
    outer = _elements(cert.public_bytes(serialization.Encoding.DER))
    tbs_parts = _elements(outer[0])
    if tbs_parts[0][0] == 0xA0:  # drop the explicit [0] version: absent means v1
        tbs_parts = tbs_parts[1:]
    return x509.load_der_x509_certificate(_resign(tbs_parts, outer[1], key, algorithm))


def _without_next_update(der: bytes, key: PrivateKey, algorithm: hashes.HashAlgorithm | None) -> bytes:
    outer = _elements(der)
    tbs_parts = _elements(outer[0])
    # version, signature, issuer, thisUpdate, nextUpdate, ...: drop the fifth (a UTCTime/GeneralizedTime).
    assert tbs_parts[4][0] in (0x17, 0x18)
    return _resign(tbs_parts[:4] + tbs_parts[5:], outer[1], key, algorithm)


def with_serial(issued: Issued, serial: int, signer: Issued | None = None) -> Issued:
    """``issued`` re-signed (by ``signer``, default itself) with any serial, zero or negative included.

    Old devices carry such serials; cryptography's builder refuses them (RFC 5280 asks for positive).
    """
    key = (signer or issued).key
    algorithm = _digest_for(key, issued.cert.signature_hash_algorithm)
    outer = _elements(issued.der)
    tbs_parts = _elements(outer[0])
    index = 1 if tbs_parts[0][0] == 0xA0 else 0  # the serial follows the optional [0] version
    size = max(1, (serial.bit_length() + 8) // 8)  # room for the sign bit, as DER wants
    tbs_parts[index] = _tlv(0x02, serial.to_bytes(size, "big", signed=True))
    der = _resign(tbs_parts, outer[1], key, algorithm)
    with warnings.catch_warnings():  # cryptography warns about non-positive serials: that is the point
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return Issued(x509.load_der_x509_certificate(der), issued.key)
