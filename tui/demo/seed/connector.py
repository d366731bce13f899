"""The OPC UA connector's own application instance certificate, as a default AIO deployment has it.

cert-manager issues it self-signed into the Secret ``aio-opc-opcuabroker-default-application-cert`` and
renews it (docs/domain.md §2.6). The names of its Certificate and Issuer are UNCONFIRMED: the Certificate
is named after the Secret and the Issuer is a namespaced selfSigned one. Its identity is the connector's
default ``securityPki`` (common name ``aio-opc-opcuabroker``, SAN URI
``urn:microsoft.com:aio:opc:ua:broker``); its lifetime is cert-manager's default (90 days, renewed a
third before the end) and it was issued :data:`ISSUED_AGO` before the demo starts, so the demo shows
its renewal coming (a new certificate every OPC UA server must be given again).
"""

from __future__ import annotations

from datetime import timedelta

from tui.core.durations import format_duration
from tui.core.model.connector import (
    DEFAULT_APPLICATION_CERT_SECRET,
    DEFAULT_APPLICATION_URI,
    DEFAULT_SUBJECT_NAME,
)
from tui.demo.seed.aio import (
    certificate,
    certificate_request,
    issued_secret,
    issued_status,
    issuer,
    issuer_ref,
    issuer_spec,
)
from tui.demo.seed.keys import rsa_key
from tui.demo.seed.trust import SeedContext
from tui.demo.seed.x509 import CLIENT_AUTH, SERVER_AUTH, build_leaf, name

CONNECTOR_ISSUER = "aio-opc-opcuabroker-selfsigned"
"""The namespaced selfSigned Issuer of the connector's certificate (name UNCONFIRMED)."""

DURATION = timedelta(days=90)
RENEW_BEFORE = timedelta(days=30)
ISSUED_AGO = timedelta(days=57)
"""Three days before cert-manager's renewal: inside the warning the dashboard gives ahead of it."""


def seed_connector(ctx: SeedContext) -> None:
    """The Issuer, the Certificate, its issued Secret (``tls.crt``, ``tls.key``) and its request."""
    ns = ctx.names.namespace
    issued_at = ctx.start - ISSUED_AGO
    ctx.add(issuer(CONNECTOR_ISSUER, ns, issuer_spec(), issued_at))
    cert = ctx.add(
        certificate(
            DEFAULT_APPLICATION_CERT_SECRET,
            ns,
            secret_name=DEFAULT_APPLICATION_CERT_SECRET,
            issuer=issuer_ref(CONNECTOR_ISSUER, "Issuer"),
            common_name=DEFAULT_SUBJECT_NAME,
            duration=format_duration(DURATION),
            renew_before=format_duration(RENEW_BEFORE),
            private_key={"algorithm": "RSA", "encoding": "PKCS1", "size": 2048, "rotationPolicy": "Always"},
            usages=["digital signature", "key encipherment", "client auth", "server auth"],
        )
    )
    cert["spec"]["uris"] = [DEFAULT_APPLICATION_URI]
    app = build_leaf(
        name(DEFAULT_SUBJECT_NAME),
        rsa_key(ctx.seed, "opcua-connector-application"),
        serial=ctx.serial(),
        not_before=issued_at,
        not_after=issued_at + DURATION,
        uris=[DEFAULT_APPLICATION_URI],
        extended_key_usage=(SERVER_AUTH, CLIENT_AUTH),
        opcua=True,
    )
    cert["status"] = issued_status(app, 1, RENEW_BEFORE, issued_at)
    ctx.add(issued_secret(cert, app, app.pem))
    ctx.add(certificate_request(cert, app, app.pem, 1, issued_at, ctx.suffix()))
