"""``aio-certs status`` as a user runs it: a separate process, KUBECONFIG in the environment.

The command reads the real clock, so the certificates here are made relative to the moment the test
runs (valid for a year, or expired ten days ago): the outcome does not depend on the date.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests import certgen
from tests.rawobjects import quickstart_site, secret_sync
from tui.core.model import resources as rk
from tui.core.model.names import (
    CERT_MANAGER_NAMESPACE,
    OPCUA_SPC,
    QUICKSTART_CA_COMMON_NAME,
    TRUST_LIST_SYNC,
)
from tui.demo.apiserver.server import ApiServer
from tui.demo.keyvault.vault import start_keyvault_emulator

ROOT = Path(__file__).resolve().parents[2]
NS = "azure-iot-operations"
RUN_TIMEOUT = 60


def _run(*args: str, kubeconfig: Path | str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _python("-m", "tui", "status", *args, kubeconfig=kubeconfig, home=home, **env)


def _python(*argv: str, kubeconfig: Path | str, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """This Python with ``argv``, in a user's environment pointed at ``kubeconfig``."""
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AIO_CERTS_")
        and k
        not in ("KUBECONFIG", "KUBERNETES_SERVICE_HOST", "AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP")
    }
    base.update({"KUBECONFIG": str(kubeconfig), "HOME": str(home), "COLUMNS": "100", **env})
    return subprocess.run(
        [sys.executable, *argv],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=base,
        timeout=RUN_TIMEOUT,
        check=False,
    )


def _one_line_error(result: subprocess.CompletedProcess[str], *, as_json: bool = False) -> str:
    """The one stderr line of a status that could not report; under --json stdout says the same."""
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    if as_json:
        doc = json.loads(result.stdout)
        assert doc["summary"] == {"health": "unknown", "exit_code": result.returncode}
        assert lines[0] == f"aio-certs status: {doc['error']}"
    else:
        assert result.stdout == ""
    return lines[0]


def _seed(server: ApiServer, *, ca_name: str, leaf_expired: bool) -> certgen.Issued:
    now = datetime.now(UTC).replace(microsecond=0)
    ca = certgen.make_ca(ca_name, not_before=now - timedelta(days=30), days=3650)
    if leaf_expired:
        leaf = certgen.make_leaf(None, "plc-1", not_before=now - timedelta(days=375), days=365)
    else:
        leaf = certgen.make_leaf(None, "plc-1", not_before=now - timedelta(days=1), days=365)
    site = quickstart_site(now, ca=ca, trust={"plc-1.der": leaf.der}, namespace=NS)
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in site.objects.values():
        server.put_many(copy.deepcopy(list(objects.values())))
    return ca


def test_healthy_site_exits_0(api_server: ApiServer, kubeconfig: Path, tmp_path: Path) -> None:
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    result = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Root CA" in result.stdout and "Contoso Site Root CA" in result.stdout
    assert len(result.stdout.splitlines()) <= 40  # one screenful
    assert result.stderr == ""


def test_quickstart_ca_is_a_warning_exit_1(api_server: ApiServer, kubeconfig: Path, tmp_path: Path) -> None:
    _seed(api_server, ca_name=QUICKSTART_CA_COMMON_NAME, leaf_expired=False)
    result = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "not for production" in result.stdout.lower()


def test_expired_entry_is_critical_exit_2_and_json_has_the_full_snapshot(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    ca = _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=True)
    text = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path)
    assert text.returncode == 2
    assert "expired" in text.stdout
    as_json = _run("--no-vault", "--json", kubeconfig=kubeconfig, home=tmp_path)
    assert as_json.returncode == 2
    doc = json.loads(as_json.stdout)
    assert doc["summary"]["exit_code"] == 2
    from cryptography.hazmat.primitives import hashes

    thumbprint = ca.cert.fingerprint(hashes.SHA1()).hex().upper()
    assert thumbprint in as_json.stdout
    assert "PRIVATE KEY" not in as_json.stdout  # the CA secret's tls.key never leaves the process


