"""The certificate core's public face: import everything certificate-related from here.

- :func:`decode_bytes` / :func:`decode_file` turn PEM, DER or Key Vault hex into a :class:`Decoded`
  (or raise :class:`CertError` with a one-line reason);
- :class:`CertificateInfo` / :class:`CrlInfo` are the frozen results, with ``to_json`` for ``--json``;
- the judgements (:func:`days_left`, :func:`is_expired`, ...) take ``now`` from an injected clock.

The pieces live in ``cert_model`` (types), ``decode`` (forms), ``x509_fields`` (field extraction in
openssl's spelling) and ``cert_checks`` (judgements); this module only gathers them.
"""

from __future__ import annotations

from tui.core.certs.checks import (
    cert_signed_by,
    crl_is_stale,
    crl_signed_by,
    days_left,
    is_expired,
    is_not_yet_valid,
    is_revoked,
)
from tui.core.certs.decode import MAX_BYTES, decode_bytes, decode_file
from tui.core.certs.model import CertError, CertificateInfo, CrlInfo, Decoded, Form, iso_utc, serial_hex
from tui.core.text import printable

__all__ = [
    "MAX_BYTES",
    "CertError",
    "CertificateInfo",
    "CrlInfo",
    "Decoded",
    "Form",
    "cert_signed_by",
    "crl_is_stale",
    "crl_signed_by",
    "days_left",
    "decode_bytes",
    "decode_file",
    "is_expired",
    "is_not_yet_valid",
    "is_revoked",
    "iso_utc",
    "printable",
    "serial_hex",
]
