"""The dashboard's context switch lists the kubeconfig's contexts, read afresh each time (issue 13
item 25)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.cluster.config import ClusterConfigError, KubeContext, list_contexts

CONFIG = """
apiVersion: v1
kind: Config
current-context: plant-a
clusters:
- name: a
  cluster: {server: "https://10.0.0.1:6443/"}
- name: b
  cluster: {server: "https://10.0.0.2:6443"}
contexts:
- name: plant-a
  context: {cluster: a, user: u, namespace: aio}
- name: plant-b
  context: {cluster: b, user: u}
users:
- name: u
  user: {token: t}
"""


def test_contexts_are_listed_with_server_namespace_and_current(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(CONFIG)
    found, where = list_contexts(str(path), environ={})
    assert where == str(path)
    assert found == (
        KubeContext("plant-a", "a", "https://10.0.0.1:6443", "aio", True),
        KubeContext("plant-b", "b", "https://10.0.0.2:6443", None, False),
    )
    # A reload sees what changed in the file since.
    path.write_text(CONFIG.replace("current-context: plant-a", "current-context: plant-b"))
    again, _ = list_contexts(str(path), environ={})
    assert [c.name for c in again if c.current] == ["plant-b"]


def test_a_broken_kubeconfig_is_one_line(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text("contexts: {not: a list}\n")
    with pytest.raises(ClusterConfigError, match="'contexts' must be a list"):
        list_contexts(str(path), environ={})
    with pytest.raises(ClusterConfigError, match="no kubeconfig to list contexts from"):
        list_contexts(None, environ={"HOME": str(tmp_path)})
