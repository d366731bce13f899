"""Kubeconfig selection and error messages of tui.cluster.config (no network: nothing is sent)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from tui.cluster.config import ClusterConfigError, load_cluster_config


def _kubeconfig(
    path: Path,
    *,
    contexts: dict[str, tuple[str, str | None]],
    servers: dict[str, str],
    current: str | None,
    extra_cluster: dict | None = None,
) -> Path:
    """Write a kubeconfig: contexts name -> (cluster, namespace); servers cluster -> URL."""
    doc: dict = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": c, "cluster": {"server": url, **(extra_cluster or {})}} for c, url in servers.items()
        ],
        "users": [{"name": "u", "user": {"token": "not-a-real-token"}}],
        "contexts": [
            {"name": name, "context": {"cluster": cl, "user": "u", **({"namespace": ns} if ns else {})}}
            for name, (cl, ns) in contexts.items()
        ],
    }
    if current:
        doc["current-context"] = current
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # An empty HOME so a developer's own ~/.kube/config can never leak into a test.
    return {"HOME": str(tmp_path / "home"), **extra}


def test_explicit_kubeconfig_uses_current_context(tmp_path: Path) -> None:
    cfg = _kubeconfig(
        tmp_path / "k",
        contexts={"a": ("c1", "ns-a"), "b": ("c2", None)},
        servers={"c1": "http://127.0.0.1:1111/", "c2": "http://127.0.0.1:2222"},
        current="a",
    )
    conn = load_cluster_config(str(cfg), environ=_env(tmp_path))
    try:
        assert (conn.context, conn.server, conn.namespace) == ("a", "http://127.0.0.1:1111", "ns-a")
        assert conn.api_client.configuration.host == "http://127.0.0.1:1111"
        assert conn.api_client.configuration.api_key["BearerToken"].endswith("not-a-real-token")
    finally:
        conn.close()


def test_context_flag_overrides_current_context(tmp_path: Path) -> None:
    cfg = _kubeconfig(
        tmp_path / "k",
        contexts={"a": ("c1", "ns-a"), "b": ("c2", None)},
        servers={"c1": "http://127.0.0.1:1111", "c2": "http://127.0.0.1:2222"},
        current="a",
    )
    conn = load_cluster_config(str(cfg), "b", environ=_env(tmp_path))
    assert (conn.context, conn.server, conn.namespace) == ("b", "http://127.0.0.1:2222", None)
    conn.close()


def test_kubeconfig_env_merges_files_first_current_context_wins(tmp_path: Path) -> None:
    first = _kubeconfig(
        tmp_path / "one", contexts={"a": ("c1", None)}, servers={"c1": "http://127.0.0.1:1111"}, current="a"
    )
    second = _kubeconfig(
        tmp_path / "two", contexts={"b": ("c2", "ns-b")}, servers={"c2": "http://127.0.0.1:2222"}, current="b"
    )
    missing = tmp_path / "missing"
    env = _env(tmp_path, KUBECONFIG=os.pathsep.join([str(missing), str(first), str(second)]))
    conn = load_cluster_config(environ=env)
    assert conn.context == "a"
    conn.close()
    # A context defined only in the second file is still found.
    conn = load_cluster_config(context="b", environ=env)
    assert (conn.server, conn.namespace) == ("http://127.0.0.1:2222", "ns-b")
    conn.close()


def test_relative_certificate_authority_resolves_next_to_its_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    cfg = _kubeconfig(
        tmp_path / "sub" / "k",
        contexts={"a": ("c1", None)},
        servers={"c1": "https://127.0.0.1:6443"},
        current="a",
        extra_cluster={"certificate-authority": "ca.pem"},
    )
    conn = load_cluster_config(str(cfg), environ=_env(tmp_path))
    assert Path(conn.api_client.configuration.ssl_ca_cert) == tmp_path / "sub" / "ca.pem"
    conn.close()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("clusters: [\n  - name: x\n  bad", "not valid YAML at line"),
        ("- just\n- a list\n", "expected a mapping"),
        ("clusters: {name: x}\n", "'clusters' must be a list"),
        ("contexts:\n- context: {cluster: c}\n", "every entry of 'contexts' needs a name"),
    ],
)
def test_malformed_file_gives_one_line_naming_it(tmp_path: Path, content: str, expected: str) -> None:
    cfg = tmp_path / "broken"
    cfg.write_text(content, encoding="utf-8")
    with pytest.raises(ClusterConfigError) as info:
        load_cluster_config(str(cfg), environ=_env(tmp_path))
    message = str(info.value)
    assert expected in message and str(cfg) in message and "\n" not in message


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(ClusterConfigError, match=r"kubeconfig .*nope: no such file"):
        load_cluster_config(str(tmp_path / "nope"), environ=_env(tmp_path))


def test_kubeconfig_env_with_no_existing_file(tmp_path: Path) -> None:
    env = _env(tmp_path, KUBECONFIG=str(tmp_path / "gone"))
    with pytest.raises(ClusterConfigError, match="none of these files exist"):
        load_cluster_config(environ=env)


def test_unknown_context_lists_the_available_ones(tmp_path: Path) -> None:
    cfg = _kubeconfig(
        tmp_path / "k",
        contexts={"a": ("c1", None), "b": ("c1", None)},
        servers={"c1": "http://127.0.0.1:1111"},
        current="a",
    )
    expected = r"context 'zzz' not found in kubeconfig \(available: a, b\)"
    with pytest.raises(ClusterConfigError, match=expected):
        load_cluster_config(str(cfg), "zzz", environ=_env(tmp_path))


def test_no_current_context_asks_for_one(tmp_path: Path) -> None:
    cfg = _kubeconfig(
        tmp_path / "k", contexts={"a": ("c1", None)}, servers={"c1": "http://127.0.0.1:1111"}, current=None
    )
    with pytest.raises(ClusterConfigError, match="no current-context set; pass --context"):
        load_cluster_config(str(cfg), environ=_env(tmp_path))


def test_context_pointing_at_missing_cluster(tmp_path: Path) -> None:
    cfg = _kubeconfig(
        tmp_path / "k", contexts={"a": ("ghost", None)}, servers={"c1": "http://127.0.0.1:1111"}, current="a"
    )
    with pytest.raises(ClusterConfigError, match="cluster 'ghost' has no server"):
        load_cluster_config(str(cfg), environ=_env(tmp_path))


def test_default_file_in_home_is_used(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (home / ".kube").mkdir(parents=True)
    _kubeconfig(
        home / ".kube" / "config",
        contexts={"a": ("c1", None)},
        servers={"c1": "http://127.0.0.1:3333"},
        current="a",
    )
    conn = load_cluster_config(environ={"HOME": str(home)})
    assert conn.server == "http://127.0.0.1:3333"
    conn.close()


def test_in_cluster_config_when_no_kubeconfig(tmp_path: Path) -> None:
    sa = tmp_path / "sa"
    sa.mkdir()
    (sa / "token").write_text("sa-token", encoding="utf-8")
    (sa / "ca.crt").write_text("-----BEGIN CERTIFICATE-----\n", encoding="utf-8")
    (sa / "namespace").write_text("azure-iot-operations\n", encoding="utf-8")
    env = _env(tmp_path, KUBERNETES_SERVICE_HOST="10.0.0.1", KUBERNETES_SERVICE_PORT="443")
    conn = load_cluster_config(environ=env, service_account_dir=sa)
    assert (conn.context, conn.server, conn.namespace) == (
        "in-cluster",
        "https://10.0.0.1:443",
        "azure-iot-operations",
    )
    conn.close()


def test_in_cluster_without_token_is_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, KUBERNETES_SERVICE_HOST="10.0.0.1", KUBERNETES_SERVICE_PORT="443")
    with pytest.raises(ClusterConfigError, match="in-cluster config: Service token file does not exist"):
        load_cluster_config(environ=env, service_account_dir=tmp_path / "none")


def test_nothing_configured(tmp_path: Path) -> None:
    with pytest.raises(ClusterConfigError, match=r"no kubeconfig: .*\(set KUBECONFIG or pass --kubeconfig\)"):
        load_cluster_config(environ=_env(tmp_path))
