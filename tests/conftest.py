"""Fixtures shared by the integration and demo tiers: a running emulated API server and clients
configured the way users configure them.

- ``api_clock``: the injected clock (frozen at ``API_EPOCH``); override it in a module to use another.
- ``api_server``: a running :class:`~tui.demo.apiserver.server.ApiServer` (stopped after the test).
- ``kubeconfig``: a kubeconfig file for ``api_server`` (context ``aio-demo``, namespace ``API_NAMESPACE``).
- ``k8s_client``: a ``kubernetes.client.ApiClient`` loaded from that kubeconfig.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tui.core.clock import FrozenClock
from tui.demo.apiserver.server import ApiServer, start_api_server

API_EPOCH = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
API_NAMESPACE = "azure-iot-operations"


@pytest.fixture
def api_clock() -> FrozenClock:
    """The clock the API server stamps objects with."""
    return FrozenClock(API_EPOCH)


@pytest.fixture
def api_server(api_clock: FrozenClock) -> Iterator[ApiServer]:
    """A running emulated API server on 127.0.0.1 (ephemeral port), with ``API_NAMESPACE`` created."""
    server = start_api_server(clock=api_clock)
    server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": API_NAMESPACE}})
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def kubeconfig(api_server: ApiServer, tmp_path: Path) -> Path:
    """A kubeconfig file pointing at ``api_server``."""
    return api_server.write_kubeconfig(tmp_path / "kubeconfig", namespace=API_NAMESPACE)


@pytest.fixture
def k8s_client(kubeconfig: Path) -> Iterator[k8s.ApiClient]:
    """A ``kubernetes`` ApiClient configured from the written kubeconfig, as the product loads one."""
    api_client = k8s_config.new_client_from_config(config_file=str(kubeconfig))
    try:
        yield api_client
    finally:
        api_client.close()
