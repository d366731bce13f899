"""SIGTERM and SIGHUP end a command as Ctrl-C does: one "interrupted" audit line, the signal's status.

From the adversarial pass (issue 9): with the default handlers a change terminated after its first write
left no audit line at all. Here the command waits on a cluster that accepts and never answers, so the
signal surely lands mid-run; no network beyond loopback.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _silent_kubeconfig(tmp_path: Path, port: int) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: silent\n"
        f"clusters:\n- name: silent\n  cluster:\n    server: http://127.0.0.1:{port}\n"
        "contexts:\n- name: silent\n  context:\n    cluster: silent\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: t\n"
    )
    return path


@pytest.mark.parametrize(("signum", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_terminated_change_is_audited_as_interrupted(tmp_path: Path, signum: int, status: int) -> None:
    listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog) and never answers
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update(
        {
            "AIO_CERTS_STATE_DIR": str(state),
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "KUBECONFIG": str(_silent_kubeconfig(tmp_path, listener.getsockname()[1])),
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tui", "trust", "remove", "x.der", "--yes", "--request-timeout", "60"],
        cwd=ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The run is waiting on the cluster once it has connected (the listener's backlog shows it).
        listener.settimeout(30)
        connection, _ = listener.accept()
        time.sleep(0.2)  # let the client send its request and block on the answer
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
        listener.close()
    assert proc.returncode == status, err
    assert err.strip().splitlines()[-1].startswith("aio-certs: interrupted"), err
    assert "Traceback" not in err
    [line] = [json.loads(x) for x in (state / "audit.jsonl").read_text().splitlines()]
    assert (line["action"], line["outcome"]) == ("trust remove", "interrupted")
    connection.close()
