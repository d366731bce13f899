"""A kubeconfig that turns TLS verification off is said once, not once per request.

From the adversarial pass: with ``insecure-skip-tls-verify: true`` ``aio-certs status`` printed 34 lines
of urllib3's InsecureRequestWarning before its one-line error. The user chose to skip verification, so
it is not refused; it is one warning line naming the cluster, and then the command's own output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from tui.demo.tls import make_loopback_tls

ROOT = Path(__file__).resolve().parents[2]


class _Empty(BaseHTTPRequestHandler):
    """``200 {}`` to everything: a TLS server that is not a Kubernetes API server."""

    def do_GET(self) -> None:
        body = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


def test_insecure_skip_tls_verify_is_one_warning_line_not_one_per_request(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Empty)
    server.socket = make_loopback_tls().server_context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"https://127.0.0.1:{server.server_address[1]}"
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: lab\n"
        f"clusters:\n- name: lab\n  cluster:\n    server: {url}\n    insecure-skip-tls-verify: true\n"
        "contexts:\n- name: lab\n  context:\n    cluster: lab\n    user: u\n"
        "users:\n- name: u\n  user:\n    token: t\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update({"KUBECONFIG": str(kubeconfig), "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)})
    env.pop("PYTHONWARNINGS", None)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "tui", "status", "--json", "--no-vault", "--request-timeout", "5"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        server.shutdown()
    assert result.returncode == 3, (result.returncode, result.stderr)
    assert "error" in json.loads(result.stdout)
    warning, error = result.stderr.splitlines()  # exactly two lines
    assert warning == (
        f"aio-certs status: warning: TLS verification is off for the cluster at {url} (context 'lab' "
        "sets insecure-skip-tls-verify): anyone on the path could answer as the API server"
    )
    assert error.startswith("aio-certs status: ") and "InsecureRequestWarning" not in result.stderr
