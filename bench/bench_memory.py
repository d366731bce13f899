"""The dashboard's resident memory, phase by phase, beside a bare Textual app's (issue 14, target 5).

The demo site (``--scale 2000``, oversized Secrets allowed) runs in this process; everything measured runs in
a fresh child interpreter, so the demo's own memory is never counted:

- **bare Textual**: one Static and a Footer, headless (``App.run_test``), after its first paint: the floor;
- **imports only**: every module the dashboard imports (the command, the UI, the vault and ARM adapters with
  the Azure SDK), nothing run: what the code alone costs;
- **the dashboard**, headless at 120x34 in one process, exactly as ``aio-certs dashboard`` wires it (the live
  feed, the decoded store, the vault and ARM readers; writable, its change session made on first use): RSS
  at each phase - interpreter, command imported, first state built, UI imported, first frame, after the
  first vault read, after churn (three words typed in the OPC UA filter, then a full vault re-read). Run
  ``cold`` (an empty state directory: every certificate decoded) then ``warm`` (the decoded copy that run
  left). A headless app has no terminal driver: ``aio-certs`` itself on a pty is measured by
  ``bench_start.py`` (``rss_after_vault``);
- with ``--trace``, one more dashboard run under ``tracemalloc`` (which inflates its RSS, so its RSS is not
  comparable) that attributes the Python heap at the first frame and after the vault read: imports (code,
  classes, module data), raw cluster objects, the decoded model and memoised build, the vault snapshot,
  the UI (our widgets and view code, Textual, Rich), other.

Every line carries the load average of the moment (a shared 2-core machine). ``MALLOC_ARENA_MAX`` and other
environment variables pass through to the children, so an allocator experiment is one prefix away.

    .venv/bin/python bench/bench_memory.py [--scale 2000] [--repeat 1] [--trace]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MARK = "@@memory "
"""Prefix of the child's result lines (JSON)."""

IMPORTS = (
    "tui.commands.dashboard.run",
    "tui.ui.app",
    "tui.vault.client",
    "tui.vault.reader",
    "tui.arm.resources",
)
"""What a dashboard has imported once its vault and ARM reads have run."""


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f}/{five:.2f}"


