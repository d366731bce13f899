"""Build the OPC UA connector's own certificate view and judge it (docs/domain.md §2.6).

Which certificate the connector presents: a certificate of one's own when the client-certificate
SecretSync (or the Secret it writes) exists, else the self-signed one cert-manager keeps in the default
Secret. Only the public certificate is decoded: the default Secret's ``tls.key`` and the client
certificate's ``.pem`` (its private key) are never read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from tui.core.build.cache import DecodeCache, decode_value
from tui.core.build.readers import b64_bytes, field_of, spec_of
from tui.core.durations import days_left, screen_time
from tui.core.model import resources as rk
from tui.core.model.connector import (
    CLIENT_CERT_PUBLIC_EXTENSION,
    DEFAULT_APPLICATION_CERT_SECRET,
    ConnectorCertSource,
    ConnectorCertView,
)
from tui.core.model.names import CLIENT_CERT_SYNC, SECRET_TLS_CRT
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot
from tui.core.model.state import CertificateView, Finding, Severity

SUBJECT = "connector-cert"
"""The findings' subject: the connector's certificate is one thing per site."""

EXPORT_HINT = "aio-certs connector-cert --out FILE"
"""How to get the public certificate to give an OPC UA server."""


def _public_key(secret: object, sync: object) -> str | None:
    """The client-certificate Secret's key holding the public certificate: the ``.der`` target key the
    SecretSync maps (the official CLI requires the public key file to be ``.der``), else the Secret's."""
    mapped = [str(item.get("targetKey") or "") for item in _items(sync)]
    keys = mapped + sorted(field_of(secret, "data"))
    return next((k for k in keys if k.lower().endswith(CLIENT_CERT_PUBLIC_EXTENSION)), None)


def _items(sync: object) -> list[dict[str, object]]:
    data = field_of(spec_of(sync), "secretObject").get("data")  # type: ignore[arg-type]
    return [i for i in data if isinstance(i, dict)] if isinstance(data, list) else []


def build_connector_certificate(
    raw: RawSnapshot,
    namespace: str,
    certificates: Sequence[CertificateView],
    now: datetime,
    cache: DecodeCache,
) -> ConnectorCertView | None:
    """The connector's certificate; None when the Secrets could not be read, or what would say where it
    is has not been listed yet (unknown, not absent)."""
    if raw.state_of(rk.SECRETS.key).state is not AreaState.OK:
        return None
    sync = raw.get(rk.SECRET_SYNCS.key, namespace, CLIENT_CERT_SYNC)
    own = raw.get(rk.SECRETS.key, namespace, CLIENT_CERT_SYNC)
    if sync is None and own is None and raw.pending(rk.SECRET_SYNCS.key, namespace):
        return None  # whether the connector brings its own certificate is not known yet
    if sync is not None or own is not None:
        source, secret_name, secret = ConnectorCertSource.OWN, CLIENT_CERT_SYNC, own
        key = _public_key(own, sync)
    else:
        source, secret_name = ConnectorCertSource.CERT_MANAGER, DEFAULT_APPLICATION_CERT_SECRET
        secret, key = raw.get(rk.SECRETS.key, namespace, secret_name), SECRET_TLS_CRT
    issuing = next(
        (c for c in certificates if c.namespace == namespace and c.secret_name == secret_name),
        None,
    )
    if secret is None and issuing is None and raw.pending(rk.CERTIFICATES.key, namespace):
        return None  # whether a Certificate will write it is not known yet
    certificate, error = None, None
    if secret is not None:
        # Only this one key is decoded: never tls.key, never the client certificate's .pem.
        data = b64_bytes(field_of(secret, "data").get(key)) if key is not None else None
        if data is None:
            error = f"the Secret has no {key or 'public certificate (.der) key'}"
        else:
            value = decode_value(cache, data, f"{namespace}/{secret_name} {key}")
            certificate = value.certificates[0] if value.certificates else None
            if certificate is None:
                error = value.error or f"{key} holds no certificate"
    renewal = (
        issuing.renewal_time if issuing is not None and source is ConnectorCertSource.CERT_MANAGER else None
    )
    return ConnectorCertView(
        source=source,
        namespace=namespace,
        secret_name=secret_name,
        key=key,
        present=secret is not None,
        certificate=certificate,
        decode_error=error,
        issuing_certificate=issuing.key if issuing is not None else None,
        renewal_time=renewal,
        certificate_ready=issuing.is_ready if issuing is not None and issuing.ready is not None else None,
        days_left=days_left(certificate.not_after, now) if certificate is not None else None,
        days_to_renewal=days_left(renewal, now) if renewal is not None else None,
    )


