"""``--request-timeout`` bounds every vault call, retries included, as it bounds every cluster call.

The stalled vault here completes TLS and then never answers (the worst case: a connect timeout does not
fire). Before, a command given ``--request-timeout 2`` sat out the SDK's 60 s read timeout on each of
four attempts: ``vault list`` took 246 s, ``trust add`` longer. The subprocess timeouts below are only
the failure detector, far above the ~3 s a bounded command takes and far below the unbounded figures;
nothing asserts on speed.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen
from tests.integration.changes_support import ROOT, cli_env, running_demo, site_snapshot
from tui.demo.environment import DemoEnvironment
from tui.demo.tls import make_loopback_tls

CEILING = 60  # seconds; the unbounded figure was 246 s
STATUS_CEILING = 20  # status capped its own retries: 31 s unbounded


class StalledVault:
    """An HTTPS server on loopback that accepts, completes TLS, reads the request and never answers."""

    def __init__(self, tmp_path: Path) -> None:
        tls = make_loopback_tls()
        self.ca_path = tls.write_ca(tmp_path / "stalled-vault-ca.pem")
        self._context = tls.server_context
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"https://127.0.0.1:{self._listener.getsockname()[1]}/"
        self._held: list[socket.socket] = []
        self._closed = threading.Event()
        threading.Thread(target=self._accept, name="stalled-vault", daemon=True).start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                conn, _addr = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn: socket.socket) -> None:
        try:
            wrapped = self._context.wrap_socket(conn, server_side=True)
            self._held.append(wrapped)
            wrapped.recv(65536)  # the request; then silence until the test ends
        except OSError:
            conn.close()

    def close(self) -> None:
        """Stop listening and drop every held connection."""
        self._closed.set()
        self._listener.close()
        for conn in list(self._held):
            with contextlib.suppress(OSError):
                conn.close()


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


@pytest.fixture
def stalled(tmp_path: Path) -> Iterator[StalledVault]:
    vault = StalledVault(tmp_path)
    yield vault
    vault.close()


def test_the_vault_client_is_bounded_by_the_timeout_retries_included() -> None:
    from azure.core.pipeline.policies import RetryPolicy

    from tui.vault.client import CallDeadline, DeadlineTransport, make_secret_client
    from tui.vault.credentials import DemoCredential

    client = make_secret_client("https://127.0.0.1:1/", credential=DemoCredential(), timeout=2.5)
    pipeline = client._client._client._pipeline
    policies = [getattr(p, "_policy", p) for p in pipeline._impl_policies]
    retry = next(p for p in policies if isinstance(p, RetryPolicy))
    deadline = next(p for p in policies if isinstance(p, CallDeadline))
    # No retry starts after 2.5 s, and no send (each attempt, the challenge round trip) waits past it.
    assert (retry.timeout, deadline.seconds) == (2.5, 2.5)
    assert policies.index(deadline) < policies.index(retry)
    transport = pipeline._transport
    assert isinstance(transport, DeadlineTransport)
    assert (transport.connection_config.timeout, transport.connection_config.read_timeout) == (2.5, 2.5)
    # Without a timeout the client keeps the SDK's transport and its own (long) defaults.
    plain = make_secret_client("https://127.0.0.1:1/", credential=DemoCredential())
    assert not isinstance(plain._client._client._pipeline._transport, DeadlineTransport)


def _run(
    demo: DemoEnvironment, tmp_path: Path, stalled: StalledVault, *args: str, ceiling: float
) -> subprocess.CompletedProcess[str]:
    """``aio-certs ARGS --request-timeout 2`` against the demo's cluster and the stalled vault."""
    env = cli_env(demo, tmp_path, AIO_CERTS_VAULT_URL=stalled.url, AIO_CERTS_VAULT_CA=str(stalled.ca_path))
    try:
        return subprocess.run(
            [sys.executable, "-m", "tui", *args, "--request-timeout", "2"],
            cwd=ROOT,
            env=env,
            timeout=ceiling,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{' '.join(args[:2])} against a stalled vault outlived --request-timeout 2 by far")


@pytest.mark.parametrize("command", ["vault list", "trust add", "status"])
def test_a_stalled_vault_ends_the_command_within_the_request_timeout(
    demo: DemoEnvironment, tmp_path: Path, stalled: StalledVault, command: str
) -> None:
    leaf = certgen.make_leaf(None, "plc-stall", not_before=datetime.now(UTC) - timedelta(days=1), days=365)
    extra = {
        "vault list": [],
        "status": ["--json"],
        "trust add": [str(_write(tmp_path / "plc-stall.der", leaf.der)), "--yes"],
    }[command]
    before = site_snapshot(demo)
    # status capped its own vault retries already (31 s unbounded): a lower ceiling still tells them apart.
    result = _run(
        demo,
        tmp_path,
        stalled,
        *command.split(),
        *extra,
        ceiling=STATUS_CEILING if command == "status" else CEILING,
    )
    assert "Traceback" not in result.stderr
    if command == "status":
        assert "the vault did not answer in time" in result.stdout  # and the cluster is still reported
    else:
        assert result.returncode == 3, result.stderr
        assert result.stderr.strip().endswith("the vault did not answer in time (see --request-timeout)")
    assert site_snapshot(demo) == before


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
