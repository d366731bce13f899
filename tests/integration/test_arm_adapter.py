"""The ARM adapter through the real ``azure-mgmt-secretsstoreextension`` SDK against the demo's ARM emulator.

Over HTTPS with the emulator's own CA and TLS verification on: reading both kinds into a snapshot, both
api-versions in use and the fall-back from a refused one, ETags from the response headers, PUT and DELETE
with If-Match / If-None-Match through the long-running operation, 412 as a conflict, 403 as forbidden,
an unreachable ARM as a state (never an exception), and the live feed keeping the cluster view whole
while ARM is out of reach.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import armobjects
from tests.integration.test_cluster_model import (
    NOW,
    NS,
    TIMEOUT,
    _feed,
    _site,
    clock,
    connection,
    feeds,
    seeded,
)
from tui.arm.client import ApiVersionMemory, api_versions
from tui.arm.errors import ArmConflict, ArmError
from tui.arm.reader import read_arm_snapshot
from tui.arm.resources import ArmResources
from tui.cluster.live import ClusterFeed
from tui.commands.shared.arm_reader import make_arm_reader
from tui.commands.shared.settings import ArmSettings, VaultSettings
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.arm import CLI_API_VERSION, ArmKind, Owner
from tui.core.model.names import OPCUA_SPC, TRUST_LIST_SYNC
from tui.core.model.snapshot import AreaState
from tui.demo.apiserver.server import ApiServer
from tui.demo.arm.emulator import ArmEmulator, start_arm_emulator
from tui.demo.arm.site import DEMO_ARM_SITE
from tui.vault.credentials import DemoCredential

__all__ = ["clock", "connection", "feeds", "seeded"]  # fixtures shared with the cluster model tests

TRUST_MAP = [("plc-1-der", "plc-1.der"), ("gateway-1-der", "gateway-1.der")]
IDS = DEMO_ARM_SITE.ids
CLIENT = "0d4e3c2b-1a09-4f8e-9d7c-6b5a4f3e2d1c"
SPC_OBJECTS = _site().get(rk.SECRET_PROVIDER_CLASSES, NS, OPCUA_SPC)["spec"]["parameters"]["objects"]
"""The cluster SPC's objects text: ARM and the cluster in step."""


@pytest.fixture
def arm(tmp_path: Path) -> Iterator[ArmEmulator]:
    """An emulator holding the trust list SecretSync and the SPC on the demo's custom location."""
    emulator = start_arm_emulator(ca_dir=tmp_path)
    try:
        emulator.put_resource(
            ArmKind.SECRET_SYNC,
            TRUST_LIST_SYNC,
            {
                "secretProviderClassName": OPCUA_SPC,
                "serviceAccountName": "aio-ssc-sa",
                "kubernetesSecretType": "Opaque",
                "objectSecretMapping": [{"sourcePath": s, "targetKey": t} for s, t in TRUST_MAP],
            },
        )
        emulator.put_resource(
            ArmKind.SPC,
            OPCUA_SPC,
            {
                "keyvaultName": "kv-aio",
                "clientId": CLIENT,
                "tenantId": DEMO_ARM_SITE.tenant,
                "objects": SPC_OBJECTS,
            },
        )
        assert emulator.wait_idle(TIMEOUT)
        yield emulator
    finally:
        emulator.stop()


def _resources(
    arm: ArmEmulator, *, memory: ApiVersionMemory | None = None, timeout: float = TIMEOUT
) -> ArmResources:
    return ArmResources(
        IDS,
        endpoint=arm.endpoint,
        credential=DemoCredential(),
        ca_bundle=str(arm.ca_pem_path),
        timeout=timeout,
        retry_total=0,
        polling_interval=0.05,
        memory=memory or ApiVersionMemory(),
    )


def _versions_sent(arm: ArmEmulator) -> list[str]:
    return [r.query.get("api-version", "") for r in arm.requests()]


# --- reading -----


def test_the_reader_lists_both_kinds_on_the_sites_custom_location(arm: ArmEmulator) -> None:
    snapshot = read_arm_snapshot(_resources(arm), clock=FrozenClock(NOW))
    assert snapshot.status.state is AreaState.OK, snapshot.status.message
    assert snapshot.ids == IDS
    sync = snapshot.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC.upper())  # ARM names: any case
    assert sync is not None and sync.mappings == tuple(TRUST_MAP)
    assert sync.resource_id.lower() == IDS.resource_id(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC).lower()
    spc = snapshot.get(ArmKind.SPC, OPCUA_SPC)
    assert spc is not None and spc.objects == SPC_OBJECTS
    assert sync.extended_location is not None
    assert len(snapshot.resources) == 2
    # Every request carried a bearer and the CLI's api-version (the first one tried).
    assert all(r.authorized for r in arm.requests())
    assert set(_versions_sent(arm)) == {CLI_API_VERSION}


