"""Pilot tests of the dialog and pane friction issue 13 reported (items 7, 8, 9, 11, 18, 22, 24, 29).

Each test drives the dashboard on the test site (StaticSource, frozen clock) the way the report did and
asserts what the user sees or what got staged; each failed before its fix.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

from rich.console import Console
from rich.text import Text
from textual import events
from textual.pilot import Pilot
from textual.widgets import Checkbox, Static

from tests.ui import sitedata
from tests.ui.conftest import INFO, SMALL, WIDE, screen_text
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ops.runner import ChangeSession
from tui.ui.app import DashboardApp
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.delete import DeleteModal
from tui.ui.modals.help import HelpModal
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.preview import PreviewModal, ScrollBody, _field_line
from tui.ui.modals.stale import StaleModal
from tui.ui.modals.upload import PathInput, UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import StaticSource
from tui.ui.view.levels import DEFAULT_PALETTE, Level
from tui.ui.view.preview_doc import Field, PreviewDoc, Section
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.text_line import Hanging, TextLine


def _no_session() -> ChangeSession:
    raise RuntimeError("no cluster in the pilot tests")


@asynccontextmanager
async def opened(
    state: ClusterState, size: tuple[int, int] = WIDE
) -> AsyncIterator[tuple[DashboardApp, Pilot[None]]]:
    app = DashboardApp(
        StaticSource(state, INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=_no_session,
    )
    async with app.run_test(size=size) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await _settle(app, pilot)
        yield app, pilot


async def _settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _notices(app: DashboardApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _verdict(app: DashboardApp) -> str:
    return str(app.screen.query_one(".verdict").render())


async def _burst(app: DashboardApp, pilot: Pilot[None], key: str, count: int) -> None:
    """``count`` presses of ``key`` in one go, as a held key arrives over SSH: no repaint in between."""
    driver = app._driver
    assert driver is not None
    for _ in range(count):
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        driver.send_message(event)
    await pilot.pause()
    await pilot.pause()


# --- item 11: the delete dialog -------------------------------------------------------------------


async def test_delete_opens_off_the_purge_box_and_a_reflex_enter_keeps_the_secret(
    steady: ClusterState,
) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/gateway-north.der")
        await pilot.press("d")
        modal = app.screen
        assert isinstance(modal, DeleteModal)
        purge = modal.query_one("#delete-purge", Checkbox)
        assert app.focused is not purge
        await pilot.press("enter")
        assert isinstance(app.screen, DashboardScreen)
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/gateway-north.der (its vault secret is kept)"
        ]


async def test_delete_is_not_ready_while_the_purge_waits_for_its_phrase(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/plc-line2.der")
        await pilot.press("d")
        modal = app.screen
        assert isinstance(modal, DeleteModal)
        assert "✓ ready to stage" in _verdict(app)
        await pilot.click("#delete-purge")  # ticked with the mouse: the confirmation is still empty
        assert modal.purge
        verdict = _verdict(app)
        assert "✓ ready to stage" not in verdict
        assert "type plc-line2-der to allow the purge" in verdict
        await pilot.press(*"plc-line2-der")
        assert "✓ ready to stage" in _verdict(app) and "to allow the purge (or" not in _verdict(app)
        # enter on the purge box does not untick it (only space does): it stages, purge confirmed.
        modal.query_one("#delete-purge", Checkbox).focus()
        await pilot.press("enter")
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/plc-line2.der and delete + purge its vault secret"
        ]


# --- item 22: the list choice ---------------------------------------------------------------------


async def test_the_list_choice_takes_one_key_does_not_wrap_and_says_why_it_chose(
    steady: ClusterState,
) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("issuer/contoso-site-ca.der")
        await pilot.press("u")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        choice = modal.query_one(ListChoice)
        assert choice.value == "issuer" and modal.form().list_name == "issuer"
        assert choice.note == "←/→ · issuer: the cursor's row"
        assert "◉ issuer  ←/→ · issuer: the cursor's row" in screen_text(app)
        choice.focus()
        await pilot.press("right")  # already the last: no wrap back to trust
        assert choice.value == "issuer"
        await pilot.press("left")  # one key, no space to confirm
        assert choice.value == "trust" and modal.form().list_name == "trust"
        assert choice.note == "←/→ · was issuer (the cursor's row)"
        await pilot.press("left")
        assert choice.value == "trust"
        await pilot.press("i")
        assert choice.value == "issuer"
        await pilot.press("space")
        assert choice.value == "trust"


async def test_the_vault_dialog_has_the_same_list_choice(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("v")
        modal = app.screen
        assert isinstance(modal, VaultAddModal)
        choice = modal.query_one(ListChoice)
        assert choice.value == "trust" and choice.note == "←/→ · trust: the cursor's row"
        choice.focus()
        await pilot.press("right")
        assert modal._list_name() == "issuer"


# --- item 24: help, filter footer, path completion ------------------------------------------------


async def test_help_lists_the_filter_words(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpModal)
        titles = [group.title for group in app.screen.groups]
        assert "Filter words" in titles
        words = next(g for g in app.screen.groups if g.title == "Filter words")
        text = " ".join(f"{row.keys} {row.description}" for row in words.rows)
        for word in ("!word", "problem", "healthy", "critical", "crl-stale", "expiring", "duplicate"):
            assert word in text


async def test_the_footer_shows_enter_and_esc_while_filtering(steady: ClusterState) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3", "slash")
        pane = app.dashboard.opcua_pane
        assert app.focused is pane.filter_input
        footer = screen_text(app).splitlines()[-1]
        assert "Keep filter" in footer and "Clear filter" in footer
        await pilot.press(*"plc", "escape")
        assert pane.filter_input.value == "" and not pane.filter.active
        assert app.focused is pane.table and not pane.has_class("-filtering")


async def test_tab_on_an_ambiguous_path_lists_the_candidates(steady: ClusterState, tmp_path: Path) -> None:
    for name in ("plc-a.der", "plc-b.der", "other.der"):
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "plc-dir").mkdir()
    async with opened(steady) as (app, pilot):
        await pilot.press("3", "u")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        box = modal.query_one("#upload-path", PathInput)
        box.value = f"{tmp_path}/plc-"
        box.cursor_position = len(box.value)
        await _settle(app, pilot)
        await pilot.press("tab")
        await _settle(app, pilot)
        assert app.focused is box and box.value == f"{tmp_path}/plc-"
        assert modal.query_one("#upload-candidates", Static).display
        listed = str(modal.query_one("#upload-candidates", Static).render())
        assert listed.startswith("3 fit:") and "plc-a.der" in listed and "plc-dir/" in listed
        assert "other.der" not in listed
        await pilot.press("tab")  # listed already: tab moves on, as a shell's third tab would not matter
        await _settle(app, pilot)
        assert app.focused is not box
        await pilot.press("shift+tab")  # back: the path is kept, not selected
        assert app.focused is box and box.selection.is_empty
        await pilot.press("a")
        assert box.value == f"{tmp_path}/plc-a"
        await _settle(app, pilot)
        listing = modal.query_one("#upload-candidates", Static)
        assert str(listing.render()) == "" and not listing.display  # typed on: list gone, line too


# --- item 7: bursts of keys in the preview --------------------------------------------------------


async def test_every_key_of_a_burst_scrolls_the_preview(steady: ClusterState) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("enter")
        assert isinstance(app.screen, PreviewModal)
        body = app.screen.query_one("#preview-body", ScrollBody)
        assert body.max_scroll_y > 10
        await _burst(app, pilot, "j", 8)
        assert body.scroll_y == 8
        await _burst(app, pilot, "down", 3)
        assert body.scroll_y == 11
        await _burst(app, pilot, "k", 5)
        assert body.scroll_y == 6
        await _burst(app, pilot, "k", 20)  # clamped at the top, and the next j moves at once
        await _burst(app, pilot, "j", 1)
        assert body.scroll_y == 1


# --- item 8: labels never run into values ---------------------------------------------------------


def test_a_label_as_wide_as_its_column_keeps_a_gap() -> None:
    line = _field_line(
        Field("SecretSync mapping", "aio-opc-ua-broker-trust-list", Level.PLAIN), DEFAULT_PALETTE
    )
    assert line.plain == "SecretSync mapping  aio-opc-ua-broker-trust-list"
    long = _field_line(Field("aio-broker-frontend-server-18883", "ready"), DEFAULT_PALETTE)
    assert long.plain == "aio-broker-frontend-server-18883  ready"
    assert _field_line(Field("Serial", "01"), DEFAULT_PALETTE).plain == "Serial            01"


# --- item 9: x, then esc ---------------------------------------------------------------------------


async def test_after_x_and_esc_the_marked_rows_are_in_view_and_the_sort_is_named(
    steady: ClusterState,
) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        pane = app.dashboard.opcua_pane
        await pilot.press("3")
        pane.table.move_to_key("issuer/northwind-lab-ca.der")  # the bottom of the table
        await pilot.press("x")
        assert isinstance(app.screen, StaleModal)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert pane.table.cursor_key in pane.marked
        assert pane.table.row_keys[0] == pane.table.cursor_key
        assert pane.table.scroll_y == 0
        assert "sort marked first ▲" in pane.subtitle_text
        assert "sort   " not in pane.subtitle_text


# --- item 18: the staged notice and the apply dialog ----------------------------------------------


async def test_opening_a_dialog_clears_the_notice_that_would_cover_its_buttons(
    steady: ClusterState,
) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/gateway-north.der")
        await pilot.press("d", "enter")
        assert any(n.startswith("staged: remove trust/gateway-north.der") for n in _notices(app))
        await pilot.press("a")
        assert isinstance(app.screen, ApplyModal)
        assert not any(n.startswith("staged:") for n in _notices(app))


# --- item 29: copy from the row -------------------------------------------------------------------


async def test_c_and_shift_c_copy_from_the_row_under_the_cursor(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        copied: list[str] = []
        app.copy_to_clipboard = copied.append  # type: ignore[method-assign,assignment]
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        entry = steady.entry("trust/historian.der")
        assert entry is not None and entry.certificate is not None
        await pilot.press("c")
        assert copied == [entry.certificate.sha1]
        assert f"copied thumbprint {entry.certificate.sha1}" in _notices(app)
        await pilot.press("C")
        assert copied[-1].startswith("-----BEGIN CERTIFICATE-----") and "PRIVATE" not in copied[-1]
        assert copied[-1] == entry.certificate.pem
        app.dashboard.opcua_pane.table.move_to_key("issuer/contoso-site-ca.crl")
        crl = steady.entry("issuer/contoso-site-ca.crl")
        assert crl is not None and crl.crl is not None
        await pilot.press("c")
        assert copied[-1] == crl.crl.sha256
        await pilot.press("1", "c")  # the Root CA pane: the root CA
        assert steady.root_ca.certificate is not None
        assert copied[-1] == steady.root_ca.certificate.sha1
        await pilot.press("2", "c")  # an issuer row has no certificate of its own: says so
        assert len(copied) == 4 and "no thumbprint to copy" in _notices(app)[-1]


# --- item 14: the Root CA pane after a rotation at 120x34 -----------------------------------------


def _root_lines(app: DashboardApp) -> list[str]:
    """The Root CA pane's rows as on screen (the left pane of the top row), without its border."""
    rows = screen_text(app).splitlines()[2:17]
    return [row[1:54].rstrip() for row in rows]


