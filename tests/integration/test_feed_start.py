"""How the live feed starts (docs/design.md §10.1), through the real client against the emulated API server.

- the first vault and ARM reads wait for the first frame (``release_side_reads``) when asked to, and
  start anyway once ``side_reads_after`` has passed;
- decoded certificates are loaded from the state directory before the first build and saved after it;
- a re-read of the vault keeps the last complete read on screen until its values are in.
"""

from __future__ import annotations

import copy
import hashlib
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import certgen
from tests.rawobjects import quickstart_site
from tui.cluster.config import ClusterConnection, load_cluster_config
from tui.cluster.decoded_store import DecodedStore
from tui.cluster.live import ClusterFeed, FeedTimings
from tui.core.build.cache import DecodeCache
from tui.core.clock import FrozenClock
from tui.core.model.names import CERT_MANAGER_NAMESPACE, QUICKSTART_CA_COMMON_NAME
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSnapshot
from tui.core.model.state import ClusterState
from tui.demo.apiserver.server import ApiServer

NS = "azure-iot-operations"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT = 10.0
CA = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=30), days=90)
TRUST_FILES = {
    f"plc-{n}.der": certgen.make_leaf(None, f"plc-{n}", not_before=NOW - timedelta(days=10), days=365).der
    for n in range(3)
}


@pytest.fixture
def seeded(api_server: ApiServer) -> ApiServer:
    site = quickstart_site(
        NOW,
        ca=CA,
        trust=TRUST_FILES,
        namespace=NS,
        ca_duration=timedelta(days=90),
        renew_before=timedelta(days=30),
    )
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in site.objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    return api_server


@pytest.fixture
def connection(seeded: ApiServer, kubeconfig: Path, tmp_path: Path) -> Iterator[ClusterConnection]:
    conn = load_cluster_config(str(kubeconfig), environ={"HOME": str(tmp_path)})
    yield conn
    conn.close()


class SideReader:
    """A vault or ARM reader that records that it was asked; it reads nothing (no vault, no ARM ids)."""

    def __init__(self) -> None:
        self.called = threading.Event()

    def __call__(self, state: ClusterState | None, **_kwargs: Any) -> None:
        self.called.set()


def _feed(connection: ClusterConnection, timings: FeedTimings, **kwargs: Any) -> ClusterFeed:
    return ClusterFeed(
        connection.api_client, ModelSettings(namespace=NS), clock=FrozenClock(NOW), timings=timings, **kwargs
    )


def test_side_reads_wait_for_the_first_frame_when_asked(connection: ClusterConnection) -> None:
    vault, arm = SideReader(), SideReader()
    feed = _feed(connection, FeedTimings(side_reads_after=60.0), vault_reader=vault, arm_reader=arm)
    with feed:
        assert feed.first_state_ready.wait(TIMEOUT)
        # Held back while the first frame is painted (without the hold they start with the first state).
        assert not vault.called.wait(0.3)
        assert not arm.called.is_set()
        feed.release_side_reads()
        assert vault.called.wait(TIMEOUT)
        assert arm.called.wait(TIMEOUT)


def test_side_reads_start_anyway_when_nobody_releases_them(connection: ClusterConnection) -> None:
    vault, arm = SideReader(), SideReader()
    with _feed(connection, FeedTimings(side_reads_after=0.05), vault_reader=vault, arm_reader=arm) as feed:
        assert feed.first_state_ready.wait(TIMEOUT)
        assert vault.called.wait(TIMEOUT)
        assert arm.called.wait(TIMEOUT)


def test_without_a_hold_side_reads_start_with_the_first_state(connection: ClusterConnection) -> None:
    vault = SideReader()
    with _feed(connection, FeedTimings(), vault_reader=vault) as feed:
        assert feed.first_state_ready.wait(TIMEOUT)
        assert vault.called.wait(TIMEOUT)


def test_decoded_certificates_are_saved_after_the_first_state_and_loaded_at_the_next_start(
    connection: ClusterConnection, tmp_path: Path
) -> None:
    state_dir = tmp_path / "state"
    timings = FeedTimings(save_decoded_after=0.0)
    first = DecodedStore(state_dir)
    with _feed(connection, timings, decoded_store=first) as feed:
        assert feed.first_state_ready.wait(TIMEOUT)
    # Saved (at the latest when the feed stopped): every list file is in the copy.
    saved = DecodeCache()
    assert DecodedStore(state_dir).load_into(saved) >= len(TRUST_FILES)
    digests = dict(saved.decoded_items())
    for data in TRUST_FILES.values():
        assert hashlib.sha256(data).digest() in digests

    second = DecodedStore(state_dir)
    feed = _feed(connection, timings, decoded_store=second)
    try:
        feed.start()
        # Loaded by start(), before any list has been built into a state.
        assert second.loaded >= len(TRUST_FILES)
        assert feed.first_state_ready.wait(TIMEOUT)
    finally:
        feed.stop()


class ListingReader:
    """A vault reader that hands over a listing first, then waits for the test before its values."""

    def __init__(self) -> None:
        self.listed = threading.Event()
        self.values = threading.Event()
        self.reads = 0

    def snapshot(self, pending: int) -> VaultSnapshot:
        status = ResourceStatus(AreaState.OK, "", NOW)
        return VaultSnapshot("https://kv.example/", status, taken_at=NOW, values_pending=pending)

    def __call__(
        self,
        state: ClusterState | None,
        *,
        incremental: bool = False,
        on_listed: Callable[[VaultSnapshot], None] | None = None,
    ) -> VaultSnapshot:
        self.reads += 1
        if on_listed is not None:
            on_listed(self.snapshot(pending=2000))
        self.listed.set()
        assert self.values.wait(TIMEOUT)
        self.values.clear()
        return self.snapshot(pending=0)


def test_a_vault_re_read_keeps_the_last_complete_read_until_the_new_one_is_in(
    connection: ClusterConnection,
) -> None:
    reader = ListingReader()
    with _feed(connection, FeedTimings(), vault_reader=reader) as feed:
        # The first read: the listing shows at once, the values follow.
        assert reader.listed.wait(TIMEOUT)
        listing = feed.wait_for_state(lambda s: s.vault.values_pending == 2000, TIMEOUT)
        assert listing.vault.state is AreaState.OK
        reader.listed.clear()
        reader.values.set()
        complete = feed.wait_for_state(lambda s: s.vault.values_pending == 0 and s.vault.url, TIMEOUT)
        shown = feed.vault_snapshot
        assert shown is not None and shown.values_pending == 0

        # ctrl+r: a full re-read. Its listing must not replace the complete read on screen.
        feed.refresh_vault()
        assert reader.listed.wait(TIMEOUT)
        assert feed.vault_snapshot is shown
        feed.rebuild()
        later = feed.wait_for_state(lambda s: s is not complete, TIMEOUT)
        assert later.vault.values_pending == 0
        reader.values.set()
        assert reader.reads == 2
