"""The dashboard's side of ARM: who owns the lists (pane title, preview), ARM's header state, drift rows.

States come from tests/ui/sitedata.py with ARM snapshots from tests/armobjects.py; the clock is frozen.
"""

from __future__ import annotations

from tests import armobjects
from tests.ui import sitedata
from tests.ui.conftest import SMALL, Dashboard, screen_text
from tui.core.model import resources as rk
from tui.core.model.arm import Owner
from tui.core.model.names import TRUST_LIST_SYNC
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState, Health, OpcUaEntry
from tui.ui.app import DashboardApp
from tui.ui.modals.preview import PreviewModal
from tui.ui.view.levels import Level
from tui.ui.view.preview_doc import Field, entry_preview
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.text_line import TextLine

UNREACHABLE = armobjects.unreadable(AreaState.UNREACHABLE, "cannot reach ARM: [Errno 111] Connection refused")


def _line(app: DashboardApp, widget_id: str) -> TextLine:
    return app.screen.query_one(f"#{widget_id}", TextLine)


def _arm_state(arm: object = None, *, drop_trust: tuple[str, ...] = ()) -> ClusterState:
    site = sitedata.arm_owned_site()
    snapshot = sitedata.arm_in_step(site, drop_trust=drop_trust) if arm is None else arm
    return sitedata.build(site, arm=snapshot)  # type: ignore[arg-type]


async def test_a_cluster_only_site_shows_no_arm_state_and_owner_cluster(dashboard: Dashboard) -> None:
    async with dashboard() as (app, _pilot, _source):
        assert not _line(app, "hdr-arm").display  # -absent: nothing names ARM on this site
        assert app.dashboard.opcua_pane.title_text.startswith("OPC UA lists (owner cluster) · trust 11")


async def test_arm_owned_lists_in_step_show_owner_arm_and_no_arm_alarm(dashboard: Dashboard) -> None:
    state = _arm_state()
    assert state.list_owner("trust") is Owner.ARM
    async with dashboard(state) as (app, _pilot, _source):
        assert not _line(app, "hdr-arm").display  # ARM read and in step: nothing to say
        assert app.dashboard.opcua_pane.title_text.startswith("OPC UA lists (owner arm) · trust 11")


async def test_arm_unreachable_gets_a_header_state_and_the_cluster_view_stays(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    state = _arm_state(UNREACHABLE)
    async with dashboard(state) as (app, _pilot, _source):
        assert _line(app, "hdr-arm").plain == "arm offline"
        assert _line(app, "hdr-connection").plain == "● live"
        assert _line(app, "hdr-vault").plain.startswith("vault ok")
        pane = app.dashboard.opcua_pane
        # Every entry, with the same health as without ARM: nothing hidden, nothing judged as drift.
        assert set(pane.table.row_keys) == {e.key for e in steady.opcua}
        assert pane.table.get_cell("trust/plc-expired.der", "health").plain == "CRIT expired"
        assert pane.title_text.startswith("OPC UA lists (owner arm) · trust 11 · issuer 5 · 3 critical")
        assert app.dashboard.root_pane.display and "steady" in app.dashboard.root_pane.title_text


async def test_forbidden_arm_is_an_error_in_the_header(dashboard: Dashboard) -> None:
    state = _arm_state(armobjects.unreadable(AreaState.FORBIDDEN, "ARM refused the request (403)"))
    async with dashboard(state) as (app, _pilot, _source):
        assert _line(app, "hdr-arm").plain == "arm forbidden"


async def test_a_drifted_entry_shows_in_the_table_header_and_preview(dashboard: Dashboard) -> None:
    state = _arm_state(drop_trust=("historian.der",))
    entry = state.entry("trust/historian.der")
    assert entry is not None and Health.ARM_DRIFT in entry.flags
    async with dashboard(state) as (app, pilot, _source):
        assert _line(app, "hdr-arm").plain == "arm drift (1)"
        table = app.dashboard.opcua_pane.table
        assert table.get_cell("trust/historian.der", "health").plain == "WARN arm-drift"
        await pilot.press("3")
        assert table.move_to_key("trust/historian.der")
        await pilot.press("enter")
        assert isinstance(app.screen, PreviewModal)
        where = {f.label: f for s in app.screen.doc.sections if s.title == "Where it lives" for f in s.fields}
        assert where["Owner"].value == (
            "ARM: /subscriptions/00000000-1111-2222-3333-444444444444/resourceGroups/rg-aio/providers/"
            "Microsoft.SecretSyncController/secretSyncs/aio-opc-ua-broker-trust-list (edited through ARM)"
        )
        drift = where["  ARM mapping"]
        assert "mapped on the cluster only" in drift.value and drift.level is Level.WARNING


def test_the_preview_says_where_an_entry_lives_in_arm() -> None:
    steady = sitedata.steady_state()
    entry = steady.entry("trust/plc-line2.der")
    assert entry is not None
    assert _where(steady, entry)["Owner"].value.startswith("the cluster only")
    in_step = _arm_state()
    assert _where(in_step, entry)["  ARM mapping"].value == (
        "plc-line2-der -> plc-line2.der (same as on the cluster)"
    )
    unread = _arm_state(UNREACHABLE)
    assert _where(unread, entry)["  ARM mapping"].value.startswith("unknown: ARM not read (cannot reach ARM")
    only_arm = sitedata.arm_owned_site()
    arm = sitedata.arm_in_step(only_arm)
    only_arm.remove(rk.SECRET_SYNCS, only_arm.namespace, TRUST_LIST_SYNC)
    state = sitedata.build(only_arm, arm=arm)
    row = state.entry("trust/plc-line2.der")
    assert row is not None and not row.mapped
    assert (
        "only in ARM; the next portal or CLI change brings it back"
        in _where(state, row)["  ARM mapping"].value
    )


def _where(state: ClusterState, entry: OpcUaEntry) -> dict[str, Field]:
    doc = entry_preview(state, entry)
    return {f.label: f for s in doc.sections if s.title == "Where it lives" for f in s.fields}


async def test_the_filter_finds_drifted_entries_by_word(dashboard: Dashboard) -> None:
    state = _arm_state(drop_trust=("historian.der", "gateway-north.der"))
    async with dashboard(state) as (app, pilot, _source):
        pane = app.dashboard.opcua_pane
        pane.set_filter("arm-drift")
        await pilot.pause()
        assert {e.key for e in pane.shown} == {"trust/historian.der", "trust/gateway-north.der"}


async def test_the_compact_header_keeps_an_arm_problem_and_the_read_only_badge(dashboard: Dashboard) -> None:
    async with dashboard(_arm_state(UNREACHABLE), size=SMALL) as (app, _pilot, _source):
        assert "arm offline" in screen_text(app).splitlines()[0]
    read_only = UiSettings(read_only=True, read_only_locked=True)
    async with dashboard(_arm_state(), size=SMALL, settings=read_only) as (app, _pilot, _source):
        header = screen_text(app).splitlines()[0]
        # 80 columns hold the READ-ONLY badge whole.
        assert header.rstrip().endswith("READ-ONLY")
        assert not _line(app, "hdr-arm").display
