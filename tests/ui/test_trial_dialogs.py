"""Pilot tests of the user trial's dialog findings (2026-12-05): 7 (control characters in names), 10 (key
bursts in every scrolling dialog), 11 (the stale dialog's keep choice at 80x24) and 15 (one time form).

Each drives the dashboard on the test site (StaticSource, frozen clock) as the trial did, and failed
before its fix.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, RadioSet, Static

from tests import certgen
from tests.ui import sitedata
from tests.ui.conftest import INFO, SMALL, WIDE, screen_text
from tests.ui.test_capabilities import Replanning, _removal_plans
from tests.ui.test_connector_cert_ui import with_connector
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.connector_export import ConnectorExportModal
from tui.ui.modals.delete import DeleteModal
from tui.ui.modals.journal_view import JournalViewModal
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.safe import safe
from tui.ui.modals.stale import KEEP_HINT, KeepButton, StaleModal
from tui.ui.modals.upload import PathInput, UploadModal, complete_path, path_candidates, real_path
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings

ESC_NAME = "bad\x1b[2Jname.der"
SHOWN_NAME = "bad\\1B[2Jname.der"


def _no_session() -> Any:
    raise RuntimeError("no cluster in the pilot tests")


@asynccontextmanager
async def opened(
    state: ClusterState, size: tuple[int, int] = WIDE, sessions: object = _no_session
) -> AsyncIterator[tuple[DashboardApp, Pilot[None]]]:
    app = DashboardApp(
        StaticSource(state, INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=sessions,  # type: ignore[arg-type]
    )
    async with app.run_test(size=size) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await _settle(app, pilot)
        yield app, pilot


async def _settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


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


def _raw_controls(app: DashboardApp) -> list[str]:
    """Control characters (other than the line breaks between rows) on the screen as it is drawn."""
    return sorted({c for c in screen_text(app) if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F})


# --- finding 7: a file name with control characters ------------------------------------------------


def _leaf_der() -> bytes:
    return certgen.make_leaf(None, "Trial PLC", not_before=sitedata.NOW - timedelta(days=1), days=365).der


def test_completion_and_listing_escape_control_characters(tmp_path: Path) -> None:
    (tmp_path / ESC_NAME).write_bytes(b"x")
    (tmp_path / "bad\x07bell.der").write_bytes(b"x")
    (tmp_path / "badly.der").write_bytes(b"x")
    listed = path_candidates(f"{tmp_path}/bad")
    assert listed == sorted([SHOWN_NAME, "bad\\07bell.der", "badly.der"])
    assert complete_path(f"{tmp_path}/bad\\1") == f"{tmp_path}/{SHOWN_NAME}"
    # What the box holds reads the real file; a name with a real backslash is read as it is.
    assert real_path(f"{tmp_path}/{SHOWN_NAME}") == f"{tmp_path}/{ESC_NAME}"
    (tmp_path / "back\\1Bslash.der").write_bytes(b"y")
    assert real_path(f"{tmp_path}/back\\1Bslash.der") == f"{tmp_path}/back\\1Bslash.der"
    # Escapes that stand for ordinary text are not control characters: left as typed.
    assert real_path(f"{tmp_path}/plc\\41.der") == f"{tmp_path}/plc\\41.der"


def test_safe_escapes_a_styled_text_and_keeps_its_styles() -> None:
    text = Text("ok ")
    text.append("bad\x1b[2J", style="bold")
    text.append(" tail", style="red")
    escaped = safe(text)
    assert escaped.plain == "ok bad\\1B[2J tail"
    assert [(s.start, s.end, str(s.style)) for s in escaped.spans] == [(3, 12, "bold"), (12, 17, "red")]
    plain = Text("nothing to escape\non two lines")
    assert safe(plain) is plain  # line breaks stay: a dialog block has several lines


async def test_upload_completes_a_name_with_escape_safely_and_the_file_stays_usable(
    steady: ClusterState, tmp_path: Path
) -> None:
    folder = tmp_path / "trial"
    folder.mkdir()
    der = _leaf_der()
    (folder / ESC_NAME).write_bytes(der)
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("u")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        box = modal.query_one("#upload-path", PathInput)
        await pilot.press(*f"{folder}/ba")
        await _settle(app, pilot)
        assert _raw_controls(app) == []  # the completion shown after the cursor is escaped too
        await pilot.press("tab")
        await _settle(app, pilot)
        assert box.value == f"{folder}/{SHOWN_NAME}"
        assert _raw_controls(app) == []
        verdict = str(modal.query_one("#upload-verdict", Static).render())
        # The name itself cannot be a list entry: refused in one line, quoted escaped.
        assert f"trust/{SHOWN_NAME}: not a valid SecretSync targetKey" in verdict
        # The file can still be used under another name: the bytes read are the real file's.
        await pilot.press("tab", "tab", *"trial-plc.der")
        await _settle(app, pilot)
        assert modal.can_stage, str(modal.query_one("#upload-verdict", Static).render())
        check = modal.last_check
        assert check is not None and check.change is not None and check.change.data == der
        assert _raw_controls(app) == []
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert [c.describe().split(" from ")[0] for c in app.staging.changes] == ["add trust/trial-plc.der"]


async def test_pasted_or_set_control_characters_are_held_escaped(steady: ClusterState) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3", "u")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        entry = modal.query_one("#upload-entry", Input)
        entry.focus()
        await pilot.pause()
        entry.post_message(events.Paste("a\x1bb.der"))
        await _settle(app, pilot)
        assert entry.value == "a\\1Bb.der" and entry.cursor_position == len("a\\1Bb.der")
        box = modal.query_one("#upload-path", PathInput)
        box.value = "/tmp/x\x1by"
        await _settle(app, pilot)
        assert box.value == "/tmp/x\\1By"
        assert _raw_controls(app) == []


async def test_delete_and_stale_dialogs_escape_entry_names(steady: ClusterState) -> None:
    entry = next(e for e in steady.opcua if e.key == "trust/historian.der")
    hostile = dataclasses.replace(entry, target_key="hist\x1b[2Jorian.der", source_path="hist\x1bsecret")
    assert hostile.key != entry.key
    state = dataclasses.replace(steady, opcua=tuple(hostile if e is entry else e for e in steady.opcua))
    async with opened(state, SMALL) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key(hostile.key)
        await pilot.press("d")
        assert isinstance(app.screen, DeleteModal)
        await pilot.pause()
        text = screen_text(app)
        assert "hist\\1B[2Jorian.der" in text and "hist\\1Bsecret" in text
        assert _raw_controls(app) == []


# --- finding 10: every key of a burst scrolls -----------------------------------------------------


async def test_every_key_of_a_burst_scrolls_the_apply_plan(steady: ClusterState) -> None:
    reviewed, _now = _removal_plans()
    session = Replanning([reviewed])
    async with opened(steady, SMALL, sessions=lambda: session) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("d", "ctrl+s", "a")
        modal = app.screen
        assert isinstance(modal, ApplyModal)
        await _settle(app, pilot)
        # A plan long enough to scroll at 80x24 (a bulk delete's diff is easily this long).
        modal.query_one("#apply-diff", Static).update("\n".join(f"diff line {i}" for i in range(60)))
        await pilot.pause()
        body = modal.query_one("#apply-body", VerticalScroll)
        assert body.max_scroll_y > 20
        await _burst(app, pilot, "j", 10)
        assert body.scroll_y == 10
        await _burst(app, pilot, "k", 4)
        assert body.scroll_y == 6
        await _burst(app, pilot, "down", 3)  # the arrows, on the focused body, too
        assert body.scroll_y == 9


async def test_every_key_of_a_burst_scrolls_the_help(steady: ClusterState) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("question_mark")
        body = app.screen.query_one("#help-body", ScrollBody)
        assert body.max_scroll_y > 10
        await _burst(app, pilot, "down", 7)
        assert body.scroll_y == 7
        await _burst(app, pilot, "j", 5)  # j/k as in the preview and the apply dialog
        assert body.scroll_y == 12
        await _burst(app, pilot, "k", 2)
        assert body.scroll_y == 10


def test_every_scrolling_dialog_body_counts_each_key() -> None:
    """The bodies a user scrolls are ScrollBody (the preview's fix), not a plain VerticalScroll."""
    import inspect

    from tui.ui.modals import apply, audit_view, delete, journal_view, stale, upload, vault_add

    for module in (apply, audit_view, delete, journal_view, stale, upload, vault_add):
        source = inspect.getsource(module)
        assert "with ScrollBody(" in source and "with VerticalScroll(" not in source, module.__name__


async def test_every_key_of_a_burst_scrolls_the_journal_detail(steady: ClusterState, tmp_path: Path) -> None:
    from tests.ui.test_capabilities import StandIn
    from tests.unit.test_audit_trail import JOURNAL_ID, _plan

    state = tmp_path / "state"
    session = StandIn(state)
    many = dataclasses.replace(_plan(), changes=tuple(f"add trust/plc-{i}.der" for i in range(40)))
    session.journals.create(JOURNAL_ID, many).close()
    async with opened(steady, SMALL, sessions=lambda: session) as (app, pilot):
        await _settle(app, pilot)
        if not isinstance(app.screen, JournalViewModal) and app.screen is not app.dashboard:
            await pilot.press("escape")  # the pending-journal offer at start: later
        await pilot.press("J")
        view = app.screen
        assert isinstance(view, JournalViewModal)
        await _settle(app, pilot)
        await pilot.press("enter", "tab")
        body = view.query_one(".history-detail", VerticalScroll)
        assert app.focused is body and body.max_scroll_y > 10
        await _burst(app, pilot, "down", 6)
        assert body.scroll_y == 6


async def test_every_key_of_a_burst_scrolls_a_long_stale_list(steady: ClusterState) -> None:
    reasons = {f"trust/plc-{i:02}.der": "expired at 2026-11-23 02:42Z" for i in range(40)}
    async with opened(steady, SMALL) as (app, pilot):
        modal = StaleModal(reasons)
        await app.push_screen(modal)
        await pilot.pause()
        body = modal.query_one("#stale-body", VerticalScroll)
        assert body.max_scroll_y > 20
        await _burst(app, pilot, "j", 9)
        assert body.scroll_y == 9
        await _burst(app, pilot, "k", 3)
        assert body.scroll_y == 6


# --- finding 11: the stale dialog at 80x24 ----------------------------------------------------------


async def test_the_kept_copy_is_chosen_with_the_keyboard_at_80x24(steady: ClusterState) -> None:
    async with opened(steady, SMALL) as (app, pilot):
        pane = app.dashboard.opcua_pane
        await pilot.press("3", "x")
        modal = app.screen
        assert isinstance(modal, StaleModal)
        text = screen_text(app)
        assert KEEP_HINT in text  # the whole hint fits at 80 columns
        # Kept and removed differ in words and in the mark, not only in colour; the words fit at 80
        # columns beside the focus border (the demo's "removed if you delete (suggested)" was cut).
        assert "▐●▌ trust/plc-line1.der  ✓ kept (suggested)" in text
        assert "▐○▌ trust/plc-line1-copy.der  ✗ removed" in text
        # As the hint says: tab (from the focused Review button) reaches the choice at once.
        await pilot.press("tab")
        assert isinstance(app.focused, RadioSet) and app.focused.id == "dup-0"
        await pilot.press("down", "space")
        await pilot.pause()
        assert modal.query_one("#dup-0-1", KeepButton).value
        text = screen_text(app)
        assert "▐●▌ trust/plc-line1-copy.der  ✓ kept" in text
        assert "▐○▌ trust/plc-line1.der  ✗ removed (suggested)" in text
        assert "trust/plc-line1.der" in pane.marked and "trust/plc-line1-copy.der" not in pane.marked
        await pilot.press("up", "enter")  # enter chooses too
        await pilot.pause()
        assert modal.query_one("#dup-0-0", KeepButton).value
        assert "trust/plc-line1-copy.der" in pane.marked
        await pilot.press("shift+tab", "shift+tab", "shift+tab")  # round the buttons, back to the choice
        assert app.focused is modal.query_one("#dup-0", RadioSet)


# --- finding 15: one time form in dialog text ------------------------------------------------------


async def test_the_write_file_notice_uses_the_screen_time_form(tmp_path: Path) -> None:
    async with opened(with_connector()) as (app, pilot):
        await pilot.press("3", "o")
        await pilot.pause()
        await pilot.press("w")
        await pilot.pause()
        dialog = app.screen
        assert isinstance(dialog, ConnectorExportModal)
        out = tmp_path / "connector.der"
        dialog.query_one(Input).value = str(out)
        await pilot.press("enter")
        await pilot.pause()
        notice = next(str(n.message) for n in app._notifications if str(n.message).startswith("wrote "))
        view = dialog.view
        assert view.certificate is not None
        expires = view.certificate.not_after.strftime("%Y-%m-%d %H:%MZ")
        assert f"expires {expires}, SHA-1" in notice
        assert "T" not in notice.split("expires ")[1].split(",")[0]


def test_the_unfinished_apply_dialog_says_when_in_the_screen_form(tmp_path: Path) -> None:
    from tests.unit.test_audit_trail import JOURNAL_ID, T0, _plan
    from tui.ops.journal import JournalStore
    from tui.ui.modals.journal import summary_text
    from tui.ui.view.levels import DEFAULT_PALETTE

    store = JournalStore(tmp_path)
    store.create(JOURNAL_ID, _plan()).close()
    (info,) = store.pending()
    text = summary_text(info, DEFAULT_PALETTE).plain
    assert f"began {T0:%Y-%m-%d %H:%M}Z " in text  # not 2026-03-01T12:00:00Z
    assert "T12:00:00" not in text


async def test_a_notice_from_a_change_worker_is_escaped(steady: ClusterState) -> None:
    from tui.ui.messages import ChangeReported

    async with opened(steady, SMALL) as (app, pilot):
        app.post_message(ChangeReported("renewal of root\x1b[2J requested"))
        await _settle(app, pilot)
        assert "renewal of root\\1B[2J requested" in [str(n.message) for n in app._notifications]
        assert _raw_controls(app) == []


async def test_a_bundle_named_like_markup_keeps_its_name_in_the_split_title(
    steady: ClusterState, tmp_path: Path
) -> None:
    """Textual reads a ``str`` border title as markup: ``vendor[red]x.pem`` lost its ``[red]`` (and a
    closing tag, were one possible in a file name, raises a MarkupError)."""
    from tui.ui.modals.split_bundle import SplitBundleModal

    leaf = certgen.make_leaf(None, "Press 4 PLC", not_before=sitedata.NOW - timedelta(days=1), days=365)
    other = certgen.make_leaf(None, "Press 5 PLC", not_before=sitedata.NOW - timedelta(days=1), days=365)
    bundle = tmp_path / "vendor[red]x\x1b.pem"
    bundle.write_bytes(leaf.pem + other.pem)
    async with opened(steady, SMALL) as (app, pilot):
        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("u")
        modal = app.screen
        assert isinstance(modal, UploadModal)
        modal.query_one("#upload-path", PathInput).value = str(bundle)
        await _settle(app, pilot)
        await pilot.press("ctrl+b")
        await pilot.pause()
        assert isinstance(app.screen, SplitBundleModal)
        assert "Split vendor[red]x\\1B.pem: 2 certificates" in screen_text(app)
        assert _raw_controls(app) == []


async def test_the_vault_dialog_escapes_secret_names_and_the_vault_url(steady: ClusterState) -> None:
    from types import MappingProxyType

    from tui.core.model.snapshot import VaultSecret
    from tui.ui.change_session import VaultCandidates, describe_candidate
    from tui.ui.modals.vault_add import VaultAddModal

    leaf = certgen.make_leaf(None, "PLC Nine", not_before=sitedata.NOW - timedelta(days=1), days=365)
    hostile = VaultSecret(
        "plc\x1b[2J-9",
        leaf.der.hex(),
        "application/pkix-cert",
        MappingProxyType({"file-encoding": "hex"}),
        True,
    )
    found = VaultCandidates(
        "https://vault\x1b]0;x\x07.example", (describe_candidate(hostile),), {hostile.name: hostile}
    )
    async with opened(steady, SMALL) as (app, pilot):
        modal = VaultAddModal(steady, app.staging, lambda: found, now=sitedata.NOW)
        await app.push_screen(modal)
        await _settle(app, pilot)
        text = screen_text(app)
        assert "plc\\1B[2J-9  certificate PLC Nine" in text
        assert "https://vault\\1B]0;x" in text  # (Rich drops the BEL itself)
        assert _raw_controls(app) == []
