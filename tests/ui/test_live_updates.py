"""Pilot tests: states arriving while the user works: rotation, reconnects, coalescing, ticks, errors."""

from __future__ import annotations

import contextlib
import dataclasses
import gc
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from textual.worker import WorkerFailed

from tests.ui import sitedata
from tests.ui.conftest import INFO, Dashboard, screen_text
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState, RotationPhase
from tui.ui import app as app_module
from tui.ui.app import DashboardApp
from tui.ui.source import Deliver
from tui.ui.view.rows import health_text
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.pane_tabs import PaneTabs
from tui.ui.widgets.text_line import TextLine

NEW_ENTRY = "trust/aaa-new-device.der"


def _plain(app: DashboardApp, widget_id: str) -> str:
    return app.screen.query_one(f"#{widget_id}", TextLine).plain


async def test_rotation_arriving_while_a_row_is_selected_keeps_the_cursor_on_it(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    clock = FrozenClock(sitedata.NOW)
    async with dashboard(clock=clock) as (app, pilot, source):
        pane = app.dashboard.opcua_pane
        table = pane.table
        await pilot.press("3")
        assert table.move_to_key("trust/plc-line2.der")
        row_before = table.cursor_row
        screen_offset = row_before - int(table.scroll_y)
        rows_before = {key: table.rows[key] for key in table.row_keys}

        later = sitedata.NOW + timedelta(minutes=5)
        clock.set(later)
        extra = {
            "aaa-new-device.der": sitedata.certgen.make_leaf(
                None, "New Device", not_before=sitedata.NOW - timedelta(days=1), days=365
            ).der
        }
        rotated = sitedata.rotated_state(steady, later, extra_trust=extra)
        source.push(rotated)
        await app.wait_for_state(lambda s: s is rotated)
        await pilot.pause()

        # The Root CA pane follows the rotation by itself...
        new_cert = rotated.root_ca.certificate
        assert new_cert is not None and rotated.root_ca.rotation.phase is RotationPhase.ROTATED
        assert new_cert.serial in _plain(app, "root-identity")
        assert "rotated" in app.dashboard.root_pane.title_text
        assert new_cert.serial in _plain(app, "root-history")
        # The line reads the current CA only: trust-manager keeps no previous one (docs/domain.md §4.3).
        assert "✓ current CA · 1 cert" in _plain(app, "root-bundle")
        assert "previous" not in _plain(app, "root-bundle")
        assert "rev 2" in _plain(app, "root-resource")
        # ...while the OPC UA table gained a row above the cursor and kept it on the same entry,
        # at the same place on the screen, without rebuilding the rows that did not change.
        assert NEW_ENTRY in table.row_keys and table.row_keys.index(NEW_ENTRY) < table.cursor_row
        assert table.cursor_key == "trust/plc-line2.der"
        assert table.cursor_row == row_before + 1
        assert table.cursor_row - int(table.scroll_y) == screen_offset
        assert app.focused is table
        unchanged = [key for key in rows_before if key in table.rows]
        assert all(table.rows[key] is rows_before[key] for key in unchanged)


async def test_live_update_changes_only_the_cells_that_changed(dashboard: Dashboard) -> None:
    site = sitedata.make_site()
    async with dashboard(sitedata.build(site)) as (app, pilot, source):
        table = app.dashboard.opcua_pane.table
        updates: list[tuple[object, object]] = []
        original = table.update_cell

        def counting(row_key: object, column_key: object, value: object, **kwargs: Any) -> None:
            updates.append((row_key, column_key))
            original(row_key, column_key, value, **kwargs)  # type: ignore[arg-type]

        table.update_cell = counting  # type: ignore[method-assign]
        source.push(sitedata.build(site, vault=False))  # vault not read: unchanged cells stay untouched
        await app.wait_for_state(lambda s: s.vault.url is None)
        await pilot.pause()
        assert updates == []
        # Removing a vault secret flags that one entry.
        site.vault_files.pop("gateway-north.der")
        source.push(sitedata.build(site))
        await app.wait_for_state(
            lambda s: "vault-missing" in [f.value for f in s.entry("trust/gateway-north.der").flags]
        )  # type: ignore[union-attr]
        await pilot.pause()
        assert {str(getattr(row, "value", row)) for row, _ in updates} == {"trust/gateway-north.der"}
        assert table.get_cell("trust/gateway-north.der", "health").plain == "WARN vault-missing"


async def test_reconnecting_connection_shows_in_the_header_with_the_data_age(dashboard: Dashboard) -> None:
    clock = FrozenClock(sitedata.NOW)
    async with dashboard(clock=clock) as (app, pilot, source):
        assert _plain(app, "hdr-connection") == "● live"
        since = sitedata.NOW + timedelta(seconds=30)
        clock.set(since + timedelta(seconds=5))
        source.push(sitedata.reconnecting_state(sitedata.make_site(), clock.now(), since))
        await app.wait_for_state(lambda s: s.areas[0].state.value == "reconnecting")
        await pilot.pause()
        assert _plain(app, "hdr-connection") == "● reconnecting since 12:00Z"
        assert _plain(app, "hdr-age") == "5s old"
        clock.advance(90)
        app.tick()
        await pilot.pause()
        age = app.screen.query_one("#hdr-age", TextLine)
        assert age.plain == "1m 35s old" and age.has_class("-warning")
        assert "reconnecting since 12:00Z" in screen_text(app)


async def test_a_burst_of_states_is_coalesced_into_few_repaints(steady: ClusterState) -> None:
    states = [sitedata.build(sitedata.make_site(), sitedata.NOW + timedelta(seconds=i)) for i in range(3)]
    burst = [states[i % 3] for i in range(30)]

    class BurstSource:
        info = INFO

        def __init__(self) -> None:
            self.done = threading.Event()

        def start(self, deliver: Deliver) -> None:
            deliver(steady)
            # From another thread, as the feed's builder does.
            threading.Thread(target=lambda: ([deliver(s) for s in burst], self.done.set())).start()

        def stop(self) -> None: ...

        def refresh(self) -> None: ...

    source = BurstSource()
    app = DashboardApp(source, settings=UiSettings(repaint_interval=0.2), clock=FrozenClock(sitedata.NOW))
    async with app.run_test(size=(120, 34)) as pilot:
        await app.wait_for_state(lambda s: s is burst[-1])
        await pilot.pause()
        assert source.done.is_set()
        # 31 states delivered: a newer state replaces an older one still queued, and after one is
        # applied the next waits for the interval, so only a handful reach the screen.
        assert 1 <= app.applied <= 4


async def test_countdown_repaints_only_when_its_text_changes(dashboard: Dashboard) -> None:
    # An hour after the snapshot: "59d" left and renewal "in 29d" for the whole next day.
    clock = FrozenClock(sitedata.NOW + timedelta(hours=1))
    async with dashboard(clock=clock) as (app, pilot, _source):
        gauge = app.screen.query_one("#root-gauge", TextLine)
        rotation = app.screen.query_one("#root-rotation", TextLine)
        painted: list[str] = []
        for line in (gauge, rotation):
            original = line.update

            def counting(
                content: Any = "",
                *,
                _line: TextLine = line,
                _original: Callable[..., None] = original,
                **kwargs: Any,
            ) -> None:
                painted.append(_line.id or "")
                _original(content, **kwargs)

            line.update = counting  # type: ignore[method-assign]
        app.tick()
        clock.advance(1)
        app.tick()
        await pilot.pause()
        assert painted == []  # "59d" and "in 29d" read the same a second later
        clock.advance(timedelta(days=1))
        app.tick()
        await pilot.pause()
        assert sorted(painted) == ["root-gauge", "root-rotation"]
        assert "58d" in gauge.plain and "in 28d" in rotation.plain


async def test_a_failing_source_becomes_a_visible_error_not_an_exit() -> None:
    class BrokenSource:
        info = INFO

        def start(self, deliver: Deliver) -> None:
            raise ConnectionRefusedError("connection refused by 127.0.0.1:6443")

        def stop(self) -> None: ...

        def refresh(self) -> None: ...

    app = DashboardApp(BrokenSource(), clock=FrozenClock(sitedata.NOW))
    async with app.run_test(size=(120, 34)) as pilot:
        with contextlib.suppress(WorkerFailed):  # the worker's own failure; the app must carry on
            await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.is_running
        assert "ConnectionRefusedError" in (app.source_error or "")
        assert _plain(app, "hdr-connection").startswith("● error: start source: ConnectionRefusedError")


async def test_refresh_asks_the_source_again(dashboard: Dashboard) -> None:
    async with dashboard() as (app, pilot, source):
        await pilot.press("ctrl+r")
        await app.workers.wait_for_complete()
        assert source.refreshes == 1


async def test_an_unchanged_state_repaints_nothing(dashboard: Dashboard) -> None:
    # What keeps an idle dashboard quiet on an SSH link: the feed rebuilds every 30 s even when nothing
    # changed, and those states must not repaint the panes, their titles or any table cell.
    site = sitedata.make_site()
    async with dashboard(sitedata.build(site)) as (app, pilot, source):
        screen = app.dashboard
        widgets = [screen.root_pane, screen.issuers_pane, screen.opcua_pane, *screen.query(TextLine)]
        refreshed: list[str] = []
        for widget in widgets:
            original = widget.refresh

            def spy(
                *args: Any, _widget: Any = widget, _original: Callable[..., Any] = original, **kwargs: Any
            ) -> Any:
                refreshed.append(_widget.id or type(_widget).__name__)
                return _original(*args, **kwargs)

            widget.refresh = spy  # type: ignore[method-assign]
        equal = sitedata.build(site)
        source.push(equal)
        await app.wait_for_state(lambda s: s is equal)
        await pilot.pause()
        assert refreshed == []


async def test_a_state_the_screen_cannot_show_becomes_a_visible_error(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard() as (app, pilot, source):
        broken = replace(steady, areas=())  # no area views: the panes cannot look up their read state
        source.push(broken)
        await app.wait_for_state(lambda s: s is broken)
        await pilot.pause()
        assert app.is_running
        assert (app.source_error or "").startswith("display: KeyError")
        assert _plain(app, "hdr-connection").startswith("● error: display: KeyError")


async def test_heap_is_frozen_after_the_first_state_and_after_the_vault(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append("collect") or 0)
    # No full pass due by Python's counts (the process's real ones would make one due at random).
    monkeypatch.setattr(gc, "get_count", lambda: (0, 0, 0))
    # What counts as a pause is the test's to say: the app's own idle check (every 0.5 s) must not find one.
    quiet = 3600.0
    monkeypatch.setattr(app_module, "IDLE_COLLECT_QUIET", quiet)
    site = sitedata.make_site()
    no_vault = sitedata.build(site, vault=False)
    settings = UiSettings(
        freeze_heap=True,
        repaint_interval=0,
        typing_quiet=0,
        release_heap=lambda: calls.append("release"),
    )
    async with dashboard(no_vault, settings=settings) as (
        app,
        pilot,
        source,
    ):
        assert calls == ["freeze"]
        source.push(sitedata.build(site, vault=False))
        await app.wait_for_state(lambda s: s is not no_vault)
        assert calls == ["freeze"]  # the vault is not read yet
        with_vault = sitedata.build(site)
        listed = dataclasses.replace(
            with_vault, vault=dataclasses.replace(with_vault.vault, values_pending=12)
        )
        source.push(listed)
        await app.wait_for_state(lambda s: s is listed)
        app._collect_when_idle(now=time.monotonic() + quiet + 1)
        assert calls == ["freeze"]  # listed, its values still coming: they would miss the freeze
        await pilot.press("3")  # someone at the keys as the vault's state comes
        source.push(with_vault)
        await app.wait_for_state(lambda s: s is with_vault)
        assert calls == ["freeze"]  # its collection (tens of ms) waits for a pause
        app._collect_when_idle(now=time.monotonic())
        assert calls == ["freeze"]  # right after a key: not a pause
        app._collect_when_idle(now=time.monotonic() + quiet + 1)
        # The C heap's free pages go back once, after the second freeze: the vault's first read, which
        # used to trim its own garbage, runs in a child process now.
        assert calls == ["freeze", "collect", "freeze", "release"]
        source.push(sitedata.build(site))
        await app.wait_for_state(lambda s: s is not with_vault)
        await pilot.pause()
        app._collect_when_idle(now=time.monotonic() + quiet + 1)
        assert calls == ["freeze", "collect", "freeze", "release"]


async def test_the_tab_strip_and_the_opcua_title_count_the_same_findings(dashboard: Dashboard) -> None:
    # An expiring entry mapped on the cluster only: one entry, two warnings (expiring, arm-drift). The
    # title once counted entries (5 warning) while the tab strip counted findings (6 warn): trial 4.
    site = sitedata.arm_owned_site()
    state = sitedata.build(site, arm=sitedata.arm_in_step(site, drop_trust=["mes-connector.der"]))
    async with dashboard(state, size=(80, 24)) as (app, pilot, _source):
        await pilot.press("3")
        await pilot.pause()
        counts = app.dashboard.query_one(PaneTabs).counts["opcua"]
        assert (counts.critical, counts.warning) == (3, 6)
        title = app.dashboard.opcua_pane.title_text
        assert f"· {counts.critical} critical · {counts.warning} warning" in title
        assert f"3 OPC UA {counts.critical} crit {counts.warning} warn" in _plain(app, "pane-tabs")


async def test_an_entry_being_checked_says_so_instead_of_a_finding(dashboard: Dashboard) -> None:
    # The feed marks an entry mapped after the vault read (trial 4): its health reads "checking vault",
    # with its other flags kept; a checked entry with no flag is no "ok" either.
    state = sitedata.steady_state()
    checked = {"trust/plc-line2.der", "trust/plc-expired.der"}
    opcua = tuple(replace(e, checking=("vault",)) if e.key in checked else e for e in state.opcua)
    async with dashboard(replace(state, opcua=opcua)) as (app, pilot, _source):
        await pilot.press("3")
        await pilot.pause()
        table = app.dashboard.opcua_pane.table
        assert table.get_cell("trust/plc-line2.der", "health").plain == "checking vault"
        assert table.get_cell("trust/plc-expired.der", "health").plain == "CRIT expired,checking vault"


def test_checking_both_sides_reads_as_one_short_word() -> None:
    entry = next(e for e in sitedata.steady_state().opcua if e.target_key == "plc-expired.der")
    assert health_text(replace(entry, checking=("vault", "arm"))) == "CRIT expired,checking vault+arm"
