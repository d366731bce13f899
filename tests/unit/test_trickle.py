"""A server that trickles its answer a byte at a time never trips a socket read timeout; the request
timeout must still bound the command (issue 9, item 8, as the adversarial pass found it: `status` with
`--request-timeout 2` against such an API server was still running after 90 s)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class Trickler:
    """Accepts connections and answers each with a status line, then one header byte every 0.3 s."""

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._drip, args=(conn,), daemon=True).start()

    def _drip(self, conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"HTTP/1.1 200 OK\r\n")
            while not self.stop.wait(0.3):
                conn.sendall(b"X")
        except OSError:
            pass
        finally:
            conn.close()

    def close(self) -> None:
        self.stop.set()
        self.listener.close()


def test_status_against_a_trickling_api_server_ends_within_the_request_timeout(tmp_path: Path) -> None:
    server = Trickler()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: slow\n"
        f"clusters:\n- name: slow\n  cluster:\n    server: http://127.0.0.1:{server.port}\n"
        "contexts:\n- name: slow\n  context:\n    cluster: slow\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: t\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update({"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    started = time.monotonic()
    try:
        # The subprocess timeout only detects the hang the bug was; the bound itself is not timed here.
        result = subprocess.run(
            [sys.executable, "-m", "tui", "status", "--json", "--no-vault", "--request-timeout", "1"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.close()
    assert result.returncode == 3, (result.returncode, result.stderr, time.monotonic() - started)
    assert "error" in json.loads(result.stdout)
    assert "Traceback" not in result.stderr


def test_a_server_answering_an_empty_object_to_everything_is_not_a_cluster(tmp_path: Path) -> None:
    # From the adversarial pass: `200 {}` on every path passed as a site (status CRITICAL, exit 2).
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Empty(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = b"{}"
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:{server.server_address[1]}\n"
        "contexts:\n- name: c\n  context:\n    cluster: c\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: t\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update({"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "status", "--json", "--no-vault"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
    assert result.returncode == 3, (result.returncode, result.stdout[-500:], result.stderr)
    assert "error" in json.loads(result.stdout)
