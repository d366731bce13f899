"""Someone else changes the lists (trial finding 4): the live feed re-reads what the change refers to.

Through the real client against the emulated API server, with fake vault and ARM readers that hold their
answers until the test lets them go, so the moment between the cluster change and the re-read is seen:

- a secret mapped after the vault was read is read alone (not the whole vault), and until then its entry
  says ``checking vault``, never ``vault-missing``;
- a mapping removed through ARM (ARM first, then the cluster) makes ARM be read again, and until then no
  ``arm-drift`` and no ARM-only row is made of the older ARM read;
- a SecretSync status change (the controller's, every sync) re-reads nothing.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from tests import certgen
from tests.rawobjects import quickstart_site, secret_sync, spc, synced_secret
from tui.cluster.config import ClusterConnection, load_cluster_config
from tui.cluster.live import ClusterFeed, FeedTimings
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.arm import ArmIds, ArmKind, ArmResource, ArmSnapshot
from tui.core.model.names import CERT_MANAGER_NAMESPACE, OPCUA_SPC, QUICKSTART_CA_COMMON_NAME, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.core.model.spc import cli_object, serialize_objects
from tui.core.model.state import ClusterState, Health
from tui.demo.apiserver.server import ApiServer
from tui.demo.seed import aio

NS = "azure-iot-operations"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
TIMEOUT = 10.0
VAULT_URL = "https://kv.example"
CA = certgen.make_ca(QUICKSTART_CA_COMMON_NAME, not_before=NOW - timedelta(days=30), days=90)


def _leaf(name: str) -> bytes:
    return certgen.make_leaf(None, name, not_before=NOW - timedelta(days=10), days=365).der


FILES = {f"plc-{n}.der": _leaf(f"plc-{n}") for n in range(3)}
NEW_FILE = "plc-new.der"
NEW_BYTES = _leaf("plc-new")


class Vault:
    """A vault reader over a dict; a read of some names alone (``only``) waits for :attr:`release`."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.values = {aio.secret_name_for(f): data.hex() for f, data in files.items()}
        self.full_reads = 0
        self.name_reads: list[frozenset[str]] = []
        self.release = threading.Event()
        self.asked = threading.Event()

    def _snapshot(self, names: frozenset[str] | None) -> VaultSnapshot:
        secrets = {
            n: VaultSecret(n, v) for n, v in self.values.items() if names is None or n.lower() in names
        }
        return VaultSnapshot(VAULT_URL, ResourceStatus(AreaState.OK), MappingProxyType(secrets), taken_at=NOW)

    def __call__(
        self,
        state: ClusterState | None,
        *,
        incremental: bool = False,
        on_listed: Any = None,
        only: frozenset[str] | None = None,
    ) -> VaultSnapshot:
        if only is None:
            self.full_reads += 1
            return self._snapshot(None)
        self.name_reads.append(frozenset(only))
        self.asked.set()
        self.release.wait(TIMEOUT)
        return self._snapshot(frozenset(only))


IDS = ArmIds("sub", "rg")


