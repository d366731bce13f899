"""The embedded site end to end: kubectl and the real SecretClient see what the seed and controllers made.

Everything goes over the wire: kubectl and the ``kubernetes`` client over HTTP to the emulated API
server, ``SecretClient`` over HTTPS to the vault emulator, as the product and a technician would.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from cryptography import x509

from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.demo.environment import DemoEnvironment
from tui.vault.client import make_secret_client

START = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
NS = "azure-iot-operations"
KUBECTL = str(Path(sys.executable).parent / "kubectl")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoEnvironment]:
    env = DemoEnvironment(state_dir=tmp_path / "demo", clock=FrozenClock(START), run_controllers=False)
    with env:
        yield env


def kubectl(env: DemoEnvironment, *args: str) -> str:
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(env.kubeconfig_path), *args],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.kubectl
def test_kubectl_lists_every_seeded_kind(demo: DemoEnvironment) -> None:
    kinds = (
        "certificates,certificaterequests,issuers,clusterissuers,bundles,secretproviderclasses,secretsyncs"
    )
    listed = json.loads(
        kubectl(demo, "get", f"{kinds},brokerlisteners,dataflowendpoints", "-A", "-o", "json")
    )
    names = {(i["kind"], i["metadata"]["name"]) for i in listed["items"]}
    assert {
        ("Certificate", "azure-iot-operations-aio-selfsigned-root"),
        ("Certificate", "aio-broker-frontend-server-18883"),
        ("ClusterIssuer", "azure-iot-operations-aio-certificate-issuer"),
        ("ClusterIssuer", "azure-iot-operations-aio-selfsigned-root"),
        ("Bundle", "azure-iot-operations-aio-ca-trust-bundle"),
        ("SecretProviderClass", "opc-ua-connector"),
        ("SecretSync", "aio-opc-ua-broker-trust-list"),
        ("SecretSync", "aio-opc-ua-broker-issuer-list"),
        ("BrokerListener", "default"),
        ("DataflowEndpoint", "default"),
    } <= names
    # One request per issued Certificate: the root CA, the broker's, the OPC UA connector's own.
    assert sum(1 for kind, _ in names if kind == "CertificateRequest") == 3
    # The demo's trust-manager predates ClusterBundle: kubectl does not know the kind there.
    missing = subprocess.run(
        [KUBECTL, "--kubeconfig", str(demo.kubeconfig_path), "get", "clusterbundles"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert missing.returncode != 0 and "clusterbundles" in missing.stderr
    # The kubeconfig's context already points at the AIO namespace, as `source DIR/env` users expect.
    synced = kubectl(demo, "get", "secrets", "-l", "secrets-store.sync.x-k8s.io", "-o", "name")
    assert sorted(synced.split()) == [
        "secret/aio-opc-ua-broker-issuer-list",
        "secret/aio-opc-ua-broker-trust-list",
    ]
    described = kubectl(
        demo, "describe", "certificate", "-n", "cert-manager", "azure-iot-operations-aio-selfsigned-root"
    )
    assert "Revision:" in described and "Renewal Time:" in described


def test_secret_client_reads_seeded_vault_secrets(demo: DemoEnvironment) -> None:
    assert demo.site is not None
    client = make_secret_client(demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))
    with client:
        listed = {p.name: p for p in client.list_properties_of_secrets()}
        assert set(listed) == {v.name for v in demo.site.vault}
        for entry in demo.site.entries[:6] + demo.site.entries[-5:]:
            secret = client.get_secret(entry.secret_name)
            assert bytes.fromhex(secret.value or "") == entry.content
            assert secret.properties.tags == {"file-encoding": "hex"}
            assert secret.properties.content_type == listed[entry.secret_name].content_type
        assert (
            client.get_secret("contoso-line-issuing-ca-crl").properties.content_type == "application/pkix-crl"
        )
        assert client.get_secret("plc-packaging-02-crt").properties.content_type == "application/x-pem-file"


def test_synced_secrets_carry_vault_bytes_label_and_owner(demo: DemoEnvironment) -> None:
    assert demo.site is not None
    for list_name, sync_name in (
        ("trust", "aio-opc-ua-broker-trust-list"),
        ("issuer", "aio-opc-ua-broker-issuer-list"),
    ):
        sync = demo.kube.get(rk.SECRET_SYNCS, NS, sync_name)
        secret = demo.kube.get(rk.SECRETS, NS, sync_name)
        assert sync is not None and secret is not None
        meta = secret["metadata"]
        assert meta["labels"] == {"secrets-store.sync.x-k8s.io": ""}
        assert meta["annotations"] == {"secrets-store.sync.x-k8s.io": ""}
        assert meta["ownerReferences"] == [
            {
                "apiVersion": "secret-sync.x-k8s.io/v1alpha1",
                "kind": "SecretSync",
                "name": sync_name,
                "uid": sync["metadata"]["uid"],
            }
        ]
        assert secret["type"] == "Opaque"
        expected = {e.target_key: e.content for e in demo.site.entries if e.list_name == list_name}
        assert {k: base64.b64decode(v) for k, v in secret["data"].items()} == expected
        status = sync["status"]
        assert [(c["type"], c["status"], c["reason"]) for c in status["conditions"]] == [
            ("Create", "True", "CreateSucceeded")
        ]
        assert status["lastSuccessfulSyncTime"] == "2026-03-01T12:00:00Z"
        assert len(status["syncHash"]) == 128


def test_settled_site_is_quiet_and_bundle_matches_ca(demo: DemoEnvironment) -> None:
    assert demo.reconcile_all() == 0
    ca = demo.kube.get(rk.SECRETS, "cert-manager", "azure-iot-operations-aio-ca-certificate")
    bundle = demo.kube.get(rk.CONFIGMAPS, NS, f"{NS}-aio-ca-trust-bundle")
    assert ca is not None and bundle is not None
    assert bundle["data"]["ca.crt"].encode() == base64.b64decode(ca["data"]["tls.crt"])


def test_env_file_exports_what_the_product_reads(demo: DemoEnvironment) -> None:
    text = demo.env_path.read_text()
    result = subprocess.run(
        ["bash", "-c", f"source {demo.env_path} && env"],
        capture_output=True,
        text=True,
        timeout=10,
        check=True,
    )
    exported = dict(line.split("=", 1) for line in result.stdout.splitlines() if "=" in line)
    assert exported["KUBECONFIG"] == str(demo.kubeconfig_path)
    assert exported["AIO_CERTS_VAULT_URL"] == demo.vault_url
    assert exported["AIO_CERTS_VAULT_CA"] == str(demo.vault_ca_path)
    assert exported["AIO_CERTS_AUTH"] == "demo"
    assert exported["AIO_CERTS_NAMESPACE"] == "azure-iot-operations"
    assert "PRIVATE KEY" not in text and x509.load_pem_x509_certificates(demo.vault_ca_path.read_bytes())


def _port_open(url: str) -> bool:
    parts = urlsplit(url)
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((parts.hostname or "127.0.0.1", parts.port or 0)) == 0


def test_start_and_stop_cleanly_with_running_controllers(tmp_path: Path) -> None:
    env = DemoEnvironment(clock=FrozenClock(START), run_controllers=True)
    env.start()
    api_url, vault_url, state_dir = env.api.url, env.vault_url, env.state_dir
    assert _port_open(api_url) and _port_open(vault_url)
    assert {t.name for t in threading.enumerate()} >= {
        "demo-cert-manager",
        "demo-trust-manager",
        "demo-secret-sync",
    }
    env.stop()
    assert not _port_open(api_url) and not _port_open(vault_url)
    leftover = [
        t.name for t in threading.enumerate() if t.name.startswith(("demo-", "watch-", "secret-sync"))
    ]
    assert leftover == []
    assert not state_dir.exists()  # a temporary state directory is removed


def test_byo_issuer_environment_issues_broker_cert_from_customer_issuer(tmp_path: Path) -> None:
    with DemoEnvironment(clock=FrozenClock(START), byo_issuer=True, run_controllers=False) as env:
        issuer = env.kube.list(rk.ISSUERS, NS)
        assert [i["status"]["conditions"][0]["reason"] for i in issuer] == ["KeyPairVerified"]
        assert env.kube.list(rk.CLUSTER_ISSUERS) == []
        broker = env.kube.get(rk.SECRETS, NS, "aio-broker-frontend-server-18883")
        assert broker is not None
        chain = x509.load_pem_x509_certificates(base64.b64decode(broker["data"]["tls.crt"]))
        root = x509.load_pem_x509_certificate(base64.b64decode(broker["data"]["ca.crt"]))
        assert len(chain) == 2 and chain[0].issuer == chain[1].subject and chain[1].issuer == root.subject
        assert env.secret_sync.reconcile_once().writes == 0
