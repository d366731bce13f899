"""The reflector against the emulated API server, through the real kubernetes client over HTTP.

Faults (403, missing CRD, dropped watches, compacted history, a dead server) are injected in the
emulator; the reflector's waits are injected so that backoff is checked without sleeping, and "the
watch is down" windows are held open deterministically with a gate instead of timing.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tui.cluster.config import ClusterConnection, load_cluster_config
from tui.cluster.listwatch import WatchTarget
from tui.cluster.reflector import Backoff, Reflector, ReflectorTimings
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState
from tui.demo.apiserver.server import ApiServer, start_api_server

NS = "azure-iot-operations"
TIMEOUT = 10.0


def _namespace(name: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def _configmap(
    name: str,
    value: str = "v",
    *,
    namespace: str = NS,
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta, "data": {"k": value}}


class Watcher:
    """Collects a reflector's change notifications and lets a test wait for a condition on it."""

    def __init__(self) -> None:
        self.changes = 0
        self._cond = threading.Condition()

    def __call__(self, _reflector: Reflector) -> None:
        with self._cond:
            self.changes += 1
            self._cond.notify_all()

    def until(self, predicate: Callable[[], bool], timeout: float = TIMEOUT) -> None:
        """Wait until ``predicate()`` holds, re-checking after each notification."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise AssertionError(f"condition not reached within {timeout}s")


class Gate:
    """An injected wait that parks the reflector until the test opens the gate (records each delay).

    The first ``free`` waits return at once, for tests that want to see a retry happen first.
    """

    def __init__(self, free: int = 0) -> None:
        self.delays: list[float] = []
        self.free = free
        self.parked = threading.Event()
        self.open = threading.Event()

    def __call__(self, stop: threading.Event, seconds: float) -> bool:
        self.delays.append(seconds)
        if len(self.delays) <= self.free:
            return stop.is_set()
        self.parked.set()
        while not self.open.is_set() and not stop.is_set():
            self.open.wait(0.05)
        return stop.is_set()


@pytest.fixture
def server() -> Iterator[ApiServer]:
    srv = start_api_server()
    srv.put(_namespace(NS))
    yield srv
    srv.stop()


@pytest.fixture
def connection(server: ApiServer, tmp_path: Path) -> Iterator[ClusterConnection]:
    path = tmp_path / "kubeconfig"
    server.write_kubeconfig(path, namespace=NS)
    conn = load_cluster_config(str(path), environ={"HOME": str(tmp_path)})
    yield conn
    conn.close()


@pytest.fixture
def reflectors() -> Iterator[list[Reflector]]:
    made: list[Reflector] = []
    yield made
    for reflector in made:
        reflector.stop()
    assert not any(r.alive for r in made), "a reflector thread outlived stop()"


def _start(
    made: list[Reflector],
    conn: ClusterConnection,
    target: WatchTarget,
    **kwargs: Any,
) -> tuple[Reflector, Watcher]:
    watcher = Watcher()
    reflector = Reflector(conn.api_client, target, on_change=watcher, **kwargs)
    made.append(reflector)
    reflector.start()
    assert reflector.ready.wait(TIMEOUT), "first list never finished"
    return reflector, watcher


def _names(reflector: Reflector) -> set[str]:
    return {name for _ns, name in reflector.items()}


def test_lists_then_follows_adds_updates_and_deletes(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    for i in range(3):
        server.put(_configmap(f"cm-{i}"))
    reflector, watcher = _start(reflectors, connection, WatchTarget(rk.CONFIGMAPS, NS))
    listed_at = reflector.resource_version
    assert reflector.status.state is AreaState.OK
    assert {"cm-0", "cm-1", "cm-2"} <= _names(reflector)
    item = reflector.items()[(NS, "cm-0")]
    # Raw JSON: plain dicts as the server sent them, kind/apiVersion filled in for listed items.
    assert isinstance(item, dict) and item["kind"] == "ConfigMap" and item["data"] == {"k": "v"}

    server.put(_configmap("cm-3"))
    server.put(_configmap("cm-0", "changed"))
    server.remove("v1/configmaps", NS, "cm-1")
    watcher.until(
        lambda: (
            "cm-3" in _names(reflector)
            and "cm-1" not in _names(reflector)
            and reflector.items()[(NS, "cm-0")]["data"]["k"] == "changed"
        )
    )
    assert reflector.stats.lists == 1
    # Events moved the resume point on from the list's resourceVersion.
    assert reflector.resource_version not in ("", listed_at)


def test_items_view_is_a_stable_snapshot(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("one"))
    reflector, watcher = _start(reflectors, connection, WatchTarget(rk.CONFIGMAPS, NS))
    before = reflector.items()
    server.put(_configmap("two"))
    watcher.until(lambda: "two" in _names(reflector))
    assert (NS, "two") not in before


def test_namespace_and_label_selector_limit_what_is_held(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_namespace("other"))
    server.put(_configmap("mine", labels={"app": "aio"}))
    server.put(_configmap("not-mine", labels={"app": "else"}))
    server.put(_configmap("elsewhere", namespace="other", labels={"app": "aio"}))
    reflector, watcher = _start(
        reflectors, connection, WatchTarget(rk.CONFIGMAPS, NS, label_selector="app=aio")
    )
    assert _names(reflector) == {"mine"}
    server.put(_configmap("late", labels={"app": "aio"}))
    server.put(_configmap("late-other", labels={"app": "else"}))
    watcher.until(lambda: "late" in _names(reflector))
    assert _names(reflector) == {"mine", "late"}


def test_dropped_watch_resumes_from_resource_version_without_losing_events(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("a"))
    server.put(_configmap("b"))
    gate = Gate()
    # quick_end is huge so a dropped, event-less watch always takes the (gated) backoff path: the
    # reflector stays disconnected exactly as long as the test needs.
    reflector, watcher = _start(
        reflectors,
        connection,
        WatchTarget(rk.CONFIGMAPS, NS),
        timings=ReflectorTimings(quick_end=3600),
        wait=gate,
    )
    server.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    assert server.drop_watches() == 1
    assert gate.parked.wait(TIMEOUT), "reflector did not notice the dropped watch"
    # These happen while nobody is watching: only a resume from the old resourceVersion can see them.
    server.put(_configmap("c"))
    server.put(_configmap("a", "changed"))
    server.remove("v1/configmaps", NS, "b")
    gate.open.set()
    watcher.until(
        lambda: _names(reflector) == {"a", "c"} and reflector.items()[(NS, "a")]["data"]["k"] == "changed"
    )
    assert reflector.stats.lists == 1, "resumed with a relist instead of from the resourceVersion"
    assert reflector.stats.watches >= 2 and reflector.stats.gone == 0
    assert reflector.status.state is AreaState.OK


def test_stale_resource_version_relists(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("a"))
    server.put(_configmap("b"))
    gate = Gate()
    reflector, watcher = _start(
        reflectors,
        connection,
        WatchTarget(rk.CONFIGMAPS, NS),
        timings=ReflectorTimings(quick_end=3600),
        wait=gate,
    )
    server.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    server.drop_watches()
    assert gate.parked.wait(TIMEOUT)
    server.remove("v1/configmaps", NS, "a")
    server.put(_configmap("c"))
    server.compact()  # the reflector's resourceVersion is now older than the server keeps
    gate.open.set()
    watcher.until(lambda: reflector.stats.lists == 2 and _names(reflector) == {"b", "c"})
    assert reflector.stats.gone == 1
    assert reflector.status.state is AreaState.OK
    # And it keeps watching after the relist.
    server.put(_configmap("d"))
    watcher.until(lambda: "d" in _names(reflector))


def test_bookmarks_move_the_resume_point_without_events(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("a"))
    reflector, _ = _start(reflectors, connection, WatchTarget(rk.CONFIGMAPS, NS))
    server.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    for i in range(3):  # writes elsewhere move the cluster's resourceVersion on
        server.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"s{i}", "namespace": NS}})
    latest = str(server.resource_version)
    server.send_bookmarks()
    # A bookmark changes no object, so there is no notification to await: poll the resume point.
    deadline = time.monotonic() + TIMEOUT
    while reflector.resource_version != latest:
        assert time.monotonic() < deadline, f"resume point {reflector.resource_version}, wanted {latest}"
        time.sleep(0.01)
    assert reflector.stats.events == 0 and _names(reflector) == {"a"}


def test_forbidden_resource_is_reported_and_recovers(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("a"))
    server.forbid("v1/configmaps")
    timings = ReflectorTimings(recheck_forbidden=0.05)
    reflector, watcher = _start(reflectors, connection, WatchTarget(rk.CONFIGMAPS, NS), timings=timings)
    status = reflector.status
    assert status.state is AreaState.FORBIDDEN
    assert status.message.startswith(f"configmaps in {NS}: forbidden (403)")
    assert "\n" not in status.message and reflector.items() == {}
    server.reset_faults()
    watcher.until(lambda: reflector.status.state is AreaState.OK)
    assert _names(reflector) == {"a"}


def test_forbidden_mid_watch_drops_what_was_held(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.put(_configmap("a"))
    reflector, watcher = _start(
        reflectors,
        connection,
        WatchTarget(rk.CONFIGMAPS, NS),
        timings=ReflectorTimings(recheck_forbidden=3600, quick_end=0),
    )
    server.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    server.forbid("v1/configmaps")
    server.drop_watches()
    watcher.until(lambda: reflector.status.state is AreaState.FORBIDDEN)
    assert reflector.items() == {}


def test_missing_crd_is_not_installed_and_checked_again(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    server.uninstall(rk.BUNDLES.key)
    gate = Gate()
    reflector, _ = _start(
        reflectors,
        connection,
        WatchTarget(rk.BUNDLES),
        timings=ReflectorTimings(recheck_not_installed=600),
        wait=gate,
    )
    assert reflector.status.state is AreaState.NOT_INSTALLED
    assert "not installed" in reflector.status.message
    assert gate.parked.wait(TIMEOUT)
    assert gate.delays == [600]  # "rarely": the configured recheck, not the fast backoff


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_backs_off_with_full_jitter(tmp_path: Path, reflectors: list[Reflector]) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        f"clusters: [{{name: dead, cluster: {{server: 'http://127.0.0.1:{_closed_port()}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: dead, context: {cluster: dead, user: u}}]\n",
        encoding="utf-8",
    )
    conn = load_cluster_config(str(path), environ={"HOME": str(tmp_path)})
    delays: list[float] = []

    def record(stop: threading.Event, seconds: float) -> bool:
        delays.append(seconds)
        return len(delays) >= 6  # then behave as if stopped: the thread ends by itself

    reflector = Reflector(
        conn.api_client,
        WatchTarget(rk.SECRETS, NS),
        wait=record,
        rand=lambda: 0.5,
        timings=ReflectorTimings(backoff_base=1.0, backoff_cap=8.0),
    )
    reflectors.append(reflector)
    reflector.start()
    assert reflector.ready.wait(TIMEOUT)
    reflector._thread.join(TIMEOUT)  # type: ignore[union-attr]
    assert reflector.status.state is AreaState.UNREACHABLE
    assert reflector.status.message == f"secrets in {NS}: connection refused"
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]  # rand()=0.5 times min(cap, base*2^n)
    conn.close()


def test_server_gone_after_data_is_reconnecting_and_keeps_objects(
    tmp_path: Path, reflectors: list[Reflector]
) -> None:
    srv = start_api_server()
    try:
        srv.put(_namespace(NS))
        srv.put(_configmap("kept"))
        path = tmp_path / "kubeconfig"
        srv.write_kubeconfig(path, namespace=NS)
        conn = load_cluster_config(str(path), environ={"HOME": str(tmp_path)})
        # One free retry: the watch may end quietly first (a backoff without a failed request).
        gate = Gate(free=1)
        reflector, watcher = _start(reflectors, conn, WatchTarget(rk.CONFIGMAPS, NS), wait=gate)
        srv.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    finally:
        srv.stop()
    watcher.until(lambda: reflector.status.state is AreaState.RECONNECTING)
    assert _names(reflector) == {"kept"}
    assert reflector.status.message.startswith(f"configmaps in {NS}: ")
    conn.close()


def test_stop_interrupts_an_open_watch_promptly(server: ApiServer, connection: ClusterConnection) -> None:
    reflector = Reflector(connection.api_client, WatchTarget(rk.CONFIGMAPS, NS))
    reflector.start()
    assert reflector.ready.wait(TIMEOUT)
    server.wait_for_watches(1, rk.CONFIGMAPS.key, timeout=TIMEOUT)
    started = time.monotonic()
    reflector.stop(timeout=TIMEOUT)
    assert not reflector.alive
    assert time.monotonic() - started < 2.0, "stop() waited for the watch to time out"


def test_a_failing_callback_does_not_stop_the_reflector(
    server: ApiServer, connection: ClusterConnection, reflectors: list[Reflector]
) -> None:
    seen = Watcher()

    def broken(reflector: Reflector) -> None:
        seen(reflector)
        raise RuntimeError("subscriber bug")

    reflector = Reflector(connection.api_client, WatchTarget(rk.CONFIGMAPS, NS), on_change=broken)
    reflectors.append(reflector)
    reflector.start()
    assert reflector.ready.wait(TIMEOUT)
    server.put(_configmap("x"))
    server.put(_configmap("y"))
    seen.until(lambda: {"x", "y"} <= _names(reflector))
    assert reflector.alive


def test_backoff_is_exponential_capped_and_resets() -> None:
    backoff = Backoff(base=0.5, cap=30.0, rand=lambda: 1.0)
    assert [backoff.next_delay() for _ in range(8)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5
    jitter = iter([0.0, 0.25])
    assert Backoff(base=2.0, rand=lambda: next(jitter)).next_delay() == 0.0
