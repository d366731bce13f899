"""Pilot tests of the change dialogs on the test site (StaticSource, frozen clock): open, validate bad
input with the core's exact message, stage, cancel with esc, marks with space and x, unstage and
discard, and the read-only view hiding every change key.

These dialogs stage changes without touching the network. The session factory given to the app here
cannot connect (it says so when asked): planning, applying, the vault and renewals are tested on the
real code path in ``test_change_demo.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input

from tests import certgen
from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE, screen_text
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ops.runner import ChangeSession
from tui.ui.app import DashboardApp, help_groups
from tui.ui.messages import SourceFailed
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.confirm import ConfirmModal
from tui.ui.modals.delete import DeleteModal, PurgeBox
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.list_choice import ListChoice
from tui.ui.modals.preview import PreviewModal
from tui.ui.modals.renew import RenewModal
from tui.ui.modals.stale import StaleModal
from tui.ui.modals.upload import PathInput, UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.palette import DashboardCommands
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.widgets.filter_input import FilterInput
from tui.ui.widgets.opcua_pane import OpcUaPane

NO_CLUSTER = "no cluster in the pilot tests"


def _no_session() -> ChangeSession:
    raise RuntimeError(NO_CLUSTER)


@asynccontextmanager
async def opened(
    state: ClusterState,
    *,
    settings: UiSettings | None = None,
    writes: bool = True,
) -> AsyncIterator[tuple[DashboardApp, Pilot[None]]]:
    app = DashboardApp(
        StaticSource(state, INFO),
        settings=settings or UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=_no_session if writes else None,
    )
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await _settle(app, pilot)
        yield app, pilot


async def _settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    await app.workers.wait_for_complete()
    await pilot.pause()


def _notices(app: DashboardApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _pane(app: DashboardApp) -> OpcUaPane:
    return app.dashboard.opcua_pane


@pytest.fixture
def leaf() -> certgen.Issued:
    return certgen.make_leaf(None, "New PLC", not_before=sitedata.NOW - timedelta(days=1), days=365)


async def _open_upload(
    app: DashboardApp,
    pilot: Pilot[None],
    path: Path,
    list_id: str = "#list-trust",
) -> UploadModal:
    await pilot.press("3", "u")
    modal = app.screen
    assert isinstance(modal, UploadModal)
    await pilot.click(list_id)
    modal.query_one("#upload-path", Input).value = str(path)
    await _settle(app, pilot)
    return modal


def _verdict(app: DashboardApp) -> str:
    return str(app.screen.query_one(".verdict").render())


async def test_upload_checks_as_you_type_and_stages_a_row(
    steady: ClusterState, leaf: certgen.Issued, tmp_path: Path
) -> None:
    wrong = tmp_path / "new-plc.txt"
    wrong.write_bytes(leaf.der)
    good = tmp_path / "new-plc.der"
    good.write_bytes(leaf.der)
    async with opened(steady) as (app, pilot):
        modal = await _open_upload(app, pilot, wrong)
        assert _verdict(app).splitlines()[0] == (
            "✗ trust/new-plc.txt: extension .txt is not allowed in the trust list (use .der or .crt)"
        )
        assert modal.query_one("#upload-stage", Button).disabled
        await pilot.press("ctrl+s")
        assert app.screen is modal and "nothing to stage yet: fix what the dialog lists" in _notices(app)

        modal.query_one("#upload-path", Input).value = str(good)
        await _settle(app, pilot)
        assert _verdict(app).splitlines()[0] == "✓ ready to stage"
        assert "CN=New PLC" in screen_text(app)  # the parsed file, before staging
        assert modal.query_one("#upload-secret", Input).placeholder.startswith("new-plc-der (default")

        modal.query_one("#upload-secret", Input).value = "bad_name"
        await _settle(app, pilot)
        assert _verdict(app).splitlines()[0] == (
            "✗ trust/new-plc.der: secret names may only hold letters, digits and '-' (^[0-9a-zA-Z-]+$) "
            "(got 'bad_name')"
        )
        await pilot.click("#list-issuer")
        await _settle(app, pilot)
        assert (
            "✗ issuer/new-plc.der: only CA certificates can be added to the issuer list "
            "(basicConstraints cA is false or absent)"
        ) in _verdict(app)

        modal.query_one("#upload-secret", Input).value = ""
        await pilot.click("#list-trust")
        await _settle(app, pilot)
        assert modal.can_stage
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DashboardScreen)
        pane = _pane(app)
        assert pane.table.get_cell("trust/new-plc.der", "file").plain == "+ new-plc.der"
        assert pane.table.get_cell("trust/new-plc.der", "health").plain == "ok staged add"
        assert "1 staged (a applies)" in pane.subtitle_text
        assert [c.describe() for c in app.staging.changes] == [
            f"add trust/new-plc.der from a {len(leaf.der)}-byte file as vault secret new-plc-der"
        ]


async def test_upload_refuses_a_duplicate_and_a_private_key_without_showing_it(
    steady: ClusterState, leaf: certgen.Issued, tmp_path: Path
) -> None:
    copy = tmp_path / "copy.der"
    copy.write_bytes(sitedata.opcua_files().trust["plc-line2.der"])
    keyed = tmp_path / "keyed.crt"
    keyed.write_bytes(leaf.pem + leaf.key_pem)
    async with opened(steady) as (app, pilot):
        modal = await _open_upload(app, pilot, copy)
        sha1 = steady.entry("trust/plc-line2.der").certificate.sha1  # type: ignore[union-attr]
        assert _verdict(app).splitlines()[0] == (
            f"✗ trust/copy.der: the same certificate (SHA-1 {sha1}) is already in the trust list as "
            "plc-line2.der"
        )
        modal.query_one("#upload-path", Input).value = str(keyed)
        await _settle(app, pilot)
        assert _verdict(app).splitlines()[0] == (
            "✗ trust/keyed.crt: holds a private key; list files must never hold one"
        )
        assert "PRIVATE KEY" not in screen_text(app) and "BEGIN" not in screen_text(app)
        assert not modal.can_stage


async def test_upload_names_a_missing_file_and_escape_stages_nothing(
    steady: ClusterState, tmp_path: Path
) -> None:
    async with opened(steady) as (app, pilot):
        missing = tmp_path / "nope.der"
        await _open_upload(app, pilot, missing)
        assert _verdict(app) == f"✗ {missing}: no such file"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
        assert not app.staging and app.staging.changes.changes == ()


async def test_the_path_box_completes_with_tab(steady: ClusterState, tmp_path: Path) -> None:
    (tmp_path / "site-plc-42.der").write_bytes(b"x")
    (tmp_path / "certs").mkdir()
    async with opened(steady) as (app, pilot):
        await pilot.press("3", "u")
        box = app.screen.query_one("#upload-path", PathInput)
        box.value = f"{tmp_path}/s"
        await pilot.press("i")  # typing asks the suggester (in a thread) for a completion
        await _settle(app, pilot)
        await pilot.press("tab")
        assert box.value == f"{tmp_path}/site-plc-42.der"
        assert app.focused is box
        box.value = f"{tmp_path}/c"
        await pilot.press("e")
        await _settle(app, pilot)
        await pilot.press("tab")
        assert box.value == f"{tmp_path}/certs/"
        await pilot.press("tab")  # nothing left to complete: tab moves on
        assert app.focused is not box


async def test_delete_of_marked_rows_needs_the_purge_phrase(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        pane = _pane(app)
        await pilot.press("3")
        for key in ("trust/plc-line2.der", "trust/historian.der"):
            assert pane.table.move_to_key(key)
            await pilot.press("space")
        assert pane.marked == {"trust/plc-line2.der", "trust/historian.der"}
        await pilot.press("d")
        modal = app.screen
        assert isinstance(modal, DeleteModal)
        assert [e.key for e in modal.entries] == ["trust/historian.der", "trust/plc-line2.der"]
        assert "vault secret plc-line2-der" in screen_text(app)
        await pilot.press("p")  # tick purge: the confirmation box takes the focus
        confirm = modal.query_one("#delete-confirm", Input)
        assert app.focused is confirm and confirm.placeholder == "type purge 2 to allow the purge"
        await pilot.press(*"purge 1")
        assert modal.query_one("#delete-stage", Button).disabled
        await pilot.press("enter")
        assert app.screen is modal and "type purge 2 exactly to allow the purge" in _notices(app)
        confirm.value = ""
        await pilot.press(*"purge 2", "enter")
        assert isinstance(app.screen, DashboardScreen)
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/historian.der and delete + purge its vault secret",
            "remove trust/plc-line2.der and delete + purge its vault secret",
        ]
        assert pane.table.get_cell("trust/historian.der", "file").plain == "- historian.der"
        assert pane.table.get_cell("trust/plc-line2.der", "health").plain == "ok staged remove+purge"
        assert pane.marked == set()  # the marks served their purpose


async def test_delete_of_one_row_keeps_the_secret_and_escape_cancels(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        pane = _pane(app)
        await pilot.press("3")
        pane.table.move_to_key("trust/gateway-north.der")
        await pilot.press("d")
        assert isinstance(app.screen, DeleteModal)
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen) and not app.staging
        await pilot.press("d")
        assert "✓ ready to stage" in _verdict(app)
        await pilot.press("ctrl+s")
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/gateway-north.der (its vault secret is kept)"
        ]
        assert pane.table.get_cell("trust/gateway-north.der", "health").plain == "ok staged remove"
        await pilot.press("d")  # again on a row already staged: nothing to add
        assert isinstance(app.screen, DashboardScreen)
        assert "already staged: z unstages it" in _notices(app)


async def test_x_marks_stale_entries_with_reasons_for_a_bulk_delete(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        pane = _pane(app)
        await pilot.press("3", "x")
        modal = app.screen
        assert isinstance(modal, StaleModal)
        assert modal.reasons == {
            "trust/plc-expired.der": "expired at 2025-05-22 12:00Z",
            "trust/plc-line1-copy.der": "duplicate: same certificate as trust/plc-line1.der, which is kept",
        }
        assert "duplicate: same certificate as trust/plc-line1.der" in screen_text(app)
        assert pane.marked == set(modal.reasons)
        assert set(pane.table.row_keys[:2]) == set(modal.reasons)  # marked first
        await pilot.press("escape")  # review in the table; unmark one with space
        assert isinstance(app.screen, DashboardScreen)
        pane.table.move_to_key("trust/plc-line1-copy.der")
        await pilot.press("space", "d")
        delete = app.screen
        assert isinstance(delete, DeleteModal)
        assert [e.key for e in delete.entries] == ["trust/plc-expired.der"]
        assert "expired at 2025-05-22 12:00Z" in screen_text(app)
        await pilot.press("ctrl+s")
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/plc-expired.der (its vault secret is kept)"
        ]
        await pilot.press("x", "d")  # from the dialog straight to the delete dialog
        assert isinstance(app.screen, DeleteModal)
        assert [e.key for e in app.screen.entries] == ["trust/plc-line1-copy.der"]  # staged one left out


async def test_unstage_one_and_discard_all_after_asking(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        pane = _pane(app)
        await pilot.press("3")
        for key in ("trust/plc-line2.der", "trust/historian.der"):
            pane.table.move_to_key(key)
            await pilot.press("d", "ctrl+s")
        assert len(app.staging) == 2
        pane.table.move_to_key("trust/plc-line2.der")
        await pilot.press("z")
        assert [c.describe() for c in app.staging.changes] == [
            "remove trust/historian.der (its vault secret is kept)"
        ]
        assert pane.table.get_cell("trust/plc-line2.der", "file").plain == "plc-line2.der"
        await pilot.press("Z")
        assert isinstance(app.screen, ConfirmModal)
        await pilot.press("n")
        assert len(app.staging) == 1
        await pilot.press("Z", "y")
        assert isinstance(app.screen, DashboardScreen) and not app.staging
        assert pane.table.get_cell("trust/historian.der", "file").plain == "historian.der"


async def test_read_only_hides_every_change_key(steady: ClusterState) -> None:
    async with opened(steady, settings=UiSettings(read_only=True)) as (app, pilot):
        await pilot.press("1")
        footer = screen_text(app).splitlines()[-1]
        assert "Preview" in footer and "Renew" not in footer
        await pilot.press("3")
        for key in ("u", "d", "x", "a", "v"):
            await pilot.press(key)
            assert isinstance(app.screen, DashboardScreen), key
        assert (
            _notices(app).count(
                "read-only view: uploads, deletes, applies and renewals are off "
                "(ctrl+p → Toggle read-only view, unless started read-only)"
            )
            == 5
        )
        await pilot.press("1", "r")
        assert isinstance(app.screen, DashboardScreen)
        names = [str(hit.text) for hit in [h async for h in DashboardCommands(app.screen).discover()]]
        assert "Upload a certificate or CRL file" not in names and "Renew the root CA" not in names
        app.request_change("upload")  # a direct call refuses too
        assert isinstance(app.screen, DashboardScreen)
        app.action_toggle_read_only()
        await pilot.press("1")
        assert "r Renew" in screen_text(app).splitlines()[-1]
        await pilot.press("3", "u")
        assert isinstance(app.screen, UploadModal)
        await pilot.press("escape")
        names = [str(hit.text) for hit in [h async for h in DashboardCommands(app.screen).discover()]]
        assert "Upload a certificate or CRL file" in names


async def test_without_a_way_to_write_the_change_keys_say_so(steady: ClusterState) -> None:
    async with opened(steady, writes=False) as (app, pilot):
        await pilot.press("3", "u")
        assert isinstance(app.screen, DashboardScreen)
        assert "changes are not available in this view (no cluster connection for writes)" in _notices(app)
        await pilot.press("1")
        assert "Renew" not in screen_text(app).splitlines()[-1]


async def test_a_session_that_cannot_connect_is_one_line_in_the_dialogs(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        assert f"cannot read the apply journal: cannot prepare changes: {NO_CLUSTER}" in _notices(app)
        pane = _pane(app)
        await pilot.press("3")
        pane.table.move_to_key("trust/historian.der")
        await pilot.press("a")
        assert isinstance(app.screen, DashboardScreen)  # nothing staged yet
        assert "nothing staged: u uploads, v adds from Key Vault, d deletes (on the OPC UA pane)" in _notices(
            app
        )
        await pilot.press("d", "ctrl+s")
        assert "a Apply" in screen_text(app).splitlines()[-1]  # in the footer once something is staged
        await pilot.press("1", "a")  # from any pane
        modal = app.screen
        assert isinstance(modal, ApplyModal)
        await _settle(app, pilot)
        assert _verdict(app) == f"✗ cannot plan: cannot prepare changes: {NO_CLUSTER}"
        assert modal.query_one("#apply-confirm", Button).disabled
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen) and len(app.staging) == 1  # still staged
        await pilot.press("1", "r")
        assert isinstance(app.screen, RenewModal)
        await pilot.press("escape")
        await pilot.press("3", "v")
        assert isinstance(app.screen, VaultAddModal)
        await _settle(app, pilot)
        assert str(app.screen.query_one("#vault-status").render()) == (
            f"✗ cannot prepare changes: {NO_CLUSTER}"
        )


async def test_help_lists_every_change_binding(steady: ClusterState) -> None:
    async with opened(steady) as (app, pilot):
        await pilot.press("question_mark")
        listed = app.screen.binding_ids  # type: ignore[attr-defined]
        classes = (
            OpcUaPane,
            DashboardScreen,
            UploadModal,
            PathInput,
            VaultAddModal,
            DeleteModal,
            StaleModal,
            ApplyModal,
            RenewModal,
            JournalModal,
            ConfirmModal,
            ListChoice,
            PurgeBox,
            FilterInput,
            PreviewModal,
            DashboardApp,
        )
        wanted = {b.id for cls in classes for b in cls.BINDINGS}  # type: ignore[union-attr]
        assert None not in wanted and wanted <= listed
        assert all(row.description for group in help_groups() for row in group.rows)


async def test_the_look_for_unfinished_applies_waits_for_the_first_state(steady: ClusterState) -> None:
    # Making the session imports the write path; at start-up that would compete with the first frame.
    asked: list[int] = []

    def factory() -> ChangeSession:
        asked.append(app.applied)  # how many states were on screen when the session was first wanted
        raise RuntimeError(NO_CLUSTER)

    source = StaticSource(None, INFO)
    app = DashboardApp(source, settings=UiSettings(), clock=FrozenClock(sitedata.NOW), sessions=factory)
    async with app.run_test(size=WIDE) as pilot:
        await _settle(app, pilot)
        assert source.started.is_set() and asked == []
        source.push(steady)
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()  # the look starts after the repaint that shows the state
        await _settle(app, pilot)
        assert asked == [1]
        assert f"cannot read the apply journal: cannot prepare changes: {NO_CLUSTER}" in _notices(app)
        source.push(steady)
        app.post_message(SourceFailed("connection lost"))
        await pilot.pause()
        await _settle(app, pilot)
        assert asked == [1]  # once per run


async def test_a_source_that_fails_before_any_state_still_gets_the_look_for_unfinished_applies() -> None:
    asked: list[int] = []

    def factory() -> ChangeSession:
        asked.append(app.applied)
        raise RuntimeError(NO_CLUSTER)

    app = DashboardApp(
        StaticSource(None, INFO), settings=UiSettings(), clock=FrozenClock(sitedata.NOW), sessions=factory
    )
    async with app.run_test(size=WIDE) as pilot:
        await _settle(app, pilot)
        assert asked == []
        app.post_message(SourceFailed("cluster unreachable"))
        await pilot.pause()
        await _settle(app, pilot)
        assert asked == [0]
