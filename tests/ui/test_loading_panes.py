"""Panes drawn before every collection has answered say ``loading`` for what is missing, never "absent".

The live feed publishes states as the lists arrive (docs/design.md §10.1). Each test here holds one
collection back, as a far API server does, and reads the screen: the Root CA, Issuers and OPC UA panes
and the header name what is loading, in words, and nothing reads "not found", "unmanaged", "hand-added",
"not-synced" or "no problems".
"""

from __future__ import annotations

import re

import pytest

from tests.rawobjects import issuer
from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE, Dashboard, screen_text
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState
from tui.ops.runner import ChangeSession
from tui.ui.app import DashboardApp
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.view.urgency import site_counts

# Words a pane would show for an object that is merely not listed yet, were it taken for absent.
ABSENT_WORDS = ("not found", "unmanaged", "hand-added", "not-synced", "(missing)")


def held(*kinds: rk.ResourceKind) -> ClusterState:
    """The test site as the feed builds it while ``kinds`` have not answered their first list."""
    site = sitedata.make_site()
    for kind in kinds:
        site.objects[kind.key] = {}
        site.states[kind.key] = ResourceStatus(AreaState.PENDING, f"{kind.plural}: not listed yet")
    return sitedata.build(site, vault=False)


def _absent_words(text: str) -> list[str]:
    found = [word for word in ABSENT_WORDS if word in text]
    # Nothing found in what has arrived is no verdict on the site yet.
    return found + re.findall(r"no problems(?! so far)", text)


@pytest.mark.parametrize("kind", [rk.SECRETS, rk.SECRET_SYNCS], ids=lambda k: k.plural)
async def test_opcua_entries_read_loading_while_their_lists_load(
    dashboard: Dashboard, kind: rk.ResourceKind
) -> None:
    state = held(kind)
    async with dashboard(state, WIDE) as (app, pilot, _source):
        await pilot.press("3")
        await pilot.pause()
        pane = app.dashboard.opcua_pane
        assert "trust loading" in str(pane.border_title) and "issuer loading" in str(pane.border_title)
        text = screen_text(app)
        rows = [line for line in text.splitlines() if ".der" in line or ".crt" in line or ".crl" in line]
        assert rows and all("loading" in row for row in rows), rows
        assert not _absent_words(text), _absent_words(text)
        # The header names what is loading, in words.
        assert f"loading: {kind.plural}" in text.splitlines()[0]


async def test_the_root_ca_pane_reads_loading_while_certificates_load(dashboard: Dashboard) -> None:
    state = held(rk.CERTIFICATES)
    async with dashboard(state, WIDE) as (app, pilot, _source):
        await pilot.press("1")
        await pilot.pause()
        pane = app.dashboard.root_pane
        assert str(pane.border_title).startswith("Root CA · loading")
        text = screen_text(app)
        assert "loading certificates" in text
        assert "unmanaged" not in text and "no cert-manager Certificate" not in text
        assert not _absent_words(text), _absent_words(text)


async def test_the_root_ca_pane_reads_loading_while_its_secret_loads(dashboard: Dashboard) -> None:
    state = held(rk.SECRETS)
    async with dashboard(state, WIDE) as (app, pilot, _source):
        await pilot.press("1")
        await pilot.pause()
        text = screen_text(app)
        assert "loading secrets" in text
        assert "secret not found" not in text and "Left      unknown" not in text
        assert not _absent_words(text), _absent_words(text)


async def test_the_issuers_pane_reads_loading_while_issuers_or_certificates_load(
    dashboard: Dashboard,
) -> None:
    async with dashboard(held(rk.CLUSTER_ISSUERS), WIDE) as (app, pilot, source):
        await pilot.press("2")
        await pilot.pause()
        pane = app.dashboard.issuers_pane
        assert "loading clusterissuers" in str(pane.border_title) and "· 0" not in str(pane.border_title)
        assert "issuers loading" in screen_text(app)
        # Certificates pending: how many certificates an issuer backs is unknown, not 0.
        state = held(rk.CERTIFICATES)
        source.push(state)
        await app.wait_for_state(lambda s: s is state)
        await pilot.pause()
        assert "loading certificates" in str(pane.border_title)
        text = screen_text(app)
        assert "loading certificates" in text and "0 certificate(s)" not in text


