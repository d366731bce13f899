"""``aio-certs demo`` as a user runs it: a served site used from another shell, then Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import IO

import pytest

BIN = Path(sys.executable).parent
READY_LINE = "Press Ctrl-C to stop."


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui", "demo", *args]


class _Output:
    """Reads a pipe in a thread; :meth:`wait_for` blocks on an Event until a marker line arrives."""

    def __init__(self, stream: IO[str]) -> None:
        self.text = ""
        self._marker = ""
        self._found = threading.Event()
        self._thread = threading.Thread(target=self._pump, args=(stream,), daemon=True)
        self._thread.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.text += line
            if self._marker and self._marker in self.text:
                self._found.set()
        self._found.set()  # end of output: stop waiting either way

    def wait_for(self, marker: str, timeout: float) -> str:
        self._marker = marker
        if marker in self.text:
            return self.text
        self._found.wait(timeout)
        return self.text

    def rest(self, timeout: float) -> str:
        self._thread.join(timeout)
        return self.text


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
    assert proc.stdout is not None and proc.stderr is not None
    out = _Output(proc.stdout)
    err = _Output(proc.stderr)
    try:
        # A script may wait for DIR/env alone: by the time it exists the site must have settled,
        # so the synced trust-list Secret is already there.
        deadline = time.monotonic() + 60
        while not (state / "env").exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        synced = subprocess.run(
            [
                "bash",
                "-c",
                f"source {state / 'env'} && kubectl get secret aio-opc-ua-broker-trust-list -o name",
            ],
            capture_output=True,
            text=True,
            timeout=30,
            env=env,
        )
        assert synced.returncode == 0, synced.stderr
        banner = out.wait_for(READY_LINE, timeout=60)
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
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    stdout, stderr = out.rest(10), err.rest(10)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and "Traceback" not in stdout
    assert "stopped" in stdout
    assert "PRIVATE KEY" not in stdout + stderr


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--scale", "-1"], "--scale"),
        (["--scale", "many"], "--scale"),
        (["--ca-duration", "10 parsecs"], "--ca-duration"),
        (["--ca-duration", "60s", "--renew-before", "90s"], "--renew-before"),
        (["--seed", "x"], "--seed"),
        (["--namespace", "Not_A_Namespace"], "--namespace"),
        (["--api-latency", "-5"], "--api-latency"),
        (["--api-latency", "200ms"], "--api-latency"),
        (["--api-latency", "600000"], "--api-latency"),
    ],
)
def test_bad_flags_give_one_line_and_exit_2(args: list[str], flag: str) -> None:
    result = subprocess.run(_cli(*args), capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and flag in lines[0], result.stderr
    assert result.stdout == ""


def test_help_documents_the_latency_and_the_oversized_secrets() -> None:
    result = subprocess.run(_cli("--help"), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    assert "--api-latency MS" in text and "milliseconds to every answer" in text
    assert "--allow-oversized-secrets" in text and "exceeds what a real cluster allows" in text


def test_flags_become_environment_options() -> None:
    import argparse

    from tui.commands.demo.arguments import add_arguments
    from tui.commands.demo.run import parse_options

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    options = parse_options(parser.parse_args(["--api-latency", "200", "--allow-oversized-secrets"]))
    assert options["api_latency"] == timedelta(milliseconds=200)
    assert options["allow_oversized_secrets"] is True
    defaults = parse_options(parser.parse_args([]))
    assert defaults["api_latency"] == timedelta(0) and defaults["allow_oversized_secrets"] is False
    assert defaults["ca_duration"] == timedelta(days=365)  # the public docs' quickstart CA: one year
