"""The change engine's ARM path (plan, apply, 412 rebase, resume, rollback) against in-memory port fakes.

Where Azure Resource Manager owns the SPC and the list SecretSyncs (docs/domain.md §9), every edit goes
through ARM as the official CLI makes it: GET, edit, PUT with ``If-Match`` on the ETag, a SecretSync
created with the site's custom location, deleted with its last entry. :class:`~tests.unit.ops_fakes.FakeArm`
answers with ETags and 412s and projects each change onto the fake cluster, whose sync controller then
fills the synced Secret, so the sync wait ends at its first look. The same behaviours over the wire,
through the real SDK and the demo's ARM emulator, are in tests/integration/test_changes_arm.py.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.armobjects import IDS
from tests.plansite import NOW, OTHER_CA, PLC1, PLC2, PLC3, STRANGER, plan_for, plan_site
from tests.rawobjects import Site
from tests.unit.ops_fakes import FakeArm, FakeCluster, FakeVault, Killed, Store, kill
from tui.arm.errors import ArmError
from tui.core.changes.changeset import AddFile, Change, RemoveEntry
from tui.core.changes.plan import Plan
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.arm import ArmKind, ArmSnapshot
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.spc import parse_objects
from tui.ops.apply import APPLIED, CONFLICT, FAILED, NOTHING_DONE, ApplyResult, StepEvent, apply_plan
from tui.ops.audit import AuditLog
from tui.ops.journal import pending_applies
from tui.ops.resume import ROLLED_BACK, resume_apply, rollback_apply

NS = "azure-iot-operations"
SPC = "opc-ua-connector"
TRUST = "aio-opc-ua-broker-trust-list"
SYNCS = "secretSyncs"
SPCS = "azureKeyVaultSecretProviderClasses"
WAIT = 5.0
"""The fake projection and controller follow at once, so a wait ends at its first look."""


class ArmRig:
    """One ARM-owned site (ARM, cluster and vault fakes), its state directory and the engine's calls."""

    def __init__(self, site: Site, state_dir: Path) -> None:
        self.site = site
        self.arm = FakeArm.of(site)  # annotates the site's objects as the projection does
        self.vault = FakeVault.of(site)
        self.cluster = FakeCluster.of(site, self.vault)
        self.arm.cluster = self.cluster
        self.state_dir = state_dir
        self.store = Store(state_dir)
        self.clock = FrozenClock(NOW)
        self.audit = AuditLog(state_dir, clock=self.clock)
        self.events: list[StepEvent] = []

    def plan(self, *changes: Change, local_only: bool = False, arm: ArmSnapshot | None = None) -> Plan:
        """Plan against the site as read, with ARM as read now (or as given)."""
        return plan_for(
            self.site, *changes, arm=arm if arm is not None else self.arm.snapshot(), local_only=local_only
        )

    def reread(self) -> Any:
        """The session's re-read after a 409 or 412: the cluster and ARM as they are now."""
        return (*self.cluster.read_site(), self.arm.snapshot())

    def apply(self, plan: Plan, *, wait_timeout: float = WAIT, arm: bool = True) -> ApplyResult:
        """``apply_plan`` through the fakes (``arm`` False: no ARM access)."""
        assert plan.applicable, plan.problems
        return apply_plan(
            plan,
            kube=self.cluster,
            vault=self.vault,
            arm=self.arm if arm else None,
            journal=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=wait_timeout,
            reread=self.reread,
        )

    def resume(self, journal_id: str, *, arm: bool = True) -> ApplyResult:
        """``resume_apply`` of a journal."""
        return resume_apply(
            journal_id,
            kube=self.cluster,
            vault=self.vault,
            arm=self.arm if arm else None,
            store=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=WAIT,
        )

    def rollback(self, journal_id: str) -> ApplyResult:
        """``rollback_apply`` of a journal."""
        return rollback_apply(
            journal_id,
            kube=self.cluster,
            vault=self.vault,
            arm=self.arm,
            store=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=WAIT,
        )

    def records(self, journal_id: str) -> list[dict[str, Any]]:
        """The journal's records as written."""
        return [json.loads(line) for line in self.store.path_of(journal_id).read_text().splitlines()]

    def arm_objects(self) -> list[str]:
        """objectNames of ARM's SPC."""
        body = self.arm.bodies[(ArmKind.SPC, SPC)]
        return [o.object_name for o in parse_objects(body["properties"].get("objects"))]

    def cluster_writes(self) -> list[str]:
        """Calls that wrote the cluster directly (the projection is not a call)."""
        return [c for c in self.cluster.calls if not c.startswith(("get ", "list "))]

    def everything(self) -> Any:
        """ARM, the cluster and the vault, to show that nothing was written."""
        return self.arm.state(), self.cluster.state(), self.vault.state()


