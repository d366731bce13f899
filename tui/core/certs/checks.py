"""Pure judgements on decoded certificates and CRLs.

Time always comes in as ``now`` (from a :class:`tui.core.clock.Clock`), never from the wall clock, so
every verdict is reproducible in tests and screenshots. Signature checks re-read the kept DER. Only the
issuers' public keys are cached (a few CAs sign thousands of entries); the certificate or CRL checked is
parsed again each time, because callers remember verdicts themselves (``DecodeCache.verified``) and a
cache of parsed children only kept hundreds of ``cryptography`` objects alive for nothing.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes

from tui.core.certs.model import CertificateInfo, CrlInfo
from tui.core.certs.signatures import signature_verifies
from tui.core.durations import days_left as whole_days_left


@lru_cache(maxsize=64)
def _issuer_key(der: bytes) -> CertificatePublicKeyTypes:
    return x509.load_der_x509_certificate(der).public_key()


def days_left(cert: CertificateInfo, now: datetime) -> int:
    """Whole days until ``not_after``, rounded down; negative once expired (-1 on the first day).

    See :func:`tui.core.durations.days_left`, the one rule every view uses.
    """
    return whole_days_left(cert.not_after, now)


def crl_days_left(crl: CrlInfo, now: datetime) -> int | None:
    """Whole days until the CRL's ``next_update`` (same rule as :func:`days_left`); None without one."""
    return whole_days_left(crl.next_update, now) if crl.next_update is not None else None


def is_expired(cert: CertificateInfo, now: datetime) -> bool:
    """True once ``now`` is past ``not_after`` (the last second is still valid, per RFC 5280)."""
    return now > cert.not_after


def is_not_yet_valid(cert: CertificateInfo, now: datetime) -> bool:
    """True while ``now`` is before ``not_before``."""
    return now < cert.not_before


def crl_is_stale(crl: CrlInfo, now: datetime) -> bool:
    """True when the CRL's ``next_update`` has passed; a CRL without one never goes stale."""
    return crl.next_update is not None and now > crl.next_update


def cert_signed_by(child: CertificateInfo, issuer_cert: CertificateInfo) -> bool:
    """True when ``issuer_cert`` names and signed ``child`` (its key verifies child's signature)."""
    if child.issuer != issuer_cert.subject:
        return False
    try:
        key = _issuer_key(issuer_cert.der)
        return signature_verifies(key, x509.load_der_x509_certificate(child.der))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def crl_signed_by(crl: CrlInfo, ca_cert: CertificateInfo) -> bool:
    """True when ``ca_cert`` is the CRL's issuer by name and its key verifies the CRL signature."""
    if crl.issuer != ca_cert.subject:
        return False
    try:
        key = _issuer_key(ca_cert.der)
        return signature_verifies(key, x509.load_der_x509_crl(crl.der))
    except (ValueError, TypeError, UnsupportedAlgorithm):
        return False


def is_revoked(cert: CertificateInfo, crl: CrlInfo) -> bool:
    """True when ``crl`` comes from ``cert``'s issuer and lists its serial.

    Serials are only unique per issuer, so a CRL from another CA never revokes ``cert``. The CRL's
    own signature is not checked here; use :func:`crl_signed_by` for that.
    """
    return crl.issuer == cert.issuer and cert.serial_number in crl.revoked_serials
