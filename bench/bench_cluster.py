"""Benchmark of the cluster side against the embedded demo site at scale (default ``--scale 2000``).

Prints:
- time from starting the live feed to the first complete ClusterState (and to the first with the vault),
- ``aio-certs status`` whole-process wall time, run from a shell that ``source``s ``DIR/env`` exactly as a
  user would (target under 2 s),
- watch event to updated snapshot latency, p50/p95 over ~50 writes (target p95 under 100 ms),
- resident memory of the process running the feed,
- rebuild cost inside the feed during the latency probe (``build_state`` p50/p95) and how many of those
  reused the remembered OPC UA entries,
- CPU the demo process spends while idle (``--idle-seconds``, nothing changing) and per probe write
  (the API server, and the simulated controllers when they run).

The demo (API server, Key Vault, controllers) runs in this process; the feed runs in a child process
(this script with ``--child``) so that its start-up time and memory are the product's alone.

    .venv/bin/python bench/bench_cluster.py [--scale 2000] [--writes 50] [--status-runs 5] [--idle-seconds 10]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _rss_mib() -> tuple[float, float]:
    """Current and peak resident set size of this process, in MiB (Linux /proc)."""
    current = peak = 0.0
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                current = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak = int(line.split()[1]) / 1024
    return current, peak


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


# --- child: the product side ------------------------------------------------------------------


def child(writes: int) -> dict[str, Any]:
    """Start the feed from the environment (KUBECONFIG, AIO_CERTS_*), measure, return the figures."""
    started = time.perf_counter()
    from kubernetes.client import CustomObjectsApi

    import tui.cluster.live as live
    from tui.cluster.config import load_cluster_config
    from tui.cluster.live import ClusterFeed
    from tui.commands.shared.settings import VaultSettings
    from tui.commands.shared.vault_reader import make_vault_reader
    from tui.core.build.cache import DEFAULT_CACHE
    from tui.core.clock import SystemClock
    from tui.core.model import resources as rk
    from tui.core.model.names import TRUST_LIST_SYNC
    from tui.core.model.settings import ModelSettings
    from tui.core.model.snapshot import AreaState
    from tui.core.model.state import ClusterState

    imported = time.perf_counter()
    # Instrumentation only: the duration of every rebuild the feed makes.
    build_ms: list[float] = []
    real_build = live.build_state

    def timed_build(*args: Any, **kwargs: Any) -> ClusterState:
        began = time.perf_counter()
        try:
            return real_build(*args, **kwargs)
        finally:
            build_ms.append((time.perf_counter() - began) * 1000)

    live.build_state = timed_build  # type: ignore[assignment]
    clock = SystemClock()
    connection = load_cluster_config()
    vault = VaultSettings(
        url=os.environ.get("AIO_CERTS_VAULT_URL"),
        auth=os.environ.get("AIO_CERTS_AUTH"),
        ca_bundle=os.environ.get("AIO_CERTS_VAULT_CA"),
    )
    settings = ModelSettings()
    reader = make_vault_reader(vault, clock=clock)
    # Arrival time of every change the SecretSync reflector sees: the start of "event -> snapshot".
    sync_events: list[float] = []

    def on_event(reflector: Any) -> None:
        if reflector.target.kind is rk.SECRET_SYNCS:
            sync_events.append(time.perf_counter())

    feed = ClusterFeed(connection.api_client, settings, clock=clock, vault_reader=reader, on_event=on_event)
    t0 = time.perf_counter()
    feed.start()
    if not feed.first_state_ready.wait(120):
        raise SystemExit("no first state within 120 s")
    first = time.perf_counter() - t0
    state = feed.state
    assert state is not None
    first_entries = len(state.opcua)
    with_vault = feed.wait_for_state(lambda s: s.vault.state is not AreaState.PENDING, 120)
    first_with_vault = time.perf_counter() - t0
    entries = len(with_vault.opcua)

    # Latency: each write changes the trust-list SecretSync's lastSuccessfulSyncTime (a status write, as
    # the sync controller makes), and the clock stops when a subscriber holds a state showing it.
    arrived: dict[str, float] = {}
    arrival = threading.Condition()

    def on_state(s: ClusterState) -> None:
        sync = s.sync("trust")
        when = sync.last_successful_sync if sync is not None else None
        if when is not None:
            with arrival:
                arrived.setdefault(when.isoformat(), time.perf_counter())
                arrival.notify_all()

    feed.subscribe(on_state)
    api = CustomObjectsApi(connection.api_client)
    group, version, plural = rk.SECRET_SYNCS.group, rk.SECRET_SYNCS.version, rk.SECRET_SYNCS.plural
    from_issue: list[float] = []
    from_ack: list[float] = []
    from_event: list[float] = []
    builds_before = feed.builds
    builds_timed = len(build_ms)
    # getattr: the same script also measures trees from before rebuilds were incremental.
    memo = getattr(DEFAULT_CACHE, "memo", None)
    memo_hits = memo.hits if memo is not None else 0
    base = datetime(2030, 1, 1, tzinfo=UTC).timestamp()
    print("#writes-start", flush=True)  # the parent measures the demo's CPU between the markers
    for i in range(writes):
        marker = datetime.fromtimestamp(base + i, UTC)
        body = {"status": {"lastSuccessfulSyncTime": marker.strftime("%Y-%m-%dT%H:%M:%SZ")}}
        issued = time.perf_counter()
        api.patch_namespaced_custom_object_status(
            group,
            version,
            settings.namespace,
            plural,
            TRUST_LIST_SYNC,
            body,
            _content_type="application/merge-patch+json",
        )
        acked = time.perf_counter()
        with arrival:
            if not arrival.wait_for(lambda m=marker: m.isoformat() in arrived, 30):
                raise SystemExit(f"write {i} never reached a state")
            seen = arrived[marker.isoformat()]
        event = next((t for t in sync_events if t >= issued), seen)
        from_event.append((seen - event) * 1000)
        from_issue.append((seen - issued) * 1000)
        from_ack.append((seen - acked) * 1000)
        time.sleep(0.02)  # spaced writes: this measures latency, not coalescing
    print("#writes-end", flush=True)
    probe_builds = build_ms[builds_timed:]
    rss, peak = _rss_mib()
    result = {
        "import_s": imported - started,
        "first_state_s": first,
        "first_state_with_vault_s": first_with_vault,
        "opcua_entries": entries,
        "first_state_entries": first_entries,
        "objects": {k: len(v) for k, v in feed.raw_snapshot().objects.items()},
        "latency_from_write_ms": {
            "p50": statistics.median(from_issue),
            "p95": _percentile(from_issue, 95),
            "max": max(from_issue),
        },
        "latency_from_ack_ms": {"p50": statistics.median(from_ack), "p95": _percentile(from_ack, 95)},
        "latency_from_event_ms": {
            "p50": statistics.median(from_event),
            "p95": _percentile(from_event, 95),
            "max": max(from_event),
        },
        "builds_for_writes": feed.builds - builds_before,
        "build_ms": {
            "first": build_ms[0],
            "p50": statistics.median(probe_builds),
            "p95": _percentile(probe_builds, 95),
            "max": max(probe_builds),
        },
        # Two remembered parts per rebuild (entries and their findings) when nothing in them changed.
        "memo_hits_per_build": (memo.hits - memo_hits if memo is not None else 0) / max(1, len(probe_builds)),
        "rss_mib": rss,
        "peak_rss_mib": peak,
    }
    feed.stop()
    connection.close()
    return result


# --- parent: the demo side --------------------------------------------------------------------


def _time_status(state_dir: Path, runs: int) -> tuple[list[float], int, str]:
    """Wall time of ``aio-certs status`` in a fresh shell that sources DIR/env, ``runs`` times."""
    bin_dir = Path(sys.executable).parent
    command = f"source {state_dir / 'env'} && aio-certs status"
    env = {k: v for k, v in os.environ.items() if k != "KUBECONFIG" and not k.startswith("AIO_CERTS_")}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    times: list[float] = []
    code, head = 0, ""
    for _ in range(runs):
        began = time.perf_counter()
        done = subprocess.run(
            ["bash", "-c", command], capture_output=True, text=True, env=env, check=False, timeout=120
        )
        times.append(time.perf_counter() - began)
        code, head = (
            done.returncode,
            (done.stdout or done.stderr).splitlines()[0] if (done.stdout or done.stderr) else "",
        )
    return times, code, head


def _idle_cpu(seconds: float) -> float:
    """Share of one core this process (the demo: servers and controllers) uses while nothing changes."""
    if seconds <= 0:
        return float("nan")
    cpu, wall = time.process_time(), time.perf_counter()
    time.sleep(seconds)  # the measurement is of doing nothing
    return (time.process_time() - cpu) / (time.perf_counter() - wall)


def _run_child(env: dict[str, str], writes: int) -> tuple[dict[str, Any] | None, float]:
    """Run the feed side; return its figures and this process's CPU seconds per probe write."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--child", "--writes", str(writes)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    # stderr is drained by a thread so a chatty child cannot block on a full pipe.
    errors: list[str] = []
    drain = threading.Thread(target=lambda: errors.extend(child.stderr or []), daemon=True)
    drain.start()
    marks: dict[str, float] = {}
    last = ""
    for line in child.stdout or []:
        if line.startswith("#writes-"):
            marks[line.strip()] = time.process_time()
        elif line.strip():
            last = line
    code = child.wait(600)
    drain.join(10)
    if code != 0:
        print("".join(errors), file=sys.stderr)
        return None, 0.0
    cpu = marks.get("#writes-end", 0.0) - marks.get("#writes-start", 0.0)
    return json.loads(last), cpu / max(1, writes)


