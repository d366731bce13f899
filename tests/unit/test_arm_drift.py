"""Ownership of the list objects, ARM drift per entry and per SPC, and how status reports both.

States are built from raw objects (tests/rawobjects.py) and ARM snapshots (tests/armobjects.py) on a frozen
clock: the join in tui/core/build/arm.py, the findings in tui/core/health/findings.py, the report in
tui/core/health/report.py (docs/domain.md §9).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

from tests import armobjects as ao
from tests import certgen as cg
from tests.rawobjects import Site, quickstart_site, secret_sync
from tui.core.build.arm import discover_ids, spc_objects_differ
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.health.report import exit_code, render_status, state_to_json
from tui.core.model import resources as rk
from tui.core.model.arm import ArmIds, ArmKind, ArmSnapshot, Owner
from tui.core.model.names import ISSUER_LIST_SYNC, OPCUA_SPC, QUICKSTART_CA_COMMON_NAME, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.spc import cli_object, parse_objects, serialize_objects
from tui.core.model.state import ClusterState, Health, Severity

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
SITE_CA = cg.make_ca("Contoso Site Root CA")
PLC = cg.make_leaf(SITE_CA, "plc", not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=300))
TRUST = {"plc.der": PLC.der}
ISSUERS = {"site-ca.crt": SITE_CA.pem}
TRUST_MAP = [("plc-der", "plc.der")]
ISSUER_MAP = [("site-ca-crt", "site-ca.crt")]
OBJECTS = ["plc-der", "site-ca-crt"]


def _site(*, arm_owned: bool = True) -> Site:
    site = quickstart_site(NOW, ca=ROOT, trust=TRUST, issuer_list=ISSUERS)
    if arm_owned:
        for kind, resource_kind, name in (
            (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, TRUST_LIST_SYNC),
            (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC, ISSUER_LIST_SYNC),
            (rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC, OPCUA_SPC),
        ):
            site.add(kind, ao.annotated(site.get(kind, NS, name), resource_kind))
    return site


def _in_sync_arm(**overrides: object) -> ArmSnapshot:
    """ARM holding the same lists as the cluster (keyword overrides replace one resource by name)."""
    resources = {
        TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, TRUST_MAP),
        ISSUER_LIST_SYNC: ao.arm_sync(ISSUER_LIST_SYNC, OPCUA_SPC, ISSUER_MAP),
        OPCUA_SPC: ao.arm_spc(OPCUA_SPC, OBJECTS),
    }
    for name, value in overrides.items():
        resources[name.replace("_", "-")] = value  # type: ignore[assignment]
    return ao.snapshot(*(r for r in resources.values() if r is not None))


def _state(site: Site, arm: ArmSnapshot | None) -> ClusterState:
    return build_state(
        site.snapshot(),
        settings=ModelSettings(),
        now=NOW,
        vault=site.vault_snapshot(),
        cache=DecodeCache(),
        arm=arm,
    )


def _codes(state: ClusterState) -> list[str]:
    return [f.code for f in state.findings]


# --- ownership -----


def test_a_cluster_only_site_is_owned_by_the_cluster_and_arm_stays_out_of_sight() -> None:
    state = _state(_site(arm_owned=False), None)
    assert {o.owner for o in state.owners} == {Owner.CLUSTER}
    assert {o.key for o in state.owners} == {
        f"secretSyncs/{TRUST_LIST_SYNC}",
        f"secretSyncs/{ISSUER_LIST_SYNC}",
        f"azureKeyVaultSecretProviderClasses/{OPCUA_SPC}",
    }
    assert state.list_owner("trust") is Owner.CLUSTER and state.list_owner("issuer") is Owner.CLUSTER
    assert not state.arm.in_use
    assert not any(c.startswith("arm") or "arm-drift" in c for c in _codes(state))


def test_the_resource_id_annotation_makes_a_list_arm_owned_before_arm_is_read() -> None:
    state = _state(_site(), None)
    assert state.list_owner("trust") is Owner.ARM
    sync = state.sync("trust")
    assert sync is not None and sync.owner is Owner.ARM and sync.arm_mappings is None
    owner = state.owner(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert owner is not None
    assert owner.resource_id == ao.IDS.resource_id(ArmKind.SECRET_SYNC, TRUST_LIST_SYNC)
    assert owner.in_arm is None  # not read: unknown, not "absent"
    # The header knows ARM matters and where it is, from the annotation alone.
    assert state.arm.in_use and state.arm.state is AreaState.PENDING
    assert (state.arm.subscription, state.arm.resource_group) == (ao.SUBSCRIPTION, ao.RESOURCE_GROUP)
    assert not any("arm" in c for c in _codes(state))


def test_a_resource_arm_holds_on_the_site_location_makes_an_unannotated_object_arm_owned() -> None:
    state = _state(_site(arm_owned=False), _in_sync_arm())
    assert state.list_owner("trust") is Owner.ARM
    owner = state.owner(ArmKind.SPC, OPCUA_SPC)
    assert owner is not None and owner.owner is Owner.ARM and owner.in_arm is True
    assert owner.resource_id == ao.IDS.resource_id(ArmKind.SPC, OPCUA_SPC)
    # Elsewhere (another custom location) the same name is not this site's resource.
    elsewhere = "/subscriptions/x/resourceGroups/y/providers/Microsoft.ExtendedLocation/customLocations/other"
    other = _in_sync_arm(
        **{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, TRUST_MAP, location=elsewhere)}
    )
    assert _state(_site(arm_owned=False), other).list_owner("trust") is Owner.CLUSTER


def test_a_list_without_a_secretsync_takes_its_spc_owner() -> None:
    site = _site()
    site.remove(rk.SECRET_SYNCS, NS, ISSUER_LIST_SYNC)
    state = _state(site, None)
    assert state.sync("issuer") is not None and not state.sync("issuer").present  # type: ignore[union-attr]
    assert state.list_owner("issuer") is Owner.ARM  # the SPC is ARM's


# --- ARM readable, no drift -----


def test_arm_in_step_with_the_cluster_adds_no_finding_and_changes_no_entry() -> None:
    site = _site()
    without = _state(site, None)
    state = _state(site, _in_sync_arm())
    assert state.arm.state is AreaState.OK and state.arm.resource_count == 3
    assert state.opcua == without.opcua
    assert state.findings == without.findings
    assert state.sync("trust").arm_mappings == tuple(TRUST_MAP)  # type: ignore[union-attr]
    assert all(o.in_arm for o in state.owners)


# --- drift -----


def test_an_entry_mapped_on_the_cluster_only_is_flagged_and_reported() -> None:
    # What `--local-only` leaves behind: the cluster maps a file ARM's copy does not.
    arm = _in_sync_arm(**{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, [])})
    state = _state(_site(), arm)
    entry = state.entry("trust/plc.der")
    assert entry is not None
    assert Health.ARM_DRIFT in entry.flags and entry.severity is Severity.WARNING
    drift = [f for f in state.findings if "arm-drift" in f.code]
    assert [(f.code, f.subject, f.severity) for f in drift] == [
        ("entry-arm-drift", "trust/plc.der", Severity.WARNING)
    ]
    assert "mapped on the cluster but not in ARM" in drift[0].message
    assert "drops it" in drift[0].message
    assert exit_code(state) == 1
    # The issuer list, in step, is untouched.
    assert all(Health.ARM_DRIFT not in e.flags for e in state.entries("issuer"))


def test_a_mapping_only_arm_holds_gets_a_row_of_its_own() -> None:
    arm = _in_sync_arm(
        **{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, [*TRUST_MAP, ("gone-der", "gone.der")])}
    )
    state = _state(_site(), arm)
    row = state.entry("trust/gone.der")
    assert row is not None
    assert row.flags == (Health.ARM_DRIFT,) and row.severity is Severity.WARNING
    assert (row.mapped, row.synced, row.source_path, row.content) == (False, False, "gone-der", "missing")
    assert [e.target_key for e in state.entries("trust")] == ["gone.der", "plc.der"]  # still sorted
    finding = next(f for f in state.findings if f.subject == "trust/gone.der")
    assert finding.code == "entry-arm-drift" and "brings it back" in finding.message
    assert Health.ARM_DRIFT not in state.entry("trust/plc.der").flags  # type: ignore[union-attr]


def test_a_secret_mapped_to_another_source_is_drift_on_both_sides_of_one_row() -> None:
    arm = _in_sync_arm(**{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, [("other", "plc.der")])})
    state = _state(_site(), arm)
    assert [e.key for e in state.entries("trust")] == ["trust/plc.der"]  # no second row for one file
    assert Health.ARM_DRIFT in state.entry("trust/plc.der").flags  # type: ignore[union-attr]


def test_an_arm_owned_secretsync_that_arm_no_longer_holds_is_drift() -> None:
    state = _state(_site(), _in_sync_arm(**{TRUST_LIST_SYNC: None}))
    assert "sync-arm-drift" in _codes(state)
    assert Health.ARM_DRIFT in state.entry("trust/plc.der").flags  # type: ignore[union-attr]


def test_a_cluster_only_list_is_never_compared_with_arm() -> None:
    # Nothing names ARM on the cluster and ARM holds nothing of that name: no owner, no drift.
    state = _state(_site(arm_owned=False), ao.snapshot())
    assert state.list_owner("trust") is Owner.CLUSTER
    assert not any("arm" in c for c in _codes(state))


def test_spc_objects_that_differ_from_arm_are_a_finding_on_the_spc() -> None:
    arm = _in_sync_arm(**{OPCUA_SPC: ao.arm_spc(OPCUA_SPC, ["plc-der"])})
    state = _state(_site(), arm)
    finding = next(f for f in state.findings if f.code == "spc-arm-drift")
    assert finding.subject == f"spc/{OPCUA_SPC}" and finding.severity is Severity.WARNING
    assert "1 object(s) only on the cluster (site-ca-crt)" in finding.message


def test_spc_objects_compare_by_what_they_name_not_how_they_are_written() -> None:
    objects = [cli_object(n) for n in OBJECTS]
    block = serialize_objects(objects, style="block")
    assert block != serialize_objects(objects)
    assert spc_objects_differ(parse_objects(serialize_objects(objects)), block) is None
    assert spc_objects_differ(objects[:1], block) == "1 object(s) only in ARM (site-ca-crt)"
    assert spc_objects_differ(objects, "array: [") is not None  # unreadable on ARM's side


# --- ARM unreachable or forbidden -----


def test_arm_unreachable_leaves_the_cluster_view_intact_and_warns_once() -> None:
    site = _site()
    read = _state(site, _in_sync_arm())
    state = _state(
        site, ao.unreadable(AreaState.UNREACHABLE, "cannot reach ARM: [Errno 111] Connection refused")
    )
    assert state.opcua == read.opcua and state.root_ca == read.root_ca and state.areas == read.areas
    assert state.arm.state is AreaState.UNREACHABLE and state.arm.in_use
    arm = [f for f in state.findings if f.subject == "area/arm"]
    assert [(f.code, f.severity) for f in arm] == [("arm-unreachable", Severity.WARNING)]
    assert "Connection refused" in arm[0].message
    assert state.list_owner("trust") is Owner.ARM  # the annotation still tells
    assert not any("arm-drift" in c for c in _codes(state))  # unknown is not drift


def test_arm_forbidden_on_a_cluster_only_site_is_shown_but_not_a_finding() -> None:
    state = _state(_site(arm_owned=False), ao.unreadable(AreaState.FORBIDDEN, "access denied (403)"))
    assert state.arm.state is AreaState.FORBIDDEN
    assert "arm-forbidden" not in _codes(state)


# --- status -----


def test_status_names_the_owner_of_each_list_and_the_arm_state() -> None:
    state = _state(_site(), ao.unreadable(AreaState.FORBIDDEN, "access denied (403 AuthorizationFailed)"))
    text = render_status(state, width=100)
    assert f"OPC UA lists (SPC {OPCUA_SPC}), owner arm" in text.splitlines()
    assert "Not fully read: arm forbidden" in text
    assert (
        f"  ARM (resource group {ao.RESOURCE_GROUP}): forbidden: access denied (403 AuthorizationFailed)"
        in text.splitlines()
    )
    assert "WARN  Azure Resource Manager: forbidden: access denied" in text
    mixed = _state(_site(arm_owned=False), None)
    assert f"OPC UA lists (SPC {OPCUA_SPC}), owner cluster" in render_status(mixed).splitlines()


def test_status_json_has_an_owner_for_each_list() -> None:
    arm = _in_sync_arm(**{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, [])})
    site = _site()
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(ISSUER_LIST_SYNC, NS, OPCUA_SPC, ISSUER_MAP, last_sync=NOW - timedelta(minutes=1)),
    )  # no annotation: the issuer list is ARM's only because ARM holds it
    data = json.loads(json.dumps(state_to_json(_state(site, arm))))
    assert data["summary"]["opcua"]["trust"]["owner"] == "arm"
    assert data["summary"]["opcua"]["issuer"]["owner"] == "arm"
    assert data["summary"]["arm"] == {"state": "ok", "in_use": True, "message": ""}
    assert data["summary"]["flags"]["arm-drift"] == 1
    by_name = {s["name"]: s for s in data["syncs"]}
    assert by_name[TRUST_LIST_SYNC]["owner"] == "arm"
    assert by_name[TRUST_LIST_SYNC]["arm_mappings"] == []
    owners = {o["key"]: o for o in data["owners"]}
    assert owners[f"azureKeyVaultSecretProviderClasses/{OPCUA_SPC}"]["owner"] == "arm"
    cluster_only = json.loads(json.dumps(state_to_json(_state(_site(arm_owned=False), None))))
    assert {v["owner"] for v in cluster_only["summary"]["opcua"].values()} == {"cluster"}


def test_drift_is_the_same_in_a_rebuild_from_the_memo() -> None:
    # The drift join runs after the remembered entries: a second build with a warm cache agrees.
    site, cache = _site(), DecodeCache()
    arm = _in_sync_arm(**{TRUST_LIST_SYNC: ao.arm_sync(TRUST_LIST_SYNC, OPCUA_SPC, [])})
    first = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache, arm=arm)
    again = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache, arm=arm)
    plain = build_state(site.snapshot(), settings=ModelSettings(), now=NOW, cache=cache)
    assert again == first
    assert Health.ARM_DRIFT not in plain.entry("trust/plc.der").flags  # type: ignore[union-attr]
    assert dataclasses.replace(first, arm=plain.arm) != plain  # the flag, not just the header


# --- where the ARM ids come from -----


def _arc_configmap(subscription: str, group: str) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "azure-clusterconfig", "namespace": "azure-arc"},
        "data": {"AZURE_SUBSCRIPTION_ID": subscription, "AZURE_RESOURCE_GROUP": group},
    }


def test_the_ids_come_from_the_annotations_first() -> None:
    site = _site()
    site.add(rk.CONFIGMAPS, _arc_configmap("other-sub", "other-rg"))
    ids = discover_ids(site.snapshot(), NS)
    assert ids == ao.IDS  # resourceId's subscription and group, customLocation's location


def test_without_annotations_the_arc_configmap_names_subscription_and_group() -> None:
    site = _site(arm_owned=False)
    assert discover_ids(site.snapshot(), NS) is None
    assert not _state(site, None).arm.in_use
    site.add(rk.CONFIGMAPS, _arc_configmap(ao.SUBSCRIPTION, ao.RESOURCE_GROUP))
    assert discover_ids(site.snapshot(), NS) == ArmIds(ao.SUBSCRIPTION, ao.RESOURCE_GROUP, None)
    view = _state(site, None).arm
    # An Arc-connected cluster: ARM is worth reading even though no object names it yet.
    assert view.in_use and (view.subscription, view.resource_group) == (ao.SUBSCRIPTION, ao.RESOURCE_GROUP)
    assert view.custom_location is None
    site.add(rk.CONFIGMAPS, _arc_configmap(" ", ao.RESOURCE_GROUP))
    assert discover_ids(site.snapshot(), NS) is None  # a blank subscription names nothing


def test_mangled_metadata_is_owned_by_the_cluster_never_a_crash() -> None:
    site = _site()
    for mangled in (1, {"annotations": ["not", "a", "mapping"]}, {"annotations": None}):
        site.get(rk.SECRET_PROVIDER_CLASSES, NS, OPCUA_SPC)["metadata"] = mangled
        state = _state(site, _in_sync_arm())
        owner = state.owner(ArmKind.SPC, OPCUA_SPC)
        # ARM still holds it on the site's location, so ARM owns it whatever the annotations say.
        assert owner is not None and owner.owner is Owner.ARM
        assert _state(site, None).owner(ArmKind.SPC, OPCUA_SPC).owner is Owner.CLUSTER  # type: ignore[union-attr]