@pytest.fixture
def rig(tmp_path: Path) -> ArmRig:
    return ArmRig(plan_site(), tmp_path / "state")


def _add_plc2(rig: ArmRig) -> Plan:
    plan = rig.plan(AddFile("trust", "plc-2.der", PLC2.der))
    assert plan.applicable, plan.problems
    return plan


# -- plan ---------------------------------------------------------------------------------------------


def test_the_plan_writes_arm_owned_objects_through_arm_against_their_etags(rig: ArmRig) -> None:
    plan = _add_plc2(rig)
    spc_step, sync_step = plan.steps[1].op, plan.steps[2].op
    assert [s.target for s in plan.steps] == [
        "vault/plc-2-der",
        f"ARM SecretProviderClass/{SPC}",
        f"ARM SecretSync/{TRUST}",
    ]
    assert spc_step.arm is not None and spc_step.arm.etag == rig.arm.etags[(ArmKind.SPC, SPC)]
    assert sync_step.arm is not None and sync_step.arm.etag == rig.arm.etags[(ArmKind.SECRET_SYNC, TRUST)]
    assert plan.arm_resources == (
        IDS.resource_id(ArmKind.SPC, SPC),
        IDS.resource_id(ArmKind.SECRET_SYNC, TRUST),
    )
    assert plan.warnings == () and plan.drift == ()
    diff = plan.render_diff()
    assert f"SecretSync {NS}/{TRUST}: update through Azure Resource Manager (ETag " in diff
    assert f"  ARM resource {IDS.resource_id(ArmKind.SECRET_SYNC, TRUST)}" in diff
    assert plan.to_json()["arm_resources"] == list(plan.arm_resources)


def test_the_plan_starts_from_arms_copy_not_the_cluster_copy(rig: ArmRig) -> None:
    # ARM holds a mapping the cluster copy does not show yet (the projection is behind): kept, not lost.
    rig.arm.projecting = False
    rig.vault.put("plc-3-der", PLC3.der.hex())
    rig.arm.edit(ArmKind.SECRET_SYNC, TRUST, _append_mapping("plc-3-der", "plc-3.der"))
    plan = _add_plc2(rig)
    sync = plan.sync_edits[0]
    assert ("plc-3-der", "plc-3.der") in sync.before and ("plc-3-der", "plc-3.der") in sync.after


def test_an_add_of_a_name_arm_maps_elsewhere_is_refused(rig: ArmRig) -> None:
    rig.arm.projecting = False
    rig.arm.edit(ArmKind.SECRET_SYNC, TRUST, _append_mapping("someone-else-der", "plc-2.der"))
    plan = rig.plan(AddFile("trust", "plc-2.der", PLC2.der))
    assert [p.code for p in plan.problems] == ["arm-drift"]
    assert "ARM's SecretSync maps it to someone-else-der" in plan.problems[0].message


