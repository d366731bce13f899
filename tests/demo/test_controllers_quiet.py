"""The running demo stays quiet when nothing concerns a controller.

A SecretSync's status is written by the sync controller itself after every sync and by tools (the
benchmark's latency probe writes it 50 times); the controller acts on spec changes and on its poll
timer only, so such writes must not wake it to list every SecretSync and SPC again. Spec changes
still wake it at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest

from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.demo.environment import DemoEnvironment

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NS = "azure-iot-operations"
TRUST = "aio-opc-ua-broker-trust-list"
TIMEOUT = 10.0


def _until(condition: Callable[[], bool], what: str) -> None:
    # The watch threads run in this process but signal nothing a test can await: poll their counters.
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


@pytest.fixture
def running() -> Iterator[DemoEnvironment]:
    with DemoEnvironment(clock=FrozenClock(START), run_controllers=True) as env:
        yield env


def _sync_watcher(env: DemoEnvironment) -> object:
    # One watch: SecretSyncs. The released controller does not watch SecretProviderClasses.
    _until(lambda: len(env.secret_sync.watchers) == 1, "the secret sync controller's watchers")
    return next(w for w in env.secret_sync.watchers if w.name == "watch-secretsyncs")


def test_status_and_metadata_writes_do_not_wake_the_sync_controller(running: DemoEnvironment) -> None:
    env = running
    watcher = _sync_watcher(env)
    # The first watch delivers every SecretSync once (ADDED): those wake it.
    _until(lambda: watcher.wakes >= 2, "the initial SecretSync events")
    wakes, skipped = watcher.wakes, watcher.skipped
    before = env.kube.get(rk.SECRET_SYNCS, NS, TRUST)
    assert before is not None

    env.kube.patch_status(rk.SECRET_SYNCS, NS, TRUST, {"lastSuccessfulSyncTime": "2030-01-01T00:00:00Z"})
    _until(lambda: watcher.skipped == skipped + 1, "the status write to arrive")
    labelled = env.kube.get(rk.SECRET_SYNCS, NS, TRUST)
    assert labelled is not None
    labelled["metadata"].setdefault("labels", {})["team"] = "ot"
    env.kube.replace(rk.SECRET_SYNCS, labelled)
    _until(lambda: watcher.skipped == skipped + 2, "the label write to arrive")
    assert watcher.wakes == wakes

    # Nothing was synced for those writes: the status is exactly what the probe wrote.
    after = env.kube.get(rk.SECRET_SYNCS, NS, TRUST)
    assert after is not None
    assert after["status"]["lastSuccessfulSyncTime"] == "2030-01-01T00:00:00Z"
    assert after["status"]["syncHash"] == before["status"]["syncHash"]


def test_a_spec_change_still_wakes_the_sync_controller(running: DemoEnvironment) -> None:
    env = running
    watcher = _sync_watcher(env)
    _until(lambda: watcher.wakes >= 2, "the initial SecretSync events")
    wakes = watcher.wakes
    sync = env.kube.get(rk.SECRET_SYNCS, NS, TRUST)
    assert sync is not None
    sync["spec"]["forceSynchronization"] = "2026-03-01T12-00-05"
    env.kube.replace(rk.SECRET_SYNCS, sync)
    _until(lambda: watcher.wakes > wakes, "the spec change to wake the controller")
    _until(
        lambda: (
            (env.kube.get(rk.SECRET_SYNCS, NS, TRUST) or {})["status"]["syncHash"]
            != sync["status"]["syncHash"]
        ),
        "the forced sync",
    )
