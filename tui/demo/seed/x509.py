"""The one builder of certificates, CRLs and CSRs: for the demo's seed and cert-manager, and for the tests.

The seed uses it to create the site as it looks on start-up, the simulated cert-manager to issue new
revisions at run time, and the test suite (through ``tests/certgen.py``, which adds test defaults) to make
every shape the dashboard must read: RSA, EC, Ed25519 and Ed448 keys, v1 certificates, SHA-1 and RSA-PSS
signatures, any validity, UTF-8 names, chains, CRLs with or without entries and nextUpdate, and zero or
negative serials (:mod:`tui.demo.seed.der` writes the shapes ``cryptography`` refuses to).

Signatures are deterministic (RSA PKCS#1 v1.5, RFC 6979 ECDSA, EdDSA) so a given key, subject, validity
and extension order always produce the same bytes, hence the same thumbprint. RSA-PSS is the exception:
its salt is random.
"""

from __future__ import annotations

import functools
import ipaddress
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tui.demo.seed.der import PrivateKey, as_v1, replace_serial, with_sha1, without_next_update

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""Key types cert-manager (and so the demo) creates."""

SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH

ExtensionOrder = tuple[type[x509.ExtensionType], ...]

KEY_IDS_FIRST: ExtensionOrder = (
    x509.SubjectKeyIdentifier,
    x509.CRLNumber,
    x509.AuthorityKeyIdentifier,
    x509.BasicConstraints,
    x509.KeyUsage,
    x509.ExtendedKeyUsage,
    x509.SubjectAlternativeName,
)
"""The demo's extension order (the default)."""

CONSTRAINTS_FIRST: ExtensionOrder = (
    x509.BasicConstraints,
    x509.KeyUsage,
    x509.SubjectKeyIdentifier,
    x509.AuthorityKeyIdentifier,
    x509.CRLNumber,
    x509.ExtendedKeyUsage,
    x509.SubjectAlternativeName,
)
"""The tests' extension order. DER keeps extensions in the order written, so the order is part of a
certificate's bytes and thumbprint; the demo's screenshots and the tests' snapshots show thumbprints,
and each keeps the order its certificates were first made in."""


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
        """The private key as unencrypted PKCS#8 PEM (``BEGIN PRIVATE KEY``)."""
        return self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )

    @property
    def tls_key_pem(self) -> bytes:
        """The private key as cert-manager writes ``tls.key`` (see :func:`private_key_pem`)."""
        return private_key_pem(self.key)

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
    """A CRL and its DER encoding."""

    crl: x509.CertificateRevocationList
    der: bytes

    @property
    def pem(self) -> bytes:
        """The CRL as one PEM block."""
        return self.crl.public_bytes(serialization.Encoding.PEM)


def private_key_pem(key: PrivateKey) -> bytes:
    """Unencrypted PEM of ``key`` as cert-manager writes ``tls.key``: PKCS#1 for RSA, SEC1 for EC
    (its default encoding); Edwards keys have no such form and are written as PKCS#8."""
    traditional = isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL if traditional else serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@functools.lru_cache(maxsize=64)
def load_private_key(pem: bytes) -> SigningKey:
    """Load a PEM private key the demo wrote; ValueError for any other key type.

    Memoised by the PEM's bytes: the cert-manager simulator reloads its issuers' keys on every pass (any
    Secret write starts one), and parsing checks an RSA key's primes, about 0.1 s a key. Key objects are
    immutable, so a shared one signs the same; unreadable input raises every time (errors are not kept).
    """
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def name(
    common_name: str | None = None,
    *,
    organization: str | None = None,
    unit: str | None = None,
    locality: str | None = None,
    country: str | None = None,
    domain_component: str | None = None,
    extra: Sequence[tuple[x509.ObjectIdentifier, str]] = (),
) -> x509.Name:
    """An X.509 name from the parts given, most general first (C, L, O, OU, DC, extra..., CN), as
    openssl writes them."""
    parts: list[x509.NameAttribute] = []
    for oid, value in (
        (NameOID.COUNTRY_NAME, country),
        (NameOID.LOCALITY_NAME, locality),
        (NameOID.ORGANIZATION_NAME, organization),
        (NameOID.ORGANIZATIONAL_UNIT_NAME, unit),
        (NameOID.DOMAIN_COMPONENT, domain_component),
    ):
        if value:
            parts.append(x509.NameAttribute(oid, value))
    parts.extend(x509.NameAttribute(oid, value) for oid, value in extra)
    if common_name is not None:
        parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def hash_for(key: PrivateKey) -> hashes.HashAlgorithm | None:
    """The digest signatures by ``key`` use by default: SHA-384 for P-384 and larger curves, none for
    Edwards keys (EdDSA hashes internally), else SHA-256."""
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _digest(key: PrivateKey, requested: hashes.HashAlgorithm | None) -> hashes.HashAlgorithm | None:
    # Edwards keys take no separate digest, whatever was asked for.
    if isinstance(key, ed25519.Ed25519PrivateKey | ed448.Ed448PrivateKey):
        return None
    return requested or hash_for(key)