async def test_one_count_while_loading_and_the_complete_state_takes_over(dashboard: Dashboard) -> None:
    partial = held(rk.SECRET_SYNCS)
    async with dashboard(partial, WIDE) as (app, pilot, source):
        header = screen_text(app).splitlines()[0]
        counts = site_counts(partial.findings).text()
        assert (counts or "no problems so far") in header
        complete = sitedata.build(sitedata.make_site(), vault=False)
        source.push(complete)
        await app.wait_for_state(lambda s: s is complete)
        await pilot.pause()
        text = screen_text(app)
        assert "loading" not in text.splitlines()[0]
        assert "trust loading" not in str(app.dashboard.opcua_pane.border_title)


async def test_no_change_is_started_while_a_collection_is_loading() -> None:
    # A change is planned against the whole site; a staged upload checked against half of it could pass
    # a duplicate the missing Secrets would have shown.
    app = DashboardApp(
        StaticSource(held(rk.SECRETS), INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=_no_session,
    )
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        app.request_change("upload")
        await pilot.pause()
        messages = [str(n.message) for n in app._notifications]
        assert any("still loading secrets" in m for m in messages), messages
        assert len(app.screen_stack) == 1  # no dialog opened


def _no_session() -> ChangeSession:
    raise RuntimeError("no cluster in the pilot tests")


def _with_an_issuer(*held_kinds: rk.ResourceKind) -> ClusterState:
    """The test site plus a namespaced Issuer (the connector's, as on a real site), ``held_kinds`` loading."""
    site = sitedata.make_site()
    site.add(rk.ISSUERS, issuer("aio-opc-opcuabroker-selfsigned", site.namespace))
    for kind in held_kinds:
        site.objects[kind.key] = {}
        site.states[kind.key] = ResourceStatus(AreaState.PENDING, f"{kind.plural}: not listed yet")
    return sitedata.build(site, vault=False)


async def test_the_issuers_cursor_opens_on_the_top_row_whichever_list_came_first(
    dashboard: Dashboard,
) -> None:
    # Issuers listed before ClusterIssuers: the first partial list put the cursor on the Issuer, and it
    # stayed there once the ClusterIssuers above it came (the screenshots differed from run to run).
    partial = _with_an_issuer(rk.CLUSTER_ISSUERS)
    complete = _with_an_issuer()
    async with dashboard(partial, WIDE) as (app, pilot, source):
        table = app.dashboard.issuers_pane.table
        first_partial = table.cursor_key
        assert first_partial == "Issuer/azure-iot-operations/aio-opc-opcuabroker-selfsigned"
        source.push(complete)
        await app.wait_for_state(lambda s: s is complete, timeout=10)
        await pilot.pause()
        keys = table.row_keys
        assert keys[0] != first_partial  # the complete list has a ClusterIssuer on top
        assert table.cursor_key == keys[0]


async def test_the_issuers_cursor_stays_where_the_user_put_it(dashboard: Dashboard) -> None:
    partial = _with_an_issuer(rk.CLUSTER_ISSUERS)
    complete = _with_an_issuer()
    async with dashboard(partial, WIDE) as (app, pilot, source):
        await pilot.press("2")  # the user is in the issuers table
        table = app.dashboard.issuers_pane.table
        chosen = table.cursor_key
        assert chosen is not None
        source.push(complete)
        await app.wait_for_state(lambda s: s is complete, timeout=10)
        await pilot.pause()
        assert table.cursor_key == chosen
