"""The OPC UA connector's own certificate: which one is in use, what it says, and its findings (issue 12
item 14). Built from raw objects with the real builder on a frozen clock."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from tests import certgen as cg
from tests.rawobjects import Site, certificate, quickstart_site, secret_sync, synced_secret, tls_secret
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.model import resources as rk
from tui.core.model.connector import (
    DEFAULT_APPLICATION_CERT_SECRET,
    DEFAULT_APPLICATION_URI,
    ConnectorCertSource,
)
from tui.core.model.names import CLIENT_CERT_SYNC, QUICKSTART_CA_COMMON_NAME
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState, Finding, Severity

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME)
CERT_NAME = "aio-opc-opcuabroker-default-application-cert"


def app_cert(issued: datetime, days: float = 90) -> cg.Issued:
    return cg.make_leaf(
        None, "aio-opc-opcuabroker", uris=[DEFAULT_APPLICATION_URI], not_before=issued, days=days
    )


def default_site(app: cg.Issued, *, renewal: datetime | None, ready: bool = True) -> Site:
    site = quickstart_site(NOW, ca=ROOT)
    site.add(rk.SECRETS, tls_secret(DEFAULT_APPLICATION_CERT_SECRET, NS, app, certificate_name=CERT_NAME))
    site.add(
        rk.CERTIFICATES,
        certificate(
            CERT_NAME,
            NS,
            secret_name=DEFAULT_APPLICATION_CERT_SECRET,
            issuer_name="aio-opc-opcuabroker-selfsigned",
            issuer_kind="Issuer",
            not_before=app.cert.not_valid_before_utc,
            not_after=app.cert.not_valid_after_utc,
            renewal_time=renewal,
            ready=ready,
        ),
    )
    return site


def state_of(site: Site) -> ClusterState:
    return build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=DecodeCache())


def ours(state: ClusterState) -> list[Finding]:
    return [f for f in state.findings if f.subject == "connector-cert"]


def test_the_default_certificate_is_read_with_its_identity_and_next_renewal() -> None:
    app = app_cert(NOW - timedelta(days=30))
    renewal = NOW + timedelta(days=30)
    view = state_of(default_site(app, renewal=renewal)).connector_certificate
    assert view is not None
    assert view.source is ConnectorCertSource.CERT_MANAGER
    assert (view.secret_name, view.key, view.present) == (DEFAULT_APPLICATION_CERT_SECRET, "tls.crt", True)
    assert view.subject is not None and "CN=aio-opc-opcuabroker" in view.subject
    assert view.application_uri == DEFAULT_APPLICATION_URI
    assert view.not_after == app.cert.not_valid_after_utc
    assert (view.days_left, view.renewal_time, view.days_to_renewal) == (60, renewal, 30)
    assert view.issuing_certificate == f"{NS}/{CERT_NAME}" and view.renews_automatically
    assert view.public_der() == app.der


def test_no_finding_while_the_renewal_is_far() -> None:
    site = default_site(app_cert(NOW - timedelta(days=30)), renewal=NOW + timedelta(days=30))
    assert ours(state_of(site)) == []


def test_a_renewal_coming_is_warned_about_with_the_export_hint() -> None:
    renewal = NOW + timedelta(days=5, hours=1)
    site = default_site(app_cert(NOW - timedelta(days=55)), renewal=renewal)
    assert [(f.severity, f.code, f.message) for f in ours(state_of(site))] == [
        (
            Severity.WARNING,
            "connector-cert-renewal-soon",
            "connector certificate: cert-manager replaces it in 5d (2025-04-16 01:00Z) with a new "
            "certificate; give each OPC UA server the new one then (aio-certs connector-cert --out FILE)",
        )
    ]


def test_an_overdue_renewal_and_a_not_ready_certificate_are_warned_about() -> None:
    site = default_site(app_cert(NOW - timedelta(days=70)), renewal=NOW - timedelta(hours=1), ready=False)
    # 20 days left on a 90-day certificate cert-manager should have replaced: expiring too.
    assert sorted(f.code for f in ours(state_of(site))) == [
        "connector-cert-expiring",
        "connector-cert-not-ready",
        "connector-cert-renewal-overdue",
    ]


def test_a_fresh_renewal_says_every_server_needs_the_new_certificate() -> None:
    site = default_site(app_cert(NOW - timedelta(days=2)), renewal=NOW + timedelta(days=58))
    [finding] = ours(state_of(site))
    assert (finding.severity, finding.code) == (Severity.INFO, "connector-cert-renewed")
    assert "issued 2d ago" in finding.message and "aio-certs connector-cert --out FILE" in finding.message


def test_an_expired_connector_certificate_is_critical() -> None:
    site = default_site(app_cert(NOW - timedelta(days=95), days=90), renewal=NOW - timedelta(days=35))
    assert [(f.severity, f.code) for f in ours(state_of(site)) if f.code == "connector-cert-expired"] == [
        (Severity.CRITICAL, "connector-cert-expired")
    ]
    assert "expired 5d ago" in next(f.message for f in ours(state_of(site)))


def own_site(files: dict[str, bytes]) -> Site:
    site = quickstart_site(NOW, ca=ROOT)
    mappings = [(name.replace(".", "-"), name) for name in files]
    site.add(rk.SECRET_SYNCS, secret_sync(CLIENT_CERT_SYNC, NS, "opc-ua-connector", mappings))
    site.add(rk.SECRETS, synced_secret(CLIENT_CERT_SYNC, NS, files))
    return site


def test_a_certificate_of_ones_own_is_read_from_its_der_and_nothing_renews_it() -> None:
    own = cg.make_leaf(
        ROOT, "plant-connector", uris=["urn:contoso:connector"], not_before=NOW - timedelta(days=340)
    )
    site = own_site({"opcuabroker-certificate.der": own.der, "opcuabroker-certificate.pem": own.key_pem})
    state = state_of(site)
    view = state.connector_certificate
    assert view is not None and view.source is ConnectorCertSource.OWN
    assert (view.secret_name, view.key) == (CLIENT_CERT_SYNC, "opcuabroker-certificate.der")
    assert view.application_uri == "urn:contoso:connector"
    assert not view.renews_automatically and view.renewal_time is None
    [finding] = ours(state)
    assert (finding.severity, finding.code) == (Severity.WARNING, "connector-cert-expiring")
    assert "expires in 25d" in finding.message and "az iot ops connector opcua client add" in finding.message


def test_the_private_key_is_never_read_nor_carried() -> None:
    own = cg.make_leaf(ROOT, "plant-connector", not_before=NOW - timedelta(days=10))
    # Without the .der, the .pem (a private key) is not taken instead: the view says what is missing.
    view = state_of(own_site({"opcuabroker-certificate.pem": own.key_pem})).connector_certificate
    assert view is not None and view.certificate is None
    assert view.decode_error == "the Secret has no public certificate (.der) key"
    default = state_of(default_site(app_cert(NOW - timedelta(days=30)), renewal=None))
    text = json.dumps(default.connector_certificate.to_json() if default.connector_certificate else None)
    assert "PRIVATE KEY" not in text and "tls.key" not in text


def test_unread_secrets_give_no_view_rather_than_a_missing_one() -> None:
    site = default_site(app_cert(NOW - timedelta(days=30)), renewal=None)
    site.set_state(rk.SECRETS, AreaState.FORBIDDEN, "secrets is forbidden")
    state = state_of(site)
    assert state.connector_certificate is None and ours(state) == []


def test_no_connector_no_finding_but_a_certificate_without_its_secret_is_warned_about() -> None:
    assert ours(state_of(quickstart_site(NOW, ca=ROOT))) == []
    site = default_site(app_cert(NOW - timedelta(days=30)), renewal=None)
    site.remove(rk.SECRETS, NS, DEFAULT_APPLICATION_CERT_SECRET)
    assert [f.code for f in ours(state_of(site))] == ["connector-cert-missing"]


def test_status_text_has_a_connector_line_and_its_warning_sorts_by_urgency() -> None:
    """Trial finding 9: text ``status`` names the connector's certificate (subject, expiry, renewal), and
    a connector finding is ordered by its days like any other, not always last."""
    from tui.core.health.report import render_status

    app = app_cert(NOW - timedelta(days=80), days=90)  # 10 days left: inside the 30-day warning
    site = default_site(app, renewal=NOW - timedelta(days=1))
    # A list entry expiring later (20 days) than the connector's certificate.
    plc = cg.make_leaf(None, "PLC", not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=20.5))
    site.add(
        rk.SECRET_SYNCS,
        secret_sync("aio-opc-ua-broker-trust-list", NS, "opc-ua-connector", [("plc-der", "plc.der")]),
    )
    site.add(rk.SECRETS, synced_secret("aio-opc-ua-broker-trust-list", NS, {"plc.der": plc.der}))
    state = state_of(site)
    lines = render_status(state, width=None).splitlines()
    at = lines.index("Connector certificate")
    line = lines[at + 1]
    assert line.startswith("  certificate   CN=aio-opc-opcuabroker,")
    assert f"; expires {app.cert.not_valid_after_utc:%Y-%m-%d %H:%M}Z (expires in 10d); " in line
    assert line.endswith(f"renewal: by cert-manager at {NOW - timedelta(days=1):%Y-%m-%d %H:%M}Z")
    expiring = next(f for f in state.findings if f.code == "connector-cert-expiring")
    assert expiring.days_left == 10
    # Among the warnings it comes by its days: before the entry's 20 days, not last.
    warnings = [f.code for f in state.findings if f.severity is Severity.WARNING]
    assert warnings.index("connector-cert-expiring") < warnings.index("entry-expiring"), warnings
