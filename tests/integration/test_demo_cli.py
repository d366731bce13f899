"""``aio-certs demo`` as a user runs it: a served site used from another shell, then Ctrl-C."""

from __future__ import annotations

import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent
READY_LINE = "Press Ctrl-C to stop."


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui", "demo", *args]


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    """Collect stdout until ``marker`` appears (or the process ends, or ``timeout`` passes)."""
    assert proc.stdout is not None
    seen = ""
    deadline = time.monotonic() + timeout
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ)
        while marker not in seen and time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                break
            line = proc.stdout.readline()
            if not line:
                break
            seen += line
    return seen


@pytest.mark.kubectl
def test_serve_env_file_works_and_sigint_stops_cleanly(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    proc = subprocess.Popen(
        _cli("--serve", "--state-dir", str(state), "--ca-duration", "60s", "--renew-before", "45s"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        banner = _read_until(proc, READY_LINE, timeout=60)
        assert READY_LINE in banner, banner
        assert f"source {state / 'env'}" in banner
        for name in ("kubeconfig", "vault-ca.pem", "env"):
            assert (state / name).is_file()
        shell = subprocess.run(
            [
                "bash",
                "-c",
                f"source {state / 'env'} && kubectl get secretsyncs -n azure-iot-operations -o name",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        assert shell.returncode == 0, shell.stderr
        assert sorted(shell.stdout.split()) == [
            "secretsync.secret-sync.x-k8s.io/aio-opc-ua-broker-issuer-list",
            "secretsync.secret-sync.x-k8s.io/aio-opc-ua-broker-trust-list",
        ]
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "Traceback" not in out
    assert "stopped" in out
    assert "PRIVATE KEY" not in out + err


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--scale", "-1"], "--scale"),
        (["--scale", "many"], "--scale"),
        (["--ca-duration", "10 parsecs"], "--ca-duration"),
        (["--ca-duration", "60s", "--renew-before", "90s"], "--renew-before"),
        (["--seed", "x"], "--seed"),
        (["--namespace", "Not_A_Namespace"], "--namespace"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(args: list[str], flag: str) -> None:
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], result.stderr
    assert result.stdout == ""
