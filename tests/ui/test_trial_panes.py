"""Trial findings of 2026-12-05 on the dashboard's panes, table and header (items 3, 6, 12, 13, 16, 19,
20; typed-ahead keys; ``p`` in the footer). Each test fails without its fix."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from textual import events

from tests import armobjects, certgen
from tests.ui import sitedata
from tests.ui.conftest import SMALL, WIDE, Dashboard, screen_text
from tests.ui.test_change_dialogs import opened
from tests.ui.test_connector_cert_ui import with_connector
from tui.core.build.assemble import build_state
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.file_rules import read_content
from tui.core.clock import FrozenClock
from tui.core.durations import days_left
from tui.core.model import resources as rk
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState, Health, Severity
from tui.ui.app import DashboardApp
from tui.ui.modals.preview import PreviewModal
from tui.ui.modals.renew import RenewModal
from tui.ui.palette import DashboardCommands
from tui.ui.source import SourceInfo, StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.view.staging import StagedItem, Staging
from tui.ui.view.urgency import pane_counts, site_counts
from tui.ui.widgets.text_line import TextLine

_LONG_FILE = "plc-packaging-line-07-station-b.der"
_LONG_FLAGS = (Health.EXPIRING, Health.VAULT_MISSING, Health.ARM_DRIFT)


def _long_texts(state: ClusterState) -> ClusterState:
    """The steady site with one long health text (four flags) and one long file name."""
    entries = []
    for entry in state.opcua:
        if entry.key == "trust/mes-connector.der":
            entry = replace(entry, flags=_LONG_FLAGS, severity=Severity.WARNING)
        elif entry.key == "trust/historian.der":
            entry = replace(entry, target_key=_LONG_FILE)
        entries.append(entry)
    return replace(state, opcua=tuple(entries))


def _header_line(text: str) -> str:
    return next(line for line in text.splitlines() if "File" in line and "Days" in line)


async def test_a_long_health_text_never_drops_health_or_list_at_80_or_120_columns(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    state = _long_texts(steady)
    for size in (SMALL, WIDE):
        async with dashboard(state, size=size) as (app, pilot, _source):
            await pilot.press("3")
            await pilot.pause()
            table = app.dashboard.opcua_pane.table
            keys = [c.key for c in table.placed_columns]
            assert {"mark", "list", "file", "days", "health"} <= set(keys), (size, keys)
            header = _header_line(screen_text(app))
            assert "Health" in header and "List" in header, (size, header)
            text = screen_text(app)
            # Health words cut at the end: the severity and the first flag stay readable.
            assert "WARN expiring" in text, size
            # The long file name cut in the middle at most: its head and its tail both show.
            line = next(row for row in text.splitlines() if "plc-packa" in row)
            assert "b.der" in line, (size, line)
            if size == WIDE:
                # At 120 columns the long texts still fit whole, (the trial text, 41 cells).
                assert _LONG_FILE in text and "WARN expiring 20d,vault-missing,arm-drift" in text


def _footer(app: object) -> str:
    return screen_text(app).splitlines()[-1]  # type: ignore[arg-type]


async def test_problems_only_is_in_the_footer_where_it_fits_and_in_the_palette(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    problems = sum(1 for e in steady.opcua if e.severity in (Severity.CRITICAL, Severity.WARNING))
    async with dashboard(size=WIDE) as (app, pilot, _source):
        await pilot.press("3")
        await pilot.pause()
        assert "p Problems" in _footer(app)
        hits = {str(h.text): h for h in [h async for h in DashboardCommands(app.screen).discover()]}
        await pilot.press("1")  # the command shows the OPC UA pane from anywhere
        hits["Show problems only (toggle)"].command()
        await pilot.pause()
        pane = app.dashboard.opcua_pane
        assert pane.problems_only and len(pane.shown) == problems
        assert app.focused is pane.table
        # Resized to 80 columns the footer has no room: the entry goes, the others stay, the key works.
        await pilot.resize_terminal(*SMALL)
        await pilot.pause()
        footer = _footer(app)
        assert "p Problems" not in footer and "? Help" in footer
        await pilot.press("p")
        assert not pane.problems_only


async def test_the_tabs_count_the_connector_certificate_finding_and_add_up_to_the_header(
    dashboard: Dashboard,
) -> None:
    state = with_connector()
    assert any(f.code.startswith("connector-cert") and f.severity is Severity.WARNING for f in state.findings)
    counts = pane_counts(state.findings)
    total = site_counts(state.findings)
    assert sum(c.warning for c in counts.values()) == total.warning
    assert sum(c.critical for c in counts.values()) == total.critical
    async with dashboard(state, size=SMALL) as (app, _pilot, _source):
        tabs = screen_text(app).splitlines()[1]
        assert f"OPC UA {counts['opcua'].text()}" in tabs


def _broken_state(state: AreaState, since_seconds: int = 95) -> ClusterState:
    """The trial's 80-column header: ARM-owned lists, the cluster ``state`` since 95 s, the vault and
    ARM offline."""
    site = sitedata.arm_owned_site()
    since = sitedata.NOW - timedelta(seconds=since_seconds)
    for kind in rk.ALL_KINDS:
        if state is AreaState.UNREACHABLE:
            site.objects[kind.key] = {}
        site.states[kind.key] = ResourceStatus(state, "connection refused", since)
    return build_state(
        site.snapshot(sitedata.NOW),
        settings=ModelSettings(),
        now=sitedata.NOW,
        vault=site.vault_snapshot(state=AreaState.UNREACHABLE, message="connection refused"),
        previous=None,
        arm=armobjects.unreadable(AreaState.UNREACHABLE, "cannot reach ARM: connection refused"),
    )


async def _header(state: ClusterState, size: tuple[int, int], *, read_only: bool) -> str:
    # The trial's context name; the settings lock the read-only view on, as --read-only does.
    source = StaticSource(state, SourceInfo("aio-demo", "https://127.0.0.1:6443"))
    app = DashboardApp(
        source, settings=UiSettings(read_only_locked=read_only), clock=FrozenClock(sitedata.NOW)
    )
    async with app.run_test(size=size) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        return screen_text(app).splitlines()[0]


async def test_the_80_column_header_keeps_the_context_the_data_age_and_read_only() -> None:
    broken = _broken_state(AreaState.RECONNECTING)
    line = await _header(broken, SMALL, read_only=True)
    # Was "   ns azure-iot-operations  ● reconnecting since 02:50Z  vault offline  arm offl".
    assert "ctx aio-demo" in line
    for item in ("● reconnecting 11:58Z", "vault off", "arm off", "1m 35s old", "READ-ONLY"):
        assert item in line, (item, line)
    # At 120 columns the wide words fit beside the context, the age and the badge.
    line = await _header(broken, WIDE, read_only=True)
    for item in ("ctx aio-demo", "reconnecting since 11:58Z", "vault offline", "arm offline", "1m 35s old"):
        assert item in line, (item, line)
    assert line.rstrip().endswith("READ-ONLY")


async def test_data_never_read_has_no_age_and_says_so() -> None:
    never = _broken_state(AreaState.UNREACHABLE, since_seconds=4)
    for size in (SMALL, WIDE):
        line = await _header(never, size, read_only=False)
        assert "not read yet" in line and "4s old" not in line, line


async def test_a_cluster_never_read_is_unknown_in_every_line_and_offers_no_renewal(
    steady: ClusterState,
) -> None:
    never = _broken_state(AreaState.UNREACHABLE, since_seconds=4)
    async with opened(never) as (app, pilot):
        await pilot.press("1")
        await pilot.pause()
        pane = app.dashboard.root_pane
        signed = pane.query_one("#root-signed", TextLine).plain
        resource = pane.query_one("#root-resource", TextLine).plain
        # Were "no cert-manager Certificate signed by this CA" / "... writes this secret".
        assert "unknown: cluster unreachable" in signed and "no cert-manager" not in signed
        assert "unknown: cluster unreachable" in resource and "no cert-manager" not in resource
        assert app.dashboard.opcua_pane.title_text.startswith("OPC UA lists (owner ?)")  # was "owner cluster"
        assert "Renew" not in screen_text(app).splitlines()[-1]
        await pilot.press("r")
        await pilot.pause()
        notices = [str(n.message) for n in app._notifications]
        assert any(n.startswith("cannot renew: the root CA's Certificate was not read") for n in notices)
    # Once read, the renewal is offered again (changes on).
    async with opened(steady) as (app, pilot):
        await pilot.press("1")
        await pilot.pause()
        assert "r Renew" in screen_text(app).splitlines()[-1]


async def test_the_root_ca_pane_says_which_line_carries_the_warning_its_tab_counts(
    dashboard: Dashboard,
) -> None:
    async with dashboard(size=SMALL) as (app, pilot, _source):
        await pilot.press("1")
        await pilot.pause()
        text = screen_text(app)
        assert "1 Root CA 1 warn" in text.splitlines()[1]
        # The quickstart warning: the border line that says "quickstart CA" says WARN too.
        assert "WARN quickstart CA" in app.dashboard.root_pane.subtitle_text
    # The CA itself expiring (20 days left, under the 30-day warning): its Left line says WARN.
    later = sitedata.NOW + timedelta(days=40)
    state = sitedata.build(sitedata.make_site(), later)
    assert any(f.code == "root-ca-expiring" for f in state.findings)
    async with dashboard(state, size=WIDE, clock=FrozenClock(later)) as (app, _pilot, _source):
        gauge = app.dashboard.root_pane.query_one("#root-gauge", TextLine).plain
        assert gauge.startswith("Left      WARN █"), gauge


def _staged_add(days: int) -> StagedItem:
    leaf = certgen.make_leaf(None, "New PLC", not_before=sitedata.NOW - timedelta(days=300), days=days)
    return StagedItem(AddFile("trust", "new-plc.der", leaf.der), read_content(leaf.der, "new-plc.der"))


async def test_a_staged_row_says_its_severity_counts_days_on_the_app_clock_and_enter_previews_it(
    dashboard: Dashboard,
) -> None:
    item = _staged_add(330)  # 30 days left at NOW: a warning
    clock = FrozenClock(sitedata.NOW)
    async with dashboard(size=WIDE, clock=clock) as (app, pilot, _source):
        await pilot.press("3")
        pane = app.dashboard.opcua_pane
        pane.set_staging(Staging().add([item]))
        await pilot.pause()
        table = pane.table
        assert table.get_cell("trust/new-plc.der", "health").plain == "WARN staged add"  # was "staged add"
        cert = item.content.certificate  # type: ignore[union-attr]
        before = days_left(cert.not_after, sitedata.NOW)
        assert table.get_cell("trust/new-plc.der", "days").plain == f"{before}d"
        # A day later on the app's clock, with no new state: the staged row counts from now, as the
        # dialog that staged it did (was: the state's build time).
        clock.advance(timedelta(days=1))
        pane.set_filter("staged")
        await pilot.pause()
        expected = days_left(cert.not_after, clock.now())
        assert expected == before - 1
        assert table.get_cell("trust/new-plc.der", "days").plain == f"{expected}d"
        # enter on the staged row previews what is staged (was: nothing happened).
        assert table.move_to_key("trust/new-plc.der")
        table.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PreviewModal)
        assert "staged add" in app.screen.doc.title
        assert app.screen.doc.sections[0].title == "Staged"
        await pilot.press("escape")
        # A live entry staged for removal: its preview says so first.
        pane.set_staging(Staging().add([item, StagedItem(RemoveEntry("trust", "plc-line2.der"))]))
        await pilot.pause()
        assert table.get_cell("trust/plc-line2.der", "health").plain == "ok staged remove"
        assert table.move_to_key("trust/plc-line2.der")
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PreviewModal)
        assert "staged remove" in app.screen.doc.title
        assert app.screen.doc.sections[0].fields[0].value.startswith("staged remove: not applied yet")


async def test_the_root_ca_pane_marks_the_lines_out_of_view_at_120x34(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, pilot, _source):
        pane = app.dashboard.root_pane
        await pilot.pause()
        assert pane.max_scroll_y > 0  # the Key and Status lines are below at 120x34
        assert pane.subtitle_text.startswith(f"▼ {int(pane.max_scroll_y)} more (j)")
        await pilot.press("1")
        for _ in range(int(pane.max_scroll_y)):
            await pilot.press("j")
        await pilot.pause()
        assert "more" not in pane.subtitle_text  # all in view: no mark


async def _burst(app: DashboardApp, pilot: object, keys: str) -> None:
    """The keys of one terminal write: all queued before any is handled, as the driver posts them."""
    for char in keys:
        key = "slash" if char == "/" else char
        app.post_message(events.Key(key, char))
    for _ in range(4):  # the keys travel up the widget tree and, retargeted, once more
        await pilot.pause()  # type: ignore[attr-defined]
        await app.workers.wait_for_complete()


async def test_keys_typed_ahead_go_to_the_pane_or_filter_the_first_key_opened(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        await pilot.pause()
        # "1" then "r" in one write: the renewal dialog of the Root CA pane opens (r went to the table).
        await _burst(app, pilot, "1r")
        assert isinstance(app.screen, RenewModal), app.screen
        await pilot.press("escape")
        await pilot.pause()
        # "/plc" in one write: the filter holds "plc" (the letters went to the table's bindings).
        await pilot.press("3")
        await _burst(app, pilot, "/plc")
        pane = app.dashboard.opcua_pane
        assert pane.filter_input.value == "plc"
        assert all("plc" in key for key in pane.table.row_keys)
