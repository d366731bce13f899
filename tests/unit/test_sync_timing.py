"""When the sync controller carries a plan: at once on a spec change, at its poll otherwise (issue 12 item 1).

The controller watches SecretSyncs only; what it does not watch (SPC objects, vault values) changed after
a SecretSync's last spec edit reaches the synced Secret at the next poll, at most 120 s on AIO
(docs/domain.md §5.5). The plan diff, its JSON, the apply's wait and its progress lines say so.
"""

from __future__ import annotations

import dataclasses

from tests.plansite import PLC2, PLC3, plan_for, plan_site
from tests.unit.ops_fakes import FakeCluster, FakeVault
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.operations import SpcEdit, Step, SyncEdit, VaultWrite
from tui.core.changes.plan import Plan
from tui.core.changes.sync_timing import POLL_INTERVAL, SyncTrigger, sync_timings
from tui.ops.sync_wait import SyncCheck, WaitResult, check, expectations, wait_for_sync

NS = "azure-iot-operations"
TRUST = "aio-opc-ua-broker-trust-list"


def _reordered(plan: Plan, *, move: type, after: type) -> Plan:
    """The plan with its first step of kind ``move`` placed just after its last step of kind ``after``:
    the order a resume or a lagging projection can leave the writes in."""
    ops = [s.op for s in plan.steps]
    at = next(i for i, op in enumerate(ops) if isinstance(op, move))
    moved = ops.pop(at)
    last = max(i for i, op in enumerate(ops) if isinstance(op, after))
    ops.insert(last + 1, moved)
    return dataclasses.replace(plan, steps=tuple(Step(i, op) for i, op in enumerate(ops)))


def test_a_fresh_plan_syncs_at_once_and_the_diff_adds_no_note() -> None:
    # The planner writes the SPC before the SecretSync, so the spec edit finds its objects in place.
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    assert [type(s.op) for s in plan.steps] == [VaultWrite, SpcEdit, SyncEdit]
    [timing] = plan.sync_timings
    assert (timing.key, timing.trigger, timing.reason) == (
        f"{NS}/{TRUST}",
        SyncTrigger.NOW,
        "its spec changes",
    )
    assert timing.describe() == "syncs at once (its spec changes)"
    assert "poll" not in plan.render_diff()
    assert plan.to_json()["sync_timing"] == [
        {
            "secret_sync": f"{NS}/{TRUST}",
            "trigger": "now",
            "reason": "its spec changes",
            "through_arm": False,
            "at_most_seconds": None,
        }
    ]


def test_an_overwrite_behind_the_same_mapping_syncs_at_once_by_force() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-1.der", PLC3.der, overwrite=True))
    assert [(t.trigger, t.reason) for t in plan.sync_timings] == [
        (SyncTrigger.NOW, "a new forceSynchronization")
    ]


def test_a_removal_that_deletes_the_secret_sync_is_at_once() -> None:
    plan = plan_for(plan_site(), RemoveEntry("trust", "plc-1.der"))
    assert plan.sync_edits[0].action == "delete"
    assert [(t.trigger, t.at_most) for t in plan.sync_timings] == [(SyncTrigger.NOW, None)]


def test_objects_added_to_the_spc_after_the_spec_change_wait_for_the_poll() -> None:
    plan = _reordered(
        plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der)), move=SpcEdit, after=SyncEdit
    )
    [timing] = plan.sync_timings
    assert timing.trigger is SyncTrigger.POLL
    assert timing.at_most == POLL_INTERVAL
    assert timing.describe() == (
        "waits for the controller's next poll, at most 120 s (objects it reads change in "
        "SecretProviderClass opc-ua-connector after its spec)"
    )
    diff = plan.render_diff()
    assert f"  note: the synced Secret {timing.describe()}\n" in diff
    assert diff.index(f"SecretSync {NS}/{TRUST}: update") < diff.index("  note: the synced Secret waits")
    assert plan.to_json()["sync_timing"][0]["at_most_seconds"] == 120


def test_a_vault_value_written_after_the_spec_change_waits_for_the_poll() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    steps = [s for s in plan.steps if not isinstance(s.op, VaultWrite)] + [
        s for s in plan.steps if isinstance(s.op, VaultWrite)
    ]
    [timing] = sync_timings(steps)
    assert (timing.trigger, timing.reason) == (
        SyncTrigger.POLL,
        "vault secret plc-2-der is written after its spec",
    )


def test_an_spc_edit_that_only_drops_objects_does_not_hold_the_sync() -> None:
    # The shrink after the spec edit removes objects nothing maps any more: the Secret has what it needs.
    plan = plan_for(
        plan_site(), AddFile("trust", "plc-1.der", PLC3.der, secret_name="plc-1-v2", overwrite=True)
    )
    assert isinstance(plan.steps[-1].op, SpcEdit) and plan.steps[-1].op.removed == ("plc-1-der",)
    assert [t.trigger for t in plan.sync_timings] == [SyncTrigger.NOW]


def test_the_wait_says_a_poll_wait_and_how_long_it_may_still_take() -> None:
    site = plan_site()
    plan = _reordered(plan_for(site, AddFile("trust", "plc-2.der", PLC2.der)), move=SpcEdit, after=SyncEdit)
    [wanted] = expectations(plan.steps)
    assert wanted.waits_for_poll
    cluster = FakeCluster.of(site, FakeVault.of(site))
    cluster.controller = False  # the controller has not polled yet: plc-2.der is not in the Secret
    seen: list[SyncCheck] = []
    result = wait_for_sync(cluster, [wanted], timeout=0, on_check=seen.append)
    assert not result.ok
    reason = (
        "the synced Secret has no plc-2.der yet; waits for the controller's next poll, at most 120 s "
        "(objects it reads change in SecretProviderClass opc-ua-connector after its spec)"
    )
    assert [c.reason for c in seen] == [reason]
    later = WaitResult(False, 30.5, result.pending)
    assert later.describe() == f"SecretSync {NS}/{TRUST}: {reason}; its next poll is due within 90 s"
    assert WaitResult(False, 125.0, result.pending).describe().endswith("; its poll is overdue")


def test_a_change_that_syncs_at_once_has_no_poll_wording() -> None:
    site = plan_site()
    plan = plan_for(site, AddFile("trust", "plc-2.der", PLC2.der))
    [wanted] = expectations(plan.steps)
    assert not wanted.waits_for_poll
    cluster = FakeCluster.of(site, FakeVault.of(site))
    cluster.controller = False
    result = check(cluster, wanted)
    assert result.reason == "the synced Secret has no plc-2.der yet"
    assert "poll" not in WaitResult(False, 30.0, (result,)).describe()
