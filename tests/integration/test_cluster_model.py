"""The live feed end to end: emulated API server -> reflectors -> ClusterState, with the clock injected.

Objects are seeded with ``tests/rawobjects.py``; changes are made through the emulator exactly as a
controller would make them, and every test waits for the state it expects (``wait_for_state``).
The vault side uses the real SecretClient against the Key Vault emulator (or against nothing at all).
"""

from __future__ import annotations

import base64
import copy
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests import certgen
from tests.rawobjects import (
    FAMILY_RELEASED,
    certificate,
    quickstart_site,
    secret_sync,
    synced_secret,
    tls_secret,
)
from tui.cluster.config import ClusterConnection, load_cluster_config
from tui.cluster.listwatch import WatchTarget
from tui.cluster.live import ClusterFeed, FeedTimings
from tui.cluster.watch_set import (
    ARC_CONFIG_TARGET,
    assemble,
    combine_status,
    namespaced_status_key,
    unreachable_reason,
    watch_targets,
)
from tui.commands.shared.settings import VaultSettings
from tui.commands.shared.vault_reader import make_vault_reader
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    QUICKSTART_CA_COMMON_NAME,
    ROOT_CA_SECRET,
    TRUST_LIST_SYNC,
    AioNames,
)
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import Area, ClusterState, RotationPhase
from tui.demo.apiserver.server import ApiServer
from tui.demo.environment import DemoEnvironment
from tui.demo.keyvault.vault import start_keyvault_emulator
from tui.demo.seed.aio import secret_name_for, trust_configmap
from tui.demo.seed.objects import iso
from tui.vault.reader import SETTLED

NS = "azure-iot-operations"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT = 10.0
SELF_SIGNED = "azure-iot-operations-aio-selfsigned-root"
NAMES = AioNames(NS, CERT_MANAGER_NAMESPACE)

CA = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=30), days=90)
NEW_CA = certgen.make_ca(
    QUICKSTART_CA_COMMON_NAME,
    not_before=NOW + timedelta(days=1),
    days=90,
    key=certgen.make_key("ec", "rotated"),
    serial=4242,
)
PLC = certgen.make_leaf(None, "plc-1", not_before=NOW - timedelta(days=10), days=365)
GATEWAY = certgen.make_leaf(None, "gateway-1", not_before=NOW - timedelta(days=400), days=365)  # expired
TRUST_FILES = {"plc-1.der": PLC.der, "gateway-1.der": GATEWAY.der}