def test_without_arm_access_a_change_to_arm_owned_lists_is_refused_with_the_cli_commands(rig: ArmRig) -> None:
    denied = ArmSnapshot(
        ResourceStatus(AreaState.FORBIDDEN, "ARM refused the request (403 AuthorizationFailed)"), IDS
    )
    plan = rig.plan(
        AddFile("trust", "plc-2.der", PLC2.der),
        AddFile("issuer", "ca.crt", OTHER_CA.pem, secret_name="my-ca"),
        RemoveEntry("trust", "plc-1.der", purge=True),
        arm=denied,
    )
    [problem] = [p for p in plan.problems if p.code == "arm-unavailable"]
    assert "\n" not in problem.message
    assert problem.message.startswith(
        f"SecretProviderClass {NS}/{SPC} and SecretSync {NS}/{TRUST} and SecretSync {NS}/"
        "aio-opc-ua-broker-issuer-list are managed from Azure Resource Manager, which cannot be written "
        "now (ARM forbidden: ARM refused the request (403 AuthorizationFailed)); nothing was written."
    )
    assert (
        "az iot ops connector opcua trust add --instance <instance> -g rg-aio --certificate-file plc-2.der; "
        "az iot ops connector opcua issuer add --instance <instance> -g rg-aio --certificate-file ca.crt "
        "--secret-name my-ca; az iot ops connector opcua trust remove --instance <instance> -g rg-aio "
        "--certificate-names plc-1.der --include-secrets."
    ) in problem.message
    assert problem.message.endswith(
        "Or write the cluster copy only with --local-only (the next portal or CLI change undoes it)"
    )
    # No ARM read at all (no credential): the same refusal, the resource group from the annotation.
    unread = rig.plan(
        AddFile("trust", "plc-2.der", PLC2.der),
        arm=ArmSnapshot(ResourceStatus(AreaState.FORBIDDEN, "no Azure credential")),
    )
    assert "-g rg-aio" in unread.problems[0].message and "no Azure credential" in unread.problems[0].message


def test_local_only_writes_the_cluster_copy_and_says_what_will_undo_it(rig: ArmRig) -> None:
    denied = ArmSnapshot(ResourceStatus(AreaState.UNREACHABLE, "cannot reach ARM"), IDS)
    plan = rig.plan(AddFile("trust", "plc-2.der", PLC2.der), local_only=True, arm=denied)
    assert plan.applicable and plan.local_only
    assert all(getattr(s.op, "arm", None) is None for s in plan.steps)
    assert plan.drift == (f"SecretProviderClass {NS}/{SPC}", f"SecretSync {NS}/{TRUST}")
    assert [w.code for w in plan.warnings] == ["arm-managed", "arm-managed"]
    assert "only its cluster copy is written (--local-only)" in plan.warnings[0].message
    assert "cluster copy only (--local-only)" in plan.render_diff()
    result = rig.apply(plan, arm=False)
    assert result.outcome == APPLIED, result.error
    assert ("plc-2-der", "plc-2.der") not in rig.arm.mappings(TRUST)  # ARM never heard of it
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    started, event = rig.audit.events()
    assert event["extra"]["drift"] == list(plan.drift) and "will undo this" in event["extra"]["drift_warning"]
    assert started["outcome"] == "started" and started["extra"]["drift"] == event["extra"]["drift"]


def test_removing_an_entry_only_the_cluster_copy_holds_asks_for_local_only(rig: ArmRig) -> None:
    local = rig.plan(AddFile("trust", "plc-2.der", PLC2.der), local_only=True)
    assert rig.apply(local, arm=False).outcome == APPLIED
    rig.site = _site_of(rig.cluster)
    plan = rig.plan(RemoveEntry("trust", "plc-2.der"))
    assert [p.code for p in plan.problems] == ["arm-drift"]
    assert "is only in the cluster copy" in plan.problems[0].message
    assert rig.plan(RemoveEntry("trust", "plc-2.der"), local_only=True).applicable


# -- apply --------------------------------------------------------------------------------------------


