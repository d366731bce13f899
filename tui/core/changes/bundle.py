"""Splitting a multi-certificate PEM bundle into one list entry per certificate (issue 13 item 26).

A list file holds exactly one certificate or CRL (docs/domain.md §7.2), so a ``.pem`` bundle (a CA chain,
a vendor's set of device certificates) is refused as it is. :func:`split_bundle` proposes one ``.crt``
entry per certificate instead, each holding that certificate alone as PEM, named after its subject's
common name; every part is then checked like any other upload.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from tui.core.certs.decode import decode_bytes
from tui.core.certs.model import CertError, CertificateInfo

_NOT_NAME = re.compile(r"[^a-z0-9]+")
MAX_PARTS = 100
"""More certificates than this are not offered for splitting (no list wants that many at once)."""


@dataclass(frozen=True)
class BundlePart:
    """One certificate of a bundle, as the file it would become."""

    file_name: str
    """The proposed target key (``<common-name>.crt``)."""
    data: bytes = field(repr=False)
    """The certificate alone, PEM."""
    certificate: CertificateInfo


def _slug(text: str) -> str:
    return _NOT_NAME.sub("-", text.lower()).strip("-")[:60].strip("-")


def _common_name(subject: str) -> str:
    for part in subject.split(","):
        key, _sep, value = part.strip().partition("=")
        if key.upper() == "CN" and value:
            return value
    return ""


def split_bundle(data: bytes, file_name: str) -> tuple[BundlePart, ...]:
    """One part per certificate when ``data`` is PEM holding two or more certificates and nothing else
    (no CRL, no private key); an empty tuple otherwise (nothing to split, or it must not be split)."""
    try:
        decoded = decode_bytes(data, file_name)
    except CertError:
        return ()
    certs = decoded.certificates
    if (
        decoded.form != "pem"
        or decoded.private_key_present
        or decoded.crls
        or not 2 <= len(certs) <= MAX_PARTS
    ):
        return ()
    stem = _slug(PurePosixPath(file_name).stem) or "bundle"
    taken: set[str] = set()
    parts = []
    for number, cert in enumerate(certs, start=1):
        base = _slug(_common_name(cert.subject)) or f"{stem}-{number}"
        name, extra = base, 2
        while name in taken:
            name, extra = f"{base}-{extra}", extra + 1
        taken.add(name)
        parts.append(BundlePart(f"{name}.crt", cert.pem.encode("ascii"), cert))
    return tuple(parts)
