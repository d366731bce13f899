"""How the live feed starts (docs/design.md §10.1), through the real client against the emulated API server.

- the first vault and ARM reads wait for the first frame (``release_side_reads``) when asked to, and
  start anyway once ``side_reads_after`` has passed;
- decoded certificates are loaded from the state directory before the first build and saved after it;
- a re-read of the vault keeps the last complete read on screen until its values are in;
- states are published as the collections arrive, each naming what is still loading, and the side reads
  wait for the first complete one.
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
from tests.rawobjects import issuer, quickstart_site
from tui.cluster import reflector as reflector_module
from tui.cluster.config import ClusterConnection, load_cluster_config
from tui.cluster.decoded_store import DecodedStore
from tui.cluster.listwatch import ListResult, WatchTarget
from tui.cluster.live import ClusterFeed, FeedTimings
from tui.core.build.cache import DecodeCache
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.names import CERT_MANAGER_NAMESPACE, QUICKSTART_CA_COMMON_NAME
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSnapshot
from tui.core.model.state import ClusterState, Health, RotationPhase
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
        complete = feed.wait_for_state(lambda s: s.vault.values_pending == 0 and bool(s.vault.url), TIMEOUT)
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


class HeldLister:
    """The real list call, except that the first list of ``held`` waits until :attr:`release` is set (a
    collection on a far, slow link); every other collection is listed at once."""

    def __init__(self, held: rk.ResourceKind, real: Callable[[Any, WatchTarget], ListResult]) -> None:
        self.held = held
        self.real = real
        self.release = threading.Event()
        self.waiting = threading.Event()

    def __call__(self, api_client: Any, target: WatchTarget) -> ListResult:
        if target.kind is self.held and not self.release.is_set():
            self.waiting.set()
            assert self.release.wait(TIMEOUT)
        return self.real(api_client, target)


class StateLog:
    """A subscriber that keeps every state and signals the first one matching ``wanted``."""

    def __init__(self, wanted: Callable[[ClusterState], bool]) -> None:
        self.states: list[ClusterState] = []
        self.wanted = wanted
        self.seen = threading.Event()

    def __call__(self, state: ClusterState) -> None:
        self.states.append(state)
        if self.wanted(state):
            self.seen.set()


@pytest.mark.parametrize("held", [rk.SECRET_SYNCS, rk.CERTIFICATES, rk.SECRETS], ids=lambda k: k.plural)
def test_a_partial_state_is_published_before_the_last_list_completes(
    connection: ClusterConnection, monkeypatch: pytest.MonkeyPatch, held: rk.ResourceKind
) -> None:
    lister = HeldLister(held, reflector_module.list_objects)
    monkeypatch.setattr(reflector_module, "list_objects", lister)
    vault, arm = SideReader(), SideReader()
    log = StateLog(lambda s: s.loading == (held.plural,))
    feed = _feed(connection, FeedTimings(side_reads_after=60.0), vault_reader=vault, arm_reader=arm)
    feed.subscribe(log)
    with feed:
        assert log.seen.wait(TIMEOUT)
        partial = next(s for s in log.states if s.loading == (held.plural,))
        assert lister.waiting.is_set() and not lister.release.is_set()
        assert not feed.first_state_ready.is_set() and feed.partial_builds >= 1
        # What the held collection would say is loading, not absent.
        if held is rk.SECRET_SYNCS:
            assert partial.opcua and all(Health.HAND_ADDED not in e.flags for e in partial.opcua)
            assert all(e.loading == ("secretsyncs",) for e in partial.opcua)
        elif held is rk.SECRETS:
            assert {e.content for e in partial.opcua} == {"loading"}
            assert all(Health.NOT_SYNCED not in e.flags for e in partial.opcua)
        else:
            assert partial.root_ca.rotation.phase is RotationPhase.LOADING
        assert not {f.code for f in partial.findings} & {"root-ca-missing", "sync-absent", "issuer-missing"}
        # Released by the first frame drawn, the side reads still wait for the complete state: the vault
        # reader needs the SPC, ARM the list objects.
        feed.release_side_reads()
        assert not vault.called.is_set() and not arm.called.is_set()
        lister.release.set()
        assert feed.first_state_ready.wait(TIMEOUT)
        assert vault.called.wait(TIMEOUT) and arm.called.wait(TIMEOUT)
        final = feed.wait_for_state(lambda s: s.complete, TIMEOUT)
        assert final.root_ca.rotation.phase is RotationPhase.STEADY
        assert all(not e.loading and e.flags == () for e in final.opcua)
    # Coalesced: far fewer builds than collections while the others arrived.
    assert feed.partial_builds < len(feed.reflectors) // 2


def test_without_partial_builds_nothing_is_published_before_every_collection_answered(
    connection: ClusterConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    lister = HeldLister(rk.SECRET_SYNCS, reflector_module.list_objects)
    monkeypatch.setattr(reflector_module, "list_objects", lister)
    log = StateLog(lambda s: True)
    feed = _feed(connection, FeedTimings(partial_every=0.0))
    feed.subscribe(log)
    with feed:
        assert lister.waiting.wait(TIMEOUT)
        # Every other collection answers; a rebuild asked for now must still wait for the last one.
        feed.rebuild()
        lister.release.set()
        assert feed.first_state_ready.wait(TIMEOUT)
    assert log.states and all(s.complete for s in log.states)
    assert feed.partial_builds == 0


def test_no_partial_state_is_built_before_someone_subscribes(
    connection: ClusterConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The dashboard starts the lists before it imports its UI: a partial build then would only slow
    # that import down. The subscriber that comes gets one at once.
    lister = HeldLister(rk.SECRETS, reflector_module.list_objects)
    monkeypatch.setattr(reflector_module, "list_objects", lister)
    with _feed(connection, FeedTimings()) as feed:
        assert lister.waiting.wait(TIMEOUT)
        for reflector in feed.reflectors:
            if reflector.target.kind is not rk.SECRETS:
                assert reflector.ready.wait(TIMEOUT)
        assert feed.builds == 0 and feed.state is None
        log = StateLog(lambda s: rk.SECRETS.plural in s.loading)
        feed.subscribe(log)
        assert log.seen.wait(TIMEOUT)
        assert feed.partial_builds >= 1 and not feed.first_state_ready.is_set()
        lister.release.set()
        assert feed.first_state_ready.wait(TIMEOUT)


class BlockingReader:
    """A vault reader whose read waits until it is closed (a child process's read cut short)."""

    def __init__(self) -> None:
        self.reading = threading.Event()
        self.closed = threading.Event()
        self.returned = threading.Event()

    def __call__(self, state: ClusterState | None, **_kwargs: Any) -> None:
        self.reading.set()
        self.closed.wait()
        self.returned.set()

    def close(self) -> None:
        self.closed.set()


def test_stopping_the_feed_closes_a_reader_that_can_be_closed_before_waiting_for_it(
    connection: ClusterConnection,
) -> None:
    reader = BlockingReader()
    feed = _feed(connection, FeedTimings(), vault_reader=reader)
    feed.start()
    try:
        assert reader.reading.wait(TIMEOUT)
    finally:
        feed.stop(timeout=TIMEOUT)
    # Closed first, so the read under way returned and the vault thread was joined, not abandoned.
    assert reader.returned.is_set()
    assert not any(thread.is_alive() for thread in feed._threads)


def _with_issuer(name: str) -> Callable[[ClusterState], bool]:
    return lambda state: state.complete and any(i.name == name for i in state.issuers)


def test_a_change_waits_while_builds_are_deferred_and_is_built_when_the_hold_ends(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    with _feed(connection, FeedTimings(max_deferral=3600)) as feed:
        feed.wait_for_state(lambda state: state.complete, TIMEOUT)
        feed.defer_builds(3600)  # someone types
        seeded.put(issuer("typed-over", NS))
        with pytest.raises(TimeoutError):
            feed.wait_for_state(_with_issuer("typed-over"), 0.3)
        feed.defer_builds(0)  # the pause
        feed.wait_for_state(_with_issuer("typed-over"), TIMEOUT)


def test_a_deferred_change_is_built_once_the_cap_has_passed(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    # Someone typing steadily still sees the site move (the cap counts from the change's first event).
    with _feed(connection, FeedTimings(max_deferral=0.05)) as feed:
        feed.wait_for_state(lambda state: state.complete, TIMEOUT)
        feed.defer_builds(3600)
        seeded.put(issuer("typed-over", NS))
        feed.wait_for_state(_with_issuer("typed-over"), TIMEOUT)


def test_the_first_complete_state_is_never_held_back(connection: ClusterConnection) -> None:
    feed = _feed(connection, FeedTimings(max_deferral=3600))
    feed.defer_builds(3600)  # keys before anything is on screen
    with feed:
        feed.wait_for_state(lambda state: state.complete, TIMEOUT)