def _site() -> Any:
    return quickstart_site(
        NOW,
        ca=CA,
        trust=TRUST_FILES,
        namespace=NS,
        ca_duration=timedelta(days=90),
        renew_before=timedelta(days=30),
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def seeded(api_server: ApiServer) -> ApiServer:
    """The API server holding a healthy quickstart site (plus one expired trust-list entry)."""
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in _site().objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    return api_server


@pytest.fixture
def connection(kubeconfig: Path, tmp_path: Path) -> Iterator[ClusterConnection]:
    conn = load_cluster_config(str(kubeconfig), environ={"HOME": str(tmp_path)})
    yield conn
    conn.close()


@pytest.fixture
def feeds() -> Iterator[list[ClusterFeed]]:
    made: list[ClusterFeed] = []
    yield made
    for feed in made:
        feed.stop()
    assert not any(r.alive for feed in made for r in feed.reflectors)


def _feed(made: list[ClusterFeed], conn: ClusterConnection, clock: FrozenClock, **kwargs: Any) -> ClusterFeed:
    feed = ClusterFeed(conn.api_client, ModelSettings(namespace=NS), clock=clock, **kwargs)
    made.append(feed)
    feed.start()
    assert feed.first_state_ready.wait(TIMEOUT), "no first state"
    return feed


def _thumb(state: ClusterState) -> str | None:
    cert = state.root_ca.certificate
    return cert.sha1 if cert is not None else None


def _sha1(issued: certgen.Issued) -> str:
    from cryptography.hazmat.primitives import hashes

    return issued.cert.fingerprint(hashes.SHA1()).hex().upper()


def test_steady_state_is_read_completely(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    state = feed.state
    assert state is not None
    for area in (Area.ROOT_CA, Area.ISSUERS, Area.TRUST_BUNDLE, Area.OPC_UA):
        assert state.area(area).state is AreaState.OK, state.area(area).message
    assert _thumb(state) == _sha1(CA)
    assert state.root_ca.quickstart is True
    assert state.root_ca.rotation.phase is RotationPhase.STEADY
    assert state.trust_bundle.holds_current_ca is True
    assert {i.name for i in state.issuers} >= {NAMES.issuer_name, SELF_SIGNED}
    assert sorted(e.target_key for e in state.entries("trust")) == ["gateway-1.der", "plc-1.der"]
    expired = state.entry("trust/gateway-1.der")
    assert expired is not None and "expired" in expired.flags
    # Every collection of the watch set reported in: per resource, and per namespace where read in several.
    statuses = feed.statuses()
    assert {k for k in statuses if "@" not in k} == {t.kind.key for t in watch_targets(feed.settings)}
    assert statuses[namespaced_status_key(rk.SECRETS.key, CERT_MANAGER_NAMESPACE)].state is AreaState.OK


def test_rotation_is_reflected(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    assert feed.state is not None and feed.state.root_ca.rotation.revision == 1
    clock.set(NOW + timedelta(days=1, minutes=5))  # within the "rotated recently" window
    # What cert-manager does when it renews: new certificate in the secret, status revision up, and
    # trust-manager then rebuilds the bundle from the Secret: the new CA alone (docs/domain.md §4.3).
    seeded.put(tls_secret(ROOT_CA_SECRET, CERT_MANAGER_NAMESPACE, NEW_CA, certificate_name=SELF_SIGNED))
    not_after = NEW_CA.cert.not_valid_after_utc
    seeded.put(
        certificate(
            SELF_SIGNED,
            CERT_MANAGER_NAMESPACE,
            secret_name=ROOT_CA_SECRET,
            issuer_name=SELF_SIGNED,
            is_ca=True,
            common_name=QUICKSTART_CA_COMMON_NAME,
            duration="2160h0m0s",
            renew_before="720h0m0s",
            not_before=NEW_CA.cert.not_valid_before_utc,
            not_after=not_after,
            renewal_time=not_after - timedelta(days=30),
            revision=2,
        )
    )
    seeded.put(
        trust_configmap(
            NAMES.trust_bundle_configmap, NS, NEW_CA.pem, bundle_name=NAMES.trust_bundle_configmap
        )
    )
    state = feed.wait_for_state(
        lambda s: (
            _thumb(s) == _sha1(NEW_CA)
            and s.root_ca.rotation.revision == 2
            and s.trust_bundle.holds_current_ca is True
        ),
        TIMEOUT,
    )
    assert [c.sha1 for c in state.trust_bundle.certificates] == [_sha1(NEW_CA)]
    assert state.root_ca.rotation.phase is RotationPhase.ROTATED
    assert [e.previous_sha1 for e in state.rotation_history] == [_sha1(CA)]
    assert state.built_at == clock.now()


def test_rotation_by_the_demo_cert_manager_on_the_test_clock(
    tmp_path: Path, feeds: list[ClusterFeed]
) -> None:
    clock = FrozenClock(NOW)
    env = DemoEnvironment(
        state_dir=tmp_path / "demo",
        clock=clock,
        run_controllers=False,
        ca_duration=timedelta(seconds=60),
        renew_before=timedelta(seconds=45),
    ).start()
    try:
        conn = load_cluster_config(str(env.kubeconfig_path), environ={"HOME": str(tmp_path)})
        feed = _feed(feeds, conn, clock)
        before = feed.state
        assert before is not None and before.root_ca.rotation.phase is RotationPhase.STEADY
        clock.advance(timedelta(seconds=20))  # past renewalTime (notBefore + 60 s - 45 s)
        env.settle()  # cert-manager renews, trust-manager follows: driven by the test, not by time
        state = feed.wait_for_state(
            lambda s: (
                s.root_ca.rotation.revision == (before.root_ca.rotation.revision or 0) + 1
                and _thumb(s) != _thumb(before)
                and s.trust_bundle.holds_current_ca is True
            ),
            TIMEOUT,
        )
        assert state.root_ca.rotation.phase is RotationPhase.ROTATED
        # The demo's trust-manager, like the real one, keeps no previous CA: the new CA alone.
        assert [c.sha1 for c in state.trust_bundle.certificates] == [_thumb(state)]
        assert _thumb(state) != _thumb(before)
        conn.close()
    finally:
        env.stop()


def test_a_hand_added_crl_survives_a_forced_sync_and_reads_as_hand_added(
    tmp_path: Path, feeds: list[ClusterFeed]
) -> None:
    """The AIO docs' ``kubectl patch secret aio-opc-ua-broker-trust-list`` CRL, on the demo site: the
    secret sync controller's apply keeps it, and the model reads it as added by hand."""
    clock = FrozenClock(NOW)
    env = DemoEnvironment(state_dir=tmp_path / "demo", clock=clock, run_controllers=False).start()
    try:
        conn = load_cluster_config(str(env.kubeconfig_path), environ={"HOME": str(tmp_path)})
        feed = _feed(feeds, conn, clock)
        crl = certgen.make_crl(CA, this_update=NOW).der
        patch = {"data": {"plant-ca.crl": base64.b64encode(crl).decode()}}
        env.kube.core.patch_namespaced_secret(TRUST_LIST_SYNC, NS, patch, field_manager="kubectl-patch")
        sync = env.kube.get(rk.SECRET_SYNCS, NS, TRUST_LIST_SYNC)
        assert sync is not None
        sync["spec"]["forceSynchronization"] = "after-the-crl"
        clock.advance(timedelta(seconds=30))  # so that the forced sync's time differs from the first one
        env.kube.replace(rk.SECRET_SYNCS, sync)
        env.secret_sync.reconcile_once()
        state = feed.wait_for_state(
            lambda s: (
                (e := s.entry("trust/plant-ca.crl")) is not None
                and "hand-added" in e.flags
                and (view := s.sync("trust")) is not None
                and view.last_successful_sync == clock.now()
            ),
            TIMEOUT,
        )
        entry = state.entry("trust/plant-ca.crl")
        assert entry is not None and entry.crl is not None
        secret = env.kube.get(rk.SECRETS, NS, TRUST_LIST_SYNC)
        assert secret is not None and "plant-ca.crl" in secret["data"]
        conn.close()
    finally:
        env.stop()


def test_sync_failure_condition_becomes_a_critical_finding(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    assert feed.state is not None and not any(f.code == "sync-failing" for f in feed.state.findings)
    mappings = [(secret_name_for(f), f) for f in TRUST_FILES]
    seeded.put(
        secret_sync(
            TRUST_LIST_SYNC,
            NS,
            "opc-ua-connector",
            mappings,
            family=FAMILY_RELEASED,
            failure=("ProviderError", "failed to fetch secret plc-1-der: 403 Forbidden"),
            last_sync=NOW - timedelta(hours=2),
        )
    )
    state = feed.wait_for_state(lambda s: any(f.code == "sync-failing" for f in s.findings), TIMEOUT)
    finding = next(f for f in state.findings if f.code == "sync-failing")
    assert finding.severity == "critical" and "ProviderError" in finding.message
    sync = state.sync("trust")
    assert sync is not None and [c.reason for c in sync.failing] == ["ProviderError"]


def test_forbidden_resource_marks_only_its_area(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    seeded.forbid(rk.SECRET_SYNCS.key)
    feed = _feed(feeds, connection, clock)
    state = feed.state
    assert state is not None
    opcua = state.area(Area.OPC_UA)
    assert opcua.state is AreaState.FORBIDDEN
    assert "forbidden (403)" in opcua.message and "\n" not in opcua.message
    for area in (Area.ROOT_CA, Area.ISSUERS, Area.TRUST_BUNDLE):
        assert state.area(area).state is AreaState.OK
    assert _thumb(state) == _sha1(CA)


def test_missing_trust_manager_crd_is_not_installed(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    # No trust-manager: neither its Bundle nor its newer ClusterBundle CRD.
    seeded.uninstall(rk.BUNDLES.key)
    seeded.uninstall(rk.CLUSTER_BUNDLES.key)
    feed = _feed(feeds, connection, clock)
    state = feed.state
    assert state is not None
    assert feed.statuses()[rk.BUNDLES.key].state is AreaState.NOT_INSTALLED
    assert feed.statuses()[rk.CLUSTER_BUNDLES.key].state is AreaState.NOT_INSTALLED
    assert state.area(Area.TRUST_BUNDLE).state is AreaState.NOT_INSTALLED
    # The ConfigMap itself is still read: the bundle content check does not depend on trust-manager.
    assert state.trust_bundle.present and state.trust_bundle.holds_current_ca is True
    assert state.area(Area.ROOT_CA).state is AreaState.OK


def test_a_trust_manager_without_cluster_bundles_is_no_gap(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    """A trust-manager older than ClusterBundle (the demo's, the public replica's) serves Bundle alone."""
    seeded.uninstall(rk.CLUSTER_BUNDLES.key)
    feed = _feed(feeds, connection, clock)
    state = feed.state
    assert state is not None
    assert feed.statuses()[rk.CLUSTER_BUNDLES.key].state is AreaState.NOT_INSTALLED
    assert state.area(Area.TRUST_BUNDLE).state is AreaState.OK
    assert state.trust_bundle.bundle_kind == "Bundle" and state.trust_bundle.holds_current_ca is True


def test_dropped_watches_do_not_lose_changes(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    seeded.wait_for_watches(len(feed.reflectors), timeout=TIMEOUT)
    seeded.drop_watches()
    files = {**TRUST_FILES, "historian.der": certgen.make_leaf(None, "historian", not_before=NOW).der}
    seeded.put(synced_secret(TRUST_LIST_SYNC, NS, files))
    state = feed.wait_for_state(lambda s: s.entry("trust/historian.der") is not None, TIMEOUT)
    assert state.area(Area.OPC_UA).state is AreaState.OK


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_vault_leaves_the_cluster_view_working(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    reader = make_vault_reader(
        VaultSettings(url=f"https://127.0.0.1:{_closed_port()}/", auth="demo"), clock=clock, quick=True
    )
    feed = _feed(feeds, connection, clock, vault_reader=reader)
    state = feed.wait_for_state(lambda s: s.vault.state is not AreaState.PENDING, TIMEOUT)
    assert state.vault.state is AreaState.UNREACHABLE
    assert "cannot reach the vault" in state.vault.message
    for area in (Area.ROOT_CA, Area.ISSUERS, Area.TRUST_BUNDLE, Area.OPC_UA):
        assert state.area(area).state is AreaState.OK
    # The cluster side keeps flowing while the vault is down.
    seeded.put(synced_secret(TRUST_LIST_SYNC, NS, {"plc-1.der": PLC.der}))
    state = feed.wait_for_state(lambda s: s.entry("trust/gateway-1.der").synced is False, TIMEOUT)
    assert state.vault.state is AreaState.UNREACHABLE


def test_vault_is_read_through_the_spc_and_joined(
    seeded: ApiServer,
    connection: ClusterConnection,
    clock: FrozenClock,
    feeds: list[ClusterFeed],
    tmp_path: Path,
) -> None:
    vault = start_keyvault_emulator(clock=clock)
    try:
        for file_name, data in TRUST_FILES.items():
            vault.put_secret(
                secret_name_for(file_name), data.hex(), "application/pkix-cert", {"file-encoding": "hex"}
            )
        assert vault.ca_pem_path is not None
        settings = VaultSettings(url=vault.url, auth="demo", ca_bundle=str(vault.ca_pem_path))
        feed = _feed(feeds, connection, clock, vault_reader=make_vault_reader(settings, clock=clock))
        state = feed.wait_for_state(lambda s: s.vault.state is AreaState.OK, TIMEOUT)
        entry = state.entry("trust/plc-1.der")
        assert entry is not None and entry.vault_present is True and entry.vault_in_sync is True
        # A refresh on demand picks up a value changed in the vault.
        vault.put_secret(
            secret_name_for("plc-1.der"), GATEWAY.der.hex(), "application/pkix-cert", {"file-encoding": "hex"}
        )
        feed.refresh_vault()
        feed.wait_for_state(lambda s: s.entry("trust/plc-1.der").vault_in_sync is False, TIMEOUT)
    finally:
        vault.stop()


def test_timed_vault_rereads_fetch_only_the_values_that_changed(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    # Reading 2,000 values costs seconds of CPU; every minute that made the dashboard stutter.
    vault = start_keyvault_emulator(clock=clock)
    try:
        for file_name, data in TRUST_FILES.items():
            vault.put_secret(
                secret_name_for(file_name), data.hex(), "application/pkix-cert", {"file-encoding": "hex"}
            )
        assert vault.ca_pem_path is not None
        clock.advance(SETTLED)  # values are remembered once their version is this old (tui/vault/reader.py)
        settings = VaultSettings(url=vault.url, auth="demo", ca_bundle=str(vault.ca_pem_path))
        real = make_vault_reader(settings, clock=clock)
        reads: list[tuple[bool, int]] = []  # (incremental, values fetched), one per read of the vault
        changed = threading.Condition()

        def value_gets() -> int:
            return sum(1 for r in vault.requests() if r.method == "GET" and r.path.startswith("/secrets/"))

        def reader(state: ClusterState | None, *, incremental: bool = False, on_listed: Any = None) -> Any:
            before = value_gets()
            snapshot = real(state, incremental=incremental, on_listed=on_listed)
            with changed:
                reads.append((incremental, value_gets() - before))
                changed.notify_all()
            return snapshot

        def next_reads(count: int) -> list[tuple[bool, int]]:
            with changed:
                start = len(reads)
                assert changed.wait_for(lambda: len(reads) >= start + count, TIMEOUT)
                return reads[start:]

        feed = _feed(feeds, connection, clock, vault_reader=reader, timings=FeedTimings(vault_interval=0.02))
        feed.wait_for_state(lambda s: s.vault.state is AreaState.OK, TIMEOUT)
        assert reads[0] == (False, 2)  # the first read fetches every value
        assert next_reads(3) == [(True, 0)] * 3  # nothing changed: listing only
        # A value changed a second later: the timed reads fetch it (and only it).
        clock.advance(timedelta(seconds=1))
        vault.put_secret(
            secret_name_for("plc-1.der"), GATEWAY.der.hex(), "application/pkix-cert", {"file-encoding": "hex"}
        )
        feed.wait_for_state(lambda s: s.entry("trust/plc-1.der").vault_in_sync is False, TIMEOUT)
        # Until its new version is SETTLED old, the changed value is fetched again; then no more.
        clock.advance(SETTLED)
        with changed:
            assert changed.wait_for(lambda: reads[-1] == (True, 0), TIMEOUT)
        assert reads[0][1] == 2 and {n for _, n in reads[1:]} == {0, 1}
        # Values are remembered by version: neither ten minutes (when every value used to be read again) nor
        # a read asked for fetches them again.
        clock.advance(timedelta(minutes=10))
        assert next_reads(3) == [(True, 0)] * 3
        feed.refresh_vault()
        with changed:
            assert changed.wait_for(lambda: (False, 0) in reads[1:], TIMEOUT)
        assert all(n == 0 for _, n in reads[-3:])
    finally:
        vault.stop()


def test_a_burst_of_changes_costs_one_rebuild(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    # A wide window makes the bound exact even on a loaded machine; the default is ~50 ms.
    feed = _feed(feeds, connection, clock, timings=FeedTimings(quiet=0.3, max_delay=2.0))
    builds_before = feed.builds
    files = dict(TRUST_FILES)
    for i in range(20):
        files[f"extra-{i}.der"] = PLC.der
        seeded.put(synced_secret(TRUST_LIST_SYNC, NS, files))
    state = feed.wait_for_state(lambda s: s.entry("trust/extra-19.der") is not None, TIMEOUT)
    assert len(state.entries("trust")) == 22
    assert feed.builds - builds_before == 1


def test_subscribers_get_each_state_and_late_ones_the_current(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    got: list[ClusterState] = []
    arrived = threading.Event()

    def collect(state: ClusterState) -> None:
        got.append(state)
        arrived.set()

    def broken(state: ClusterState) -> None:
        raise RuntimeError("subscriber bug")

    feed.subscribe(broken)
    unsubscribe = feed.subscribe(collect)
    assert got == [feed.state]  # late subscriber: the current state straight away
    arrived.clear()
    clock.advance(timedelta(days=2))
    feed.rebuild()
    assert arrived.wait(TIMEOUT)
    assert got[-1].built_at == NOW + timedelta(days=2)
    assert got[-1].root_ca.days_left == pytest.approx(got[0].root_ca.days_left - 2)
    unsubscribe()
    count = len(got)
    feed.rebuild()
    feed.wait_for_state(lambda s: s is not got[-1], TIMEOUT)
    assert len(got) == count


def test_wait_for_state_times_out_with_a_reason(
    seeded: ApiServer, connection: ClusterConnection, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    feed = _feed(feeds, connection, clock)
    with pytest.raises(TimeoutError, match=r"no matching cluster state within 0.2s"):
        feed.wait_for_state(lambda s: False, 0.2)


def test_unreachable_cluster_still_yields_a_state(
    tmp_path: Path, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        f"clusters: [{{name: dead, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "contexts: [{name: dead, context: {cluster: dead}}]\n",
        encoding="utf-8",
    )
    conn = load_cluster_config(str(path), environ={"HOME": str(tmp_path)})
    # A fixed long wait keeps the reflectors parked after their first failure.
    feed = _feed(feeds, conn, clock, wait=lambda stop, seconds: stop.wait(60))
    state = feed.state
    assert state is not None
    assert state.area(Area.ROOT_CA).state is AreaState.UNREACHABLE
    assert unreachable_reason(feed.raw_snapshot()) == "connection refused"
    conn.close()


# --- the watch set, without a server -----


def test_watch_set_reads_namespaced_kinds_only_where_needed() -> None:
    targets = watch_targets(ModelSettings(namespace="aio", cert_manager_namespace="cm"))
    by_kind: dict[str, set[str | None]] = {}
    for t in targets:
        by_kind.setdefault(t.kind.key, set()).add(t.namespace)
    assert by_kind[rk.SECRETS.key] == {"aio", "cm"}
    # ConfigMaps in azure-arc too: only Arc's azure-clusterconfig, by name (docs/domain.md §9.4).
    assert by_kind[rk.CONFIGMAPS.key] == {"aio", "cm", "azure-arc"}
    assert [t.field_selector for t in targets if t.namespace == "azure-arc"] == [
        "metadata.name=azure-clusterconfig"
    ]
    assert by_kind[rk.SECRET_SYNCS.key] == {"aio"}
    assert by_kind[rk.CLUSTER_ISSUERS.key] == {None} and by_kind[rk.BUNDLES.key] == {None}
    assert set(by_kind) == {k.key for k in rk.ALL_KINDS}
    # The same namespace twice is read once.
    same = watch_targets(ModelSettings(namespace="cm", cert_manager_namespace="cm"))
    assert len([t for t in same if t.kind is rk.SECRETS]) == 1


def test_the_arc_configmap_read_never_makes_the_bundle_configmaps_unreadable() -> None:
    ok = ResourceStatus(AreaState.OK)
    denied = ResourceStatus(AreaState.FORBIDDEN, "configmaps in azure-arc: forbidden (403)")
    arc = {("azure-arc", "azure-clusterconfig"): {"metadata": {"name": "azure-clusterconfig"}}}
    raw = assemble(
        [(WatchTarget(rk.CONFIGMAPS, "aio"), {}, ok), (ARC_CONFIG_TARGET, {}, denied)],
        NOW,
    )
    assert raw.state_of(rk.CONFIGMAPS.key).state is AreaState.OK
    assert raw.state_of("v1/configmaps@azure-arc") == denied
    read = assemble([(WatchTarget(rk.CONFIGMAPS, "aio"), {}, ok), (ARC_CONFIG_TARGET, arc, ok)], NOW)
    assert read.get(rk.CONFIGMAPS.key, "azure-arc", "azure-clusterconfig") is not None


def test_combined_status_is_the_worst_part_and_each_part_is_kept() -> None:
    ok = ResourceStatus(AreaState.OK)
    denied = ResourceStatus(AreaState.FORBIDDEN, "secrets in cm: forbidden (403)")
    assert combine_status([ok, ok]).state is AreaState.OK
    combined = combine_status([ok, denied])
    assert (combined.state, combined.message) == (AreaState.FORBIDDEN, "secrets in cm: forbidden (403)")
    raw = assemble(
        [
            (WatchTarget(rk.SECRETS, "aio"), {}, ok),
            (WatchTarget(rk.SECRETS, "cm"), {}, denied),
            (WatchTarget(rk.BUNDLES), {}, ok),
        ],
        NOW,
    )
    assert raw.state_of(rk.SECRETS.key).state is AreaState.FORBIDDEN
    assert raw.state_of(namespaced_status_key(rk.SECRETS.key, "aio")) is ok
    assert raw.state_of(namespaced_status_key(rk.SECRETS.key, "cm")) is denied
    assert rk.BUNDLES.key in raw.status and not any(k.startswith(rk.BUNDLES.key + "@") for k in raw.status)


def _request(name: str, cert: str, created: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": name,
            "namespace": "cm",
            "creationTimestamp": created,
            "annotations": {"cert-manager.io/certificate-name": cert},
        }
    }


def test_only_recent_certificate_requests_are_kept() -> None:
    items = {("cm", f"ca-{i}"): _request(f"ca-{i}", "ca", iso(NOW + timedelta(days=i))) for i in range(8)}
    items[("cm", "leaf-1")] = _request("leaf-1", "leaf", iso(NOW))
    raw = assemble([(WatchTarget(rk.CERTIFICATE_REQUESTS, "cm"), items, ResourceStatus(AreaState.OK))], NOW)
    kept = {name for _ns, name in raw.objects[rk.CERTIFICATE_REQUESTS.key]}
    assert kept == {"ca-7", "ca-6", "ca-5", "ca-4", "ca-3", "leaf-1"}


def test_unreachable_reason_only_when_nothing_was_read() -> None:
    refused = ResourceStatus(AreaState.UNREACHABLE, "secrets in x: connection refused")
    parts = [(WatchTarget(rk.SECRETS, "x"), {}, refused), (WatchTarget(rk.BUNDLES), {}, refused)]
    assert unreachable_reason(assemble(parts, NOW)) == "connection refused"
    parts[1] = (WatchTarget(rk.BUNDLES), {}, ResourceStatus(AreaState.OK))
    assert unreachable_reason(assemble(parts, NOW)) is None


NOT_KUBERNETES = "not a Kubernetes API server (no core API: /api/v1 answers 404)"


def test_a_server_without_the_core_api_is_unreachable_not_empty() -> None:
    # Any web server answers 404 to /api/v1/...: that is no Kubernetes, not a site with nothing installed.
    missing = ResourceStatus(AreaState.NOT_INSTALLED, "x: not served by the API server (not installed)")
    parts = [(target, {}, missing) for target in watch_targets(ModelSettings(namespace=NS))]
    raw = assemble(parts, NOW)
    assert unreachable_reason(raw) == NOT_KUBERNETES
    assert {s.state for s in raw.status.values()} == {AreaState.UNREACHABLE}
    # A real cluster lists its core kinds: custom resources not installed there are just that.
    listed = [(t, {}, ResourceStatus(AreaState.OK) if not t.kind.group else s) for t, _i, s in parts]
    raw = assemble(listed, NOW)
    assert unreachable_reason(raw) is None
    assert raw.state_of(rk.CERTIFICATES.key).state is AreaState.NOT_INSTALLED


class _NotKubernetes(BaseHTTPRequestHandler):
    """A web server that is not Kubernetes: 404 with a page for every path, as most are."""

    def do_GET(self) -> None:
        body = b"<html><body>Not Found</body></html>"
        self.send_response(404)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test output is not the place for its access log."""


@pytest.fixture
def not_kubernetes() -> Iterator[str]:
    """The URL of an HTTP server that answers 404 to everything."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotKubernetes)
    thread = threading.Thread(target=server.serve_forever, name="not-kubernetes", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_the_dashboard_says_unreachable_for_a_server_that_is_not_kubernetes(
    not_kubernetes: str, tmp_path: Path, clock: FrozenClock, feeds: list[ClusterFeed]
) -> None:
    from tui.ui.view.connection import cluster_summary

    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: web\n"
        f"clusters: [{{name: web, cluster: {{server: '{not_kubernetes}'}}}}]\n"
        "contexts: [{name: web, context: {cluster: web}}]\n",
        encoding="utf-8",
    )
    conn = load_cluster_config(str(path), environ={"HOME": str(tmp_path)})
    feed = _feed(feeds, conn, clock, wait=lambda stop, seconds: stop.wait(60))
    state = feed.state
    assert state is not None
    assert state.area(Area.ROOT_CA).state is AreaState.UNREACHABLE
    assert cluster_summary(state).text == "unreachable"
    assert unreachable_reason(feed.raw_snapshot()) == NOT_KUBERNETES
    conn.close()
