"""An apply killed between the vault write and the cluster edits is found at next start and finished
(or undone) cleanly.

The CLI runs as a real process that reaches the API server through a loopback TCP proxy which lets
reads through but holds write requests (the network to the cluster hangs, as behind a dying VPN or
load balancer): the apply reads the site, writes the vault, then hangs on its first cluster write,
and is SIGKILLed there. A fresh process then sees the pending journal and
resumes or rolls it back against the API server directly.
"""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import certgen
from tests.integration.changes_support import (
    ROOT,
    TRUST_SYNC,
    cli_env,
    run_cli,
    running_demo,
    site_snapshot,
    spc_object_names,
    sync_mappings,
    synced_bytes,
)
from tui.demo.environment import DemoEnvironment
from tui.demo.kubeconfig import write_kubeconfig

DEADLINE = 30.0


class HoldingProxy:
    """Forwards TCP connections to ``target``, except that once :meth:`hold_writes` is called, a request
    that writes (PATCH, PUT, POST, DELETE) is held: it never reaches the server, as on a network that
    hangs, while reads still pass. Held bytes are dropped on :meth:`close`, never delivered late."""

    WRITES = (b"PATCH ", b"PUT ", b"POST ", b"DELETE ")

    def __init__(self, target: tuple[str, int]) -> None:
        self._target = target
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._hold = threading.Event()
        self.holding = threading.Event()
        """Set once a write request is being held."""
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, name="holding-proxy", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            with self._lock:
                self._sockets += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client, False), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, requests: bool) -> None:
        held = False
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                # HTTP/1.1 without pipelining: a new request starts a new read after the last response.
                if requests and self._hold.is_set() and data.startswith(self.WRITES):
                    held = True
                    self.holding.set()
                if held or self._closed.is_set():
                    continue  # swallowed: the server never sees this request
                sink.sendall(data)
        except OSError:
            return

    def hold_writes(self) -> None:
        """From now on, hold every write request."""
        self._hold.set()

    def close(self) -> None:
        """Drop everything, held bytes included."""
        self._closed.set()
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.close()


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    # The cluster write path: lists on the cluster alone (ARM-owned ones: test_changes_arm.py).
    with running_demo(cluster_only=True) as env:
        yield env


def _journal_records(state_dir: Path) -> list[dict[str, Any]]:
    files = sorted((state_dir / "journal").glob("*.jsonl")) if (state_dir / "journal").exists() else []
    if not files:
        return []
    records = []
    for line in files[-1].read_text().splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return records


def _kill_after_vault_write(demo: DemoEnvironment, state_dir: Path, file: Path) -> str:
    """Run ``trust add FILE`` and SIGKILL it once the vault write is done and the SPC write hangs."""
    host, port = demo.api.url.removeprefix("http://").split(":")
    proxy = HoldingProxy((host, int(port)))
    kubeconfig = write_kubeconfig(state_dir / "proxy-kubeconfig", f"http://127.0.0.1:{proxy.port}")
    proxy.hold_writes()  # reads pass; the first cluster write (after the vault write) hangs
    env = cli_env(demo, state_dir, KUBECONFIG=str(kubeconfig))
    with open(state_dir / "killed.out", "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "tui", "trust", "add", str(file), "--yes", "--request-timeout", "60"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
        try:
            assert proxy.holding.wait(DEADLINE), "the apply never sent a cluster write"
            process.send_signal(signal.SIGKILL)
            assert process.wait(DEADLINE) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(DEADLINE)
            proxy.close()
    records = _journal_records(state_dir)
    # Killed mid-apply: the vault write is done, the SPC write started, nothing ended.
    assert [(r["record"], r.get("state"), r.get("index")) for r in records] == [
        ("plan", None, None),
        ("step", "pending", 0),
        ("step", "done", 0),
        ("step", "pending", 1),
    ]
    return sorted((state_dir / "journal").glob("*.jsonl"))[-1].stem


def _prepare(demo: DemoEnvironment, tmp_path: Path) -> tuple[Path, bytes, dict[str, Any]]:
    now = datetime.now(UTC).replace(microsecond=0)
    leaf = certgen.make_leaf(None, "plc-killed", not_before=now - timedelta(days=1), days=365)
    path = tmp_path / "plc-killed.der"
    path.write_bytes(leaf.der)
    return path, leaf.der, site_snapshot(demo)


def test_killed_apply_is_reported_and_resumes(demo: DemoEnvironment, tmp_path: Path) -> None:
    path, der, _ = _prepare(demo, tmp_path)
    journal_id = _kill_after_vault_write(demo, tmp_path, path)
    # Half-done: the secret is in the vault, the cluster does not reference it yet.
    assert "plc-killed-der" in {k.lower() for k in demo.vault.snapshot()["secrets"]}
    assert "plc-killed-der" not in spc_object_names(demo)

    other = tmp_path / "x.der"
    other.write_bytes(der)
    notice = run_cli(demo, tmp_path, "trust", "add", str(other), "--dry-run")
    assert f"unfinished apply {journal_id}" in notice.stderr
    assert f"aio-certs journal resume {journal_id}" in notice.stderr
    listing = run_cli(demo, tmp_path, "journal", "--json")
    [entry] = json.loads(listing.stdout)
    assert entry["id"] == journal_id and entry["pending"] and entry["done"] == 1 and entry["uncertain"] == 1

    resumed = run_cli(demo, tmp_path, "journal", "resume", journal_id, "--yes", "--wait-timeout", "20")
    assert resumed.returncode == 0, resumed.stderr
    assert ("plc-killed-der", "plc-killed.der") in sync_mappings(demo, TRUST_SYNC)
    assert synced_bytes(demo, TRUST_SYNC)["plc-killed.der"] == der
    assert json.loads(run_cli(demo, tmp_path, "journal", "--json").stdout)[0]["outcome"] == "applied"
    again = run_cli(demo, tmp_path, "journal", "resume", journal_id, "--yes")
    assert again.returncode == 0 and f"journal {journal_id}: already applied" in again.stderr


def test_killed_apply_rolls_back(demo: DemoEnvironment, tmp_path: Path) -> None:
    path, _, before = _prepare(demo, tmp_path)
    journal_id = _kill_after_vault_write(demo, tmp_path, path)
    rolled = run_cli(demo, tmp_path, "journal", "rollback", journal_id, "--yes", "--wait-timeout", "20")
    assert rolled.returncode == 0, rolled.stderr
    after = site_snapshot(demo)
    assert after["vault"]["secrets"].keys() == before["vault"]["secrets"].keys()
    assert after["vault"]["deleted"] == {}
    assert after["cluster"] == before["cluster"]  # the SPC write never arrived; nothing to restore there
    assert json.loads(run_cli(demo, tmp_path, "journal", "--json").stdout)[0]["outcome"] == "rolled-back"