@pytest.mark.parametrize("version", api_versions())
def test_both_api_versions_read_the_same_resource(arm: ArmEmulator, version: str) -> None:
    memory = ApiVersionMemory()
    memory.remember(arm.endpoint, version)
    resources = _resources(arm, memory=memory)
    found = resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert found is not None and found.mappings == tuple(TRUST_MAP)
    assert found.etag  # from the ETag response header: the SDK's model has none
    assert _versions_sent(arm) == [version]
    assert resources.api_version == version


def test_a_refused_api_version_falls_back_over_the_wire_and_is_remembered(arm: ArmEmulator) -> None:
    memory = ApiVersionMemory()
    memory.remember(arm.endpoint, "2019-01-01")  # a dated version the provider does not serve
    resources = _resources(arm, memory=memory)
    assert resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC) is not None
    assert _versions_sent(arm) == ["2019-01-01", CLI_API_VERSION]
    assert [r.status for r in arm.requests()] == [400, 200]
    assert memory.first(arm.endpoint) == CLI_API_VERSION
    arm.clear_requests()
    assert _resources(arm, memory=memory).get(ArmKind.SPC, OPCUA_SPC) is not None
    assert _versions_sent(arm) == [CLI_API_VERSION]


def test_an_absent_resource_is_none_not_an_error(arm: ArmEmulator) -> None:
    assert _resources(arm).get(ArmKind.SECRET_SYNC, "no-such-list") is None


# --- guarded writes -----


def test_put_and_delete_follow_the_operation_with_their_preconditions(arm: ArmEmulator) -> None:
    resources = _resources(arm)
    current = resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert current is not None and current.etag
    body = copy.deepcopy(dict(current.body))  # read-only fields included, as the official CLI sends
    body["properties"]["objectSecretMapping"] = [
        *body["properties"]["objectSecretMapping"],
        {"sourcePath": "new-der", "targetKey": "new.der"},
    ]
    written = resources.put(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, body, etag=current.etag)
    assert written.provisioning_state == "Succeeded"
    assert written.etag and written.etag != current.etag
    assert ("new-der", "new.der") in written.mappings
    puts = [r for r in arm.requests() if r.method == "PUT"]
    assert [p.if_match for p in puts] == [current.etag]
    # The old ETag no longer holds: a conflict to re-read and re-plan, and nothing written.
    with pytest.raises(ArmConflict, match="412"):
        resources.put(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, body, etag=current.etag)
    # Creating what exists (If-None-Match: *) is a conflict too.
    with pytest.raises(ArmConflict):
        resources.put(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, body, etag=None)
    assert resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC).etag == written.etag  # type: ignore[union-attr]
    with pytest.raises(ArmConflict):
        resources.delete(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, etag=current.etag)
    assert resources.delete(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, etag=written.etag) is True
    assert resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC) is None
    assert resources.delete(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC, etag=None) is False


def test_create_with_if_none_match(arm: ArmEmulator) -> None:
    resources = _resources(arm)
    current = resources.get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert current is not None
    body = {
        "location": current.body.get("location"),
        "extendedLocation": dict(current.body["extendedLocation"]),
        "properties": {k: v for k, v in current.properties.items() if k != "provisioningState"},
    }
    created = resources.put(ArmKind.SECRET_SYNC, "aio-opc-ua-broker-issuer-list", body, etag=None)
    assert created.etag and created.provisioning_state == "Succeeded"
    assert [r.if_none_match for r in arm.requests() if r.method == "PUT"] == ["*"]


# --- no ARM access -----


