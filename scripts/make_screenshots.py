#!/usr/bin/env python3
"""Regenerate ``screenshots/*.svg`` from the embedded demo site, on a frozen clock.

The demo site is seeded deterministically and every time it shows comes from the frozen clock, so the
same code gives the same pictures. The dashboard runs on its production path (kubeconfig, kubernetes
client, ClusterFeed, SecretClient against the vault emulator, the ARM SDK against the ARM emulator) in a
headless terminal:

- ``dashboard.svg``: the full dashboard at 120x34;
- ``preview.svg``: the preview of a trust-list entry signed by an issuer-list CA;
- ``dashboard-80x24.svg``: the compact layout at 80x24 showing the OPC UA pane;
- ``apply.svg``: the apply dialog reviewing the removal of the stale entries (``x``, ``d``, ``a``), before
  anything is written (the plan is made, never confirmed).

Usage: ``python scripts/make_screenshots.py [--out DIR] [--check]``. ``--check`` writes nothing and exits
1 when a committed screenshot differs from what the code draws now.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tui.cluster.config import load_cluster_config  # noqa: E402 - after the path set-up above
from tui.cluster.live import ClusterFeed  # noqa: E402
from tui.commands.demo.run import demo_session  # noqa: E402
from tui.commands.shared.app_runner import LazySession  # noqa: E402
from tui.commands.shared.arm_reader import make_arm_reader  # noqa: E402
from tui.commands.shared.settings import ArmSettings, VaultSettings  # noqa: E402
from tui.commands.shared.vault_reader import make_vault_reader  # noqa: E402
from tui.core.clock import FrozenClock  # noqa: E402
from tui.core.model.settings import ModelSettings  # noqa: E402
from tui.core.model.snapshot import AreaState  # noqa: E402
from tui.core.model.state import ClusterState  # noqa: E402
from tui.demo.environment import KUBE_CONTEXT, DemoEnvironment  # noqa: E402
from tui.ui.app import DashboardApp  # noqa: E402
from tui.ui.modals.apply import ApplyModal  # noqa: E402
from tui.ui.source import FeedSource, SourceInfo  # noqa: E402

START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
SEED = 1
PREVIEW_ENTRY = "trust/gateway-north.der"
WIDE, SMALL = (120, 34), (80, 24)
NAMES = ("dashboard.svg", "preview.svg", "dashboard-80x24.svg", "apply.svg")


def _complete(state: ClusterState) -> bool:
    return (
        state.root_ca.certificate is not None
        and bool(state.opcua)
        and state.vault.state is AreaState.OK
        and all(e.synced for e in state.opcua)
        and state.arm.state is AreaState.OK
    )


async def _shoot(env: DemoEnvironment, clock: FrozenClock, out: Path) -> None:
    connection = load_cluster_config(str(env.kubeconfig_path), KUBE_CONTEXT, environ={})
    vault = VaultSettings(url=env.vault_url, auth="demo", ca_bundle=str(env.vault_ca_path))
    # The demo's lists are created through its ARM emulator: read it as `aio-certs demo` does.
    arm = ArmSettings(endpoint=env.arm.endpoint, ca_bundle=str(env.arm_ca_path))
    feed = ClusterFeed(
        connection.api_client,
        ModelSettings(),
        clock=clock,
        vault_reader=make_vault_reader(vault, clock=clock),
        arm_reader=make_arm_reader(arm, vault, clock=clock),
    )
    # A fixed server label: the emulators listen on ephemeral ports, which would change every picture.
    source = FeedSource(feed, SourceInfo(KUBE_CONTEXT, "embedded demo"), on_stop=connection.close)
    settings = ModelSettings()
    # Changes enabled as in `aio-certs demo`; the apply dialog is only shown, never confirmed.
    sessions = LazySession(lambda: (demo_session(env, connection.api_client, settings, clock), None))
    app = DashboardApp(source, clock=clock, sessions=sessions)
    try:
        async with app.run_test(size=WIDE) as pilot:
            await app.wait_for_state(_complete, timeout=60)
            await pilot.pause()
            app.save_screenshot(NAMES[0], str(out))
            await pilot.press("3")
            if not app.dashboard.opcua_pane.table.move_to_key(PREVIEW_ENTRY):
                raise SystemExit(f"make_screenshots: {PREVIEW_ENTRY} is not in the demo site")
            await pilot.press("enter")
            await pilot.pause()
            app.save_screenshot(NAMES[1], str(out))
            await pilot.press("escape")
            await pilot.resize_terminal(*SMALL)
            await pilot.press("g")
            await pilot.pause()
            app.save_screenshot(NAMES[2], str(out))
            await pilot.resize_terminal(*WIDE)
            await pilot.press("x", "d", "ctrl+s", "a")
            await app.workers.wait_for_complete()  # the plan: a fresh read of the cluster and the vault
            await pilot.pause()
            if not isinstance(app.screen, ApplyModal) or app.screen.plan is None:
                raise SystemExit("make_screenshots: the apply dialog did not show a plan")
            app.save_screenshot(NAMES[3], str(out))
    finally:
        source.stop()
        sessions.close()


def make(out: Path) -> None:
    """Start the demo on a frozen clock and write the screenshots into ``out``."""
    clock = FrozenClock(START)
    out.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.TemporaryDirectory(prefix="aio-certs-shots-") as state_dir,
        DemoEnvironment(state_dir=Path(state_dir), clock=clock, run_controllers=False, seed=SEED) as env,
    ):
        asyncio.run(_shoot(env, clock, out))


def main(argv: list[str] | None = None) -> int:
    """Write (or with ``--check`` compare) the screenshots; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots", help="output folder")
    parser.add_argument("--check", action="store_true", help="compare with the committed files instead")
    args = parser.parse_args(argv)
    if not args.check:
        make(args.out)
        print("\n".join(str(args.out / name) for name in NAMES))
        return 0
    with tempfile.TemporaryDirectory() as fresh:
        make(Path(fresh))
        stale = [
            name
            for name in NAMES
            if not (args.out / name).is_file()
            or (args.out / name).read_bytes() != (Path(fresh) / name).read_bytes()
        ]
    if stale:
        print(
            f"make_screenshots: out of date: {', '.join(stale)} (run scripts/make_screenshots.py)",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
