"""The change dialogs on the real code path: embedded demo site with its controllers running, the
kubernetes client over HTTP and the SecretClient over HTTPS, ClusterFeed reflectors, and the
ChangeSession the ``aio-certs demo`` dashboard builds (``tui.commands.demo.run.demo_session``).

Each test waits on events or on the state on screen (``app.wait_for_state``); workers are awaited with
``app.workers.wait_for_complete()``. The clock is frozen, so nothing rotates unless a test asks for it.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Button, Input, OptionList

from tests import certgen
from tests.ui.conftest import screen_text
from tui.cli import build_parser
from tui.cluster.config import load_cluster_config
from tui.cluster.live import ClusterFeed
from tui.commands.dashboard.run import open_change_session
from tui.commands.demo.run import demo_session
from tui.commands.shared.app_runner import LazySession
from tui.commands.shared.settings import VaultSettings, command_settings, load_user_config
from tui.commands.shared.vault_reader import make_vault_reader
from tui.core.clock import FrozenClock
from tui.core.model.arm import ArmKind
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState
from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment
from tui.ops.journal import pending_applies
from tui.ui.app import DashboardApp
from tui.ui.change_session import ChangeFailed, SessionHolder
from tui.ui.modals.apply import ApplyModal
from tui.ui.modals.delete import DeleteModal
from tui.ui.modals.journal import JournalModal
from tui.ui.modals.renew import RenewModal
from tui.ui.modals.upload import UploadModal
from tui.ui.modals.vault_add import VaultAddModal
from tui.ui.screens.dashboard import DashboardScreen
from tui.ui.source import FeedSource, SourceInfo
from tui.ui.widgets.text_line import TextLine

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIMEOUT = 30.0
WAIT = 20.0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def demo(tmp_path: Path, clock: FrozenClock) -> Iterator[DemoEnvironment]:
    env = DemoEnvironment(state_dir=tmp_path / "demo", clock=clock)
    env.start()
    try:
        yield env
    finally:
        env.stop()


OpenApp = Callable[[], Any]


@pytest.fixture
def open_app(demo: DemoEnvironment, clock: FrozenClock) -> OpenApp:
    """Open the dashboard on the demo as ``aio-certs demo`` does, writes enabled (several times per test)."""

    @asynccontextmanager
    async def opened() -> AsyncIterator[tuple[DashboardApp, Pilot[None]]]:
        connection = load_cluster_config(str(demo.kubeconfig_path), KUBE_CONTEXT, environ={})
        settings = ModelSettings()
        vault = VaultSettings(url=demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))
        feed = ClusterFeed(
            connection.api_client, settings, clock=clock, vault_reader=make_vault_reader(vault, clock=clock)
        )
        source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, connection.server), on_stop=connection.close)
        sessions = LazySession(lambda: (demo_session(demo, connection.api_client, settings, clock), None))
        app = DashboardApp(source, clock=clock, sessions=sessions)
        app.apply_wait_timeout = WAIT
        try:
            async with app.run_test(size=(120, 34)) as pilot:
                await app.wait_for_state(_complete, TIMEOUT)
                await pilot.pause()
                yield app, pilot
        finally:
            source.stop()
            sessions.close()

    return opened


def _complete(state: ClusterState) -> bool:
    return (
        state.root_ca.certificate is not None
        and bool(state.opcua)
        and state.vault.state is AreaState.OK
        and all(e.synced for e in state.opcua)
    )


def _leaf(cn: str) -> certgen.Issued:
    return certgen.make_leaf(None, cn, not_before=START - timedelta(days=1), days=365)


async def _settle(app: DashboardApp, pilot: Pilot[None]) -> None:
    """Let every worker finish and its messages be handled."""
    await app.workers.wait_for_complete()
    await pilot.pause()


async def _apply(app: DashboardApp, pilot: Pilot[None]) -> ApplyModal:
    """``a``, wait for the plan, press Apply, wait for the end of the apply."""
    await pilot.press("a")
    modal = app.screen
    assert isinstance(modal, ApplyModal)
    await _settle(app, pilot)
    assert modal.phase == "review" and modal.plan is not None and modal.plan.applicable, modal.plan
    await pilot.click("#apply-confirm")
    await _settle(app, pilot)
    assert modal.phase == "finished"
    return modal


def _vault_names(demo: DemoEnvironment) -> set[str]:
    return {name.lower() for name in demo.vault.snapshot()["secrets"]}


async def _wait_as_time_passes(
    app: DashboardApp, demo: DemoEnvironment, clock: FrozenClock, predicate: Callable[[ClusterState], bool]
) -> ClusterState:
    """Wait for a state on screen, letting the frozen clock move a second at a time meanwhile.

    An apply's ARM writes reach the cluster in their own time (the Arc projection), so the sync the
    SecretSync edit sets off may run before the SPC edit has arrived, or after the vault secret was
    purged, and fail. The sync controller then retries after 5 ms, doubling (docs/domain.md §5.5): real
    time brings that at once, a frozen clock never. Seen under load in CI: the entry stayed "sync
    failing" for the whole wait.
    """
    for _ in range(int(TIMEOUT)):
        try:
            return await app.wait_for_state(predicate, 1.0)
        except TimeoutError:
            clock.advance(timedelta(seconds=1))
            demo.secret_sync.wake()
    return await app.wait_for_state(predicate, 1.0)


async def test_upload_apply_and_delete_through_the_dialogs(
    demo: DemoEnvironment, open_app: OpenApp, tmp_path: Path, clock: FrozenClock
) -> None:
    leaf = _leaf("PLC E2E")
    path = tmp_path / "plc-e2e.der"
    path.write_bytes(leaf.der)
    async with open_app() as (app, pilot):
        pane = app.dashboard.opcua_pane
        await pilot.press("3", "u")
        upload = app.screen
        assert isinstance(upload, UploadModal)
        upload.query_one("#upload-path", Input).value = f"{tmp_path}/"
        await pilot.press(*path.name)  # typed, each keystroke checked
        await pilot.click("#list-trust")
        await _settle(app, pilot)
        assert upload.can_stage, screen_text(app)
        assert "✓ ready to stage" in screen_text(app)
        assert "CN=PLC E2E" in screen_text(app)  # the parsed file, before staging
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DashboardScreen)
        assert "trust/plc-e2e.der" in pane.table.row_keys
        assert pane.table.get_cell("trust/plc-e2e.der", "file").plain == "+ plc-e2e.der"

        modal = await _apply(app, pilot)
        diff = modal.plan.render_diff() if modal.plan else ""
        assert "+ set plc-e2e-der <- trust/plc-e2e.der" in diff
        assert "+ plc-e2e-der -> plc-e2e.der" in diff
        assert modal.outcome is not None and modal.outcome.outcome == "applied" and modal.outcome.synced
        assert "synced: the synced Secrets show the change" in screen_text(app)
        await pilot.press("escape")
        # The live feed brings the entry (synced, its vault secret seen): that is the confirmation, and
        # the staged marker goes.
        state = await _wait_as_time_passes(
            app,
            demo,
            clock,
            lambda s: (
                (e := s.entry("trust/plc-e2e.der")) is not None
                and e.synced
                and bool(e.vault_present)
                and e.certificate is not None
                and e.certificate.sha1 == leaf_sha1(leaf)
            ),
        )
        await pilot.pause()
        assert state.entry("trust/plc-e2e.der") is not None
        assert not app.staging.applied and not app.staging.items
        assert pane.table.get_cell("trust/plc-e2e.der", "file").plain == "plc-e2e.der"
        assert "plc-e2e-der" in _vault_names(demo)

        assert pane.table.move_to_key("trust/plc-e2e.der")
        await pilot.press("d")
        delete = app.screen
        assert isinstance(delete, DeleteModal)
        await pilot.click("#delete-purge")
        await pilot.press(*"plc-e2e-der", "enter")
        assert isinstance(app.screen, DashboardScreen)
        assert pane.table.get_cell("trust/plc-e2e.der", "health").plain == "ok staged remove+purge"
        modal = await _apply(app, pilot)
        assert modal.outcome is not None and modal.outcome.outcome == "applied"
        await pilot.press("escape")
        await _wait_as_time_passes(app, demo, clock, lambda s: s.entry("trust/plc-e2e.der") is None)
        await pilot.pause()
        assert "trust/plc-e2e.der" not in pane.table.row_keys
        assert "plc-e2e-der" not in _vault_names(demo)
    lines = (demo.state_dir / "changes" / "audit.jsonl").read_text().splitlines()
    audit = [json.loads(line) for line in lines]
    # Each apply: its started line (before the first write), then its one final line.
    assert [(e["action"], e["outcome"], e["entries"]) for e in audit] == [
        ("dashboard apply", "started", ["trust/plc-e2e.der"]),
        ("dashboard apply", "applied", ["trust/plc-e2e.der"]),
    ] * 2


def leaf_sha1(leaf: certgen.Issued) -> str:
    from cryptography.hazmat.primitives import hashes

    return leaf.cert.fingerprint(hashes.SHA1()).hex().upper()


async def test_renew_the_root_ca_and_see_the_revision_go_up(demo: DemoEnvironment, open_app: OpenApp) -> None:
    async with open_app() as (app, pilot):
        before = app.state
        assert before is not None and before.root_ca.resource is not None
        revision = before.root_ca.resource.revision or 0
        await pilot.press("1", "r")
        modal = app.screen
        assert isinstance(modal, RenewModal)
        assert modal.target.certificate.key == before.root_ca.resource.key
        await pilot.click("#renew-confirm")
        after = await app.wait_for_state(
            lambda s: (
                s.root_ca.resource is not None
                and (s.root_ca.resource.revision or 0) > revision
                and s.root_ca.resource.is_ready
            ),
            TIMEOUT,
        )
        await pilot.pause()
        new_revision = after.root_ca.resource.revision  # type: ignore[union-attr]
        assert new_revision == revision + 1
        assert f"rev {new_revision}" in app.dashboard.query_one("#root-resource", TextLine).plain


async def test_vault_add_refusal_failed_apply_and_resume_at_next_start(
    demo: DemoEnvironment, open_app: OpenApp
) -> None:
    leaf = _leaf("PLC From Vault")
    demo.vault.put_secret(
        "plc-vault-der", leaf.der.hex(), content_type="application/pkix-cert", tags={"file-encoding": "hex"}
    )
    demo.vault.put_secret("app-password", "hunter2", content_type="text/plain")
    async with open_app() as (app, pilot):
        # The vault lists but refuses to give values: the dialog says so and offers nothing it cannot judge.
        demo.vault.deny("get")
        await pilot.press("3", "v")
        denied = app.screen
        assert isinstance(denied, VaultAddModal)
        await _settle(app, pilot)
        status = str(denied.query_one("#vault-status").render())
        assert "secret values unread" in status and "forbidden" in status.lower(), status
        assert denied.verdict is not None and not denied.verdict.ok
        assert denied.candidates is not None
        assert {c.problem for c in denied.candidates.candidates} == {
            "its value was not read (list the vault with values)"
        }
        demo.vault.deny()
        await pilot.press("escape", "v")
        modal = app.screen
        assert isinstance(modal, VaultAddModal)
        await _settle(app, pilot)
        assert modal.candidates is not None and not modal.candidates.note
        names = [c.name for c in modal.candidates.candidates]
        assert {"plc-vault-der", "app-password"} <= set(names)
        options = modal.query_one("#vault-secrets", OptionList)
        options.highlighted = names.index("app-password")
        await pilot.pause()
        assert modal.verdict is not None and not modal.verdict.ok
        assert [p.message for p in modal.verdict.problems] == [
            "vault secret app-password: the value is neither hex (file-encoding=hex) nor PEM text"
        ]
        assert modal.query_one("#vault-stage", Button).disabled
        assert "hunter2" not in screen_text(app)
        options.highlighted = names.index("plc-vault-der")
        await pilot.pause()
        await pilot.click("#list-trust")
        assert modal.verdict is not None and modal.verdict.ok, modal.verdict
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, DashboardScreen)
        assert app.staging.items[0].entry_key == "trust/plc-vault.der"

        # ARM refuses the SecretSync write (the lists are ARM-owned): the apply stops part way, journal kept.
        demo.arm.deny("write", kind=ArmKind.SECRET_SYNC)
        apply = await _apply(app, pilot)
        assert apply.outcome is not None and apply.outcome.outcome == "failed"
        assert "403 AuthorizationFailed" in (apply.outcome.error or ""), apply.outcome.error
        # ARM's reason is long: the verdict wraps, so it is read whole rather than line by line.
        assert f"Journal {apply.outcome.journal_id} kept" in str(apply.query_one("#apply-verdict").render())
        await pilot.click("#apply-recover")
        await _settle(app, pilot)
        assert isinstance(app.screen, JournalModal)
        await pilot.press("escape")  # later
        assert isinstance(app.screen, DashboardScreen)
    state_dir = demo.state_dir / "changes"
    assert [p.id for p in pending_applies(state_dir)] == [apply.outcome.journal_id]

    demo.arm.deny()
    async with open_app() as (app, pilot):
        # At start the unfinished apply is offered.
        await _settle(app, pilot)
        journal = app.screen
        assert isinstance(journal, JournalModal)
        assert [s.id for s in journal.summaries] == [apply.outcome.journal_id]
        await pilot.click("#journal-resume")
        await _settle(app, pilot)
        assert journal.outcome == "applied", screen_text(app)
        assert "resumed and finished" in screen_text(app)
        await pilot.press("escape")
        await app.wait_for_state(
            lambda s: (e := s.entry("trust/plc-vault.der")) is not None and e.synced, TIMEOUT
        )
    assert pending_applies(state_dir) == []


def test_the_live_dashboard_writes_through_the_cli_change_session(
    demo: DemoEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As after `source DIR/env` of `aio-certs demo --serve`, with a private state directory and no config.
    for key, value in demo.env_vars().items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("AIO_CERTS_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.delenv("AIO_CERTS_CONFIG", raising=False)
    config = load_user_config()
    settings = command_settings(build_parser().parse_args(["dashboard"]), config)
    sessions = LazySession(lambda: open_change_session(settings))
    try:
        session = sessions()
        assert sessions() is session and session.state_dir == tmp_path / "state"
        site = session.read(need_vault=True)
        assert site.vault is not None and site.state.opcua
        sources = {e.source_path for e in site.state.opcua if e.source_path}
        assert sources and sources <= set(site.vault.secrets)
    finally:
        sessions.close()
    missing = build_parser().parse_args(["dashboard", "--kubeconfig", str(tmp_path / "missing")])
    broken = command_settings(missing, config)
    holder = SessionHolder(LazySession(lambda: open_change_session(broken)))
    with pytest.raises(ChangeFailed) as failed:
        holder.get()
    assert str(failed.value).startswith("cannot prepare changes: cannot reach the cluster: ")
    assert "\n" not in str(failed.value)


async def test_apply_shows_the_writes_through_arm_and_a_cancel_is_audited(
    demo: DemoEnvironment, open_app: OpenApp
) -> None:
    before = demo.vault.snapshot()
    async with open_app() as (app, pilot):
        pane = app.dashboard.opcua_pane
        await pilot.press("3")
        key = next(k for k in pane.table.row_keys if k.startswith("trust/"))
        pane.table.move_to_key(key)
        await pilot.press("d", "ctrl+s", "a")
        modal = app.screen
        assert isinstance(modal, ApplyModal)
        await _settle(app, pilot)
        # The demo's lists are ARM-owned: the plan writes them through ARM, guarded by their ETags.
        assert modal.plan is not None and modal.plan.applicable and modal.plan.arm_resources
        assert not modal.plan.arm_managed and not modal.query_one("#apply-local-only").display
        diff = str(modal.query_one("#apply-diff").render())
        assert (
            "SecretSync azure-iot-operations/aio-opc-ua-broker-trust-list: update through Azure Resource "
            "Manager (ETag "
        ) in diff
        await pilot.press("escape")
        await _settle(app, pilot)
        assert isinstance(app.screen, DashboardScreen) and len(app.staging) == 1  # still staged
        assert app.state is not None and app.state.entry(key) is not None
    lines = (demo.state_dir / "changes" / "audit.jsonl").read_text().splitlines()
    assert [(e["action"], e["outcome"], e["entries"]) for e in map(json.loads, lines)] == [
        ("dashboard apply", "cancelled", [key])
    ]
    assert demo.vault.snapshot() == before
