"""``K`` finds the vault and ARM of the new site (trial finding 5), unless a flag or the environment
names them.

Two emulated API servers hold two sites whose SPCs name different vaults and whose Arc ConfigMaps name
different subscriptions. The dashboard's switcher opens the second context as the dashboard does; its feed
must read the second site's vault and ARM ids, not the first's. The ``demo`` credential refuses any host
that is not on loopback, so the reads fail at once without touching the network, and the state still
says which vault and which ARM ids they were for.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests import certgen
from tests.rawobjects import quickstart_site, spc
from tui.cluster.live import ClusterFeed
from tui.commands.dashboard.run import DashboardSwitch, kept_on_switch
from tui.commands.shared.settings import command_settings
from tui.config import UserConfig
from tui.core.clock import FrozenClock
from tui.core.model.names import CERT_MANAGER_NAMESPACE, OPCUA_SPC, QUICKSTART_CA_COMMON_NAME
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState
from tui.demo.apiserver.server import ApiServer, start_api_server
from tui.demo.kubeconfig import kubeconfig_document
from tui.demo.seed import aio
from tui.ui.source import FeedSource

NS = "azure-iot-operations"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT = 10.0
CA = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=30), days=90)
FILES = {"plc-0.der": certgen.make_leaf(None, "plc-0", not_before=NOW - timedelta(days=1), days=365).der}


def _seed(server: ApiServer, vault: str, subscription: str) -> None:
    site = quickstart_site(NOW, ca=CA, trust=FILES, namespace=NS)
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "azure-arc"}})
    for objects in site.objects.values():
        server.put_many(copy.deepcopy(list(objects.values())))
    server.put(spc(OPCUA_SPC, NS, [aio.secret_name_for(f) for f in FILES], keyvault=vault))
    server.put(
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "azure-clusterconfig", "namespace": "azure-arc"},
            "data": {"AZURE_SUBSCRIPTION_ID": subscription, "AZURE_RESOURCE_GROUP": f"rg-{subscription}"},
        }
    )


@pytest.fixture
def two_sites(tmp_path: Path) -> Iterator[Path]:
    """A kubeconfig with contexts ``plant-a`` and ``plant-b``, each on its own API server."""
    servers = [start_api_server(), start_api_server()]
    try:
        _seed(servers[0], "kv-plant-a", "sub-a")
        _seed(servers[1], "kv-plant-b", "sub-b")
        docs = [
            kubeconfig_document(s.url, context=name, namespace=NS)
            for s, name in zip(servers, ("plant-a", "plant-b"), strict=True)
        ]
        merged = {
            **docs[0],
            **{key: docs[0][key] + docs[1][key] for key in ("clusters", "users", "contexts")},
        }
        path = tmp_path / "kubeconfig"
        path.write_text(json.dumps(merged))  # JSON is YAML
        yield path
    finally:
        for server in servers:
            server.stop()


def _after_switch(
    kubeconfig: Path, tmp_path: Path, flags: dict[str, str], env: dict[str, str]
) -> ClusterState:
    args = argparse.Namespace(kubeconfig=str(kubeconfig), context="plant-a", **flags)
    environ = {"HOME": str(tmp_path), "AIO_CERTS_AUTH": "demo", **env}
    switch = DashboardSwitch(command_settings(args, UserConfig(), environ), FrozenClock(NOW))
    source, _sessions = switch.open("plant-b")
    assert isinstance(source, FeedSource)
    try:
        source.start(lambda _state: None)
        source.first_frame_shown()
        feed = source.feed
        assert isinstance(feed, ClusterFeed)
        return feed.wait_for_state(
            lambda s: s.vault.url is not None and s.arm.state is not AreaState.PENDING, TIMEOUT
        )
    finally:
        switch.release(source)


def test_a_switch_reads_the_vault_and_arm_the_new_cluster_names(two_sites: Path, tmp_path: Path) -> None:
    state = _after_switch(two_sites, tmp_path, {}, {})
    assert state.vault.url == "https://kv-plant-b.vault.azure.net/"
    assert (state.arm.subscription, state.arm.resource_group) == ("sub-b", "rg-sub-b")


def test_a_vault_named_by_the_environment_stays_and_the_dialog_is_told_why(
    two_sites: Path, tmp_path: Path
) -> None:
    env = {"AIO_CERTS_VAULT_URL": "https://127.0.0.1:9/", "AIO_CERTS_ARM_ENDPOINT": "https://127.0.0.1:9/"}
    state = _after_switch(two_sites, tmp_path, {}, env)
    assert state.vault.url == "https://127.0.0.1:9"
    assert state.arm.subscription == "sub-b"  # the ids still come from the new cluster
    assert kept_on_switch({}, env) == (
        "vault https://127.0.0.1:9/ (AIO_CERTS_VAULT_URL)",
        "ARM endpoint https://127.0.0.1:9/ (AIO_CERTS_ARM_ENDPOINT)",
    )


def test_kept_on_switch_names_the_flags_first_and_the_fallback_ids() -> None:
    flags = {"vault_url": "https://kv.flag/", "subscription": "sub-f", "resource_group": None}
    env = {"AIO_CERTS_VAULT_URL": "https://kv.env/", "AZURE_SUBSCRIPTION_ID": "s"}
    assert kept_on_switch(flags, env) == (
        "vault https://kv.flag/ (--vault-url)",
        "ARM subscription sub-f (--subscription)",
        "AZURE_SUBSCRIPTION_ID where the new cluster names no ARM ids",
    )
    assert kept_on_switch({}, {}) == ()
