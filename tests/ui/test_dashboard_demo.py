"""The dashboard on the real code path: embedded demo site, kubernetes client over HTTP, SecretClient over
HTTPS, ClusterFeed reflectors, FeedSource. The clock is frozen and moved by the test; the demo's
controllers are driven by the test (``settle``), so a rotation happens exactly when the test says."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tui.cluster.config import load_cluster_config
from tui.cluster.live import ClusterFeed
from tui.commands.shared.settings import VaultSettings
from tui.commands.shared.vault_reader import make_vault_reader
from tui.core.clock import FrozenClock
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState, RotationPhase
from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment
from tui.ui.app import DashboardApp
from tui.ui.source import FeedSource, SourceInfo
from tui.ui.widgets.text_line import TextLine

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TIMEOUT = 30.0


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def demo(tmp_path: Path, clock: FrozenClock) -> Iterator[DemoEnvironment]:
    env = DemoEnvironment(
        state_dir=tmp_path / "demo",
        clock=clock,
        run_controllers=False,
        ca_duration=timedelta(seconds=60),
        renew_before=timedelta(seconds=45),
    )
    env.start()
    try:
        yield env
    finally:
        env.stop()


@pytest.fixture
def source(demo: DemoEnvironment, clock: FrozenClock) -> Iterator[FeedSource]:
    connection = load_cluster_config(str(demo.kubeconfig_path), KUBE_CONTEXT, environ={})
    vault = VaultSettings(url=demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))
    feed = ClusterFeed(
        connection.api_client,
        ModelSettings(),
        clock=clock,
        vault_reader=make_vault_reader(vault, clock=clock),
    )
    feed_source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, connection.server), on_stop=connection.close)
    try:
        yield feed_source
    finally:
        feed_source.stop()
        assert not any(r.alive for r in feed.reflectors)


def _complete(state: ClusterState) -> bool:
    return (
        state.root_ca.certificate is not None
        and bool(state.opcua)
        and state.vault.state is AreaState.OK
        and all(e.synced for e in state.opcua)
    )


async def test_dashboard_shows_the_embedded_site_and_follows_a_rotation_under_the_cursor(
    demo: DemoEnvironment, source: FeedSource, clock: FrozenClock
) -> None:
    app = DashboardApp(source, clock=clock)
    async with app.run_test(size=(120, 34)) as pilot:
        before = await app.wait_for_state(_complete, TIMEOUT)
        await pilot.pause()
        screen = app.dashboard
        header = screen.query_one("#hdr-connection", TextLine).plain
        assert header == "● live"
        assert screen.query_one("#hdr-vault", TextLine).plain.startswith("vault ok")
        assert "Root CA · steady" in screen.root_pane.title_text
        assert len(screen.issuers_pane.table.row_keys) == len(before.issuers) >= 2
        table = screen.opcua_pane.table
        assert set(table.row_keys) == {e.key for e in before.opcua}

        await pilot.press("3")
        middle = table.row_keys[len(table.row_keys) // 2]
        assert table.move_to_key(middle)
        row = table.cursor_row

        clock.advance(timedelta(seconds=20))  # past renewalTime (notBefore + 60 s - 45 s)
        await asyncio.to_thread(demo.settle)  # cert-manager renews, trust-manager follows
        old_sha1 = before.root_ca.certificate.sha1  # type: ignore[union-attr]
        after = await app.wait_for_state(
            lambda s: (
                s.root_ca.certificate is not None
                and s.root_ca.certificate.sha1 != old_sha1
                and s.trust_bundle.holds_current_ca is True
            ),
            TIMEOUT,
        )
        await pilot.pause()

        assert after.root_ca.rotation.phase is RotationPhase.ROTATED
        new_serial = after.root_ca.certificate.serial  # type: ignore[union-attr]
        assert new_serial in screen.query_one("#root-identity", TextLine).plain
        # The history cuts serials to 8 hex digits (one line per rotation at 120x34); the Serial line
        # above and the preview show the whole one.
        assert f"serial {new_serial[:8]}…" in screen.query_one("#root-history", TextLine).plain
        assert "rotated" in screen.root_pane.title_text
        assert table.cursor_key == middle and table.cursor_row == row
        assert app.focused is table


async def test_a_feed_started_before_the_app_hands_it_the_current_state_at_once(
    source: FeedSource, clock: FrozenClock
) -> None:
    # The command starts listing the cluster before it imports and mounts the UI (first frame sooner).
    source.prestart()
    feed = source.feed
    listed = await asyncio.to_thread(feed.wait_for_state, _complete, TIMEOUT)
    builds = feed.builds
    app = DashboardApp(source, clock=clock)
    async with app.run_test(size=(120, 34)) as pilot:
        shown = await app.wait_for_state(_complete, TIMEOUT)
        await pilot.pause()
        assert shown is listed  # the state the feed already had, handed over on subscribing
        assert feed.builds == builds and all(r.alive for r in feed.reflectors)
        assert set(app.dashboard.opcua_pane.table.row_keys) == {e.key for e in listed.opcua}


async def test_a_slow_vault_shows_its_listing_while_the_values_are_read(
    tmp_path: Path, clock: FrozenClock
) -> None:
    # 40 extra entries: enough values that the listing is shown ahead of them; a vault across a WAN.
    env = DemoEnvironment(state_dir=tmp_path / "demo", clock=clock, run_controllers=False, scale=40)
    env.start()
    env.vault.set_latency(0.2)
    connection = load_cluster_config(str(env.kubeconfig_path), KUBE_CONTEXT, environ={})
    vault = VaultSettings(url=env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
    feed = ClusterFeed(
        connection.api_client,
        ModelSettings(),
        clock=clock,
        vault_reader=make_vault_reader(vault, clock=clock),
    )
    source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, connection.server), on_stop=connection.close)
    try:
        app = DashboardApp(source, clock=clock)
        async with app.run_test(size=(120, 34)) as pilot:
            reading = await app.wait_for_state(lambda s: s.vault.values_pending > 0, TIMEOUT)
            await pilot.pause()
            header = app.dashboard.query_one("#hdr-vault", TextLine).plain
            assert header == f"vault reading ({reading.vault.secret_count})"
            assert all(e.vault_in_sync is None for e in reading.opcua if e.vault_present)  # not known yet
            done = await app.wait_for_state(
                lambda s: s.vault.state is AreaState.OK and s.vault.values_pending == 0, TIMEOUT
            )
            await pilot.pause()
            header = app.dashboard.query_one("#hdr-vault", TextLine).plain
            assert header == f"vault ok ({done.vault.secret_count})"
            assert [e.key for e in done.opcua if e.vault_present and e.vault_in_sync is not True] == []
    finally:
        source.stop()
        env.stop()
