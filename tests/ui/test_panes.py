"""Pilot tests: what each pane shows, and both layouts (120x34 wide, 80x24 compact)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual.geometry import Region

from tests.ui import sitedata
from tests.ui.conftest import SMALL, WIDE, Dashboard, screen_text
from tui.core.model import resources as rk
from tui.core.model.names import CERT_MANAGER_NAMESPACE, TRUST_LIST_SYNC
from tui.core.model.state import ClusterState, RotationPhase
from tui.demo.seed.objects import b64
from tui.demo.seed.trust import SELFSIGNED_ISSUER
from tui.ui.app import DashboardApp
from tui.ui.view.columns import total_width
from tui.ui.view.preview_doc import root_ca_preview
from tui.ui.widgets.text_line import TextLine


def _line(app: DashboardApp, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}", TextLine).plain


async def test_root_ca_pane_shows_the_ca_its_rotation_and_the_bundle(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard() as (app, _pilot, _source):
        pane = app.dashboard.root_pane
        cert = steady.root_ca.certificate
        assert cert is not None
        assert "Root CA" in pane.title_text
        assert "steady" in pane.title_text
        identity = _line(app, "root-identity")
        assert "Azure IoT Operations Quickstart Root CA" in identity
        assert cert.sha1 in identity and cert.serial in identity
        assert "2025-05-02 12:00Z → 2025-07-31 12:00Z" in identity
        assert "60d (67%)" in _line(app, "root-gauge")
        rotation = _line(app, "root-rotation")
        assert "steady" in rotation and "2025-07-01 12:00Z (in 30d)" in rotation
        resource = _line(app, "root-resource")
        assert "azure-iot-operations-aio-selfsigned-root" in resource and "rev 1" in resource
        assert "Ready True" in resource
        assert "✓ current CA" in _line(app, "root-bundle")
        assert "none seen this run" in _line(app, "root-history")
        assert "not for production" in pane.subtitle_text


async def test_issuers_pane_lists_every_issuer_with_readiness_and_backing(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard() as (app, _pilot, _source):
        pane = app.dashboard.issuers_pane
        table = pane.table
        assert "Issuer" in pane.title_text and "· 2" in pane.title_text
        assert table.row_keys == [issuer.key for issuer in steady.issuers]
        root_issuer = "ClusterIssuer/azure-iot-operations-aio-selfsigned-root"
        cells = {c.key: table.get_cell(root_issuer, c.key).plain for c in table.placed_columns}
        assert cells["type"] == "selfSigned" and cells["ready"] == "yes" and cells["certs"] == "1"


async def test_issuer_detail_shows_what_the_table_has_no_room_for_and_follows_the_cursor(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    first, second = steady.issuers
    failing = replace(
        second,
        ready=False,
        reason="ErrInitIssuer",
        message="Error initializing issuer:\n secret not found",
        last_transition=sitedata.NOW - timedelta(hours=3),
    )
    state = replace(steady, issuers=(first, failing))
    async with dashboard(state, size=WIDE) as (app, pilot, source):
        pane = app.dashboard.issuers_pane
        name_cell = pane.table.get_cell(first.key, "name")
        detail = _line(app, "issuer-detail")
        # The whole name, although the table cuts it at 120 columns.
        assert first.name in detail and pane.table.cursor_key == first.key
        assert f"ClusterIssuer · {first.type}" in detail and "Ready     True" in detail
        assert first.name in screen_text(app) and name_cell.plain == first.name
        await pilot.press("2", "down")
        assert pane.table.cursor_key == failing.key
        detail = _line(app, "issuer-detail")
        since = (sitedata.NOW - timedelta(hours=3)).strftime("%Y-%m-%d %H:%MZ")
        assert failing.name in detail
        assert f"Ready     False · ErrInitIssuer · since {since}" in detail
        assert "Message   Error initializing issuer: secret not found" in detail  # on one line
        # A new state keeps the cursor on its issuer and the detail follows the new condition.
        source.push(
            replace(
                state,
                issuers=(
                    first,
                    replace(failing, ready=True, reason="KeyPairVerified", message="Signing CA verified"),
                ),
            )
        )
        await app.wait_for_state(lambda s: s.issuers[1].ready is True, timeout=10)
        await pilot.pause()
        assert pane.table.cursor_key == failing.key
        detail = _line(app, "issuer-detail")
        assert "Ready     True · KeyPairVerified" in detail and "Signing CA verified" in detail


async def test_opcua_pane_holds_both_lists_with_counts_and_health(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard() as (app, _pilot, _source):
        pane = app.dashboard.opcua_pane
        assert "OPC UA" in pane.title_text
        assert "trust 11 · issuer 5 · 3 critical · 5 warning" in pane.title_text
        table = pane.table
        assert set(table.row_keys) == {entry.key for entry in steady.opcua}
        assert table.get_cell("trust/plc-expired.der", "health").plain == "CRIT expired"
        assert table.get_cell("trust/plc-expired.der", "days").plain == "-10d"
        assert table.get_cell("issuer/fabrikam-vendor-ca.crl", "health").plain == "CRIT crl-stale"
        assert table.get_cell("trust/robot-cell-3.der", "health").plain == "WARN not-yet-valid"
        assert table.get_cell("trust/gateway-north.der", "subject").plain == "Gateway North"


async def test_wide_layout_shows_three_panes_side_by_side_without_overlap(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        screen = app.dashboard
        assert not screen.compact
        regions = [screen.root_pane.region, screen.issuers_pane.region, screen.opcua_pane.region]
        whole = Region(0, 0, *WIDE)
        for index, region in enumerate(regions):
            assert region.area > 0 and whole.contains_region(region)
            for other in regions[index + 1 :]:
                assert not region.overlaps(other)
        text = screen_text(app)
        assert "Root CA" in text and "Issuers" in text and "OPC UA" in text


async def test_compact_layout_at_80x24_shows_one_pane_at_a_time_and_fits(dashboard: Dashboard) -> None:
    async with dashboard(size=SMALL) as (app, pilot, _source):
        screen = app.dashboard
        assert screen.compact
        # It opens on the pane of the most severe finding (a stale CRL, critical): issue 13.
        assert screen.opcua_pane.display and not screen.root_pane.display
        text = screen_text(app)
        assert "1 Root CA" in text and "3 OPC UA" in text
        await pilot.press("1")
        assert screen.root_pane.display and not screen.opcua_pane.display
        assert all(len(line) <= SMALL[0] for line in text.splitlines())
        await pilot.press("3")
        assert screen.opcua_pane.display and not screen.root_pane.display
        table = screen.opcua_pane.table
        assert total_width(table.placed_columns) <= table.scrollable_content_region.width
        assert {"file", "days", "health"} <= {c.key for c in table.placed_columns}
        await pilot.press("tab")
        assert screen.active_pane == "root-ca" and screen.root_pane.display
        await pilot.press("2")
        assert screen.issuers_pane.display and app.focused is screen.issuers_pane.table


async def test_resizing_switches_layouts_and_keeps_the_cursor(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, pilot, _source):
        screen = app.dashboard
        await pilot.press("3")
        assert screen.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        assert screen.compact and screen.opcua_pane.display
        assert screen.opcua_pane.table.cursor_key == "trust/historian.der"
        await pilot.resize_terminal(*WIDE)
        await pilot.pause()
        assert not screen.compact and screen.root_pane.display
        assert screen.opcua_pane.table.cursor_key == "trust/historian.der"


async def test_forbidden_secrets_show_in_the_header_and_the_panes(dashboard: Dashboard) -> None:
    async with dashboard(sitedata.forbidden_secrets_state()) as (app, _pilot, _source):
        assert _line(app, "hdr-connection") == "● forbidden: secrets"
        assert "forbidden" in app.dashboard.opcua_pane.title_text


async def test_panes_show_what_a_real_site_holds_hand_added_crl_size_and_key_policy(
    dashboard: Dashboard,
) -> None:
    site = sitedata.make_site()
    ns = site.namespace
    trust = site.get(rk.SECRETS, ns, TRUST_LIST_SYNC)["data"]
    # The CRL the AIO docs add with kubectl patch, and enough hand-added bytes to pass 80 % of 1 MiB.
    vendor = sitedata.opcua_files().issuer["fabrikam-vendor-ca.crl"]
    trust["fabrikam-vendor-ca.crl"] = b64(vendor)
    trust["bulk.bin"] = b64(b"\0" * 900_000)
    # The root CA's Certificate without a rotationPolicy: cert-manager's version decides.
    root = site.get(rk.CERTIFICATES, CERT_MANAGER_NAMESPACE, SELFSIGNED_ISSUER)
    root["spec"]["privateKey"].pop("rotationPolicy")
    state = sitedata.build(site)
    sync = state.sync("trust")
    assert sync is not None and sync.size_bytes is not None
    percent = sync.size_bytes * 100 // (1024 * 1024)
    assert percent >= 80
    async with dashboard(state) as (app, _pilot, _source):
        pane = app.dashboard.opcua_pane
        # The list near the limit says so beside its count; both sizes close the title.
        assert f"trust 13 ({percent}% of 1 MiB)" in pane.title_text
        assert pane.title_text.endswith(f" · size {percent}%/0% of 1 MiB")
        assert "hand-added" in pane.table.get_cell("trust/fabrikam-vendor-ca.crl", "health").plain
        key = _line(app, "root-key")
        assert "rotationPolicy unset" in key and "Always from v1.18" in key and "Never before" in key
    preview = root_ca_preview(state)
    fields = {f.label: f.value for section in preview.sections for f in section.fields}
    assert fields["Key rotation"].startswith("unset (cert-manager's default: Always from v1.18, Never before")
    assert "previous CA" not in fields and fields["  old-key leaves"] == "none"


async def test_a_failed_renewal_whose_spec_changed_retries_at_once(dashboard: Dashboard) -> None:
    state = sitedata.steady_state()
    failed = replace(
        state.root_ca.rotation, phase=RotationPhase.FAILED, next_attempt=None, retry_now=True, reason="Failed"
    )
    state = replace(state, root_ca=replace(state.root_ca, rotation=failed))
    async with dashboard(state) as (app, _pilot, _source):
        assert "retry at once: spec changed since the failure" in _line(app, "root-rotation")
    fields = {f.label: f.value for s in root_ca_preview(state).sections for f in s.fields}
    assert fields["Next attempt"].startswith("at once: the spec changed since the failed request")


async def test_the_table_marks_exactly_the_items_a_partial_sync_names(dashboard: Dashboard) -> None:
    site = sitedata.make_site()
    sync = site.get(rk.SECRET_SYNCS, site.namespace, TRUST_LIST_SYNC)
    summary = '[{"objectName": "plc-line2-der", "status": "Failed", "error": "403 Forbidden"}]'
    sync["status"]["conditions"][1].update(status="False", reason="PartialSync", message=summary)
    state = sitedata.build(site)
    async with dashboard(state) as (app, _pilot, _source):
        table = app.dashboard.opcua_pane.table
        assert "sync-failing" in table.get_cell("trust/plc-line2.der", "health").plain
        assert "sync-failing" not in table.get_cell("trust/plc-line1.der", "health").plain
        assert "sync-failing" not in table.get_cell("trust/gateway-north.der", "health").plain


async def test_a_trust_list_secret_without_its_secretsync_shows_its_keys_as_hand_added(
    dashboard: Dashboard,
) -> None:
    # As AIO's deployment leaves it: the Secret is there, no SecretSync yet (docs/domain.md §2.5).
    site = sitedata.make_site()
    site.remove(rk.SECRET_SYNCS, site.namespace, TRUST_LIST_SYNC)
    state = sitedata.build(site)
    async with dashboard(state) as (app, _pilot, _source):
        table = app.dashboard.opcua_pane.table
        trust_rows = [key for key in table.row_keys if str(key).startswith("trust/")]
        assert len(trust_rows) == 11
        assert "hand-added" in table.get_cell("trust/gateway-north.der", "health").plain