def test_a_hand_added_crl_and_a_list_near_the_size_limit(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    ca = _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    # What the AIO docs' kubectl patch adds (a CA and its CRL), and a hand-added blob that takes the
    # list past 80 % of 1 MiB.
    secret = api_server.get(rk.SECRETS.key, NS, TRUST_LIST_SYNC)
    assert secret is not None
    crl = certgen.make_crl(ca, this_update=datetime.now(UTC) - timedelta(hours=1))
    secret["data"]["contoso.der"] = base64.b64encode(ca.der).decode()
    secret["data"]["contoso.crl"] = base64.b64encode(crl.der).decode()
    secret["data"]["bulk.bin"] = base64.b64encode(b"\0" * 880_000).decode()
    api_server.put(secret)
    result = _run("--no-vault", "--json", kubeconfig=kubeconfig, home=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr  # warnings only
    doc = json.loads(result.stdout)
    # Both by hand, the CRL as its CA's CRL (the CA is not without one): information, not a fault.
    for key in ("trust/contoso.der", "trust/contoso.crl"):
        entry = next(e for e in doc["opcua"] if e["key"] == key)
        assert entry["flags"] == ["hand-added"] and entry["severity"] == "info", entry["flags"]
    trust = doc["summary"]["opcua"]["trust"]
    assert trust["size_limit_bytes"] == 1048576 and trust["size_percent"] >= 80
    assert trust["size_bytes"] > 880_000 and trust["next_size_bytes"] is None
    assert any(f["code"] == "sync-size" and f["severity"] == "warning" for f in doc["findings"])
    text = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path).stdout
    assert f"size {trust['size_bytes'] // 1024} KiB of 1 MiB ({trust['size_percent']}%)" in text
    assert "last change synced" in text and "sync ok, last" not in text


def test_forbidden_resource_still_reports_the_rest(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    api_server.forbid(rk.SECRET_SYNCS.key)
    result = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path)
    assert result.returncode in (1, 2), result.stdout + result.stderr
    assert "forbidden" in result.stdout and "Contoso Site Root CA" in result.stdout


def test_unreachable_vault_does_not_hide_the_cluster(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _run(
        kubeconfig=kubeconfig,
        home=tmp_path,
        AIO_CERTS_VAULT_URL=f"https://127.0.0.1:{port}/",
        AIO_CERTS_AUTH="demo",
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "Contoso Site Root CA" in result.stdout
    assert "cannot reach the vault" in result.stdout


def _entry(doc: dict, key: str) -> dict:
    return next(e for e in doc["opcua"] if e["key"] == key)


def test_reachable_vault_is_listed_and_values_compared_on_request(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    plc = certgen.make_leaf(None, "plc-1", not_before=now - timedelta(days=1), days=365)
    ca = certgen.make_ca("Contoso Site Root CA", not_before=now - timedelta(days=30), days=3650)
    site = quickstart_site(now, ca=ca, trust={"plc-1.der": plc.der}, namespace=NS)
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in site.objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    vault = start_keyvault_emulator()
    try:
        vault.put_secret("plc-1-der", plc.der.hex(), "application/pkix-cert", {"file-encoding": "hex"})
        env = {
            "AIO_CERTS_VAULT_URL": vault.url,
            "AIO_CERTS_VAULT_CA": str(vault.ca_pem_path),
            "AIO_CERTS_AUTH": "demo",
        }
        listed = _run("--json", kubeconfig=kubeconfig, home=tmp_path, **env)
        assert listed.returncode == 0, listed.stdout + listed.stderr
        doc = json.loads(listed.stdout)
        assert doc["vault"]["state"] == "ok"
        entry = _entry(doc, "trust/plc-1.der")
        assert entry["vault_present"] is True and entry["vault_in_sync"] is None  # listing only
        compared = json.loads(
            _run("--json", "--vault-values", kubeconfig=kubeconfig, home=tmp_path, **env).stdout
        )
        assert _entry(compared, "trust/plc-1.der")["vault_in_sync"] is True
    finally:
        vault.stop()


def test_a_list_over_1_mib_is_read_from_the_vault_values(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """Trial finding 8: the API server refused the list's Secret (over 1 MiB), so none exists. Without
    --vault-values, status reads the mapped values, gives the next sync's size, says the sync fails for
    being over the limit, and judges the entries from the vault (an expired one is critical)."""
    now = datetime.now(UTC)
    expired = certgen.make_leaf(None, "Robot Cell 07", not_before=now - timedelta(days=400), days=366)
    ca = certgen.make_ca("Contoso Site Root CA", not_before=now - timedelta(days=30), days=3650)
    # A Key Vault secret holds at most 25,600 characters: 90 files of 12,000 bytes (hex) pass 1 MiB.
    bulk = {f"bulk-{i:02}.der": b"\x30" * 12_000 for i in range(90)}
    site = quickstart_site(now, ca=ca, trust={"robot-cell-07.der": expired.der, **bulk}, namespace=NS)
    site.remove(rk.SECRETS, NS, TRUST_LIST_SYNC)
    mappings = [(name.replace(".", "-"), name) for name in ("robot-cell-07.der", *bulk)]
    refused = ("UnknownError", "Secret patch failed with an unknown error; see the logs.")
    site.add(rk.SECRET_SYNCS, secret_sync(TRUST_LIST_SYNC, NS, OPCUA_SPC, mappings, failure=refused))
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in site.objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    vault = start_keyvault_emulator()
    try:
        for name, data in {"robot-cell-07.der": expired.der, **bulk}.items():
            vault.put_secret(
                name.replace(".", "-"), data.hex(), "application/pkix-cert", {"file-encoding": "hex"}
            )
        env = {
            "AIO_CERTS_VAULT_URL": vault.url,
            "AIO_CERTS_VAULT_CA": str(vault.ca_pem_path),
            "AIO_CERTS_AUTH": "demo",
        }
        result = _run("--json", kubeconfig=kubeconfig, home=tmp_path, **env)
        assert result.returncode == 2, result.stdout + result.stderr
        doc = json.loads(result.stdout)
        trust = doc["summary"]["opcua"]["trust"]
        expected = len(expired.der) + 90 * 12_000
        assert trust["size_bytes"] is None and trust["next_size_bytes"] == expected
        assert trust["size_percent"] == expected * 100 // 1048576
        entry = _entry(doc, "trust/robot-cell-07.der")
        assert entry["certificate"]["subject"].startswith("CN=Robot Cell 07")
        assert {"expired", "not-synced"} <= set(entry["flags"]) and entry["severity"] == "critical"
        failing = next(f for f in doc["findings"] if f["code"] == "sync-failing")
        assert "over the 1 MiB limit" in failing["message"]
        text = _run(kubeconfig=kubeconfig, home=tmp_path, **env).stdout
        assert "sync FAILING (UnknownError: over the 1 MiB limit)" in text
        assert "(Robot Cell 07): expired" in text
    finally:
        vault.stop()


def _closed_port_kubeconfig(tmp_path: Path) -> tuple[Path, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "dead-kubeconfig"
    path.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: site\n"
        f"clusters: [{{name: site, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\n"
        "contexts: [{name: site, context: {cluster: site, user: u}}]\n",
        encoding="utf-8",
    )
    return path, port


def test_unreachable_cluster_exits_3_with_one_line(tmp_path: Path) -> None:
    path, port = _closed_port_kubeconfig(tmp_path)
    result = _run("--json", kubeconfig=path, home=tmp_path)
    assert result.returncode == 3
    line = _one_line_error(result, as_json=True)
    assert line == (
        f"aio-certs status: cannot reach the cluster at http://127.0.0.1:{port} (context site): "
        "connection refused"
    )


class _NotKubernetes(BaseHTTPRequestHandler):
    """An HTTP server that is not Kubernetes: 404 for every path, as a web server answers."""

    def do_GET(self) -> None:
        self.send_error(404)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: no access log in the test output."""


@pytest.mark.parametrize("as_json", [False, True])
def test_an_http_server_that_is_not_kubernetes_is_unknown_exit_3(tmp_path: Path, as_json: bool) -> None:
    # It used to print HEALTHY and exit 0: every kind "not installed" read as an empty site.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotKubernetes)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}"
        path = tmp_path / "web-kubeconfig"
        path.write_text(
            "apiVersion: v1\nkind: Config\ncurrent-context: web\n"
            f"clusters: [{{name: web, cluster: {{server: '{url}'}}}}]\n"
            "users: [{name: u, user: {token: t}}]\n"
            "contexts: [{name: web, context: {cluster: web, user: u}}]\n",
            encoding="utf-8",
        )
        result = _run("--no-vault", *(["--json"] if as_json else []), kubeconfig=path, home=tmp_path)
    finally:
        server.shutdown()
        server.server_close()
    assert result.returncode == 3, result.stdout + result.stderr
    assert _one_line_error(result, as_json=as_json) == (
        f"aio-certs status: cannot reach the cluster at {url} (context web): not a Kubernetes API server "
        "(no core API: /api/v1 answers 404)"
    )


@pytest.mark.parametrize(
    ("kubeconfig", "args", "code", "expected"),
    [
        ("missing", (), 3, "cannot reach the cluster: KUBECONFIG="),
        ("broken", (), 3, "not valid YAML at line"),
        ("ok", ("--context", "nope"), 3, "context 'nope' not found in kubeconfig (available: site)"),
        # Usage errors are UNKNOWN (3) as for any monitoring plugin: 2 would read as CRITICAL.
        (
            "ok",
            ("--issuer", "Certificate/x"),
            3,
            "--issuer: kind 'Certificate' must be Issuer or ClusterIssuer",
        ),
        ("ok", ("--expiring-days", "7/30"), 3, "--expiring-days: critical (30) must not exceed warning (7)"),
        ("ok", ("-n", "Bad_NS"), 3, "--namespace: 'Bad_NS' is not a valid namespace name"),
        ("ok", ("--bogus",), 3, "unrecognized arguments: --bogus"),
        ("ok", ("--request-timeout", "nan"), 3, "argument --request-timeout: expected a finite number"),
        ("ok", ("--cloud", "Mars"), 3, "argument --cloud: unknown cloud 'Mars'"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_bad_input_is_one_line(
    tmp_path: Path, kubeconfig: str, args: tuple[str, ...], code: int, expected: str, as_json: bool
) -> None:
    path, _port = _closed_port_kubeconfig(tmp_path)
    if kubeconfig == "missing":
        path = tmp_path / "does-not-exist"
    elif kubeconfig == "broken":
        path = tmp_path / "broken"
        path.write_text("clusters: [\n  - name: x\n  bad", encoding="utf-8")
    result = _run(*args, *(["--json"] if as_json else []), kubeconfig=path, home=tmp_path)
    assert result.returncode == code
    assert expected in _one_line_error(result, as_json=as_json)


def test_the_config_file_thresholds_apply_to_status(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    # From the adversarial pass: expiring_days = "400/300" in the config left status at 30/7.
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)  # the leaf expires in 364 days
    config = tmp_path / "config.toml"
    config.write_text('expiring_days = "400/300"\n', encoding="utf-8")
    result = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path, AIO_CERTS_CONFIG=str(config))
    assert result.returncode == 1, result.stdout + result.stderr
    assert "expiring" in result.stdout.lower()
    # A flag still wins over the file.
    flagged = _run(
        "--no-vault",
        "--expiring-days",
        "30/7",
        kubeconfig=kubeconfig,
        home=tmp_path,
        AIO_CERTS_CONFIG=str(config),
    )
    assert flagged.returncode == 0, flagged.stdout + flagged.stderr


def _bad_config(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"config-{kind}.toml"
    if kind == "toml":
        path.write_text("read_only = \n", encoding="utf-8")
    elif kind == "unknown key":
        path.write_text("readonly = true\n", encoding="utf-8")
    elif kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)
    else:
        path.write_bytes(b'auth = "d\xe9fault"\n')
    return path


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("toml", "not valid TOML"),
        ("unknown key", "unknown key 'readonly'"),
        ("directory", "a directory"),
        ("fifo", "not a regular file"),
        ("non-utf-8", "not UTF-8 text"),
    ],
)
@pytest.mark.parametrize("as_json", [False, True])
def test_an_unusable_config_file_is_unknown_exit_3(
    tmp_path: Path, kind: str, expected: str, as_json: bool
) -> None:
    # From the adversarial pass: each gave a normal report and exit 2 instead of UNKNOWN.
    path, _port = _closed_port_kubeconfig(tmp_path)
    config = _bad_config(tmp_path, kind)
    result = _run(
        *(["--json"] if as_json else []), kubeconfig=path, home=tmp_path, AIO_CERTS_CONFIG=str(config)
    )
    assert result.returncode == 3
    line = _one_line_error(result, as_json=as_json)
    assert line.startswith(f"aio-certs status: config {config}: ") and expected in line, line


def test_help_documents_the_exit_statuses(tmp_path: Path) -> None:
    result = _run("--help", kubeconfig=tmp_path / "unused", home=tmp_path)
    assert result.returncode == 0
    for line in ("0  healthy", "1  warnings", "2  critical", "3  unknown: the cluster could not be reached"):
        assert line in result.stdout
    for flag in (
        "--kubeconfig",
        "--context",
        "--namespace",
        "--issuer",
        "--trust-bundle",
        "--vault-url",
        "--auth",
        "--cloud",
        "--expiring-days",
        "--read-only",
        "--json",
    ):
        assert flag in result.stdout


def _closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_arm_unreachable_is_its_own_warning_and_the_lists_say_arm(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    from tests import armobjects
    from tui.core.model.arm import ArmKind
    from tui.core.model.names import OPCUA_SPC, TRUST_LIST_SYNC

    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    for kind, arm_kind, name in (
        (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
        (rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC, OPCUA_SPC),
    ):
        obj = armobjects.annotated(api_server.get(kind.key, NS, name), arm_kind)
        obj["metadata"].pop("resourceVersion", None)
        api_server.put(obj)
    env = {"AIO_CERTS_ARM_ENDPOINT": f"https://127.0.0.1:{_closed_port()}", "AIO_CERTS_AUTH": "demo"}
    text = _run("--no-vault", kubeconfig=kubeconfig, home=tmp_path, **env)
    # Healthy but for ARM: the one warning says ARM cannot be reached; the cluster report is whole.
    assert text.returncode == 1, text.stdout + text.stderr
    lines = text.stdout.splitlines()
    assert f"OPC UA lists (SPC {OPCUA_SPC}), owner arm" in lines
    assert "Not fully read: vault pending; arm unreachable" in lines  # --no-vault: the vault is not read
    arm_line = next(line for line in lines if line.startswith("  ARM (resource group"))
    assert "unreachable" in arm_line and "cannot reach ARM" in arm_line
    assert any(line.startswith("  WARN  Azure Resource Manager: unreachable") for line in lines)
    assert "Contoso Site Root CA" in text.stdout and "trust      1 entries" in text.stdout
    doc = json.loads(_run("--no-vault", "--json", kubeconfig=kubeconfig, home=tmp_path, **env).stdout)
    assert doc["summary"]["opcua"]["trust"]["owner"] == "arm"
    assert doc["summary"]["arm"]["state"] == "unreachable"
    assert {s["name"]: s["owner"] for s in doc["syncs"]}[TRUST_LIST_SYNC] == "arm"


_NO_IDENTITY_PROBE = (
    "import atexit, sys\n"
    "atexit.register(lambda: print('identity imported:', 'azure.identity' in sys.modules, file=sys.stderr))\n"
    "from tui.cli import main\n"
    "sys.exit(main(['status', '--json']))\n"
)


def test_status_with_demo_auth_reads_the_vault_without_importing_azure_identity(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """azure-identity (~35 ms of imports) serves only the credentials that sign in for real."""
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=False)
    vault = start_keyvault_emulator()
    try:
        vault.put_secret("plc-1-der", "00", "application/pkix-cert", {"file-encoding": "hex"})
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("AIO_CERTS_") and k not in ("AZURE_SUBSCRIPTION_ID", "AZURE_RESOURCE_GROUP")
        }
        env.update(
            KUBECONFIG=str(kubeconfig),
            HOME=str(tmp_path),
            AIO_CERTS_VAULT_URL=vault.url,
            AIO_CERTS_VAULT_CA=str(vault.ca_pem_path),
            AIO_CERTS_AUTH="demo",
        )
        result = subprocess.run(
            [sys.executable, "-c", _NO_IDENTITY_PROBE],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    finally:
        vault.stop()
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads(result.stdout)
    assert doc["vault"]["state"] == "ok" and doc["vault"]["secret_count"] == 1
    assert result.stderr.strip() == "identity imported: False"


_CLUSTER_CHILD_PROBE = """
import atexit, os, sys
mode = sys.argv[1]
parent = os.getpid()
if mode == "fail-read":
    # The child's read fails (a bug, say): status must read the cluster itself, with the same result.
    import tui.cluster.oneshot as oneshot
    real = oneshot.read_once
    def read_once(*args, **kwargs):
        if os.getpid() != parent:
            raise RuntimeError("a bug in the child")
        return real(*args, **kwargs)
    oneshot.read_once = read_once
if mode == "plain":
    atexit.register(lambda: print("client here:", "kubernetes" in sys.modules, file=sys.stderr))
from tui.cli import main
sys.exit(main(["status", "--no-vault", "--json"]))
"""


def _probe(mode: str, kubeconfig: Path, home: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return _python("-c", _CLUSTER_CHILD_PROBE, mode, kubeconfig=kubeconfig, home=home, **env)


def _without_times(doc: dict[str, object]) -> str:
    # The read's own moments differ between two runs; nothing else may.
    text = json.dumps(doc, sort_keys=True)
    for key in ("taken_at", "built_at", "since"):
        text = re.sub(rf'"{key}": "[^"]*"', f'"{key}": "-"', text)
    return text


def test_the_cluster_read_in_a_child_reports_what_reading_here_does(
    api_server: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    """status lists the cluster in a forked child (design §10.1): the same report and exit status as reading
    in its own process (AIO_CERTS_PREFETCH=0), and when the child's read fails, status reads itself."""
    _seed(api_server, ca_name="Contoso Site Root CA", leaf_expired=True)
    child = _probe("plain", kubeconfig, tmp_path)
    here = _probe("plain", kubeconfig, tmp_path, AIO_CERTS_PREFETCH="0")
    fallback = _probe("fail-read", kubeconfig, tmp_path)
    assert child.returncode == here.returncode == fallback.returncode == 2, child.stderr + fallback.stderr
    assert child.stderr == "client here: False\n"  # the child connected and listed; status did not
    assert here.stderr == "client here: True\n"
    assert fallback.stderr == ""
    reports = [_without_times(json.loads(r.stdout)) for r in (child, here, fallback)]
    assert reports[0] == reports[1] == reports[2]
    assert json.loads(child.stdout)["summary"]["exit_code"] == 2
