"""Where the dashboard's start-up time goes, phase by phase, in a fresh interpreter against a running site.

Run it against ``aio-certs demo --serve`` (``source DIR/env`` first, so KUBECONFIG names the site):

    .venv/bin/python bench/profile_start.py [--profile build|fill|none] [--repeat 3]

Each run is a child interpreter (cold imports, as a user's start) that times, one after the other:
importing the dashboard command, connecting, every collection listed in parallel (each list's own time
and its bytes), the model built from scratch (decoding) and again (memoised), importing the UI, and the
first state shown by the app headless (mount, table fill and the first composed frame). ``--profile``
prints a cProfile of the build or of the first fill. Figures are printed beside the load average, never
asserted. Phases run one after the other here; in the dashboard the lists overlap the UI import.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import cProfile, io, json, pstats, sys, time, threading
    T0 = time.perf_counter()
    out = {}
    def lap(name, since):
        out[name] = round((time.perf_counter() - since) * 1000, 1)
        return time.perf_counter()
    PROFILE = sys.argv[1]
    t = time.perf_counter()
    import tui.commands.dashboard.run  # the command's imports (kubernetes client, the core)
    t = lap("import_command_ms", t)
    from tui.cluster.config import connect
    from tui.cluster.settings import ConnectionSettings
    from tui.cluster.listwatch import list_objects
    from tui.cluster.watch_set import assemble, watch_targets
    from tui.core.build.assemble import build_state
    from tui.core.build.cache import DEFAULT_CACHE
    from tui.core.clock import SystemClock
    from tui.core.model.settings import ModelSettings
    from tui.core.model.snapshot import AreaState, ResourceStatus
    import os
    conn = connect(ConnectionSettings())
    t = lap("connect_ms", t)
    settings = ModelSettings(namespace=os.environ.get("AIO_CERTS_NAMESPACE", "azure-iot-operations"))
    clock = SystemClock()
    targets = watch_targets(settings)
    each = {}
    parts = [None] * len(targets)
    def one(i, target):
        s = time.perf_counter()
        try:
            result = list_objects(conn.api_client, target)
            parts[i] = (target, result.items, ResourceStatus(AreaState.OK, "", clock.now()))
        except Exception as exc:
            parts[i] = (target, {}, ResourceStatus(AreaState.NOT_INSTALLED, str(exc)[:60], clock.now()))
        each[target.describe()] = round((time.perf_counter() - s) * 1000, 1)
    threads = [threading.Thread(target=one, args=(i, tg)) for i, tg in enumerate(targets)]
    for th in threads: th.start()
    for th in threads: th.join()
    t = lap("lists_parallel_ms", t)
    out["lists_each_ms"] = dict(sorted(each.items(), key=lambda kv: -kv[1])[:5])
    out["collections"] = len(targets)
    raw = assemble(parts, clock.now())
    prof = cProfile.Profile() if PROFILE == "build" else None
    if prof: prof.enable()
    state = build_state(raw, settings=settings, now=clock.now(), vault=None, previous=None)
    if prof: prof.disable()
    t = lap("build_cold_ms", t)
    state2 = build_state(raw, settings=settings, now=clock.now(), vault=None, previous=state)
    t = lap("build_memo_ms", t)
    out["entries"] = len(state.opcua)
    from tui.ui.view.terminal import choose_frame_rate
    choose_frame_rate()
    from tui.ui.app import DashboardApp
    t = lap("import_ui_ms", t)
    from tui.ui.source import StaticSource
    from tui.ui.view.settings import UiSettings
    import asyncio
    async def first_frame():
        app = DashboardApp(StaticSource(state), settings=UiSettings(namespace=settings.namespace))
        s = time.perf_counter()
        async with app.run_test(size=(120, 34)) as pilot:
            mounted = None
            fprof = cProfile.Profile() if PROFILE == "fill" else None
            if fprof: fprof.enable()
            await app.wait_for_state(lambda st: True, 30)
            applied = time.perf_counter()
            await pilot.pause()
            await app.animator.wait_until_complete()
            painted = time.perf_counter()
            if fprof:
                fprof.disable()
                buf = io.StringIO(); pstats.Stats(fprof, stream=buf).sort_stats("cumulative").print_stats(30)
                out["profile"] = buf.getvalue()
            out["app_to_state_shown_ms"] = round((applied - s) * 1000, 1)
            out["app_to_painted_ms"] = round((painted - s) * 1000, 1)
    asyncio.run(first_frame())
    out["total_ms"] = round((time.perf_counter() - T0) * 1000, 1)
    import resource
    out["maxrss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    if prof:
        buf = io.StringIO(); pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        out["profile"] = buf.getvalue()
    print("RESULT " + json.dumps(out))
    """
)


def main() -> int:
    """Run the child ``--repeat`` times and print each run's phases beside the load average."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=("build", "fill", "none"), default="none")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if "KUBECONFIG" not in os.environ:
        parser.error("source the demo's env file first (KUBECONFIG names the site)")
    for _ in range(args.repeat):
        load = "/".join(f"{value:.2f}" for value in os.getloadavg()[:2])
        done = subprocess.run(
            [sys.executable, "-c", CHILD, args.profile], cwd=ROOT, capture_output=True, text=True, check=False
        )
        line = next((x for x in done.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            print(done.stderr[-2000:])
            return 1
        figures = json.loads(line[7:])
        profile = figures.pop("profile", None)
        print(f"load {load}: {json.dumps(figures)}")
        if profile:
            print(profile)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
