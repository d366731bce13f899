"""Run an embedded AIO site on loopback: emulated Kubernetes API, Key Vault and controllers.

With --serve the site runs until interrupted (Ctrl-C or SIGTERM). It writes DIR/kubeconfig,
DIR/vault-ca.pem and DIR/env; after `source DIR/env`, kubectl and every aio-certs command work against
the demo exactly as against a real site.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from datetime import timedelta
from pathlib import Path
from types import FrameType
from typing import Any

from tui.core.text import one_line, printable

EPILOG = """\
examples:
  aio-certs demo --serve --state-dir /tmp/aio-demo
  source /tmp/aio-demo/env && kubectl get secretsyncs -n azure-iot-operations
  aio-certs demo --serve --state-dir /tmp/aio-demo --ca-duration 60s --renew-before 45s   # rotate in ~10 s
  aio-certs demo --serve --state-dir /tmp/aio-demo --scale 2000                             # benchmarks

exit status:
  0  stopped cleanly after an interrupt
  1  the environment could not start
  2  bad usage
"""

EXIT_FAILED = 1
EXIT_USAGE = 2
MAX_SCALE = 100_000
MIN_CA_DURATION = timedelta(seconds=10)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``demo`` options."""
    parser.add_argument("--serve", action="store_true", help="serve the site until interrupted")
    parser.add_argument(
        "--state-dir",
        metavar="DIR",
        help="where to write kubeconfig, vault-ca.pem and env (default: a temporary "
        "directory removed on exit)",
    )
    parser.add_argument(
        "--ca-duration",
        metavar="D",
        default="2160h",
        help="lifetime of the quickstart root CA, e.g. 60s, 1h, 2160h (default: 2160h)",
    )
    parser.add_argument(
        "--renew-before",
        metavar="D",
        default="720h",
        help="renew the root CA this long before it expires (default: 720h)",
    )
    parser.add_argument(
        "--scale",
        metavar="N",
        default="0",
        help="add N extra trust-list entries, for benchmarks (default: 0)",
    )
    parser.add_argument(
        "--byo-issuer",
        action="store_true",
        help="seed a bring-your-own-issuer site instead of the quickstart CA",
    )
    parser.add_argument(
        "--seed",
        metavar="N",
        default="1",
        help="seed of the generated site; the same seed gives the same certificates",
    )
    parser.add_argument(
        "-n",
        "--namespace",
        metavar="NS",
        default="azure-iot-operations",
        help="AIO namespace of the site (default: azure-iot-operations)",
    )
    parser.add_argument("--no-mouse", action="store_true",
                        help="dashboard only: do not capture the mouse (lets the terminal select text)")
    parser.add_argument("--read-only", action="store_true",
                        help="dashboard only: hide and refuse every change action")


def _fail(message: str, code: int) -> int:
    print(f"aio-certs demo: {one_line(message)}", file=sys.stderr)
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
    from tui.core.durations import parse_duration
    from tui.core.model.settings import parse_namespace

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
    }


def run(args: argparse.Namespace) -> int:
    """Start the demo site, print where it is, and serve until SIGINT/SIGTERM."""
    try:
        options = parse_options(args)
    except ValueError as exc:
        return _fail(str(exc), EXIT_USAGE)
    if not args.serve:
        # Without --serve the same site runs in-process under the dashboard until the user quits.
        from tui.commands.dashboard import run_demo_dashboard

        return run_demo_dashboard(options, mouse=not args.no_mouse, read_only=args.read_only)

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Set before starting, so an interrupt during start-up also ends in a clean stop.
    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        return _serve(args, options, stop)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _serve(args: argparse.Namespace, options: dict[str, Any], stop: threading.Event) -> int:
    from tui.demo.environment import DemoEnvironment

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