def parent(
    scale: int, writes: int, status_runs: int, controllers: bool = True, idle_seconds: float = 10.0
) -> int:
    """Start the demo at ``scale``, time ``status``, run the child, print the report."""
    from tui.demo.environment import DemoEnvironment

    state_dir = Path(tempfile.mkdtemp(prefix="aio-certs-bench-"))
    try:
        began = time.perf_counter()
        # The --scale 2000 trust list (about 2 MB) is over a real Secret's 1 MiB: lift the limit.
        env = DemoEnvironment(
            state_dir=state_dir, scale=scale, run_controllers=controllers, allow_oversized_secrets=True
        ).start()
        demo_start = time.perf_counter() - began
        try:
            idle_cpu = _idle_cpu(idle_seconds)
            status_times, status_code, status_head = _time_status(state_dir, status_runs)
            child_env = {**os.environ, **env.env_vars()}
            figures, write_cpu = _run_child(child_env, writes)
            if figures is None:
                return 1
        finally:
            env.stop()
    finally:
        shutil.rmtree(state_dir, ignore_errors=True)

    lat, ack = figures["latency_from_write_ms"], figures["latency_from_ack_ms"]
    ev = figures["latency_from_event_ms"]
    running = "running" if controllers else "stopped after start-up"
    print(f"aio-certs cluster benchmark: demo --scale {scale}, controllers {running} ({os.cpu_count()} CPUs)")
    print(f"  demo start-up (seed, servers, controllers settle)   {demo_start:7.2f} s")
    print(f"  objects read by the feed: {figures['objects']}")
    print(f"  OPC UA entries in the state                           {figures['opcua_entries']:7d}")
    print(
        f"  feed: first complete ClusterState                    {figures['first_state_s']:7.3f} s"
        f"  ({figures['first_state_entries']} OPC UA entries)"
    )
    with_vault = figures["first_state_with_vault_s"]
    print(f"  feed: first state including the vault                {with_vault:7.3f} s")
    print(f"  feed process: import of the product                  {figures['import_s']:7.3f} s")
    print(
        f"  aio-certs status wall time (source DIR/env; {len(status_times)} runs)"
        f"  median {statistics.median(status_times):.3f} s, min {min(status_times):.3f} s,"
        f" max {max(status_times):.3f} s  (exit {status_code}: {status_head[:60]})"
    )
    print(
        f"  watch event -> new snapshot delivered, {writes} writes: p50 {ev['p50']:.1f} ms,"
        f" p95 {ev['p95']:.1f} ms, max {ev['max']:.1f} ms ({figures['builds_for_writes']} rebuilds)"
    )
    print(
        f"    including the write itself: from PATCH acknowledged p50 {ack['p50']:.1f} ms,"
        f" p95 {ack['p95']:.1f} ms; from PATCH issued p50 {lat['p50']:.1f} ms, p95 {lat['p95']:.1f} ms"
    )
    build = figures["build_ms"]
    print(
        f"  feed rebuilds during the probe: p50 {build['p50']:.1f} ms, p95 {build['p95']:.1f} ms,"
        f" max {build['max']:.1f} ms (first, cold: {build['first']:.0f} ms);"
        f" remembered parts reused per rebuild {figures['memo_hits_per_build']:.1f} of 2"
    )
    print(
        f"  feed process resident memory: {figures['rss_mib']:.0f} MiB"
        f" (peak {figures['peak_rss_mib']:.0f} MiB)"
    )
    idle = "idle not measured"
    if idle_seconds > 0:
        idle = f"idle {idle_cpu * 100:.1f}% of a core over {idle_seconds:g} s"
    print(f"  demo process CPU: {idle}; {write_cpu * 1000:.1f} ms per probe write")
    return 0


def main() -> int:
    """Command line of the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=int, default=2000, help="extra OPC UA entries seeded (default 2000)")
    parser.add_argument("--writes", type=int, default=50, help="writes for the latency figure (default 50)")
    parser.add_argument("--status-runs", type=int, default=5, help="aio-certs status runs (default 5)")
    parser.add_argument(
        "--idle-seconds",
        type=float,
        default=10.0,
        help="window for the demo's idle CPU, 0 to skip (default 10)",
    )
    parser.add_argument(
        "--no-controllers",
        action="store_true",
        help="stop the demo's simulated controllers after start-up (they otherwise react to "
        "every SecretSync write of the latency probe on the same CPUs)",
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.writes)))
        return 0
    return parent(
        args.scale,
        args.writes,
        args.status_runs,
        controllers=not args.no_controllers,
        idle_seconds=args.idle_seconds,
    )


if __name__ == "__main__":
    raise SystemExit(main())