def connector_findings(
    view: ConnectorCertView | None, settings: ModelSettings, now: datetime
) -> list[Finding]:
    """Judge the connector's certificate: missing or unreadable, expired or expiring, a renewal coming
    (each renewal is a new certificate every OPC UA server must be given), a renewal just made, a
    renewal overdue, and its Certificate not Ready."""
    if view is None:
        return []
    out: list[Finding] = []

    def add(severity: Severity, code: str, message: str, days: int | None = None) -> None:
        out.append(Finding(severity, code, f"connector certificate: {message}", SUBJECT, days))

    own = view.source is ConnectorCertSource.OWN
    if not view.present:
        if own:
            add(
                Severity.WARNING,
                "connector-cert-missing",
                f"SecretSync {view.namespace}/{view.secret_name} has not written its Secret yet",
            )
        elif view.issuing_certificate is not None:
            add(
                Severity.WARNING,
                "connector-cert-missing",
                f"{view.where} does not exist yet (Certificate {view.issuing_certificate} has not issued it)",
            )
        # Neither the Secret nor a Certificate for it: no connector deployed here, nothing to judge.
        return out
    cert = view.certificate
    if cert is None or view.days_left is None:
        add(
            Severity.WARNING,
            "connector-cert-unreadable",
            f"{view.where}: {view.decode_error or 'unreadable'}",
        )
        return out
    if view.certificate_ready is False:
        add(
            Severity.WARNING,
            "connector-cert-not-ready",
            f"Certificate {view.issuing_certificate} is not Ready; cert-manager may not renew it",
        )
    days = view.days_left
    expires = screen_time(cert.not_after)  # the one screen form; JSON has ISO
    if days < 0:
        add(
            Severity.CRITICAL,
            "connector-cert-expired",
            f"expired {-days}d ago ({expires}); OPC UA servers refuse the connector's sessions",
            days,
        )
        return out
    renewer = (
        "cert-manager has not renewed it"
        if view.renews_automatically
        else "nothing renews a certificate of your own: issue a new one and add it with "
        "az iot ops connector opcua client add"
    )
    if days <= settings.expiring_critical_days:
        add(Severity.CRITICAL, "connector-cert-expiring", f"expires in {days}d ({expires}); {renewer}", days)
    elif days <= settings.expiring_warn_days:
        add(Severity.WARNING, "connector-cert-expiring", f"expires in {days}d ({expires}); {renewer}", days)
    out += _renewal_findings(view, settings, now)
    return out


def _renewal_findings(view: ConnectorCertView, settings: ModelSettings, now: datetime) -> list[Finding]:
    """cert-manager's renewal ahead (warned from ``expiring_critical_days`` before), overdue, or just
    made (a new certificate the servers do not know yet)."""
    out: list[Finding] = []
    cert = view.certificate
    assert cert is not None
    if view.renewal_time is not None and view.days_to_renewal is not None:
        when = screen_time(view.renewal_time)
        if view.renewal_time <= now:
            out.append(
                Finding(
                    Severity.WARNING,
                    "connector-cert-renewal-overdue",
                    f"connector certificate: cert-manager was due to renew it at {when} and has not",
                    SUBJECT,
                )
            )
        elif view.days_to_renewal <= settings.expiring_critical_days:
            out.append(
                Finding(
                    Severity.WARNING,
                    "connector-cert-renewal-soon",
                    f"connector certificate: cert-manager replaces it in {view.days_to_renewal}d ({when}) "
                    f"with a new certificate; give each OPC UA server the new one then ({EXPORT_HINT})",
                    SUBJECT,
                    view.days_to_renewal,
                )
            )
    age = days_left(now, cert.not_before)  # whole days since issue, by the same rule
    if view.renews_automatically and 0 <= age < settings.expiring_critical_days:
        out.append(
            Finding(
                Severity.INFO,
                "connector-cert-renewed",
                f"connector certificate: issued {age}d ago ({screen_time(cert.not_before)}); OPC UA servers "
                f"reject the connector until each is given this certificate ({EXPORT_HINT})",
                SUBJECT,
            )
        )
    return out
