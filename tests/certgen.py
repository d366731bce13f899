"""Test defaults on top of the one certificate builder, :mod:`tui.demo.seed.x509`.

What this adds for tests: keys named by a string (:func:`make_key`), a fixed start (:data:`EPOCH`),
validity in days, stable serials derived from the inputs, a subject from a common name, the key usages
and extension order the suite's fixtures were made with (the snapshots show their thumbprints), and
SHA-256 wherever a hash is not asked for. Building, signing and the DER surgery for v1 certificates,
SHA-1, zero or negative serials and CRLs without nextUpdate are the package's.

Typical use::

    root = make_ca("Site Root CA")
    sub = make_intermediate(root, "Site Issuing CA")
    leaf = make_leaf(sub, "plc-1", uris=("urn:plc-1",), dns=("plc-1.local",))
    crl = make_crl(sub, revoked=(leaf.serial,))
    bundle(leaf, sub, root)          # PEM bytes, leaf first
    kv_hex(leaf.der)                 # what Key Vault stores for a .der file

EC and Ed25519/Ed448 keys are derived from the seed string and ECDSA signs deterministically, so those
certificates are the same bytes in every run. RSA keys cannot be derived cheaply from a seed, so they are
generated once per process and cached by ``(bits, seed)``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

from tui.demo.seed.x509 import (
    CLIENT_AUTH,
    CONSTRAINTS_FIRST,
    SERVER_AUTH,
    Issued,
    IssuedCrl,
    PrivateKey,
    build_ca,
    build_crl,
    build_leaf,
    bundle,
    name,
    with_serial,
)

__all__ = [
    "CLIENT_AUTH",
    "EPOCH",
    "SERVER_AUTH",
    "Issued",
    "IssuedCrl",
    "KeySpec",
    "PrivateKey",
    "bundle",
    "kv_hex",
    "make_ca",
    "make_crl",
    "make_intermediate",
    "make_key",
    "make_leaf",
    "name",
    "with_serial",
]

EPOCH = datetime(2025, 1, 1, tzinfo=UTC)
"""Default not_before of everything made here; tests place their clock relative to it."""

KeySpec = Literal["rsa", "rsa1024", "rsa3072", "rsa4096", "ec", "ec384", "ec521", "ed25519", "ed448"]

TEST_ORGANIZATION = "aio-certs tests"
"""The organization of every default subject."""

_CURVES: dict[str, ec.EllipticCurve] = {
    "ec": ec.SECP256R1(),
    "ec384": ec.SECP384R1(),
    "ec521": ec.SECP521R1(),
}
_RSA_BITS = {"rsa": 2048, "rsa1024": 1024, "rsa3072": 3072, "rsa4096": 4096}

_CA_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=False,
    key_encipherment=False,
    data_encipherment=False,
    key_agreement=False,
    key_cert_sign=True,
    crl_sign=True,
    encipher_only=False,
    decipher_only=False,
)
_LEAF_USAGE = x509.KeyUsage(
    digital_signature=True,
    content_commitment=True,
    key_encipherment=True,
    data_encipherment=True,
    key_agreement=False,
    key_cert_sign=False,
    crl_sign=False,
    encipher_only=False,
    decipher_only=False,
)


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


def _default_serial(*parts: str) -> int:
    # Positive, 16 bytes, stable for the same inputs (names, dates) and different when they differ:
    # like cert-manager's random serials in size.
    return int.from_bytes(hashlib.sha256("/".join(parts).encode()).digest()[:16], "big") >> 1 | 1


def _resolve_key(key: KeySpec | PrivateKey, seed: str) -> PrivateKey:
    return make_key(key, seed) if isinstance(key, str) else key


def _hash(hash_algorithm: hashes.HashAlgorithm | None) -> hashes.HashAlgorithm:
    # The suite's fixtures sign with SHA-256 whatever the curve (the builder ignores it for Edwards keys).
    return hash_algorithm or hashes.SHA256()


def make_ca(
    cn: str = "Test Root CA",
    *,
    key: KeySpec | PrivateKey = "ec",
    issuer: Issued | None = None,
    not_before: datetime = EPOCH,
    days: float = 3650,
    not_after: datetime | None = None,
    path_length: int | None = None,
    serial: int | None = None,
    subject: x509.Name | None = None,
    version: int = 3,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> Issued:
    """A CA certificate: self-signed root unless ``issuer`` is given. ``version=1`` has no extensions."""
    issuer_cn = issuer.subject.rfc4514_string() if issuer else cn
    default_serial = _default_serial("ca", cn, issuer_cn, not_before.isoformat(), str(days), str(not_after))
    return build_ca(
        subject or name(cn, organization=TEST_ORGANIZATION),
        _resolve_key(key, cn),
        serial=serial or default_serial,
        not_before=not_before,
        not_after=not_after or not_before + timedelta(days=days),
        signer=issuer,
        path_length=path_length,
        key_usage=_CA_USAGE,
        hash_algorithm=_hash(hash_algorithm),
        version=version,
        order=CONSTRAINTS_FIRST,
    )


def make_intermediate(
    parent: Issued, cn: str = "Test Intermediate CA", *, path_length: int | None = 0, **kwargs: object
) -> Issued:
    """A CA certificate signed by ``parent`` (path length 0 by default)."""
    return make_ca(cn, issuer=parent, path_length=path_length, **kwargs)  # type: ignore[arg-type]


def make_leaf(
    issuer: Issued | None,
    cn: str = "leaf",
    *,
    key: KeySpec | PrivateKey = "ec",
    dns: Sequence[str] = (),
    ips: Sequence[str] = (),
    uris: Sequence[str] = (),
    emails: Sequence[str] = (),
    eku: Sequence[x509.ObjectIdentifier] = (SERVER_AUTH, CLIENT_AUTH),
    not_before: datetime = EPOCH,
    days: float = 365,
    not_after: datetime | None = None,
    serial: int | None = None,
    subject: x509.Name | None = None,
    version: int = 3,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    key_usage: x509.KeyUsage | None = None,
    pss: bool = False,
) -> Issued:
    """An end-entity certificate; ``issuer=None`` makes it self-signed (like an OPC UA app cert).

    ``pss=True`` signs with RSASSA-PSS when the signer's key is RSA.
    """
    issuer_cn = issuer.subject.rfc4514_string() if issuer else cn
    default_serial = _default_serial("leaf", cn, issuer_cn, not_before.isoformat(), str(days), str(not_after))
    return build_leaf(
        subject or name(cn, organization=TEST_ORGANIZATION),
        _resolve_key(key, cn),
        serial=serial or default_serial,
        not_before=not_before,
        not_after=not_after or not_before + timedelta(days=days),
        signer=issuer,
        dns_names=dns,
        uris=uris,
        ip_addresses=ips,
        emails=emails,
        extended_key_usage=eku,
        key_usage=key_usage or _LEAF_USAGE,
        hash_algorithm=_hash(hash_algorithm),
        version=version,
        pss=pss,
        order=CONSTRAINTS_FIRST,
    )


def make_crl(
    issuer: Issued,
    revoked: Iterable[int] = (),
    *,
    this_update: datetime = EPOCH,
    next_update: datetime | Literal["default"] | None = "default",
    crl_number: int | None = 1,
    revoked_at: datetime | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
) -> IssuedCrl:
    """A CRL signed by ``issuer`` listing ``revoked`` serials (revoked at ``this_update`` by default).

    ``next_update`` defaults to ``this_update`` + 7 days; ``None`` writes a CRL without one.
    """
    return build_crl(
        issuer,
        last_update=this_update,
        next_update=this_update + timedelta(days=7) if next_update == "default" else next_update,
        number=crl_number,
        revoked=[(serial, revoked_at or this_update) for serial in revoked],
        hash_algorithm=_hash(hash_algorithm),
        order=CONSTRAINTS_FIRST,
    )


def kv_hex(data: bytes) -> bytes:
    """What Key Vault holds for a file uploaded by ``az iot ops``: its bytes as lower-case hex."""
    return data.hex().encode("ascii")