async def test_the_root_ca_pane_keeps_its_layout_through_a_rotation(steady: ClusterState) -> None:
    clock = FrozenClock(sitedata.NOW)
    source = StaticSource(steady, INFO)
    app = DashboardApp(source, settings=UiSettings(), clock=clock)
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        pane = app.dashboard.root_pane
        width_before = pane.scrollable_content_region.width
        later = sitedata.NOW + timedelta(days=3)
        clock.set(later)
        rotated = sitedata.rotated_state(steady, later)
        source.push(rotated)
        await app.wait_for_state(lambda s: s is rotated)
        await pilot.pause()
        assert pane.scrollable_content_region.width == width_before  # no reflow when lines are added
        lines = _root_lines(app)
        labels = [line[1:11].strip() for line in lines if line.strip()]
        for label in ("Left", "Rotation", "Renews", "Bundle", "Rotations", "Subject", "SHA-1"):
            assert label in labels, f"{label} not in view:\n" + "\n".join(lines)
        # A label is never alone on its line, and a wrapped value stays in the value column.
        for line in lines:
            head, value = line[1:11], line[11:]
            assert not (head.strip() and not value.strip()), f"label alone: {line!r}"
        history = next(i for i, line in enumerate(lines) if line[1:11].strip() == "Rotations")
        assert lines[history].endswith("rev 2"), lines[history]  # one rotation, one line
        sha1 = rotated.root_ca.certificate.sha1 if rotated.root_ca.certificate else ""
        assert any(line[11:].strip() == sha1 for line in lines)  # the whole SHA-1 on one line