def test_403_is_a_forbidden_state_in_one_line(arm: ArmEmulator) -> None:
    arm.deny("read")
    snapshot = read_arm_snapshot(_resources(arm), clock=FrozenClock(NOW))
    assert snapshot.status.state is AreaState.FORBIDDEN
    message = snapshot.status.message
    assert "403 AuthorizationFailed" in message and "\n" not in message
    assert "Bearer" not in message and "aio-certs-demo-placeholder" not in message
    with pytest.raises(ArmError) as caught:
        _resources(arm).get(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert caught.value.state is AreaState.FORBIDDEN


def test_an_unreachable_arm_is_a_state_within_the_request_timeout(arm: ArmEmulator) -> None:
    arm.set_unreachable(True)
    snapshot = read_arm_snapshot(_resources(arm, timeout=3.0), clock=FrozenClock(NOW))
    assert snapshot.status.state is AreaState.UNREACHABLE
    message = snapshot.status.message
    assert message.startswith(("cannot reach ARM: ", "the connection to ARM broke: ")), message
    assert not snapshot.resources


def test_the_demo_credential_is_refused_for_a_real_endpoint() -> None:
    reader = make_arm_reader(
        ArmSettings(subscription=IDS.subscription, resource_group=IDS.resource_group),
        VaultSettings(auth="demo"),
        clock=FrozenClock(NOW),
    )
    snapshot = reader(None)
    assert snapshot is not None and snapshot.status.state is AreaState.FORBIDDEN
    assert "refused for ARM host management.azure.com" in snapshot.status.message


# --- the live feed -----


def _arm_owned_objects(api_server: ApiServer) -> None:
    # The Arc projection's annotations on the cluster copies (docs/domain.md §9.2).
    site = _site()
    for kind, arm_kind, name in (
        (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
        (rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC, OPCUA_SPC),
    ):
        obj = armobjects.annotated(site.get(kind, NS, name), arm_kind, ids=IDS)
        obj["metadata"].pop("resourceVersion", None)
        api_server.put(obj)


def test_arm_unreachable_leaves_the_cluster_view_intact(
    seeded: ApiServer, connection: Any, clock: FrozenClock, feeds: list[ClusterFeed], arm: ArmEmulator
) -> None:
    _arm_owned_objects(seeded)
    arm.set_unreachable(True)
    settings = ArmSettings(endpoint=arm.endpoint, ca_bundle=str(arm.ca_pem_path))
    reader = make_arm_reader(settings, VaultSettings(auth="demo"), clock=clock, quick=True, timeout=3.0)
    feed = _feed(feeds, connection, clock, arm_reader=reader)
    state = feed.wait_for_state(lambda s: s.arm.state is AreaState.UNREACHABLE, TIMEOUT)
    # The whole cluster picture is there, as without ARM: the CA, the bundle, every entry.
    assert state.root_ca.certificate is not None
    assert all(a.ok for a in state.areas if a.area.value != "vault")
    assert {e.key for e in state.entries("trust")} == {"trust/plc-1.der", "trust/gateway-1.der"}
    assert state.list_owner("trust") is Owner.ARM  # the annotation still tells
    assert "arm-unreachable" in [f.code for f in state.findings]
    assert not any("arm-drift" in f.code for f in state.findings)
    # ARM back: the next read (ctrl+r) sees it, and the same lists in step show no drift.
    arm.set_unreachable(False)
    feed.refresh_arm()
    state = feed.wait_for_state(lambda s: s.arm.state is AreaState.OK, TIMEOUT)
    assert state.arm.resource_count == 2
    assert not any("arm" in f.code for f in state.findings), [f.code for f in state.findings]


def test_a_mapping_missing_in_arm_shows_as_drift_in_the_feed(
    seeded: ApiServer, connection: Any, clock: FrozenClock, feeds: list[ClusterFeed], arm: ArmEmulator
) -> None:
    # What --local-only leaves: the cluster maps gateway-1.der, ARM's copy does not.
    _arm_owned_objects(seeded)
    arm.put_resource(
        ArmKind.SECRET_SYNC,
        TRUST_LIST_SYNC,
        {
            "secretProviderClassName": OPCUA_SPC,
            "serviceAccountName": "aio-ssc-sa",
            "kubernetesSecretType": "Opaque",
            "objectSecretMapping": [{"sourcePath": "plc-1-der", "targetKey": "plc-1.der"}],
        },
    )
    assert arm.wait_idle(TIMEOUT)
    settings = ArmSettings(endpoint=arm.endpoint, ca_bundle=str(arm.ca_pem_path))
    reader = make_arm_reader(settings, VaultSettings(auth="demo"), clock=clock, timeout=TIMEOUT)
    feed = _feed(feeds, connection, clock, arm_reader=reader)
    state = feed.wait_for_state(lambda s: s.arm.state is AreaState.OK, TIMEOUT)
    drift = [(f.code, f.subject) for f in state.findings if "arm-drift" in f.code]
    assert ("entry-arm-drift", "trust/gateway-1.der") in drift
    assert ("entry-arm-drift", "trust/plc-1.der") not in drift
