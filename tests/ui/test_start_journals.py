"""The start-up look for unfinished applies makes no change session when a cheap look finds none.

Making the session imports the change engine and the vault SDK (about 4 MiB resident, 0.1 s of
interpreter time beside the first frame), which a user who changes nothing never needs. The dashboard's
:class:`~tui.commands.shared.app_runner.LazySession` answers ``pending_journals_possible`` from the state
directory alone (:func:`~tui.commands.dashboard.run.pending_journals`); any doubt opens the session as
before, so an unusable state directory is still one line at start (``test_change_trail.py``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE
from tests.ui.test_change_trail import StandIn
from tests.unit.test_audit_trail import JOURNAL_ID, _plan
from tui.cli import build_parser
from tui.commands.dashboard.run import pending_journals
from tui.commands.shared.settings import command_settings, load_user_config
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ops.journal import JournalStore
from tui.ui.app import DashboardApp
from tui.ui.modals.journal import JournalModal
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings


class Factory:
    """A session factory that can tell whether an apply is unfinished, counting the sessions it makes."""

    def __init__(self, state: Path, pending: bool) -> None:
        self.state = state
        self.pending = pending
        self.made = 0
        self.asked = 0

    def __call__(self) -> Any:
        self.made += 1
        return StandIn(self.state)

    def pending_journals_possible(self) -> bool:
        self.asked += 1
        return self.pending


def _started(steady: ClusterState, factory: Factory) -> DashboardApp:
    app = DashboardApp(
        StaticSource(steady, INFO),
        settings=UiSettings(),
        clock=FrozenClock(sitedata.NOW),
        sessions=factory,  # type: ignore[arg-type]
    )
    return app


@pytest.mark.parametrize("pending", [False, True])
async def test_the_session_is_made_at_start_only_for_an_unfinished_apply(
    steady: ClusterState, tmp_path: Path, pending: bool
) -> None:
    state = tmp_path / "state"
    if pending:
        JournalStore(state).create(JOURNAL_ID, _plan()).close()
    factory = Factory(state, pending)
    app = _started(steady, factory)
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert factory.asked == 1
        assert factory.made == (1 if pending else 0)
        assert isinstance(app.screen, JournalModal if pending else DashboardScreen)
        if not pending:
            await pilot.press("J")  # the journals view: the session is made when something needs it
            await app.workers.wait_for_complete()
            await pilot.pause()
            assert factory.made == 1


def _settings(state: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.setenv("AIO_CERTS_STATE_DIR", str(state))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AIO_CERTS_CONFIG", raising=False)
    args = build_parser().parse_args(["dashboard", "--kubeconfig", str(tmp_path / "kubeconfig")])
    return command_settings(args, load_user_config())


def test_the_cheap_look_reads_the_state_directory_as_the_session_would(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = tmp_path / "state"
    look = pending_journals(_settings(state, tmp_path, monkeypatch))
    assert look() is False  # nothing yet; the directory is made as the session would make it
    assert state.is_dir() and state.stat().st_mode & 0o077 == 0
    assert look() is False
    journal = JournalStore(state).create(JOURNAL_ID, _plan())
    journal.close()
    assert look() is True  # an apply that never finished
    state.chmod(0o777)
    assert look() is True  # an unusable directory: the session says what is wrong with it


def test_a_state_directory_that_cannot_be_made_is_left_to_the_session(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Missing, and not to be made (under /proc no one can make a directory, root included): the
    # session made at start said so ("cannot read the apply journal: ..."); the look must not turn
    # that into "no journals". Under a regular file, the check itself refuses.
    look = pending_journals(
        _settings(Path(f"/proc/aio-certs-test-{os.getpid()}/state"), tmp_path, monkeypatch)
    )
    assert look() is True
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert pending_journals(_settings(blocker / "state", tmp_path, monkeypatch))() is True
