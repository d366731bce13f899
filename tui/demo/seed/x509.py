"""Building the demo's certificates and CRLs with ``cryptography``.

Used twice: by the seed, to create the site as it looks on start-up, and by the simulated cert-manager,
to issue new revisions at run time. Signatures are deterministic (RSA PKCS#1 v1.5, RFC 6979 ECDSA) so a
given key, subject and validity always produce the same bytes, hence the same thumbprint.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from ipaddress import ip_address

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SigningKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
"""Key types the demo creates and signs with."""


@dataclass(frozen=True)
class Issued:
    """A certificate together with its private key."""

    certificate: x509.Certificate
    key: SigningKey

    @property
    def pem(self) -> bytes:
        """The certificate, PEM encoded."""
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        """The certificate, DER encoded."""
        return self.certificate.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        """The private key as cert-manager writes ``tls.key`` (PKCS#1 for RSA, SEC1 for EC)."""
        return private_key_pem(self.key)


def private_key_pem(key: SigningKey) -> bytes:
    """PEM of ``key`` in the traditional (PKCS#1 / SEC1) encoding, unencrypted, for ``tls.key``."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def load_private_key(pem: bytes) -> SigningKey:
    """Load a PEM private key the demo wrote; ValueError for any other key type."""
    key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise ValueError(f"unsupported private key type {type(key).__name__}")
    return key


def name(
    common_name: str,
    *,
    organization: str | None = None,
    unit: str | None = None,
    locality: str | None = None,
    country: str | None = None,
    domain_component: str | None = None,
) -> x509.Name:
    """An X.509 distinguished name from the usual parts (only those given)."""
    parts: list[x509.NameAttribute] = []
    if country:
        parts.append(x509.NameAttribute(NameOID.COUNTRY_NAME, country))
    if locality:
        parts.append(x509.NameAttribute(NameOID.LOCALITY_NAME, locality))
    if organization:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if unit:
        parts.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if domain_component:
        parts.append(x509.NameAttribute(NameOID.DOMAIN_COMPONENT, domain_component))
    parts.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(parts)


def hash_for(key: SigningKey) -> hashes.HashAlgorithm:
    """The digest used with ``key``: SHA-384 for P-384 and larger curves, else SHA-256."""
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _sign(builder: x509.CertificateBuilder, key: SigningKey) -> x509.Certificate:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        return builder.sign(key, hash_for(key), ecdsa_deterministic=True)
    return builder.sign(key, hash_for(key))


def _base(
    subject: x509.Name,
    key: SigningKey,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signer: Issued | None,
) -> x509.CertificateBuilder:
    issuer_name = signer.certificate.subject if signer else subject
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    authority = signer.key.public_key() if signer else key.public_key()
    return builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(authority), critical=False
    )


def build_ca(
    subject: x509.Name,
    key: SigningKey,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signer: Issued | None = None,
    path_length: int | None = None,
) -> Issued:
    """A CA certificate (self-signed when ``signer`` is None) with certSign and cRLSign key usage."""
    builder = _base(subject, key, serial, not_before, not_after, signer)
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=signer is not None,  # intermediates also sign OCSP/CRL responses
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    return Issued(_sign(builder, signer.key if signer else key), key)


def build_leaf(
    subject: x509.Name,
    key: SigningKey,
    *,
    serial: int,
    not_before: datetime,
    not_after: datetime,
    signer: Issued | None = None,
    dns_names: Sequence[str] = (),
    uris: Sequence[str] = (),
    ip_addresses: Sequence[str] = (),
    server_auth: bool = True,
    client_auth: bool = False,
    opcua: bool = False,
) -> Issued:
    """An end-entity certificate; self-signed when ``signer`` is None.

    ``opcua=True`` gives the key usages OPC UA Part 6 asks of application instance certificates
    (self-signed ones also carry keyCertSign because they are their own issuer).
    """
    builder = _base(subject, key, serial, not_before, not_after, signer)
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    is_rsa = isinstance(key, rsa.RSAPrivateKey)
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=opcua,
            key_encipherment=is_rsa,
            data_encipherment=opcua and is_rsa,
            key_agreement=not is_rsa,
            key_cert_sign=opcua and signer is None,
            crl_sign=False,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    usages = []
    if server_auth:
        usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
    if client_auth:
        usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
    if usages:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    alt: list[x509.GeneralName] = [x509.UniformResourceIdentifier(u) for u in uris]
    alt += [x509.DNSName(d) for d in dns_names]
    alt += [x509.IPAddress(ip_address(i)) for i in ip_addresses]
    if alt:
        builder = builder.add_extension(x509.SubjectAlternativeName(alt), critical=False)
    return Issued(_sign(builder, signer.key if signer else key), key)


def build_crl(
    issuer: Issued,
    *,
    last_update: datetime,
    next_update: datetime,
    number: int,
    revoked: Sequence[tuple[int, datetime]] = (),
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer`` listing ``revoked`` (serial, revocation date) pairs."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.certificate.subject)
        .last_update(last_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    )
    for serial, when in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(when).build()
        )
    if isinstance(issuer.key, ec.EllipticCurvePrivateKey):
        return builder.sign(issuer.key, hash_for(issuer.key), ecdsa_deterministic=True)
    return builder.sign(issuer.key, hash_for(issuer.key))


def build_csr(issued: Issued) -> bytes:
    """A PEM CSR for ``issued`` (subject and SANs), as a CertificateRequest carries in ``spec.request``."""
    builder = x509.CertificateSigningRequestBuilder().subject_name(issued.certificate.subject)
    try:
        san = issued.certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        builder = builder.add_extension(san.value, critical=False)
    except x509.ExtensionNotFound:
        pass
    if isinstance(issued.key, ec.EllipticCurvePrivateKey):
        csr = builder.sign(issued.key, hash_for(issued.key), ecdsa_deterministic=True)
    else:
        csr = builder.sign(issued.key, hash_for(issued.key))
    return csr.public_bytes(serialization.Encoding.PEM)