async def test_the_root_ca_pane_says_reconnecting_in_its_title(steady: ClusterState) -> None:
    site = sitedata.make_site(sitedata.NOW)
    broken = sitedata.reconnecting_state(site, sitedata.NOW, sitedata.NOW - timedelta(seconds=30))
    async with opened(broken) as (app, _pilot):
        assert app.dashboard.root_pane.title_text.endswith("· reconnecting")


# --- item 21: connection state --------------------------------------------------------------------


def _vault_item(app: DashboardApp) -> str:
    return app.dashboard.query_one("#hdr-vault", TextLine).plain


async def test_ctrl_r_says_at_once_that_it_reads_and_then_that_it_has_read(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        assert _vault_item(app) == "vault ok (16)"
        await pilot.press("ctrl+r")
        # At once, before anything came back: in the header, where the vault's state is read; no notice
        # (mounting one cost the keys typed next 20-35 ms each).
        assert _vault_item(app) == "vault re-reading…"
        assert not [n for n in _notices(app) if "re-reading" in n]
        await _settle(app, pilot)
        app.tick()  # the StaticSource delivers at once: the next tick says so
        await pilot.pause()
        assert "read again: vault ok (16)" in _notices(app)
        assert _vault_item(app) == "vault ok (16)"
        app.tick()
        await pilot.pause()
        assert _notices(app).count("read again: vault ok (16)") == 1


async def test_ctrl_r_from_a_dialog_says_it_in_a_notice(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("question_mark")  # the help screen covers the dashboard and its header
        await pilot.pause()
        assert app.screen is not app.dashboard
        app.action_refresh()
        await pilot.pause()
        assert "re-reading the Key Vault and ARM…" in _notices(app)
        # The header under the dialog says it too, for when the dialog is closed before the read is back.
        assert _vault_item(app) == "vault re-reading…"


async def test_a_long_outage_says_what_to_check_once_and_live_hides_the_age(steady: ClusterState) -> None:
    clock = FrozenClock(sitedata.NOW)
    source = StaticSource(steady, INFO)
    app = DashboardApp(source, settings=UiSettings(), clock=clock)
    async with app.run_test(size=SMALL) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        assert app.screen.query_one("#hdr-age", Static).render().plain == ""  # type: ignore[union-attr]
        since = sitedata.NOW
        clock.set(since + timedelta(seconds=20))
        broken = sitedata.reconnecting_state(sitedata.make_site(), clock.now(), since)
        source.push(broken)
        await app.wait_for_state(lambda s: s is broken)
        app.tick()
        await pilot.pause()
        assert "20s old" in screen_text(app)
        assert not any("has not answered" in n for n in _notices(app))  # a short outage needs nothing
        clock.advance(45)
        app.tick()
        await pilot.pause()
        hints = [n for n in _notices(app) if "has not answered since 12:00Z" in n]
        assert len(hints) == 1
        assert f"the API server at {INFO.server}" in hints[0] and "update the kubeconfig" in hints[0]
        clock.advance(30)
        app.tick()
        await pilot.pause()
        assert len([n for n in _notices(app) if "has not answered" in n]) == 1  # not on every tick
        clock.advance(5 * 60)
        app.tick()
        await pilot.pause()
        hints = [n for n in _notices(app) if "has not answered" in n]
        assert len(hints) == 2 and "(6m 35s)" in hints[-1]  # again while it lasts


def test_a_wrapped_value_stays_in_its_column_and_apart_from_its_note() -> None:
    console = Console(width=30, record=True, color_system=None)
    text = Text("Renews    2027-07-16 09:30:00Z (in 40d)\nSHA-1     C037645609A4D8E1B4B5333CE5EDEB3F")
    console.print(Hanging(text, 10))
    lines = console.export_text().splitlines()
    assert lines == [
        "Renews    2027-07-16 09:30:00Z",
        "          (in 40d)",
        "SHA-1     C037645609A4D8E1B4B5",
        "          333CE5EDEB3F",
    ]
    assert Hanging(Text("Left      5d"), 10).text.plain == "Left      5d"


async def test_preview_values_wrap_under_their_column(steady: ClusterState) -> None:
    subject = "CN=Robot Cell 07 Controller,DC=robot-cell-07,OU=Body Shop,O=Contoso Manufacturing,L=Plant 1"
    doc = PreviewDoc("trust list: robot-cell-07.der", (Section("Certificate", (Field("Subject", subject),)),))
    async with opened(steady, SMALL) as (app, pilot):
        await app.push_screen(PreviewModal(doc))
        await pilot.pause()
        rows = screen_text(app).splitlines()
        first = next(i for i, row in enumerate(rows) if "Subject  " in row)
        start = rows[first].index("Subject")
        # The subject is longer than the line: its continuation starts under the value, not the label.
        follow = rows[first + 1][start:]
        assert follow.startswith(" " * 18), rows[first : first + 2]
