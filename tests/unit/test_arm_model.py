"""The ARM side of the model: resource ids, and what a list resource says (docs/domain.md §9)."""

from __future__ import annotations

from tui.core.model.arm import ArmIds, ArmKind, ArmResource, ArmSnapshot, parse_resource_id
from tui.core.model.snapshot import AreaState, ResourceStatus

SUB = "11111111-2222-3333-4444-555555555555"
CUSTOM_LOCATION = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ExtendedLocation/customLocations/cl"
SYNC_ID = (
    f"/subscriptions/{SUB}/resourceGroups/rg-aio/providers/Microsoft.SecretSyncController/secretSyncs/"
    "aio-opc-ua-broker-trust-list"
)


def test_a_list_resource_id_names_subscription_group_kind_and_name() -> None:
    ref = parse_resource_id(SYNC_ID)
    assert ref is not None
    assert (ref.ids.subscription, ref.ids.resource_group) == (SUB, "rg-aio")
    assert (ref.kind, ref.name) == (ArmKind.SECRET_SYNC, "aio-opc-ua-broker-trust-list")
    assert ref.resource_id == SYNC_ID
    # ARM compares types and names case-insensitively, as the official CLI's lower-case ids show.
    lower = parse_resource_id(
        SYNC_ID.replace(
            "Microsoft.SecretSyncController/secretSyncs", "microsoft.secretsynccontroller/secretsyncs"
        )
    )
    assert lower is not None and lower.kind is ArmKind.SECRET_SYNC


def test_other_ids_are_not_list_resources() -> None:
    assert parse_resource_id("/subscriptions/x/resourceGroups/y/providers/Microsoft.Compute/vms/z") is None
    assert parse_resource_id(SYNC_ID.replace("secretSyncs", "somethingElse")) is None
    assert parse_resource_id("aio-opc-ua-broker-trust-list") is None


def test_a_secret_sync_resource_reads_its_mapping_state_and_location() -> None:
    body = {
        "id": SYNC_ID,
        "extendedLocation": {
            "name": CUSTOM_LOCATION,
            "type": "CustomLocation",
        },
        "properties": {
            "provisioningState": "Succeeded",
            "objectSecretMapping": [{"sourcePath": "plc-1-der", "targetKey": "plc-1.der"}, "junk"],
        },
    }
    resource = ArmResource(ArmKind.SECRET_SYNC, "aio-opc-ua-broker-trust-list", SYNC_ID, '"1"', body)
    assert resource.mappings == (("plc-1-der", "plc-1.der"),)
    assert resource.provisioning_state == "Succeeded"
    assert resource.extended_location is not None and resource.extended_location.endswith("/cl")
    assert ArmResource(ArmKind.SPC, "spc", "id", None).objects is None


def test_a_snapshot_finds_resources_by_kind_and_any_case_of_the_name() -> None:
    resource = ArmResource(ArmKind.SECRET_SYNC, "Trust", SYNC_ID, None)
    snapshot = ArmSnapshot(
        ResourceStatus(AreaState.OK), ArmIds(SUB, "rg-aio"), {(ArmKind.SECRET_SYNC, "trust"): resource}
    )
    assert snapshot.readable and snapshot.get(ArmKind.SECRET_SYNC, "TRUST") is resource
    assert snapshot.get(ArmKind.SPC, "trust") is None
    assert not ArmSnapshot(ResourceStatus(AreaState.UNREACHABLE, "refused")).readable


def test_the_owner_is_arm_by_annotation_or_by_a_resource_on_the_custom_location() -> None:
    from tui.core.model.arm import Owner, owner_of

    annotated = {"metadata": {"annotations": {"management.azure.com/resourceId": SYNC_ID}}}
    plain = {"metadata": {"name": "aio-opc-ua-broker-trust-list"}}
    assert owner_of(ArmKind.SECRET_SYNC, annotated, "t", None) is Owner.ARM
    assert owner_of(ArmKind.SECRET_SYNC, plain, "t", None) is Owner.CLUSTER
    body = {"extendedLocation": {"name": CUSTOM_LOCATION.upper()}}
    held = ArmResource(ArmKind.SECRET_SYNC, "t", SYNC_ID, None, body)
    ids = ArmIds(SUB, "rg-aio", CUSTOM_LOCATION)
    readable = ArmSnapshot(ResourceStatus(AreaState.OK), ids, {(ArmKind.SECRET_SYNC, "t"): held})
    assert owner_of(ArmKind.SECRET_SYNC, plain, "T", readable) is Owner.ARM
    # Same name on another custom location (another site in the group) is not this list's owner.
    elsewhere = ArmSnapshot(
        ResourceStatus(AreaState.OK), ArmIds(SUB, "rg-aio", "/other"), {(ArmKind.SECRET_SYNC, "t"): held}
    )
    assert owner_of(ArmKind.SECRET_SYNC, plain, "t", elsewhere) is Owner.CLUSTER
    unreadable = ArmSnapshot(
        ResourceStatus(AreaState.FORBIDDEN, "403"), ids, {(ArmKind.SECRET_SYNC, "t"): held}
    )
    assert owner_of(ArmKind.SECRET_SYNC, plain, "t", unreadable) is Owner.CLUSTER
