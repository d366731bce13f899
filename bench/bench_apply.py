"""Benchmark of planning and applying changes against the embedded demo site.

For a change set of N new trust-list certificates (default N = 1 and 100), prints:
- plan: reading the cluster and the vault listing, validating and computing the operations,
- apply: the journaled steps (N vault writes, the SPC edit, the SecretSync edit), not the sync wait,
- sync: how long the demo's secret sync controller then took to show every file (for reference),
and the same for removing the N certificates again with --purge (N deletes and purges).

Each size runs twice, side by side: on a demo whose lists are on the cluster alone (``cluster``: the SPC
and SecretSync patched with resourceVersion preconditions), and on one whose lists are ARM-owned, as on a
real site (``arm``: the plan reads ARM too, each SPC and SecretSync step is a GET and a PUT with
If-Match through the SDK to the ARM emulator, its long-running operation followed to the end, and the
sync then waits for the Arc projection as well as the controller).

The demo (API server, Key Vault, ARM emulator, controllers) runs in this process on loopback, as do the
product's clients; figures are wall-clock seconds, best of ``--runs``.

    .venv/bin/python bench/bench_apply.py [--counts 1,100] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _certificates(count: int, tag: str) -> list[tuple[str, bytes]]:
    from tests import certgen

    now = datetime.now(UTC).replace(microsecond=0)
    key = certgen.make_key("ec", "bench-apply")
    return [
        (
            f"bench-{tag}-{i:03d}.der",
            certgen.make_leaf(
                None, f"bench {tag} {i}", key=key, not_before=now - timedelta(days=1), days=365
            ).der,
        )
        for i in range(count)
    ]


PATHS = ("cluster", "arm")
"""Where the lists live: on the cluster alone, or in ARM (projected onto the cluster)."""


def _measure(count: int, run: int, path: str) -> dict[str, float]:
    from kubernetes import config as k8s_config

    from tui.commands.shared.change_flow import arm_access_for
    from tui.commands.shared.settings import ArmSettings
    from tui.core.changes.changeset import AddFile, ChangeSet, RemoveEntry
    from tui.core.clock import SystemClock
    from tui.core.model.settings import ModelSettings
    from tui.demo.environment import DemoEnvironment
    from tui.ops.runner import ChangeSession
    from tui.ops.sync_wait import expectations, wait_for_sync
    from tui.vault.client import make_secret_client

    files = _certificates(count, f"{path}{count}x{run}")
    cluster_only = path == "cluster"
    with DemoEnvironment(cluster_only_lists=cluster_only) as demo, tempfile.TemporaryDirectory() as state:
        api_client = k8s_config.new_client_from_config(config_file=str(demo.kubeconfig_path))
        vault = make_secret_client(demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))
        clock = SystemClock()
        # What `source DIR/env` gives the CLI: the emulator's endpoint and CA; the ids from the cluster.
        arm = ArmSettings(
            fallback_subscription=demo.arm.site.subscription,
            fallback_resource_group=demo.arm.site.resource_group,
            endpoint=demo.arm.endpoint,
            ca_bundle=str(demo.arm_ca_path),
        )
        session = ChangeSession(
            api_client,
            ModelSettings(),
            clock=clock,
            state_dir=Path(state),
            context="aio-demo",
            vault_client_for=lambda _state: vault,
            arm_for=None if cluster_only else arm_access_for(arm, auth="demo", cloud=None, clock=clock),
        )
        figures: dict[str, float] = {}
        for label, changes in (
            ("add", ChangeSet.of(AddFile("trust", name, data) for name, data in files)),
            ("remove", ChangeSet.of(RemoveEntry("trust", name, purge=True) for name, _ in files)),
        ):
            began = time.perf_counter()
            plan, site = session.plan(changes)
            planned = time.perf_counter()
            if not plan.applicable:
                raise SystemExit(f"{path} {label} x{count}: plan refused: {plan.problems[0]}")
            if bool(plan.arm_resources) == cluster_only:
                raise SystemExit(f"{path} {label} x{count}: the plan writes {plan.arm_resources or 'no ARM'}")
            result = session.apply(
                plan, site, action=f"bench {label}", progress=lambda _e: None, wait_timeout=0
            )
            applied = time.perf_counter()
            if not result.ok:
                raise SystemExit(f"{path} {label} x{count}: apply failed: {result.error}")
            synced = wait_for_sync(session.writer, expectations(result.steps), timeout=120)
            done = time.perf_counter()
            if not synced.ok:
                raise SystemExit(f"{path} {label} x{count}: not synced: {synced.describe()}")
            figures[f"{label}_plan"] = planned - began
            figures[f"{label}_apply"] = applied - planned
            figures[f"{label}_sync"] = done - applied
            figures[f"{label}_steps"] = len(result.steps)
        vault.close()
        api_client.close()
    return figures


def main() -> None:
    """Run the benchmark and print one block per change-set size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", default="1,100", help="comma-separated change-set sizes")
    parser.add_argument("--runs", type=int, default=3, help="runs per size (best is reported)")
    args = parser.parse_args()
    for count in (int(c) for c in args.counts.split(",")):
        print(f"{count} certificate(s), best of {args.runs} (median in brackets):")
        for path in PATHS:
            runs = [_measure(count, run, path) for run in range(args.runs)]
            for label in ("add", "remove"):
                parts = []
                for phase in ("plan", "apply", "sync"):
                    values = [r[f"{label}_{phase}"] for r in runs]
                    parts.append(f"{phase} {min(values):.3f}s ({statistics.median(values):.3f}s)")
                steps = int(runs[0][f"{label}_steps"])
                total = min(r[f"{label}_plan"] + r[f"{label}_apply"] for r in runs)
                print(
                    f"  {path:<7} {label:<6} {steps:>3} steps  "
                    + "  ".join(parts)
                    + f"  plan+apply {total:.3f}s"
                )


if __name__ == "__main__":
    main()
