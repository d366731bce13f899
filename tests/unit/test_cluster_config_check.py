"""``check_cluster_config``: the checks ``load_cluster_config`` runs first, without the kubernetes client.

``status`` runs it before it starts its vault listing and imports the client (tui/commands/status/run.py):
each mistake must give the very line connecting would give, and the check must not import kubernetes.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tests.unit.test_cluster_config import _env, _kubeconfig
from tui.cluster.config import ClusterConfigError, check_cluster_config, load_cluster_config

Case = Callable[[Path], tuple[str | None, str | None, dict[str, str]]]


def _malformed(tmp_path: Path) -> tuple[str | None, str | None, dict[str, str]]:
    cfg = tmp_path / "broken"
    cfg.write_text("clusters: [\n  - name: x\n  bad", encoding="utf-8")
    return str(cfg), None, _env(tmp_path)


def _missing_file(tmp_path: Path) -> tuple[str | None, str | None, dict[str, str]]:
    return str(tmp_path / "nope"), None, _env(tmp_path)


def _no_env_file(tmp_path: Path) -> tuple[str | None, str | None, dict[str, str]]:
    return None, None, _env(tmp_path, KUBECONFIG=str(tmp_path / "gone"))


def _one(tmp_path: Path, cluster: str = "c1", current: str | None = "a") -> str:
    return str(
        _kubeconfig(
            tmp_path / "k",
            contexts={"a": (cluster, None), "b": ("c1", None)},
            servers={"c1": "http://127.0.0.1:1111"},
            current=current,
        )
    )


CASES: dict[str, Case] = {
    "malformed": _malformed,
    "missing-file": _missing_file,
    "no-file-in-KUBECONFIG": _no_env_file,
    "unknown-context": lambda p: (_one(p), "zzz", _env(p)),
    "no-current-context": lambda p: (_one(p, current=None), None, _env(p)),
    "no-server": lambda p: (_one(p, cluster="ghost"), None, _env(p)),
    "nothing-configured": lambda p: (None, None, _env(p)),
    "in-cluster-with-a-context": lambda p: (None, "x", _env(p, KUBERNETES_SERVICE_HOST="10.0.0.1")),
}


@pytest.mark.parametrize("case", CASES)
def test_each_mistake_is_the_line_connecting_gives(tmp_path: Path, case: str) -> None:
    kubeconfig, context, env = CASES[case](tmp_path)
    with pytest.raises(ClusterConfigError) as checked:
        check_cluster_config(kubeconfig, context, environ=env)
    with pytest.raises(ClusterConfigError) as loaded:
        load_cluster_config(kubeconfig, context, environ=env)
    assert str(checked.value) == str(loaded.value)


def test_a_good_kubeconfig_passes_and_in_cluster_is_left_to_the_loader(tmp_path: Path) -> None:
    # A token: no plugin runs when the credentials are loaded.
    assert check_cluster_config(_one(tmp_path), environ=_env(tmp_path)) is False
    assert check_cluster_config(_one(tmp_path), "b", environ=_env(tmp_path)) is False
    assert check_cluster_config(environ=_env(tmp_path, KUBERNETES_SERVICE_HOST="10.0.0.1")) is False


@pytest.mark.parametrize(
    ("credentials", "plugin"),
    [
        ({"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "kubelogin"}}, True),
        ({"auth-provider": {"name": "oidc", "config": {}}}, True),
        ({"client-certificate": "/x.crt", "client-key": "/x.key"}, False),
        ({"tokenFile": "/var/run/token"}, False),
        ({}, False),
    ],
)
def test_the_check_says_whether_the_credentials_run_a_plugin(
    tmp_path: Path, credentials: dict[str, object], plugin: bool
) -> None:
    # The dashboard connects a second time before taking the screen when a plugin runs (it may ask its
    # user something), and after its first frame otherwise (commands/dashboard/run.py).
    path = Path(_one(tmp_path))
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["users"] = [{"name": "u", "user": credentials}]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    assert check_cluster_config(str(path), environ=_env(tmp_path)) is plugin


def test_the_check_does_not_import_the_kubernetes_client(tmp_path: Path) -> None:
    code = textwrap.dedent(
        f"""
        import sys
        from tui.cluster.config import check_cluster_config
        check_cluster_config({_one(tmp_path)!r}, environ={{"HOME": {str(tmp_path)!r}}})
        print(sorted(m for m in sys.modules if m == "kubernetes" or m.startswith("kubernetes.")))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout.strip() == "[]", done.stderr
