"""The connector's own certificate in the OPC UA pane and its preview, whose ``w`` writes the public
certificate to a file (issue 12 item 14). Pilot tests on a frozen clock."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from textual.widgets import Input, Static

from tests import certgen
from tests.rawobjects import certificate, tls_secret
from tests.ui import sitedata
from tests.ui.conftest import SMALL, Dashboard, screen_text
from tui.core.model import resources as rk
from tui.core.model.connector import DEFAULT_APPLICATION_CERT_SECRET, DEFAULT_APPLICATION_URI
from tui.core.model.state import ClusterState
from tui.ui.modals.connector_export import ConnectorExportModal
from tui.ui.modals.preview import PreviewModal

NS = "azure-iot-operations"
NOW = sitedata.NOW
APP = certgen.make_leaf(
    None, "aio-opc-opcuabroker", uris=[DEFAULT_APPLICATION_URI], not_before=NOW - timedelta(days=57), days=90
)


def with_connector() -> ClusterState:
    site = sitedata.make_site(NOW)
    site.add(rk.SECRETS, tls_secret(DEFAULT_APPLICATION_CERT_SECRET, NS, APP))
    site.add(
        rk.CERTIFICATES,
        certificate(
            DEFAULT_APPLICATION_CERT_SECRET,
            NS,
            secret_name=DEFAULT_APPLICATION_CERT_SECRET,
            issuer_name="aio-opc-opcuabroker-selfsigned",
            issuer_kind="Issuer",
            not_before=APP.cert.not_valid_before_utc,
            not_after=APP.cert.not_valid_after_utc,
            renewal_time=NOW + timedelta(days=3),
        ),
    )
    return sitedata.build(site, NOW)


def _line(app: object) -> str:
    return str(app.screen.query_one("#opcua-connector", Static).render())  # type: ignore[attr-defined]


async def test_the_pane_names_the_connector_certificate_and_its_renewal(dashboard: Dashboard) -> None:
    async with dashboard(with_connector()) as (app, pilot, _source):
        await pilot.press("3")
        # Most urgent first, so that 80 columns keep what matters.
        assert _line(app) == (
            "Connector cert: warning · renews in 3d · expires in 33d · o details · "
            f"aio-opc-opcuabroker (cert-manager) · {DEFAULT_APPLICATION_URI}"
        )


async def test_at_80_columns_the_line_keeps_what_is_urgent(dashboard: Dashboard) -> None:
    async with dashboard(with_connector(), size=SMALL) as (app, pilot, _source):
        await pilot.press("3")
        await pilot.pause()
        assert "Connector cert: warning · renews in 3d · expires in 33d · o details" in screen_text(app)


async def test_a_site_without_one_says_so(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("3")
        assert _line(app) == "Connector cert: none found (no OPC UA connector deployed?)"


async def test_o_previews_it_and_w_writes_its_public_certificate(
    dashboard: Dashboard, tmp_path: Path
) -> None:
    async with dashboard(with_connector()) as (app, pilot, _source):
        await pilot.press("3", "o")
        await pilot.pause()
        preview = app.screen
        assert isinstance(preview, PreviewModal)
        text = screen_text(app)
        assert "OPC UA connector certificate" in text and "w write file" in text
        assert "cert-manager replaces it in 3d" in text
        assert "PRIVATE KEY" not in text
        await pilot.press("w")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConnectorExportModal)
        assert dialog.query_one(Input).value.endswith("aio-opc-opcuabroker.der")
        out = tmp_path / "connector.der"
        dialog.query_one(Input).value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        assert out.read_bytes() == APP.der
        assert app.screen is preview
        assert any(str(n.message).startswith(f"wrote {out} (DER, ") for n in app._notifications)
        # Again: the file exists; the dialog says so in one line and stays, the file is untouched.
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one(Input).value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, ConnectorExportModal)
        outcome = str(app.screen.query_one("#connector-export-outcome", Static).render())
        assert outcome == f"✗ {out} already exists; choose another name"
        await pilot.press("escape")
        pem = tmp_path / "connector.pem"
        await pilot.press("w")
        await pilot.pause()
        app.screen.query_one(Input).value = str(pem)
        await pilot.press("enter")
        await pilot.pause()
        assert pem.read_bytes() == APP.pem


async def test_other_previews_have_no_write_key(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("1", "enter")
        await pilot.pause()
        assert isinstance(app.screen, PreviewModal) and app.screen.doc.export is None
        assert "w write file" not in screen_text(app)
        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, PreviewModal)


async def test_a_new_state_with_the_same_line_asks_for_no_layout_pass(dashboard: Dashboard) -> None:
    # Every state used to update the line as a Static: a layout pass, which reflows and repaints the
    # whole screen (22-37 ms at 2,000 entries, on every state a rotation or a re-read brings).
    async with dashboard(with_connector()) as (app, pilot, source):
        await pilot.press("3")
        await pilot.pause()
        line = app.screen.query_one("#opcua-connector", Static)
        asked: list[bool] = []
        refresh = line.refresh

        def spy(*args: object, layout: bool = False, **kwargs: object) -> object:
            asked.append(layout)
            return refresh(*args, layout=layout, **kwargs)  # type: ignore[arg-type]

        line.refresh = spy  # type: ignore[method-assign]
        again = with_connector()
        source.push(again)
        await app.wait_for_state(lambda s: s is again, timeout=10)
        await pilot.pause()
        assert True not in asked
        assert _line(app).startswith("Connector cert: warning · renews in 3d")