def test_apply_puts_through_arm_journals_before_images_and_audits_the_resource_ids(rig: ArmRig) -> None:
    plan = _add_plc2(rig)
    spc_etag = rig.arm.etags[(ArmKind.SPC, SPC)]
    result = rig.apply(plan)
    assert result.outcome == APPLIED and result.sync is not None and result.sync.ok, result.error
    assert rig.cluster_writes() == []  # the cluster copies changed only by the projection
    assert rig.arm.calls == [f"get {SPCS}", f"put {SPCS}", f"get {SYNCS}", f"put {SYNCS}"]
    assert "plc-2-der" in rig.arm_objects() and ("plc-2-der", "plc-2.der") in rig.arm.mappings(TRUST)
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    records = rig.records(result.journal_id)
    assert records[0]["format"] == 2
    pending = [r for r in records if r.get("state") == "pending" and r["target"].startswith("ARM ")]
    assert [r["before"]["type"] for r in pending] == ["arm", "arm"]
    assert pending[0]["before"]["etag"] == spc_etag and pending[0]["before"]["body"]["properties"]["objects"]
    done = [r for r in records if r.get("state") == "done" and r["target"].startswith("ARM ")]
    assert done[0]["resource_version"] == rig.arm.etags[(ArmKind.SPC, SPC)]
    started, event = rig.audit.events()
    assert event["outcome"] == "applied" and event["extra"]["arm_resources"] == list(plan.arm_resources)
    assert started["outcome"] == "started" and started["extra"]["arm_resources"] == list(plan.arm_resources)


def test_a_412_re_reads_arm_and_rebases(rig: ArmRig) -> None:
    plan = _add_plc2(rig)
    rig.vault.put("plc-3-der", PLC3.der.hex())
    # The official CLI adds an entry between our plan and our PUT: our If-Match fails with 412.
    rig.arm.hooks[f"put {SYNCS}"] = lambda: rig.arm.edit(
        ArmKind.SECRET_SYNC, TRUST, _append_mapping("plc-3-der", "plc-3.der")
    )
    result = rig.apply(plan)
    assert result.outcome == APPLIED and result.conflicts == 1, result.error
    assert "rebased" in [e.phase for e in rig.events]
    assert rig.arm.mappings(TRUST) == [
        ("plc-1-der", "plc-1.der"),
        ("plc-3-der", "plc-3.der"),
        ("plc-2-der", "plc-2.der"),
    ]
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    records = rig.records(result.journal_id)
    assert [r["revision"] for r in records if r["record"] == "plan"] == [0, 1]


def test_a_list_created_in_arm_is_placed_on_the_sites_custom_location(tmp_path: Path) -> None:
    rig = ArmRig(plan_site(trust={}), tmp_path)
    assert (ArmKind.SECRET_SYNC, TRUST) not in rig.arm.bodies
    plan = _add_plc2(rig)
    [sync] = plan.sync_edits
    assert sync.action == "create" and sync.arm is not None and sync.arm.etag is None
    assert sync.arm.extended_location == IDS.custom_location and sync.arm.location == "westeurope"
    result = rig.apply(plan)
    assert result.outcome == APPLIED, result.error
    body = rig.arm.bodies[(ArmKind.SECRET_SYNC, TRUST)]
    assert body["extendedLocation"] == {"name": IDS.custom_location, "type": "CustomLocation"}
    assert body["location"] == "westeurope"
    assert body["properties"] == {
        "kubernetesSecretType": "Opaque",
        "secretProviderClassName": SPC,
        "serviceAccountName": "aio-ssc-sa",
        "objectSecretMapping": [{"sourcePath": "plc-2-der", "targetKey": "plc-2.der"}],
    }
    assert rig.cluster.synced(NS, TRUST) == {"plc-2.der": PLC2.der}


