"""The dashboard's side of the trail: an unusable state directory is one line (the app goes on), and
changes asked for in the dialogs that the change engine never ran (a renewal not confirmed, a plan that
could not be made, a journal that cannot be resumed) are audited as the CLI audits them.

The session here is a stand-in with the real journal and audit log in a temporary state directory; the
dialogs on the real change engine are in ``test_change_demo.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from textual.widgets import Button

from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE
from tests.unit.test_audit_trail import JOURNAL_ID, _plan
from tui.cli import build_parser
from tui.commands.dashboard.run import change_sessions
from tui.commands.shared.settings import command_settings, load_user_config
from tui.core.changes.journal import journal_audit_fields, summarize
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ops.audit import AuditLog
from tui.ops.journal import JournalError, JournalInfo, JournalStore
from tui.ops.runner import SiteUnavailable
from tui.ui.app import DashboardApp
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.renew import RenewModal
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings


def _notices(app: DashboardApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def _events(state: Path) -> list[dict[str, Any]]:
    path = state / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


async def test_an_open_state_directory_is_one_line_in_the_dashboard(
    steady: ClusterState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    state.chmod(0o777)
    monkeypatch.setenv("AIO_CERTS_STATE_DIR", str(state))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AIO_CERTS_CONFIG", raising=False)
    args = build_parser().parse_args(["dashboard", "--kubeconfig", str(tmp_path / "kubeconfig")])
    settings = command_settings(args, load_user_config())
    sessions = change_sessions(settings)  # as the dashboard makes it: a doubt about journals opens it
    app = DashboardApp(
        StaticSource(steady, INFO), settings=UiSettings(), clock=FrozenClock(sitedata.NOW), sessions=sessions
    )
    reason = (
        f"cannot prepare changes: state directory {state}: group- or world-writable (mode 0777), so "
        "another user could rewrite the audit log or a journal; refusing to use it (chmod go-w it)"
    )
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert f"cannot read the apply journal: {reason}" in _notices(app)
        await pilot.press("3", "d", "ctrl+s", "a")
        modal = app.screen
        assert isinstance(modal, ApplyModal)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert str(modal.query_one("#apply-verdict").render()) == f"✗ cannot plan: {reason}"
        await pilot.press("escape")
        assert isinstance(app.screen, DashboardScreen)
    assert list(state.iterdir()) == []


class StandIn:
    """What the dialogs use of a ChangeSession: the real journal and audit log, no cluster."""

    def __init__(self, state: Path) -> None:
        self.context = "aio-test"
        self.clock = FrozenClock(sitedata.NOW)
        self.journals = JournalStore(state)
        self.audit = AuditLog(state, clock=self.clock, user="tech", host="edge-1")

    def plan(self, _changes: Any, *, read_only: bool = False, local_only: bool = False) -> Any:
        raise SiteUnavailable("cannot reach the cluster (context aio-test): connection refused")

    def site_journals(self, *, pending_only: bool = False) -> list[JournalInfo]:
        """No site to tell journals apart by: every journal is listed."""
        return [i for i in self.journals.infos() if i.pending or not pending_only]

    def resume(self, journal_id: str, **_kwargs: Any) -> Any:
        raise JournalError(f"journal {journal_id}: another aio-certs process is working on it")


def _app(steady: ClusterState, state: Path) -> DashboardApp:
    session = StandIn(state)
    return DashboardApp(
        StaticSource(steady, INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=lambda: session,
    )  # type: ignore[arg-type, return-value]


async def test_changes_the_engine_never_ran_are_audited(steady: ClusterState, tmp_path: Path) -> None:
    state = tmp_path / "state"
    plan = _plan()
    JournalStore(state).create(JOURNAL_ID, plan).close()  # an unfinished apply, offered at start
    app = _app(steady, state)
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await app.workers.wait_for_complete()
        await pilot.pause()
        journal = app.screen
        assert isinstance(journal, JournalModal)
        await pilot.click("#journal-resume")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert journal.outcome == "failed"
        await pilot.press("escape")

        await pilot.press("1", "r")
        renew = app.screen
        assert isinstance(renew, RenewModal)
        await pilot.press("escape")
        await app.workers.wait_for_complete()

        await pilot.press("3")
        app.dashboard.opcua_pane.table.move_to_key("trust/historian.der")
        await pilot.press("d", "ctrl+s", "a")
        apply = app.screen
        assert isinstance(apply, ApplyModal)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert apply.query_one("#apply-confirm", Button).disabled
        await pilot.press("escape")
        await app.workers.wait_for_complete()
    events = _events(state)
    root = renew.target.certificate.key
    assert [(e["action"], e["outcome"], e["entries"]) for e in events] == [
        ("journal resume", "refused", list(journal_audit_fields(summarize([plan])).entries)),
        ("renew", "cancelled", [root]),
        ("dashboard apply", "unreachable", ["trust/historian.der"]),
    ]
    assert events[0]["plan_id"] == "p1" and events[0]["sha256"] == list(
        journal_audit_fields(summarize([plan])).thumbprints
    )
    assert "another aio-certs process" in events[0]["detail"]
    assert events[2]["detail"] == "cannot reach the cluster (context aio-test): connection refused"
    assert all(e["context"] == "aio-test" for e in events)