def _ordered(
    extensions: Iterable[tuple[x509.ExtensionType, bool]], order: ExtensionOrder
) -> list[tuple[x509.ExtensionType, bool]]:
    # Types missing from ``order`` go last, in the order given.
    return sorted(
        extensions, key=lambda item: order.index(type(item[0])) if type(item[0]) in order else len(order)
    )


def _key_ids(key: PrivateKey, signer_key: PrivateKey) -> list[tuple[x509.ExtensionType, bool]]:
    return [
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()), False),
    ]


def _certificate(
    subject: x509.Name,
    key: PrivateKey,
    *,
    signer: Issued | None,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    extensions: list[tuple[x509.ExtensionType, bool]],
    order: ExtensionOrder,
    hash_algorithm: hashes.HashAlgorithm | None,
    version: int,
    pss: bool,
) -> Issued:
    signer_key = signer.key if signer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(signer.subject if signer else subject)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if version == 3:
        for extension, critical in _ordered(extensions + _key_ids(key, signer_key), order):
            builder = builder.add_extension(extension, critical=critical)
    algorithm = _digest(signer_key, hash_algorithm)
    # cryptography refuses to sign certificates with SHA-1; old devices still carry them, so such
    # certificates are built with SHA-256 and signed again below.
    sha1 = isinstance(algorithm, hashes.SHA1)
    first_algorithm = hashes.SHA256() if sha1 else algorithm
    deterministic = True if isinstance(signer_key, ec.EllipticCurvePrivateKey) else None
    rsa_padding = None
    if pss and isinstance(signer_key, rsa.RSAPrivateKey) and first_algorithm is not None:
        rsa_padding = padding.PSS(mgf=padding.MGF1(first_algorithm), salt_length=padding.PSS.DIGEST_LENGTH)
    cert = builder.sign(
        signer_key,
        first_algorithm,  # type: ignore[arg-type]
        ecdsa_deterministic=deterministic,
        rsa_padding=rsa_padding,
    )
    if sha1:
        cert = with_sha1(cert, signer_key)
    if version == 1:
        cert = as_v1(cert, signer_key, algorithm)
    return Issued(cert, key)


def build_ca(
    subject: x509.Name,
    key: PrivateKey,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signer: Issued | None = None,
    path_length: int | None = None,
    key_usage: x509.KeyUsage | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    version: int = 3,
    pss: bool = False,
    order: ExtensionOrder = KEY_IDS_FIRST,
) -> Issued:
    """A CA certificate, self-signed when ``signer`` is None.

    The key usage defaults to certSign and cRLSign, plus digitalSignature for an intermediate (it also
    signs OCSP and CRL responses). ``version=1`` writes no extensions; ``hash_algorithm`` defaults to
    :func:`hash_for` the signer's key, and SHA-1 is allowed; ``pss`` signs with RSASSA-PSS when the
    signer's key is RSA.
    """
    usage = key_usage or x509.KeyUsage(
        digital_signature=signer is not None,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (usage, True),
    ]
    return _certificate(
        subject,
        key,
        signer=signer,
        serial=serial,
        not_before=not_before,
        not_after=not_after,
        extensions=extensions,
        order=order,
        hash_algorithm=hash_algorithm,
        version=version,
        pss=pss,
    )