def test_removing_the_last_entry_deletes_the_arm_secret_sync(rig: ArmRig) -> None:
    plan = rig.plan(RemoveEntry("trust", "plc-1.der", purge=True))
    assert [s.kind for s in plan.steps] == ["sync-delete", "spc-update", "vault-delete"]
    result = rig.apply(plan)
    assert result.outcome == APPLIED and result.sync is not None and result.sync.ok, result.error
    assert (ArmKind.SECRET_SYNC, TRUST) not in rig.arm.bodies
    assert (rk.SECRET_SYNCS.key, NS, TRUST) not in rig.cluster.objects
    assert "plc-1-der" not in rig.arm_objects() and rig.vault.value("plc-1-der") is None


def test_an_arm_failure_before_any_write_leaves_nothing_anywhere(rig: ArmRig) -> None:
    plan = rig.plan(RemoveEntry("trust", "plc-1.der"))
    before = rig.everything()
    rig.arm.refusal = ArmError(
        "get secretSyncs/x: ARM refused the request (403 AuthorizationFailed)", AreaState.FORBIDDEN
    )
    result = rig.apply(plan)
    assert result.outcome == NOTHING_DONE and "403" in (result.error or "") and not result.journal_kept
    assert rig.everything() == before and pending_applies(rig.state_dir) == []


def test_an_apply_without_arm_access_stops_at_the_first_arm_step(rig: ArmRig) -> None:
    plan = rig.plan(RemoveEntry("trust", "plc-1.der"))
    before = rig.everything()
    result = rig.apply(plan, arm=False)
    assert result.outcome == NOTHING_DONE and "no ARM access" in (result.error or "")
    assert rig.everything() == before


# -- resume and rollback ------------------------------------------------------------------------------

KILL_POINTS = ["set:after", f"put {SPCS}", f"put {SPCS}:after", f"put {SYNCS}", f"put {SYNCS}:after"]


def _killed(rig: ArmRig, point: str) -> str:
    plan = _add_plc2(rig)
    fake: Any = rig.vault if point.startswith("set") else rig.arm
    fake.hooks[point] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    return pending.id


@pytest.mark.parametrize("point", KILL_POINTS)
def test_resume_after_a_kill_finishes_through_arm(rig: ArmRig, point: str) -> None:
    journal_id = _killed(rig, point)
    resumed = rig.resume(journal_id)
    assert resumed.outcome == APPLIED and resumed.sync is not None and resumed.sync.ok, resumed.error
    assert rig.arm_objects().count("plc-2-der") == 1
    assert rig.arm.mappings(TRUST).count(("plc-2-der", "plc-2.der")) == 1
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    assert rig.cluster_writes() == []


