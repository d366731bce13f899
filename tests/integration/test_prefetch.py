"""The dashboard's connection and first states made in a forked child (tui/commands/dashboard/prefetch.py),
through the real ``kubernetes`` client against the emulated API server.

The dashboard's side runs in a fresh Python process, as a user's start does: a fork is made only from a
process running no other thread, and this test process runs the API server's threads. That process forks
the child, reads what it sends and prints it as JSON; then, for comparison, it builds the state itself
from the same server through the live feed, as the dashboard without a child would.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests import certgen
from tests.rawobjects import quickstart_site
from tui.core.model.names import CERT_MANAGER_NAMESPACE, QUICKSTART_CA_COMMON_NAME
from tui.demo.apiserver.server import ApiServer

ROOT = Path(__file__).resolve().parents[2]
NS = "azure-iot-operations"
NOW = datetime.now(UTC)

_DASHBOARD_SIDE = """
import argparse, json, os, signal, sys
from tui.commands.dashboard.prefetch import Connected, fork_first_states
from tui.commands.shared.settings import command_settings
from tui.config import UserConfig
from tui.core.clock import SystemClock

kubeconfig, home, mode = sys.argv[1], sys.argv[2], sys.argv[3]
environ = {"HOME": home, "AIO_CERTS_STATE_DIR": os.path.join(home, "state")}
settings = command_settings(argparse.Namespace(kubeconfig=kubeconfig, context=None), UserConfig(), environ)
fifo = os.path.join(home, "release-secretsyncs")
if mode == "hold":
    # The SecretSync list waits in the child until this process opens the FIFO: the other collections
    # are in, and the child sends what it has (a partial state) before the complete one.
    import tui.cluster.reflector as reflector
    os.mkfifo(fifo)
    listed = reflector.list_objects
    def held(api_client, target):
        if target.describe().startswith("secretsyncs"):
            with open(fifo, "rb") as release:
                release.read()
        return listed(api_client, target)
    reflector.list_objects = held
first = fork_first_states(settings, SystemClock())
out = {"forked": first is not None}
if mode == "kill":
    os.kill(first.child.pid, signal.SIGKILL)
connected = first.connected()
if isinstance(connected, Connected):
    connected = [connected.context, connected.server, connected.warning]
out["connected"] = connected
out["client_here"] = "kubernetes" in sys.modules  # the child connected and listed; this process did not
states = []
while (state := first.next()) is not None:
    states.append(state)
    # On a busy machine the first partial states may still miss other lists too: wait (for states, not
    # for time) until only the held one is missing, then let it answer.
    if mode == "hold" and "first_loading" not in out and list(state.loading) == ["secretsyncs"]:
        out["first_loading"] = list(state.loading)
        with open(fifo, "wb"):
            pass  # let the SecretSync list answer
out["states"] = [[len(s.opcua), s.complete] for s in states]
first.finish(30)
out["exitcode"] = first.child.exitcode
first.close()
store = os.path.join(home, "state", "cache", "decoded-v1.bin")
out["decoded_copy"] = os.path.exists(store)
if states and states[-1].complete:
    if mode == "hold":
        reflector.list_objects = listed
    from tui.cluster.config import connect
    from tui.cluster.live import ClusterFeed
    connection = connect(settings.connection)
    feed = ClusterFeed(connection.api_client, settings.model)
    feed.start()
    feed.first_state_ready.wait(30)
    here = feed.state
    feed.stop(0)
    out["same_entries"] = list(states[-1].opcua) == list(here.opcua)
    ca = here.root_ca.certificate
    out["same_root_ca"] = ca is not None and states[-1].root_ca.certificate == ca
    out["entries"] = len(here.opcua)
print(json.dumps(out), flush=True)
"""


@pytest.fixture
def site(api_server: ApiServer) -> ApiServer:
    ca = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=30), days=90)
    trust = {
        f"plc-{n}.der": certgen.make_leaf(None, f"plc-{n}", not_before=NOW - timedelta(days=10), days=365).der
        for n in range(5)
    }
    built = quickstart_site(
        NOW, ca=ca, trust=trust, namespace=NS, ca_duration=timedelta(days=90), renew_before=timedelta(days=30)
    )
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in built.objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    return api_server


def _run(kubeconfig: Path, home: Path, mode: str = "-") -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-c", _DASHBOARD_SIDE, str(kubeconfig), str(home), mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # neither process wrote to the terminal (the dashboard's screen)
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def test_the_child_connects_lists_and_builds_what_the_dashboard_would(
    site: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    out = _run(kubeconfig, tmp_path)
    assert out["forked"] is True
    assert out["connected"] == ["aio-demo", site.url.rstrip("/"), None]
    assert out["client_here"] is False
    assert out["states"] and out["states"][-1][1] is True  # the last state sent is the complete one
    assert all(not complete for _count, complete in out["states"][:-1])
    assert out["exitcode"] == 0
    assert out["decoded_copy"] is True  # saved for the live feed, which then decodes nothing again
    assert out["entries"] == out["states"][-1][0] >= 5
    assert out["same_entries"] is True and out["same_root_ca"] is True


def test_a_kubeconfig_the_client_cannot_load_is_one_line_from_the_child(
    site: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    # Passes the checks made without the client (the context, its cluster and server exist); only the
    # client's loader finds the missing certificate file (which it reads for an https server).
    doc = yaml.safe_load(kubeconfig.read_text())
    missing = tmp_path / "gone.crt"
    for user in doc["users"]:
        user["user"] = {"client-certificate": str(missing), "client-key": str(missing)}
    for cluster in doc["clusters"]:
        cluster["cluster"]["server"] = cluster["cluster"]["server"].replace("http://", "https://")
    broken = tmp_path / "broken-kubeconfig"
    broken.write_text(yaml.safe_dump(doc))
    out = _run(broken, tmp_path)
    assert isinstance(out["connected"], str) and "\n" not in out["connected"]
    assert out["connected"] == f"context 'aio-demo': File does not exist: {missing}"
    assert out["states"] == [] and out["client_here"] is False


def test_a_child_killed_before_it_says_anything_leaves_the_start_to_the_dashboard(
    site: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    out = _run(kubeconfig, tmp_path, "kill")
    assert out["forked"] is True
    assert out["connected"] is None  # the dashboard then connects itself (run.py)
    assert out["states"] == [] and out["exitcode"] == -9


def test_a_slow_collection_gets_the_collections_in_drawn_first(
    site: ApiServer, kubeconfig: Path, tmp_path: Path
) -> None:
    # Issue 14 item 2 with the child: what has arrived is drawn, the rest marked as loading.
    out = _run(kubeconfig, tmp_path, "hold")
    assert out["first_loading"] == ["secretsyncs"]
    assert out["states"][0][1] is False
    assert out["states"][-1][1] is True and out["same_entries"] is True
