"""Pilot tests: filter, sort, marks, preview, help, palette, read-only view and quitting."""

from __future__ import annotations

from tests.ui.conftest import Dashboard, screen_text
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp, help_groups
from tui.ui.modals.help import HelpModal
from tui.ui.modals.preview import PreviewModal
from tui.ui.palette import DashboardCommands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.opcua_pane import OpcUaPane
from tui.ui.widgets.root_ca_pane import RootCAPane


async def test_filter_narrows_as_you_type_and_escape_restores(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("slash")
        assert app.focused is pane.filter_input
        await pilot.press(*"expir")
        # "expir" matches the expired and both expiring entries (flags) as the user types.
        assert set(pane.table.row_keys) == {
            "trust/plc-expired.der",
            "trust/mes-connector.der",
            "trust/sensor-hub.der",
        }
        await pilot.press("e", "d")
        assert pane.table.row_keys == ["trust/plc-expired.der"]
        assert "1 of 16 match" in pane.title_text
        await pilot.press("enter")
        assert app.focused is pane.table and pane.table.row_keys == ["trust/plc-expired.der"]
        await pilot.press("escape")
        assert len(pane.table.row_keys) == 16 and not pane.filter.active
        assert not pane.has_class("-filtering")


async def test_filter_words_combine_and_negate(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("slash", *"trust !ok")
        assert set(pane.table.row_keys) == {
            "trust/plc-expired.der",
            "trust/mes-connector.der",
            "trust/sensor-hub.der",
            "trust/robot-cell-3.der",
            "trust/plc-line1.der",
            "trust/plc-line1-copy.der",
        }


async def test_q_types_into_the_filter_instead_of_quitting(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("slash", "q")
        assert app.is_running
        assert app.dashboard.opcua_pane.filter_input.value == "q"


async def test_sorting_by_days_and_reverse_keeps_the_cursor_on_its_entry(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("3")
        assert pane.table.move_to_key("trust/historian.der")
        app.sort_opcua("days")
        await pilot.pause()
        keys = pane.table.row_keys
        assert keys[:3] == ["issuer/fabrikam-vendor-ca.crl", "trust/plc-expired.der", "trust/sensor-hub.der"]
        assert pane.table.cursor_key == "trust/historian.der"
        assert "Days ▲" in pane.subtitle_text
        await pilot.press("S")
        assert pane.table.row_keys[0] == "issuer/contoso-site-ca.der"  # expires last (2034)
        assert pane.table.cursor_key == "trust/historian.der"
        assert "Days ▼" in pane.subtitle_text


async def test_s_cycles_the_sort_column(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        assert pane.entry_sort.column == "health"  # most urgent first by default (issue 13)
        await pilot.press("3", "s")  # after the last column (Health), back to the first
        assert pane.entry_sort.column == "list"
        await pilot.press("s")
        assert pane.entry_sort.column == "file"
        assert pane.table.row_keys[0] == "issuer/contoso-site-ca.crl"
        await pilot.press("s")
        assert pane.entry_sort.column == "subject"
        assert pane.table.row_keys[0] == "issuer/contoso-site-ca.crl"  # "CRL of Contoso…" sorts first


async def test_space_marks_entries_and_marks_survive_filtering(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("3")
        pane.table.move_to_key("trust/plc-expired.der")
        await pilot.press("space")
        assert pane.marked == {"trust/plc-expired.der"}
        assert pane.table.get_cell("trust/plc-expired.der", "mark").plain == "●"
        assert "1 marked" in pane.subtitle_text
        await pilot.press("slash", *"plc", "enter")
        assert pane.table.get_cell("trust/plc-expired.der", "mark").plain == "●"
        pane.table.move_to_key("trust/plc-expired.der")
        await pilot.press("space")
        assert pane.marked == set()


async def test_enter_on_an_entry_previews_every_field_chain_and_location(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/plc-line2.der")
        await pilot.press("enter")
        assert isinstance(app.screen, PreviewModal)
        text = screen_text(app)
        entry = steady.entry("trust/plc-line2.der")
        assert entry is not None and entry.certificate is not None
        assert "trust list: plc-line2.der" in text
        assert entry.certificate.sha1 in text
        doc = app.screen.doc
        sections = {s.title: {f.label: f.value for f in s.fields} for s in doc.sections}
        assert sections["Chain"]["Signed by"].startswith("issuer/contoso-site-ca.der (CN=Contoso Site")
        assert sections["Chain"]["Signer's CRL"] == "issuer/contoso-site-ca.crl"
        body = app.screen.query_one("#preview-body")
        await pilot.press("j", "j", "j")
        assert body.scroll_y == 3
        assert sections["Chain"]["Revoked"] == "no"
        where = sections["Where it lives"]
        assert where["Key Vault secret"] == "plc-line2-der in vault kv-aio-test: present yes"
        assert (
            "aio-opc-ua-broker-trust-list: plc-line2-der -> plc-line2.der"
            in sections["Where it lives"]["SecretSync mapping"]
        )
        assert doc.pem.startswith("-----BEGIN CERTIFICATE-----")
        assert "PRIVATE KEY" not in doc.pem
        await pilot.press("c")
        assert app.clipboard == entry.certificate.sha1
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_enter_on_the_root_ca_previews_it(dashboard: Dashboard, steady: ClusterState) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("1", "enter")
        assert isinstance(app.screen, PreviewModal)
        doc = app.screen.doc
        assert doc.title == "Root CA: cert-manager/azure-iot-operations-aio-ca-certificate"
        titles = [s.title for s in doc.sections]
        assert titles[:4] == ["Certificate", "Rotation", "cert-manager Certificate", "Where it lives"]
        assert doc.copy_value == steady.root_ca.certificate.sha1  # type: ignore[union-attr]
        where = next(s for s in doc.sections if s.title == "Where it lives")
        private = {f.label: f.value for f in where.fields}["Private key"]
        assert private == "present in the Secret (never shown)"
        assert "PRIVATE KEY" not in doc.pem and doc.pem.count("BEGIN CERTIFICATE") == 1


async def test_enter_on_an_issuer_shows_its_details(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("2", "enter")
        assert isinstance(app.screen, PreviewModal)
        assert app.screen.doc.title.startswith("ClusterIssuer ")


async def test_help_lists_every_binding_with_its_description(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpModal)
        every_id = {
            b.id
            for cls in (
                DashboardApp,
                DashboardScreen,
                KeyedTable,
                OpcUaPane,
                RootCAPane,
                PreviewModal,
                HelpModal,
            )
            for b in cls.BINDINGS
            if getattr(b, "id", None)
        }
        assert every_id and every_id <= app.screen.binding_ids
        assert all(row.description for group in help_groups() for row in group.rows)
        text = screen_text(app)
        assert "Filter the OPC UA entries as you type" in text
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)


async def test_every_binding_has_an_id(dashboard: Dashboard) -> None:
    for cls in (DashboardApp, DashboardScreen, KeyedTable, OpcUaPane, RootCAPane, PreviewModal, HelpModal):
        assert all(getattr(b, "id", None) for b in cls.BINDINGS), cls.__name__


async def test_palette_keeps_builtins_and_adds_jump_sort_and_read_only(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        assert DashboardCommands in app.COMMANDS and len(app.COMMANDS) > 1
        provider = DashboardCommands(app.screen)
        names = [hit.text for hit in [h async for h in provider.discover()]]
        assert {
            "Jump to Root CA pane",
            "Jump to OPC UA pane",
            "Toggle read-only view",
            "Sort OPC UA by Days",
        } <= set(names)
        hits = [h async for h in provider.search("read-only")]
        assert hits and str(hits[0].text) == "Toggle read-only view"
        hits[0].command()
        await pilot.pause()
        assert app.read_only
        assert "READ-ONLY" in screen_text(app)


async def test_read_only_started_from_the_flag_cannot_be_switched_off(dashboard: Dashboard) -> None:
    settings = UiSettings(read_only=True, read_only_locked=True)
    async with dashboard(settings=settings) as (app, pilot, _source):
        app.action_toggle_read_only()
        await pilot.pause()
        assert app.read_only and "READ-ONLY" in screen_text(app)


async def test_q_quits(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("q")
        await pilot.pause()
        assert not app.is_running and app.return_code == 0


async def test_ctrl_c_quits_even_from_the_filter_box(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, _source):
        await pilot.press("slash", "ctrl+c")
        await pilot.pause()
        assert not app.is_running