@pytest.mark.parametrize("point", KILL_POINTS)
def test_rollback_after_a_kill_undoes_in_arm(rig: ArmRig, point: str) -> None:
    arm_before = rig.arm.state()[0]
    journal_id = _killed(rig, point)
    rolled = rig.rollback(journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert rig.arm.state()[0] == arm_before
    # The rollback's audit line names the ARM resources of the apply it undoes, from the journal alone.
    assert list(rig.audit.events())[-1]["extra"]["arm_resources"] == [
        IDS.resource_id(ArmKind.SPC, SPC),
        IDS.resource_id(ArmKind.SECRET_SYNC, TRUST),
    ]
    assert rig.vault.value("plc-2-der") is None and "plc-2-der" not in rig.vault.deleted
    assert "plc-2.der" not in rig.cluster.synced(NS, TRUST)


def test_rollback_reads_arms_mappings_not_a_lagging_cluster_copy(rig: ArmRig) -> None:
    journal_id = _killed(rig, f"put {SYNCS}:after")
    # The projection stops: the cluster copy still maps our secret after the rollback took it out of ARM.
    rig.arm.projecting = False
    rolled = rig.rollback(
        journal_id,
    )
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert "plc-2-der" not in rig.arm_objects()  # not "kept" for the stale cluster mapping
    assert rig.vault.value("plc-2-der") is None


def test_rollback_of_a_deleted_list_recreates_it_in_arm_as_it_was(rig: ArmRig) -> None:
    before = rig.arm.bodies[(ArmKind.SECRET_SYNC, TRUST)]
    plan = rig.plan(RemoveEntry("trust", "plc-1.der"))
    rig.arm.hooks[f"put {SPCS}"] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    assert (ArmKind.SECRET_SYNC, TRUST) not in rig.arm.bodies
    [pending] = pending_applies(rig.state_dir)
    rolled = rig.rollback(pending.id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert rig.arm.bodies[(ArmKind.SECRET_SYNC, TRUST)] == before
    assert rig.cluster.synced(NS, TRUST)["plc-1.der"] == PLC1.der


def test_resume_without_arm_access_fails_in_one_line_and_writes_nothing(rig: ArmRig) -> None:
    journal_id = _killed(rig, "set:after")
    before = rig.everything()
    result = rig.resume(journal_id, arm=False)
    assert (
        result.outcome == FAILED
        and "no ARM access" in (result.error or "")
        and "\n" not in (result.error or "")
    )
    assert rig.everything() == before


def test_resume_stops_when_someone_replaced_our_mapping_in_arm(rig: ArmRig) -> None:
    plan = _add_plc2(rig)
    rig.cluster.hooks["get Secret"] = kill  # every step done, killed in the sync wait
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    journal_id = pending.id
    rig.arm.edit(ArmKind.SECRET_SYNC, TRUST, _repoint("plc-2.der", "stranger-der"))
    rig.vault.put("stranger-der", STRANGER.der.hex())
    result = rig.resume(journal_id)
    assert result.outcome == CONFLICT and "ARM SecretSync" in (result.error or "")


def test_a_412_during_a_resume_applies_the_delta_again_to_arms_current_copy(rig: ArmRig) -> None:
    # From the adversarial pass: a resume failed on the first 412 where an apply re-plans.
    journal_id = _killed(rig, "set:after")
    rig.vault.put("plc-3-der", PLC3.der.hex())
    rig.arm.hooks[f"put {SYNCS}"] = lambda: rig.arm.edit(
        ArmKind.SECRET_SYNC, TRUST, _append_mapping("plc-3-der", "plc-3.der")
    )
    resumed = rig.resume(journal_id)
    assert resumed.outcome == APPLIED, resumed.error
    assert "conflict" in [e.phase for e in rig.events]
    assert rig.arm.mappings(TRUST) == [
        ("plc-1-der", "plc-1.der"),
        ("plc-3-der", "plc-3.der"),
        ("plc-2-der", "plc-2.der"),
    ]
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der


# -- helpers ------------------------------------------------------------------------------------------


def _append_mapping(source: str, target: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        body["properties"]["objectSecretMapping"].append({"sourcePath": source, "targetKey": target})

    return change


def _repoint(target: str, source: str) -> Any:
    def change(body: dict[str, Any]) -> None:
        for item in body["properties"]["objectSecretMapping"]:
            if item["targetKey"] == target:
                item["sourcePath"] = source

    return change


def _site_of(cluster: FakeCluster) -> Site:
    """A test site holding the fake cluster's objects as they are now (for planning again)."""
    site = plan_site()
    for (key, ns, name), obj in cluster.objects.items():
        site.objects.setdefault(key, {})[(ns, name)] = obj
    return site


def test_a_resource_arm_gives_no_etag_for_is_warned_about(rig: ArmRig) -> None:
    # Whether the real provider returns ETags is unconfirmed (docs/domain.md §9.4).
    snapshot = rig.arm.snapshot()
    bare = {key: replace(res, etag=None) for key, res in snapshot.resources.items()}
    plan = rig.plan(AddFile("trust", "plc-2.der", PLC2.der), arm=replace(snapshot, resources=bare))
    assert plan.applicable and [w.code for w in plan.warnings] == ["arm-no-etag", "arm-no-etag"]
    assert "cannot be guarded" in plan.warnings[0].message
