"""Helpers for the change tests: the demo site as a fixture, the CLI and kubectl as subprocesses, and
whole-site snapshots to prove that a refused change wrote nothing anywhere.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tui.core.model import resources as rk
from tui.demo.environment import DemoEnvironment

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = str(Path(sys.executable).with_name("kubectl"))
NS = "azure-iot-operations"
TRUST_SYNC = "aio-opc-ua-broker-trust-list"
ISSUER_SYNC = "aio-opc-ua-broker-issuer-list"
SPC = "opc-ua-connector"
RUN_TIMEOUT = 90


@contextmanager
def running_demo(*, cluster_only: bool = False) -> Iterator[DemoEnvironment]:
    """A fresh embedded site on the real clock (the CLI in a subprocess reads the real clock too).

    Its lists are ARM-owned, as on a real site, unless ``cluster_only`` seeds them on the cluster alone
    (the tests of the cluster write path: resourceVersions, 409s, a proxy holding cluster writes).
    Test modules wrap it in their own ``demo`` fixture.
    """
    env = DemoEnvironment(cluster_only_lists=cluster_only).start()
    try:
        yield env
    finally:
        env.stop()


def cli_env(demo: DemoEnvironment, state_dir: Path, **extra: str) -> dict[str, str]:
    """The environment `source DIR/env` gives, plus a private state directory and no user config."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIO_CERTS_") and k not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST")
    }
    base.update(demo.env_vars())
    # HOME and XDG_CONFIG_HOME point at the private directory: no user config file applies.
    base.update(
        {
            "AIO_CERTS_STATE_DIR": str(state_dir),
            "HOME": str(state_dir),
            "XDG_CONFIG_HOME": str(state_dir / "config"),
            "COLUMNS": "120",
        }
    )
    base.update(extra)
    return base


def run_cli(
    demo: DemoEnvironment, state_dir: Path, *args: str, stdin: str | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``aio-certs ARGS`` in a subprocess pointed at the demo; stdin is not a terminal."""
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=cli_env(demo, state_dir, **extra),
        timeout=RUN_TIMEOUT,
        check=False,
        input=stdin if stdin is not None else "",
    )


def kubectl_json(demo: DemoEnvironment, *args: str) -> dict[str, Any]:
    """``kubectl ARGS -o json`` against the demo, parsed."""
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(demo.kubeconfig_path), *args, "-o", "json"],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def kubectl_absent(demo: DemoEnvironment, *args: str) -> bool:
    """True when ``kubectl get ARGS`` says NotFound."""
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(demo.kubeconfig_path), "get", *args],
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
        check=False,
    )
    return result.returncode != 0 and "NotFound" in result.stderr


def sync_mappings(demo: DemoEnvironment, name: str) -> list[tuple[str, str]]:
    """``(sourcePath, targetKey)`` pairs of a SecretSync, read with kubectl."""
    obj = kubectl_json(demo, "get", "secretsyncs.secret-sync.x-k8s.io", "-n", NS, name)
    return [(d["sourcePath"], d["targetKey"]) for d in obj["spec"]["secretObject"]["data"]]


def synced_bytes(demo: DemoEnvironment, name: str) -> dict[str, bytes]:
    """The synced Secret's data, decoded, read with kubectl."""
    obj = kubectl_json(demo, "get", "secret", "-n", NS, name)
    return {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}


def spc_object_names(demo: DemoEnvironment) -> list[str]:
    """objectNames of the OPC UA SPC, read with kubectl."""
    from tui.core.model.spc import parse_spc

    obj = kubectl_json(demo, "get", "secretproviderclasses", "-n", NS, SPC)
    return [o.object_name for o in parse_spc(obj).objects]


def site_snapshot(demo: DemoEnvironment) -> dict[str, Any]:
    """Every stored object of every kind, and the whole vault (deleted secrets included)."""
    cluster = {kind.key: demo.api.objects(kind.key) for kind in rk.ALL_KINDS}
    return {"cluster": cluster, "vault": demo.vault.snapshot()}


def one_line_error(result: subprocess.CompletedProcess[str], prefix: str) -> str:
    """The single stderr line of a refused command (no traceback)."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(prefix), lines[0]
    return lines[0]
