"""Fixtures shared by the integration and demo tiers: a running emulated API server and clients
configured the way users configure them.

- ``api_clock``: the injected clock (frozen at ``API_EPOCH``); override it in a module to use another.
- ``api_server``: a running :class:`~tui.demo.apiserver.server.ApiServer` (stopped after the test).
- ``kubeconfig``: a kubeconfig file for ``api_server`` (context ``aio-demo``, namespace ``API_NAMESPACE``).
- ``k8s_client``: a ``kubernetes.client.ApiClient`` loaded from that kubeconfig.

It also orders the run for two workers (``pytest -n 2``): see ``pytest_collection_modifyitems``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest
from kubernetes import client as k8s
from kubernetes import config as k8s_config

from tui.core.clock import FrozenClock
from tui.demo.apiserver.server import ApiServer, start_api_server

API_EPOCH = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
API_NAMESPACE = "azure-iot-operations"

TESTS = Path(__file__).resolve().parent

# The modules holding the longest single tests (measured with --durations on 2 cores), longest first.
# They start first so that the two workers end together: a 15 s test that starts last keeps one worker
# busy while the other idles. Modules not named here are placed by what they start (see _start_group).
SLOW_FIRST = (
    "unit/test_layering.py",  # mypy over tui/ (about 12 s of processor time on a clean clone)
    "ui/test_tmux_first_screen.py",
    "ui/test_tmux.py",
    "ui/test_change_demo.py",
    "integration/test_status_cli.py",
    "unit/test_audit_trail.py",
    "ui/test_trial_dialogs.py",
    "ui/test_change_trail.py",
    "ui/test_dialog_friction.py",
    "integration/test_changes_refused.py",
    "integration/test_changes_renew.py",
    "unit/test_model_build.py",
    "ui/test_change_dialogs.py",
    "ui/test_first_fill.py",
    "integration/test_changes_kill.py",
    "ui/test_connector_cert_ui.py",
    "unit/test_ops_arm.py",
    "unit/test_ops_engine.py",
    "demo/test_demo_command.py",
    "unit/test_plan.py",
    "unit/test_state_dir.py",
)
# Words in a module's source that mean its tests start processes or a whole demo site.
_HEAVY_WORDS = ("subprocess", "sys.executable", "DemoEnvironment", "running_demo", "start_api_server")


@cache
def _start_group(path: Path) -> tuple[int, int]:
    """Where a module's tests go in the run: the named slow modules in their order, then modules that
    start processes or sites, then the other dashboard and integration modules, then the rest."""
    relative = path.relative_to(TESTS).as_posix() if path.is_relative_to(TESTS) else path.as_posix()
    if relative in SLOW_FIRST:
        return (0, SLOW_FIRST.index(relative))
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        source = ""
    if any(word in source for word in _HEAVY_WORDS):
        return (1, 0)
    if relative.startswith(("ui/", "integration/")):
        return (2, 0)
    return (3, 0)


def pytest_configure(config: pytest.Config) -> None:
    # With -n, pytest-xdist's default "load" scheduler hands each worker a quarter of the suite up front,
    # in collection order; one test at a time (two kept queued) lets the worker that is free take the
    # next, so the slow modules put first spread over both workers. An explicit --maxschedchunk wins.
    if config.pluginmanager.hasplugin("xdist") and getattr(config.option, "maxschedchunk", 0) is None:
        config.option.maxschedchunk = 1


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Slow modules first (stable: a module's tests stay together and in their order), so both workers
    of ``-n 2`` finish at about the same time. No test depends on the order: each sets up its own site."""
    items.sort(key=lambda item: _start_group(item.path))


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