def build_leaf(
    subject: x509.Name,
    key: PrivateKey,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signer: Issued | None = None,
    dns_names: Sequence[str] = (),
    uris: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    emails: Sequence[str] = (),
    extended_key_usage: Sequence[x509.ObjectIdentifier] = (SERVER_AUTH,),
    opcua: bool = False,
    key_usage: x509.KeyUsage | None = None,
    hash_algorithm: hashes.HashAlgorithm | None = None,
    version: int = 3,
    pss: bool = False,
    order: ExtensionOrder = KEY_IDS_FIRST,
) -> Issued:
    """An end-entity certificate; self-signed when ``signer`` is None (like an OPC UA app certificate).

    The key usage defaults to what the key type allows; ``opcua=True`` gives the usages OPC UA Part 6
    asks of application instance certificates (self-signed ones also carry keyCertSign because they are
    their own issuer). No extended key usage is written when ``extended_key_usage`` is empty. The other
    options are :func:`build_ca`'s.
    """
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    usage = key_usage or x509.KeyUsage(
        digital_signature=True,
        content_commitment=opcua,
        key_encipherment=is_rsa,
        data_encipherment=opcua and is_rsa,
        key_agreement=not is_rsa,
        key_cert_sign=opcua and signer is None,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage, True),
    ]
    if extended_key_usage:
        extensions.append((x509.ExtendedKeyUsage(list(extended_key_usage)), False))
    alt: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    alt += [x509.DNSName(d) for d in dns_names]
    alt += [x509.IPAddress(ipaddress.ip_address(i)) for i in ip_addresses]
    alt += [x509.RFC822Name(e) for e in emails]
    if alt:
        extensions.append((x509.SubjectAlternativeName(alt), False))
    return _certificate(
        subject,
        key,
        signer=signer,
        serial=serial,
        not_before=not_before,
        not_after=not_after,
        extensions=extensions,
        order=order,
        hash_algorithm=hash_algorithm,
        version=version,
        pss=pss,
    )


def build_crl(
    issuer: Issued,
    *,
    last_update: datetime,
    next_update: datetime | None,
    number: int | None,
    revoked: Sequence[tuple[int, datetime]] = (),
    hash_algorithm: hashes.HashAlgorithm | None = None,
    order: ExtensionOrder = KEY_IDS_FIRST,
) -> IssuedCrl:
    """A CRL signed by ``issuer`` listing ``revoked`` (serial, revocation date) pairs.

    ``next_update=None`` writes a CRL without one (allowed by X.509, rare in practice) and
    ``number=None`` one without a CRL number.
    """
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(last_update)
        # The builder insists on a nextUpdate; a CRL without one has a placeholder cut out below.
        .next_update(next_update or last_update + timedelta(days=1))
    )
    extensions: list[tuple[x509.ExtensionType, bool]] = [
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), False),
    ]
    if number is not None:
        extensions.append((x509.CRLNumber(number), False))
    for extension, critical in _ordered(extensions, order):
        builder = builder.add_extension(extension, critical=critical)
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    algorithm = _digest(issuer.key, hash_algorithm)
    deterministic = True if isinstance(issuer.key, ec.EllipticCurvePrivateKey) else None
    crl = builder.sign(issuer.key, algorithm, ecdsa_deterministic=deterministic)  # type: ignore[arg-type]
    der = crl.public_bytes(serialization.Encoding.DER)
    if next_update is None:
        der = without_next_update(der, issuer.key, algorithm)
        crl = x509.load_der_x509_crl(der)
    return IssuedCrl(crl, der)


def build_csr(issued: Issued) -> bytes:
    """A PEM CSR for ``issued`` (subject and SANs), as a CertificateRequest carries in ``spec.request``."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(issued.subject)
    try:
        san = issued.cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=False)
    except x509.ExtensionNotFound:
        pass
    deterministic = True if isinstance(issued.key, ec.EllipticCurvePrivateKey) else None
    csr = builder.sign(
        issued.key,
        _digest(issued.key, None),  # type: ignore[arg-type]
        ecdsa_deterministic=deterministic,
    )
    return csr.public_bytes(serialization.Encoding.PEM)


def with_serial(issued: Issued, serial: int, signer: Issued | None = None) -> Issued:
    """``issued`` signed again (by ``signer``, default itself) with any serial, zero or negative included.

    Old devices carry such serials; cryptography's builder refuses them (RFC 5280 asks for positive).
    """
    key = (signer or issued).key
    der = replace_serial(issued.der, serial, key, _digest(key, issued.cert.signature_hash_algorithm))
    with warnings.catch_warnings():  # cryptography warns about non-positive serials: that is the point
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return Issued(x509.load_der_x509_certificate(der), issued.key)


def bundle(*items: Issued | IssuedCrl | bytes) -> bytes:
    """PEM bytes of several certificates and CRLs (raw bytes are appended as they are)."""
    return b"".join(item if isinstance(item, bytes) else item.pem for item in items)
