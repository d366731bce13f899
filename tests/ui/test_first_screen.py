"""Issue 13, "the urgent thing on the first screen": the default sort, the severity words, the counts in
the tab strip and the header, the pane the dashboard opens on, problems only, one key per column, the
``staged`` filter word, and columns by priority at 80 and 120 columns."""

from __future__ import annotations

from datetime import timedelta

from tests import certgen
from tests.ui import sitedata
from tests.ui.conftest import SMALL, WIDE, Dashboard, screen_text
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.file_rules import read_content
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState, Severity
from tui.ui.app import help_groups
from tui.ui.view.rows import SEVERITY_WORD, SORT_KEYS
from tui.ui.view.staging import StagedItem, Staging
from tui.ui.widgets.text_line import TextLine

_URGENT = [
    "issuer/fabrikam-vendor-ca.crl",  # stale CRL: critical, -13d
    "trust/plc-expired.der",  # expired: critical, -10d
    "trust/sensor-hub.der",  # expiring in 3d, under the critical threshold
    "trust/mes-connector.der",  # warnings from here, fewest days first
]


async def test_the_most_urgent_rows_come_first_and_are_on_the_first_screen(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        pane = app.dashboard.opcua_pane
        assert pane.entry_sort.column == "health" and not pane.entry_sort.reverse
        assert pane.table.row_keys[:4] == _URGENT
        # Within a severity, days left in order.
        shown = [e for e in pane.shown if e.severity is Severity.WARNING]
        days = [e.days_left if e.days_left is not None else 0 for e in shown]
        assert days == sorted(days)
        text = screen_text(app)
        assert "plc-expired.der" in text and "fabrikam-vendor-ca.crl" in text


async def test_every_health_cell_says_its_severity_in_a_word(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        table = app.dashboard.opcua_pane.table
        for entry in steady.opcua:
            health = table.get_cell(entry.key, "health").plain
            assert health.split()[0] == SEVERITY_WORD[entry.severity], (entry.key, health)
        assert table.get_cell("trust/plc-expired.der", "health").plain == "CRIT expired"
        assert table.get_cell("trust/sensor-hub.der", "health").plain == "CRIT expiring 3d"
        assert table.get_cell("trust/mes-connector.der", "health").plain == "WARN expiring 20d"
        assert table.get_cell("issuer/fabrikam-vendor-ca.crl", "health").plain == "CRIT crl-stale"
        # A healthy CRL five days from its nextUpdate: no alarm colour beside "ok".
        healthy_crl = table.get_cell("issuer/contoso-site-ca.crl", "days")
        assert table.get_cell("issuer/contoso-site-ca.crl", "health").plain == "ok"
        assert "red" not in str(healthy_crl.style) and "yellow" not in str(healthy_crl.style)


async def test_counts_in_the_tab_strip_and_the_header_and_it_opens_on_the_urgent_pane(
    dashboard: Dashboard,
) -> None:
    async with dashboard(size=SMALL) as (app, pilot, _source):
        screen = app.dashboard
        assert screen.active_pane == "opcua" and screen.opcua_pane.display
        strip = screen_text(app).splitlines()[1]
        assert "3 OPC UA 3 crit 5 warn" in strip
        assert "1 Root CA 1 warn" in strip
        await pilot.press("1")  # the user's choice stands
        assert screen.active_pane == "root-ca"
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        header = screen_text(app).splitlines()[0]
        assert "3 crit 6 warn" in header
        assert app.focused is app.dashboard.opcua_pane.table


async def test_p_shows_problems_only_and_the_count_says_of_how_many(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    problems = {e.key for e in steady.opcua if e.severity in (Severity.CRITICAL, Severity.WARNING)}
    async with dashboard(size=WIDE) as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("3", "p")
        assert set(pane.table.row_keys) == problems
        assert f"{len(problems)} of {len(steady.opcua)} match" in pane.title_text
        assert "problems only" in pane.subtitle_text
        await pilot.press("p")
        assert len(pane.table.row_keys) == len(steady.opcua)
        assert "match" not in pane.title_text


async def test_one_key_per_column_sorts_and_again_reverses(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        await pilot.press("3", "D")
        assert (pane.entry_sort.column, pane.entry_sort.reverse) == ("days", False)
        assert pane.table.row_keys[0] == "issuer/fabrikam-vendor-ca.crl"  # -13d
        await pilot.press("D")
        assert (pane.entry_sort.column, pane.entry_sort.reverse) == ("days", True)
        await pilot.press("F")
        assert pane.entry_sort.column == "file"
        assert pane.table.row_keys[0] == "issuer/contoso-site-ca.crl"
        await pilot.press("H")
        assert pane.table.row_keys[:4] == _URGENT
    # Every column key is listed by the help, and none is taken by another binding of the dashboard.
    keys = {row.keys for group in help_groups() for row in group.rows}
    for key, _column, _label, _note in SORT_KEYS:
        assert key in keys
    assert "p" in keys


async def test_the_word_staged_finds_staged_rows_and_the_count_includes_them(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    leaf = certgen.make_leaf(None, "New PLC", not_before=sitedata.NOW - timedelta(days=1), days=365)
    add = StagedItem(AddFile("trust", "new-plc.der", leaf.der), read_content(leaf.der, "new-plc.der"))
    remove = StagedItem(RemoveEntry("trust", "plc-line2.der"))
    async with dashboard(size=WIDE) as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        pane.set_staging(Staging().add([add, remove]))
        await pilot.pause()
        pane.set_filter("staged")
        await pilot.pause()
        assert set(pane.table.row_keys) == {"trust/new-plc.der", "trust/plc-line2.der"}
        # The staged add is a row of its own: "of" counts it.
        assert f"2 of {len(steady.opcua) + 1} match" in pane.title_text
        pane.set_filter("staged remove")
        assert pane.table.row_keys == ["trust/plc-line2.der"]


async def test_columns_by_priority_tell_similar_names_apart_and_keep_health_whole(
    dashboard: Dashboard,
) -> None:
    long_a, long_b = "contoso-production-line-ca.crl", "contoso-packaging-line-ca.crl"
    files = sitedata.opcua_files()
    issuer = dict(files.issuer)
    issuer[long_a] = issuer.pop("contoso-site-ca.crl")
    issuer[long_b] = issuer.pop("fabrikam-vendor-ca.crl")
    site = sitedata.make_site(files=sitedata.OpcUaFiles(files.trust, issuer))
    state = sitedata.build(site)
    async with dashboard(state, size=SMALL) as (app, pilot, _source):
        await pilot.press("3")
        table = app.dashboard.opcua_pane.table
        keys = [c.key for c in table.placed_columns]
        assert keys[:3] == ["mark", "list", "file"] and "health" in keys and "days" in keys
        text = screen_text(app)
        lines = [line for line in text.splitlines() if "contoso-" in line and ".crl" in line]
        assert len(lines) == 2
        # Cut in the middle at most, with what tells them apart still on screen (was contoso-…n-ca.crl).
        assert any("contoso-produ" in line for line in lines)
        assert any("contoso-packa" in line for line in lines)
    # Two flags on one entry (a CA without CRL, twice in the list): its health is whole at 120 columns.
    issuer = dict(sitedata.opcua_files().issuer)
    issuer["northwind-lab-ca-copy.der"] = issuer["northwind-lab-ca.der"]
    state = sitedata.build(sitedata.make_site(files=sitedata.OpcUaFiles(files.trust, issuer)))
    async with dashboard(state, size=WIDE) as (app, _pilot, _source):
        table = app.dashboard.opcua_pane.table
        text = table.get_cell("issuer/northwind-lab-ca.der", "health").plain
        assert text == "WARN ca-without-crl,duplicate"
        health = next(c for c in table.placed_columns if c.key == "health")
        assert health.width >= len(text)
        assert "WARN ca-without-crl,duplicate" in screen_text(app)


async def test_an_unreachable_cluster_is_unknown_never_missing(dashboard: Dashboard) -> None:
    site = sitedata.make_site()
    for kind in rk.ALL_KINDS:
        site.objects[kind.key] = {}
        site.states[kind.key] = ResourceStatus(AreaState.UNREACHABLE, "connection refused")
    async with dashboard(sitedata.build(site, vault=False), size=WIDE) as (app, _pilot, _source):
        text = screen_text(app)
        assert "unreachable" in text.splitlines()[0]
        pane = app.dashboard.root_pane
        assert "not found" not in text
        assert "unknown: cluster unreachable" in str(pane.query_one("#root-identity", TextLine).plain)
        assert "unknown: cluster unreachable" in str(pane.query_one("#root-bundle", TextLine).plain)
        detail = app.dashboard.issuers_pane.query_one("#issuer-detail", TextLine).plain
        assert detail == "issuers unknown: cluster unreachable"  # was "no issuers found"
        assert "trust ? · issuer ?" in app.dashboard.opcua_pane.title_text  # was "trust 0 · issuer 0"


async def test_issuer_names_get_their_room_before_kind_and_type(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        table = app.dashboard.issuers_pane.table
        name = next(c for c in table.placed_columns if c.key == "name")
        assert name.width >= 32  # was 24: azure-iot-o…icate-issuer beside spare space
        assert "azure-iot-operat" in screen_text(app)


async def test_the_match_count_is_on_screen_at_80_columns(dashboard: Dashboard, steady: ClusterState) -> None:
    problems = sum(1 for e in steady.opcua if e.severity in (Severity.CRITICAL, Severity.WARNING))
    async with dashboard(size=SMALL) as (app, pilot, _source):
        await pilot.press("3", "p")
        assert f"{problems} of {len(steady.opcua)} match" in screen_text(app).splitlines()[2]