def _pss(pid: int | str) -> float:
    """A process's proportional set size (MiB): its resident pages, each shared one divided among its
    sharers (a forked child shares the pages it has not written with its parent)."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _children() -> list[int]:
    pids: list[int] = []
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as children:
                pids.extend(int(pid) for pid in children.read().split())
        except OSError:
            continue
    return pids


def _status() -> dict[str, float]:
    """This process's resident memory (MiB): total, anonymous, file-backed and the peak; and, when it has
    child processes (the dashboard's vault reader), their resident and the PSS of this process and them
    together (what the pair costs the machine: shared pages counted once)."""
    wanted = {"VmRSS": "rss", "RssAnon": "anon", "RssFile": "file", "VmHWM": "peak"}
    out: dict[str, float] = {}
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            key, _, value = line.partition(":")
            if key in wanted:
                out[wanted[key]] = round(int(value.split()[0]) / 1024, 1)
    children = _children()
    if children:
        rss = 0.0
        for pid in children:
            try:
                with open(f"/proc/{pid}/status", encoding="ascii") as status:
                    rss += next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024
            except (OSError, StopIteration):
                continue
        out["children_rss"] = round(rss, 1)
        out["pss_all"] = round(_pss("self") + sum(_pss(pid) for pid in children), 1)
    return out


def _emit(phase: str, **extra: Any) -> None:
    print(MARK + json.dumps({"phase": phase, **_status(), "load": _load(), **extra}), flush=True)


# -- children -------------------------------------------------------------------------------------------


def child_bare() -> None:
    """A bare Textual app to its first paint, headless."""
    _emit("interpreter")
    from textual.app import App, ComposeResult
    from textual.widgets import Footer, Static

    class Bare(App[None]):
        def compose(self) -> ComposeResult:
            yield Static("bare textual ready")
            yield Footer()

    async def run() -> None:
        async with Bare().run_test(size=(120, 34)) as pilot:
            await pilot.pause(0.3)
            _emit("first paint")

    asyncio.run(run())


def child_imports() -> None:
    """Every module the dashboard ends up importing, and nothing run."""
    import importlib

    _emit("interpreter")
    for name in IMPORTS:
        importlib.import_module(name)
    _emit("imports", modules=len(sys.modules))


def child_dashboard(trace: bool) -> None:
    """The dashboard headless against the demo named by the environment, phase by phase."""
    import gc
    import tracemalloc

    if trace:
        tracemalloc.start(12)
    _emit("interpreter")
    from tui.cli import build_parser, with_default_command
    from tui.commands.dashboard import run as dashboard

    _emit("command imported")
    from tui.commands.shared.settings import command_settings, load_user_config
    from tui.commands.shared.vault_reader import release_free_heap
    from tui.core.clock import SystemClock
    from tui.core.model.snapshot import AreaState
    from tui.ui.source import FeedSource, SourceInfo
    from tui.ui.view.settings import UiSettings

    args = build_parser().parse_args(with_default_command([]))
    settings = command_settings(args, load_user_config())
    clock = SystemClock()
    connection, feed = dashboard.open_feed(settings, clock=clock)
    source = FeedSource(feed, SourceInfo(connection.context, connection.server), on_stop=connection.close)
    source.prestart()
    feed.wait_for_state(lambda state: True, 120)
    _emit("first state built")
    from tui.ui.app import DashboardApp

    _emit("UI imported")
    # Writable, as users start it: the change session is made on first use (the start-up look for
    # unfinished applies makes none while the state directory holds none); the bench changes nothing.
    ui = UiSettings(
        namespace=feed.settings.namespace,
        animations=False,
        freeze_heap=True,
        release_heap=release_free_heap,
    )
    sessions = dashboard.change_sessions(settings)
    app = DashboardApp(source, settings=ui, clock=clock, sessions=sessions)

    def vault_read() -> bool:
        state = app.state
        return (
            state is not None
            and state.vault.state is AreaState.OK
            and state.vault.values_pending == 0
            and state.vault.secret_count > 0
        )

    async def run() -> None:
        async with app.run_test(size=(120, 34)) as pilot:
            await app.wait_for_state(lambda state: True, 120)
            await pilot.pause(0)
            _emit("first frame")
            if trace:
                snapshot = tracemalloc.take_snapshot()
                _emit("attribution at first frame", traced=attribute(snapshot))
                del snapshot
            await app.wait_for_state(lambda state: vault_read(), 300)
            await pilot.pause(1.5)  # the rest of the first fill's batches, and the vault's refill
            _emit("after vault", threads=_thread_count())
            if trace:
                snapshot = tracemalloc.take_snapshot()
                _emit("attribution", traced=attribute(snapshot))
                del snapshot
            for word in ("bench-device-01", "expiring", "plc"):
                await pilot.press("slash")
                for key in word:
                    await pilot.press(key)
                await pilot.press("escape")
                await pilot.pause(0.1)
            before = feed.vault_snapshot
            source.refresh()
            for _ in range(600):
                await pilot.pause(0.1)
                if feed.vault_snapshot is not before and vault_read():
                    break
            await pilot.pause(1.5)
            gc.collect()
            _emit("after churn")

    try:
        asyncio.run(run())
    finally:
        source.stop()


def _thread_count() -> int:
    import threading

    return threading.active_count()


_GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("raw cluster objects", ("tui/cluster/listwatch.py", "tui/cluster/reflector.py")),
    ("vault snapshot", ("tui/vault/", "azure/keyvault/")),
    ("ARM snapshot", ("tui/arm/", "azure/mgmt/")),
    ("decoded certificates", ("tui/core/certs/", "tui/cluster/decoded_store.py", "tui/core/build/cache.py")),
    ("model and memoised build", ("tui/core/", "tui/cluster/")),
    ("UI: our view and widgets", ("tui/ui/",)),
    ("UI: Textual and Rich", ("/textual/", "/rich/")),
)


def _group(frames: list[Any]) -> str:
    if any("importlib" in frame.filename or frame.filename == "<frozen abc>" for frame in frames):
        return "imports (code, classes, module data)"
    # The innermost frame of ours decides (json.loads called by the list code is a raw object).
    for frame in reversed(frames):
        name = frame.filename.replace(os.sep, "/")
        for group, marks in _GROUPS:
            if any(mark in name for mark in marks):
                return group
    return "other"


def attribute(snapshot: Any) -> dict[str, float]:
    """MiB of traced Python heap by group (see :data:`_GROUPS`)."""
    import tracemalloc

    snapshot = snapshot.filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
    totals: dict[str, float] = {}
    # Grouped by traceback first: far fewer items to classify than single allocations.
    for stat in snapshot.statistics("traceback"):
        group = _group(list(stat.traceback))
        totals[group] = totals.get(group, 0.0) + stat.size
    return {
        group: round(size / 2**20, 1) for group, size in sorted(totals.items(), key=lambda item: -item[1])
    }


# -- the parent -----------------------------------------------------------------------------------------


def _child(kind: str, env: dict[str, str]) -> list[dict[str, Any]]:
    argv = [sys.executable, str(Path(__file__).resolve()), "--child", kind]
    done = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, text=True, timeout=900, check=False)
    rows = [json.loads(line[len(MARK) :]) for line in done.stdout.splitlines() if line.startswith(MARK)]
    if done.returncode != 0 or not rows:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"{kind} child failed ({done.returncode}): {tail}")
    return rows


def run(scale: int, repeat: int, trace: bool, say: Callable[[str], None]) -> dict[str, Any]:
    """Start the demo, measure every child ``repeat`` times, print the phases and the attribution."""
    from tui.demo.environment import DemoEnvironment

    say(f"load average {_load()} on {os.cpu_count()} cores; scale {scale}")
    results: dict[Any, Any] = {}
    with tempfile.TemporaryDirectory(prefix="aio-certs-bench-memory-") as scratch:
        work = Path(scratch)
        demo = DemoEnvironment(state_dir=work / "demo", scale=scale, allow_oversized_secrets=True).start()
        try:
            for index in range(repeat):
                home = work / f"home-{index}"
                home.mkdir()
                env = {
                    **os.environ,
                    **demo.env_vars(),
                    "HOME": str(home),
                    "AIO_CERTS_STATE_DIR": str(home / "state"),
                    "PYTHONPATH": str(ROOT),
                }
                say(f"run {index + 1} of {repeat}")
                for kind, label in (
                    ("bare", "bare"),
                    ("imports", "imports"),
                    ("dashboard", "dashboard cold"),
                    ("dashboard", "dashboard warm"),
                ):
                    rows = _child(kind, env)
                    results.setdefault(index, {})[label] = rows
                    say(f"  {label}")
                    last = rows[0]["rss"]
                    for row in rows:
                        extra = f" threads {row['threads']}" if "threads" in row else ""
                        if "children_rss" in row:
                            extra += f" child {row['children_rss']:.1f} (PSS with it {row['pss_all']:.1f})"
                        extra += f" modules {row['modules']}" if "modules" in row else ""
                        say(
                            f"    {row['phase']:<20} {row['rss']:6.1f} MiB ({row['rss'] - last:+6.1f})"
                            f"  anon {row['anon']:6.1f}  file {row['file']:5.1f}{extra}   load {row['load']}"
                        )
                        last = row["rss"]
            if trace:
                home = work / "home-trace"
                home.mkdir()
                env = {
                    **os.environ,
                    **demo.env_vars(),
                    "HOME": str(home),
                    "AIO_CERTS_STATE_DIR": str(home / "state"),
                    "PYTHONPATH": str(ROOT),
                }
                rows = _child("dashboard-trace", env)
                first = next(row["traced"] for row in rows if row["phase"] == "attribution at first frame")
                traced = next(row["traced"] for row in rows if row["phase"] == "attribution")
                results["traced_first_frame"], results["traced"] = first, traced
                say(
                    "traced Python heap at the first frame and after the vault read, cold start"
                    f" (tracemalloc, 12 frames; load {_load()}):"
                )
                for group in sorted(set(first) | set(traced), key=lambda g: -traced.get(g, 0.0)):
                    was, now = first.get(group, 0.0), traced.get(group, 0.0)
                    say(f"    {was:6.1f} -> {now:6.1f} MiB ({now - was:+5.1f})  {group}")
                total_first, total = sum(first.values()), sum(traced.values())
                say(f"    {total_first:6.1f} -> {total:6.1f} MiB ({total - total_first:+5.1f})  in all")
        finally:
            demo.stop()
    _summary(results, say)
    return results


def _summary(results: dict[str, Any], say: Callable[[str], None]) -> None:
    runs = [value for key, value in results.items() if isinstance(key, int)]
    if not runs:
        return

    def at(kind: str, phase: str) -> list[float]:
        return [row["rss"] for run in runs for row in run.get(kind, []) if row["phase"] == phase]

    def fmt(values: list[float]) -> str:
        return "-".join(f"{v:.1f}" for v in (min(values), max(values))) if values else "?"

    bare = at("bare", "first paint")
    imports = at("imports", "imports")
    say("summary (MiB resident, min-max over the runs):")
    say(f"  bare Textual app, first paint       {fmt(bare)}")
    say(f"  every dashboard import, nothing run {fmt(imports)}")
    for kind in ("dashboard cold", "dashboard warm"):
        for phase in ("first frame", "after vault", "after churn"):
            say(f"  {kind}, {phase:<18} {fmt(at(kind, phase))}   (target after vault <= 120)")
    for kind in ("dashboard cold", "dashboard warm"):
        for phase in ("after vault", "after churn"):
            rows = [row for run in runs for row in run.get(kind, []) if row["phase"] == phase]
            child = [row["children_rss"] for row in rows if "children_rss" in row]
            pss = [row["pss_all"] for row in rows if "pss_all" in row]
            if child:
                say(f"  {kind}, {phase}: vault reader child {fmt(child)} resident, PSS of both {fmt(pss)}")
    say(f"load average {_load()}")


def main() -> int:
    """Parse the options; run the parent or one child."""
    parser = argparse.ArgumentParser(description="Benchmark the dashboard's resident memory.")
    parser.add_argument("--scale", type=int, default=2000, help="extra trust-list entries (default 2000)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every child (default 1)")
    parser.add_argument("--trace", action="store_true", help="also attribute the Python heap (tracemalloc)")
    parser.add_argument(
        "--child", choices=("bare", "imports", "dashboard", "dashboard-trace"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.child == "bare":
        child_bare()
    elif args.child == "imports":
        child_imports()
    elif args.child is not None:
        child_dashboard(trace=args.child == "dashboard-trace")
    else:
        if args.scale < 0 or args.repeat < 1:
            parser.error("--scale must not be negative, --repeat at least 1")
        from bench.bench_ui import fresh_bytecode

        fresh_bytecode(lambda line: print(line, flush=True))
        run(args.scale, args.repeat, args.trace, lambda line: print(line, flush=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
