"""``aio-certs connector-cert`` and ``status --json`` against the demo site (issue 12 item 14).

The demo seeds the connector's self-signed certificate as a default deployment has it (cert-manager's
Certificate and its Secret with ``tls.crt`` and ``tls.key``); the command writes the public certificate
only, DER by default, and never the private key.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID

from tests.integration.changes_support import NS, kubectl_json, one_line_error, run_cli, running_demo
from tui.core.model.connector import DEFAULT_APPLICATION_CERT_SECRET, DEFAULT_APPLICATION_URI
from tui.demo.environment import DemoEnvironment


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _secret(demo: DemoEnvironment) -> dict[str, bytes]:
    obj = kubectl_json(demo, "get", "secret", "-n", NS, DEFAULT_APPLICATION_CERT_SECRET)
    return {k: base64.b64decode(v) for k, v in obj["data"].items()}


def test_writes_the_public_certificate_as_der_and_never_the_key(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    out = tmp_path / "connector.der"
    result = run_cli(demo, tmp_path / "state", "connector-cert", "--out", str(out))
    assert result.returncode == 0, result.stderr
    secret = _secret(demo)
    cert = x509.load_der_x509_certificate(out.read_bytes())
    assert cert == x509.load_pem_x509_certificate(secret["tls.crt"])
    assert cert.extensions.get_extension_for_oid(
        ExtensionOID.SUBJECT_ALTERNATIVE_NAME
    ).value.get_values_for_type(x509.UniformResourceIdentifier) == [DEFAULT_APPLICATION_URI]
    [line] = result.stderr.splitlines()
    assert line.startswith(f"wrote {out} (DER, {len(out.read_bytes())} bytes): CN=aio-opc-opcuabroker, ")
    # The private key is in the Secret; it is in neither the file, the output nor the state directory.
    key = secret["tls.key"]
    key_body = b"".join(key.strip().splitlines()[1:-1]).decode()
    assert b"PRIVATE KEY" in key
    assert key_body[:40] not in out.read_bytes().decode("latin-1")
    assert key_body[:40] not in result.stdout + result.stderr
    stored = [p.read_bytes() for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert all(key_body[:40].encode() not in data and b"PRIVATE KEY" not in data for data in stored)
    assert out.stat().st_mode & 0o777 == 0o644


def test_pem_on_request_and_no_overwrite_unless_forced(demo: DemoEnvironment, tmp_path: Path) -> None:
    out = tmp_path / "connector.pem"
    out.write_text("keep me\n")
    refused = run_cli(demo, tmp_path / "state", "connector-cert", "--out", str(out), "--pem")
    assert refused.returncode == 1
    assert (
        one_line_error(refused, "aio-certs connector-cert: ")
        == f"aio-certs connector-cert: {out} already exists; --force replaces it"
    )
    assert out.read_text() == "keep me\n"
    forced = run_cli(demo, tmp_path / "state", "connector-cert", "--out", str(out), "--pem", "--force")
    assert forced.returncode == 0, forced.stderr
    assert out.read_bytes() == _secret(demo)["tls.crt"]  # cert-manager's tls.crt is the one PEM block
    assert list(tmp_path.glob(".aio-certs-*")) == []


def test_a_missing_folder_is_one_line_and_nothing_is_written(demo: DemoEnvironment, tmp_path: Path) -> None:
    out = tmp_path / "no\x1bfolder" / "c.der"
    result = run_cli(demo, tmp_path / "state", "connector-cert", "--out", str(out))
    assert result.returncode == 1
    line = one_line_error(result, "aio-certs connector-cert: ")
    assert "does not exist" in line and "\x1b" not in line
    assert not out.parent.exists()


def test_status_json_reports_the_connector_certificate(demo: DemoEnvironment, tmp_path: Path) -> None:
    result = run_cli(demo, tmp_path / "state", "status", "--json", "--no-vault")
    doc = json.loads(result.stdout)
    connector = doc["connector_certificate"]
    assert (connector["source"], connector["secret"], connector["key"]) == (
        "cert-manager",
        DEFAULT_APPLICATION_CERT_SECRET,
        "tls.crt",
    )
    assert (connector["subject"], connector["application_uri"]) == (
        "CN=aio-opc-opcuabroker",
        DEFAULT_APPLICATION_URI,
    )
    assert connector["renews_automatically"] is True
    assert connector["issuing_certificate"] == f"{NS}/{DEFAULT_APPLICATION_CERT_SECRET}"
    assert connector["renewal_time"] is not None and connector["days_to_renewal"] in (2, 3)
    assert connector["days_left"] in (32, 33) and connector["not_after"].endswith("Z")
    assert "renewal-soon" in {f["code"].removeprefix("connector-cert-") for f in doc["findings"]}
    assert "PRIVATE KEY" not in result.stdout