def _arm_snapshot(files: Mapping[str, bytes]) -> ArmSnapshot:
    mappings = [{"sourcePath": aio.secret_name_for(f), "targetKey": f} for f in files]
    objects = serialize_objects([cli_object(aio.secret_name_for(f)) for f in files])
    resources = {
        (ArmKind.SECRET_SYNC, TRUST_LIST_SYNC.lower()): ArmResource(
            ArmKind.SECRET_SYNC,
            TRUST_LIST_SYNC,
            IDS.resource_id(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
            None,
            {"properties": {"objectSecretMapping": mappings, "spcName": OPCUA_SPC}},
        ),
        (ArmKind.SPC, OPCUA_SPC.lower()): ArmResource(
            ArmKind.SPC,
            OPCUA_SPC,
            IDS.resource_id(ArmKind.SPC, OPCUA_SPC),
            None,
            {"properties": {"objects": objects}},
        ),
    }
    return ArmSnapshot(ResourceStatus(AreaState.OK, "", NOW), IDS, MappingProxyType(resources), NOW)


class Arm:
    """An ARM reader answering what :attr:`files` maps; reads after the first wait for :attr:`release`."""

    def __init__(self, files: Mapping[str, bytes]) -> None:
        self.files = dict(files)
        self.reads = 0
        self.release = threading.Event()
        self.asked = threading.Event()

    def __call__(self, state: ClusterState | None) -> ArmSnapshot:
        self.reads += 1
        if self.reads > 1:
            self.asked.set()
            self.release.wait(TIMEOUT)
        return _arm_snapshot(self.files)


@pytest.fixture
def seeded(api_server: ApiServer) -> ApiServer:
    site = quickstart_site(NOW, ca=CA, trust=FILES, namespace=NS)
    api_server.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": CERT_MANAGER_NAMESPACE}})
    for objects in site.objects.values():
        api_server.put_many(copy.deepcopy(list(objects.values())))
    return api_server


@pytest.fixture
def connection(seeded: ApiServer, kubeconfig: Path, tmp_path: Path) -> Iterator[ClusterConnection]:
    conn = load_cluster_config(str(kubeconfig), environ={"HOME": str(tmp_path)})
    yield conn
    conn.close()


def _put_lists(server: ApiServer, files: Mapping[str, bytes]) -> None:
    """The lists as a change leaves them: SPC, then SecretSync, then the synced Secret."""
    names = [aio.secret_name_for(f) for f in files]
    server.put(spc(OPCUA_SPC, NS, names))
    server.put(secret_sync(TRUST_LIST_SYNC, NS, OPCUA_SPC, [(aio.secret_name_for(f), f) for f in files]))
    server.put(synced_secret(TRUST_LIST_SYNC, NS, files))


def _feed(connection: ClusterConnection, **kwargs: Any) -> ClusterFeed:
    return ClusterFeed(
        connection.api_client,
        ModelSettings(namespace=NS),
        clock=FrozenClock(NOW),
        timings=FeedTimings(recheck_after=0.05),
        **kwargs,
    )


def _entry_of(state: ClusterState, target: str) -> Any:
    return next((e for e in state.opcua if e.target_key == target), None)


def test_a_secret_mapped_after_the_vault_read_is_read_alone_and_checking_until_then(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    vault = Vault(FILES)
    seen: list[ClusterState] = []
    with _feed(connection, vault_reader=vault) as feed:
        feed.subscribe(seen.append)
        feed.wait_for_state(lambda s: s.vault.state is AreaState.OK and len(s.opcua) == 3, TIMEOUT)
        # Another shell's trust add: the secret first, then the lists.
        vault.values[aio.secret_name_for(NEW_FILE)] = NEW_BYTES.hex()
        _put_lists(seeded, {**FILES, NEW_FILE: NEW_BYTES})
        waiting = feed.wait_for_state(lambda s: _entry_of(s, NEW_FILE) is not None, TIMEOUT)
        entry = _entry_of(waiting, NEW_FILE)
        assert entry.checking == ("vault",)
        assert entry.vault_present is None
        assert Health.VAULT_MISSING not in entry.flags
        assert vault.asked.wait(TIMEOUT)
        vault.release.set()
        done = feed.wait_for_state(
            lambda s: (e := _entry_of(s, NEW_FILE)) is not None and not e.checking, TIMEOUT
        )
    entry = _entry_of(done, NEW_FILE)
    assert entry.vault_present is True
    assert entry.vault_in_sync is True
    assert entry.flags == ()
    # Only the new name was read, once, and the whole vault not again.
    assert vault.name_reads == [frozenset({aio.secret_name_for(NEW_FILE)})]
    assert vault.full_reads == 1
    assert not any(
        Health.VAULT_MISSING in e.flags for state in seen for e in state.opcua if e.target_key == NEW_FILE
    )


def test_a_mapping_removed_through_arm_is_checked_not_reported_as_drift(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    arm = Arm(FILES)
    seen: list[ClusterState] = []
    with _feed(connection, arm_reader=arm) as feed:
        feed.subscribe(seen.append)
        feed.wait_for_state(lambda s: s.arm.state is AreaState.OK and len(s.opcua) == 3, TIMEOUT)
        # trust remove plc-2.der: ARM is written first, Arc projects it onto the cluster after.
        kept = {f: d for f, d in FILES.items() if f != "plc-2.der"}
        arm.files = dict(kept)
        _put_lists(seeded, kept)
        waiting = feed.wait_for_state(lambda s: _entry_of(s, "plc-1.der").checking == ("arm",), TIMEOUT)
        assert _entry_of(waiting, "plc-2.der") is None  # no ARM-only row made of the older read
        assert not any(Health.ARM_DRIFT in e.flags for e in waiting.opcua)
        assert arm.asked.wait(TIMEOUT)
        arm.release.set()
        done = feed.wait_for_state(lambda s: not any(e.checking for e in s.opcua), TIMEOUT)
    assert [e.target_key for e in done.opcua] == ["plc-0.der", "plc-1.der"]
    assert arm.reads == 2
    # Every state delivered after the first ARM read: never a drift, never the removed row.
    after = [s for s in seen if s.arm.state is AreaState.OK]
    assert after and not any(Health.ARM_DRIFT in e.flags for s in after for e in s.opcua)
    assert not any(
        _entry_of(s, "plc-2.der") is not None and not _entry_of(s, "plc-2.der").synced for s in after
    )


def test_a_sync_status_change_reads_neither_vault_nor_arm_again(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    vault, arm = Vault(FILES), Arm(FILES)
    arm.release.set()
    with _feed(connection, vault_reader=vault, arm_reader=arm) as feed:
        feed.wait_for_state(lambda s: s.vault.state is AreaState.OK and s.arm.state is AreaState.OK, TIMEOUT)
        builds = feed.builds
        sync = copy.deepcopy(seeded.get(rk.SECRET_SYNCS.key, NS, TRUST_LIST_SYNC))
        assert sync is not None
        sync["status"]["syncHash"] = "1" * 16
        seeded.put(sync)
        state = feed.wait_for_state(lambda s: feed.builds > builds, TIMEOUT)
    assert not any(e.checking for e in state.opcua)
    assert vault.name_reads == [] and vault.full_reads == 1
    assert arm.reads == 1


def test_a_replaced_file_is_read_again_and_not_called_different_meanwhile(
    seeded: ApiServer, connection: ClusterConnection
) -> None:
    vault = Vault(FILES)
    replaced = {**FILES, "plc-1.der": _leaf("plc-1 renewed")}
    with _feed(connection, vault_reader=vault) as feed:
        feed.wait_for_state(lambda s: s.vault.state is AreaState.OK and len(s.opcua) == 3, TIMEOUT)
        # Another shell's replace (R): the vault value first, then the synced file follows it.
        vault.values[aio.secret_name_for("plc-1.der")] = replaced["plc-1.der"].hex()
        seeded.put(synced_secret(TRUST_LIST_SYNC, NS, replaced))
        waiting = feed.wait_for_state(lambda s: _entry_of(s, "plc-1.der").checking == ("vault",), TIMEOUT)
        assert Health.VAULT_DIFFERS not in _entry_of(waiting, "plc-1.der").flags
        assert _entry_of(waiting, "plc-0.der").checking == ()  # only what changed
        assert vault.asked.wait(TIMEOUT)
        vault.release.set()
        done = feed.wait_for_state(lambda s: not _entry_of(s, "plc-1.der").checking, TIMEOUT)
    assert _entry_of(done, "plc-1.der").vault_in_sync is True
    assert vault.name_reads == [frozenset({"plc-1-der"})]
