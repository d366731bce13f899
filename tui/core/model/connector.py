"""The OPC UA connector's own application instance certificate (docs/domain.md §2.6).

The connector presents one certificate to every OPC UA server it opens a session with, and each server
must trust it. By default cert-manager issues it self-signed into the Secret
``aio-opc-opcuabroker-default-application-cert`` and renews it on its own, so every renewal is a new
certificate each server has to be given again; a certificate of one's own comes through the
client-certificate SecretSync ``aio-opc-ua-broker-client-certificate`` (a ``.der`` public key and a
``.pem`` private key) and is renewed by nobody.

Only the public certificate is ever read: the ``tls.key`` of the default Secret and the ``.pem`` of the
client-certificate Secret are never decoded, kept, shown or written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from tui.core.certs.model import CertificateInfo, iso_utc

DEFAULT_APPLICATION_CERT_SECRET = "aio-opc-opcuabroker-default-application-cert"
"""The Secret cert-manager writes the connector's self-signed certificate to (AIO docs)."""

DEFAULT_SUBJECT_NAME = "aio-opc-opcuabroker"
"""The connector's default ``securityPki.subjectName`` (the certificate's common name)."""

DEFAULT_APPLICATION_URI = "urn:microsoft.com:aio:opc:ua:broker"
"""The connector's default ``securityPki.applicationUri`` (the certificate's SAN URI)."""

CLIENT_CERT_PUBLIC_EXTENSION = ".der"
"""The client-certificate Secret's public certificate key ends so (the official CLI requires .der)."""


class ConnectorCertSource(StrEnum):
    """Where the connector's certificate comes from."""

    CERT_MANAGER = "cert-manager"
    """The default: self-signed, issued and renewed by cert-manager."""
    OWN = "own"
    """A certificate of one's own, synced from Key Vault by the client-certificate SecretSync."""


@dataclass(frozen=True)
class ConnectorCertView:
    """The connector's application instance certificate as the site holds it; no judgement but days."""

    source: ConnectorCertSource
    namespace: str
    secret_name: str
    """The Secret that holds it: the default one, or the client-certificate SecretSync's."""
    key: str | None
    """The Secret's data key of the public certificate (``tls.crt``, ``<name>.der``); None when none."""
    present: bool
    """The Secret exists."""
    certificate: CertificateInfo | None
    decode_error: str | None
    """Why the public certificate could not be read (missing key, not a certificate)."""
    issuing_certificate: str | None = None
    """``namespace/name`` of the cert-manager Certificate whose ``spec.secretName`` is the Secret."""
    renewal_time: datetime | None = None
    """cert-manager's ``status.renewalTime``: when it renews (a new certificate) next."""
    certificate_ready: bool | None = None
    """That Certificate's Ready condition; None without one."""
    days_left: int | None = None
    """Whole days until notAfter, rounded down (:func:`tui.core.durations.days_left`, the one rule)."""
    days_to_renewal: int | None = None
    """Whole days until :attr:`renewal_time`, by the same rule."""

    @property
    def subject(self) -> str | None:
        """The certificate's subject."""
        return self.certificate.subject if self.certificate is not None else None

    @property
    def application_uri(self) -> str | None:
        """The SAN URI the connector declares as its application URI."""
        return self.certificate.application_uri if self.certificate is not None else None

    @property
    def not_after(self) -> datetime | None:
        """The certificate's expiry."""
        return self.certificate.not_after if self.certificate is not None else None

    @property
    def renews_automatically(self) -> bool:
        """cert-manager renews it (and so replaces it with a new certificate)."""
        return self.source is ConnectorCertSource.CERT_MANAGER and self.issuing_certificate is not None

    @property
    def where(self) -> str:
        """``Secret ns/name key tls.crt``: where the public certificate was read."""
        tail = f" key {self.key}" if self.key else ""
        return f"Secret {self.namespace}/{self.secret_name}{tail}"

    def public_der(self) -> bytes | None:
        """The public certificate as DER (what OPC UA servers import); None when not read."""
        return self.certificate.der if self.certificate is not None else None

    def to_json(self) -> dict[str, Any]:
        """JSON object (``status --json`` ``connector_certificate``); never any key material."""
        cert = self.certificate
        return {
            "source": str(self.source),
            "namespace": self.namespace,
            "secret": self.secret_name,
            "key": self.key,
            "present": self.present,
            "subject": cert.subject if cert is not None else None,
            "application_uri": cert.application_uri if cert is not None else None,
            "issuer": cert.issuer if cert is not None else None,
            "self_signed": cert.self_signed if cert is not None else None,
            "not_before": iso_utc(cert.not_before) if cert is not None else None,
            "not_after": iso_utc(cert.not_after) if cert is not None else None,
            "days_left": self.days_left,
            "sha1": cert.sha1 if cert is not None else None,
            "sha256": cert.sha256 if cert is not None else None,
            "issuing_certificate": self.issuing_certificate,
            "certificate_ready": self.certificate_ready,
            "renews_automatically": self.renews_automatically,
            "renewal_time": iso_utc(self.renewal_time) if self.renewal_time is not None else None,
            "days_to_renewal": self.days_to_renewal,
            "decode_error": self.decode_error,
        }
