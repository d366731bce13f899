"""Run ``aio-certs demo``: start the embedded site, then serve it (``--serve``) or open the dashboard."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from tui.cluster.config import load_cluster_config
from tui.cluster.live import ClusterFeed
from tui.commands.demo.arguments import EXIT_FAILED, EXIT_USAGE
from tui.commands.shared.app_runner import LazySession, run_app
from tui.commands.shared.arm_reader import arm_target, make_arm_reader, open_arm
from tui.commands.shared.settings import ArmSettings, VaultSettings
from tui.commands.shared.vault_reader import make_vault_reader, release_free_heap
from tui.config import ConfigError, load_config
from tui.core.clock import Clock, SystemClock
from tui.core.durations import parse_duration
from tui.core.model.settings import ModelSettings, parse_namespace
from tui.core.text import one_line, printable
from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment
from tui.ops.runner import ArmAccess, ChangeSession
from tui.ui.source import FeedSource, SourceInfo
from tui.ui.view.settings import UiSettings
from tui.vault.client import make_secret_client

MAX_SCALE = 100_000
MAX_API_LATENCY_MS = 60_000
MIN_CA_DURATION = timedelta(seconds=10)


def _fail(message: str, code: int, *, prefix: str = "aio-certs demo") -> int:
    print(f"{prefix}: {one_line(message)}", file=sys.stderr)
    return code


def _int(flag: str, text: str, low: int, high: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{flag}: expected a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise ValueError(f"{flag}: must be between {low} and {high}, got {value}")
    return value


def parse_options(args: argparse.Namespace) -> dict[str, Any]:
    """Validate the flags into DemoEnvironment keyword arguments; ValueError (one line) when wrong."""
    durations: dict[str, timedelta] = {}
    for flag, text in (("--ca-duration", args.ca_duration), ("--renew-before", args.renew_before)):
        try:
            durations[flag] = parse_duration(text)
        except ValueError as exc:
            raise ValueError(f"{flag}: {exc}") from None
    ca_duration, renew_before = durations["--ca-duration"], durations["--renew-before"]
    if ca_duration < MIN_CA_DURATION:
        raise ValueError(f"--ca-duration: must be at least {int(MIN_CA_DURATION.total_seconds())}s")
    if not timedelta(0) < renew_before < ca_duration:
        raise ValueError("--renew-before: must be positive and shorter than --ca-duration")
    try:
        namespace = parse_namespace(args.namespace)
    except ValueError as exc:
        raise ValueError(str(exc)) from None
    state_dir = Path(args.state_dir).expanduser() if args.state_dir else None
    if state_dir is not None and state_dir.exists() and not state_dir.is_dir():
        raise ValueError(f"--state-dir: {printable(str(state_dir))} exists and is not a directory")
    return {
        "state_dir": state_dir,
        "ca_duration": ca_duration,
        "renew_before": renew_before,
        "scale": _int("--scale", args.scale, 0, MAX_SCALE),
        "seed": _int("--seed", args.seed, 0, 2**63 - 1),
        "byo_issuer": bool(args.byo_issuer),
        "namespace": namespace,
        "cluster_only_lists": bool(args.cluster_only_lists),
        "allow_oversized_secrets": bool(args.allow_oversized_secrets),
        "api_latency": timedelta(milliseconds=_int("--api-latency", args.api_latency, 0, MAX_API_LATENCY_MS)),
    }


def run(args: argparse.Namespace) -> int:
    """Start the demo site, print where it is, and serve until SIGINT/SIGTERM."""
    try:
        options = parse_options(args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if not args.serve:
        # Without --serve the same site runs in-process under the dashboard until the user quits.
        return run_demo_dashboard(options, mouse=not args.no_mouse, read_only=args.read_only)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Set before starting, so an interrupt during start-up also ends in a clean stop.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _serve(options, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(options: dict[str, Any], stop: threading.Event) -> int:
    env = DemoEnvironment(**options)
    try:
        env.start()
    except OSError as exc:
        return _fail(f"could not start the demo site: {exc.strerror or exc}", EXIT_FAILED)
    except Exception as exc:  # one line, never a traceback
        first = (str(exc).splitlines() or [""])[0]
        return _fail(f"could not start the demo site: {type(exc).__name__}: {first}", EXIT_FAILED)
    try:
        times = env.times
        ready = f" in {times.total:.1f}s" if times else ""
        kind = "bring-your-own-issuer" if options["byo_issuer"] else "quickstart"
        print(f"aio-certs demo: {kind} AIO site ready{ready} (namespace {options['namespace']})")
        for line in env.describe():
            print(f"  {line}")
        print(f"\nUse it from another shell:\n  source {env.env_path}")
        print(f"  kubectl get secretsyncs,certificates -n {options['namespace']}")
        print("  aio-certs status")
        print("\nPress Ctrl-C to stop.", flush=True)
        stop.wait()
    finally:
        env.stop()
    print("aio-certs demo: stopped", flush=True)
    return 0


def run_demo_dashboard(options: dict[str, Any], *, mouse: bool = True, read_only: bool = False) -> int:
    """``aio-certs demo`` without ``--serve``: start the embedded site, open the dashboard on it, stop both.

    ``options`` are the validated ``DemoEnvironment`` keyword arguments (:func:`parse_options`).
    """
    try:
        read_only = read_only or load_config().read_only  # a read-only workstation stays read-only
    except ConfigError as exc:
        return _fail(str(exc), EXIT_USAGE, prefix="aio-certs")  # the dashboard's wording, as below
    print("aio-certs demo: starting the embedded AIO site…", file=sys.stderr, flush=True)
    env = DemoEnvironment(**options)
    try:
        env.start()
    except Exception as exc:  # one line, never a traceback
        env.stop()
        first = (str(exc).splitlines() or [""])[0]
        return _fail(
            f"demo: could not start the demo site: {type(exc).__name__}: {first}",
            EXIT_FAILED,
            prefix="aio-certs",
        )
    try:
        clock = SystemClock()
        # The product's own code path: a kubeconfig, the kubernetes client, a verified-TLS SecretClient.
        connection = load_cluster_config(str(env.kubeconfig_path), KUBE_CONTEXT, environ={})
        settings = ModelSettings(namespace=env.options.namespace)
        vault = VaultSettings(url=env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
        feed = ClusterFeed(
            connection.api_client,
            settings,
            clock=clock,
            vault_reader=make_vault_reader(vault, clock=clock),
            arm_reader=make_arm_reader(demo_arm_settings(env), vault, clock=clock),
        )
        source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, connection.server), on_stop=connection.close)
        ui_settings = UiSettings(
            namespace=settings.namespace,
            read_only=read_only,
            read_only_locked=read_only,
            freeze_heap=True,
            release_heap=release_free_heap,
        )
        sessions = (
            None
            if read_only
            else LazySession(lambda: (demo_session(env, connection.api_client, settings, clock), None))
        )
        source.prestart()  # list the site while the UI is imported and mounted
        return run_app(source, ui_settings, clock=clock, mouse=mouse, sessions=sessions, on_hangup=env.stop)
    finally:
        env.stop()


def demo_arm_settings(env: Any) -> ArmSettings:
    """Where the embedded demo's ARM is: its emulator's endpoint and CA; the ids come from the cluster
    (the projected objects' resourceId, else the Arc ConfigMap), as on a real site."""
    return ArmSettings(
        fallback_subscription=env.arm.site.subscription,
        fallback_resource_group=env.arm.site.resource_group,
        endpoint=env.arm.endpoint,
        ca_bundle=str(env.arm_ca_path),
    )


def demo_session(env: Any, api_client: Any, settings: Any, clock: Clock) -> ChangeSession:
    """A change session on the embedded demo: its API client, its vault and ARM, journal and audit in its
    directory.

    The journal lives with the demo (not in the user's state directory): the demo's site is gone when it
    stops, so an apply left unfinished there must not be offered for a real site next time.
    """
    vault = make_secret_client(env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
    arm_settings = demo_arm_settings(env)
    adapters: dict[Any, Any] = {}

    def arm_for(state: Any, _raw: Any) -> ArmAccess | None:
        # Imported when a change first needs ARM: it brings the Azure SDK (as in change_flow).
        from tui.arm.reader import read_arm_snapshot

        ids = arm_target(arm_settings, state)
        if ids is None:
            return None
        adapter = adapters.get(ids)
        if adapter is None:
            # The adapter `aio-certs trust add` opens from DIR/env; one per set of ids.
            adapter = adapters[ids] = open_arm(arm_settings, ids, auth="demo", cloud=None)
        return ArmAccess(adapter, read=lambda: read_arm_snapshot(adapter, clock=clock))

    return ChangeSession(
        api_client,
        settings,
        clock=clock,
        state_dir=env.state_dir / "changes",
        context=KUBE_CONTEXT,
        vault_client_for=lambda _state: vault,
        arm_for=arm_for,
    )
