"""The change engine (apply, resume, rollback, the 409 rebase) against typed in-memory fakes of its ports.

The same behaviours as the emulator tests (tests/integration/test_changes_apply.py, test_change_races.py,
test_changes_kill.py), which run the real clients over the wire in 13-29 s each; here each runs in a few
milliseconds on a frozen clock, so every step and kill point can be covered. The fake cluster answers
409 on a stale resourceVersion and its sync controller follows a SecretSync at once, so a sync wait
ends at its first look; the fake vault keeps versions and a deleted list (tests/unit/ops_fakes.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.plansite import NOW, PLC1, PLC2, PLC3, STRANGER, plan_for, plan_site
from tests.rawobjects import Site
from tests.unit.ops_fakes import FakeCluster, FakeVault, Killed, Store, kill, refuse
from tui.cluster.writes import ForbiddenError, WriteError
from tui.core.changes.changeset import AddFile, Change
from tui.core.changes.plan import Plan
from tui.core.clock import FrozenClock
from tui.core.model import resources as rk
from tui.core.model.spc import cli_object, parse_spc, serialize_objects
from tui.ops.apply import (
    APPLIED,
    CONFLICT,
    FAILED,
    MAX_CONFLICT_RETRIES,
    NOTHING_DONE,
    REFUSED,
    ApplyResult,
    AuditInfo,
    StepEvent,
    apply_plan,
    audit_info_for,
)
from tui.ops.audit import AuditLog
from tui.ops.journal import pending_applies
from tui.ops.resume import ROLLED_BACK, resume_apply, rollback_apply
from tui.vault.errors import VaultError

NS = "azure-iot-operations"
SPC = "opc-ua-connector"
TRUST = "aio-opc-ua-broker-trust-list"
# The fake controller syncs at once, so a wait ends at its first look; this only bounds a broken one.
WAIT = 5.0


class Rig:
    """One site (cluster + vault fakes), its state directory and the engine's entry points."""

    def __init__(self, site: Site, state_dir: Path) -> None:
        self.site = site
        self.vault = FakeVault.of(site)
        self.cluster = FakeCluster.of(site, self.vault)
        self.state_dir = state_dir
        self.store = Store(state_dir)
        self.clock = FrozenClock(NOW)
        self.audit = AuditLog(state_dir, clock=self.clock)
        self.events: list[StepEvent] = []

    def plan(self, *changes: Change) -> Plan:
        """Plan against the site as it was read (the fakes may have moved on since)."""
        plan = plan_for(self.site, *changes)
        assert plan.applicable, plan.problems
        return plan

    def apply(
        self,
        plan: Plan,
        *,
        wait_timeout: float = WAIT,
        max_conflicts: int = 5,
        audit_info: AuditInfo | None = None,
        on_replan: Callable[[Plan, Plan], bool] | None = None,
    ) -> ApplyResult:
        """``apply_plan`` with a re-read of the fake cluster after a 409."""
        return apply_plan(
            plan,
            kube=self.cluster,
            vault=self.vault,
            journal=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=wait_timeout,
            reread=lambda: (*self.cluster.read_site(), None),
            max_conflicts=max_conflicts,
            audit_info=audit_info,
            on_replan=on_replan,
        )

    def resume(self, journal_id: str, *, wait_timeout: float = WAIT) -> ApplyResult:
        """``resume_apply`` of a journal."""
        return resume_apply(
            journal_id,
            kube=self.cluster,
            vault=self.vault,
            store=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=wait_timeout,
        )

    def rollback(self, journal_id: str, *, wait_timeout: float = WAIT) -> ApplyResult:
        """``rollback_apply`` of a journal."""
        return rollback_apply(
            journal_id,
            kube=self.cluster,
            vault=self.vault,
            store=self.store,
            audit=self.audit,
            clock=self.clock,
            progress=self.events.append,
            wait_timeout=wait_timeout,
        )

    def phases(self) -> list[str]:
        """The progress phases so far."""
        return [e.phase for e in self.events]

    def records(self, journal_id: str) -> list[dict[str, Any]]:
        """The journal's records as written."""
        text = self.store.path_of(journal_id).read_text()
        return [json.loads(line) for line in text.splitlines()]

    def spc_names(self) -> list[str]:
        """The secret names the SPC lists."""
        return [
            o.object_name
            for o in parse_spc(self.cluster.objects[(rk.SECRET_PROVIDER_CLASSES.key, NS, SPC)]).objects
        ]

    def mappings(self) -> list[tuple[str, str]]:
        """The trust list's ``(sourcePath, targetKey)`` pairs."""
        sync = self.cluster.objects[(rk.SECRET_SYNCS.key, NS, TRUST)]
        return [(d["sourcePath"], d["targetKey"]) for d in sync["spec"]["secretObject"]["data"]]

    def everything(self) -> Any:
        """The whole site, to show that nothing was written."""
        return self.cluster.state(), self.vault.state()


@pytest.fixture
def rig(tmp_path: Path) -> Rig:
    return Rig(plan_site(), tmp_path / "state")


def _add_plc2(rig: Rig) -> Plan:
    return rig.plan(AddFile("trust", "plc-2.der", PLC2.der))


def _failed_at_the_secret_sync(rig: Rig) -> ApplyResult:
    """An add whose vault write and SPC grow are done and whose SecretSync write was refused (403)."""
    plan = _add_plc2(rig)
    rig.cluster.hooks["patch SecretSync"] = refuse(
        ForbiddenError(f"updating SecretSync {NS}/{TRUST}: forbidden (403): no patch for you", status=403)
    )
    failed = rig.apply(plan, wait_timeout=0)
    assert failed.outcome == FAILED and failed.journal_kept and failed.done == 2, failed
    return failed


def _add_object(name: str) -> Callable[[dict[str, Any]], None]:
    def change(spc: dict[str, Any]) -> None:
        objects = [*parse_spc(spc).objects, cli_object(name)]
        spc["spec"]["parameters"]["objects"] = serialize_objects(objects)

    return change


def _drop_mapping(target: str) -> Callable[[dict[str, Any]], None]:
    def change(sync: dict[str, Any]) -> None:
        data = sync["spec"]["secretObject"]["data"]
        sync["spec"]["secretObject"]["data"] = [d for d in data if d["targetKey"] != target]

    return change


# -- apply ----------------------------------------------------------------------------------------------


def test_apply_journals_every_step_and_ends_applied(rig: Rig) -> None:
    plan = _add_plc2(rig)
    result = rig.apply(plan)
    assert result.outcome == APPLIED and result.done == len(plan.steps) == 3
    assert result.sync is not None and result.sync.ok and rig.phases()[-1] == "synced"
    # Each step is reported at its own place, 0..n-1 of n, when it starts and when it is done.
    numbered = [(e.phase, e.index, e.total) for e in rig.events if e.phase in ("start", "done")]
    assert numbered == [(phase, i, 3) for i in range(3) for phase in ("start", "done")]
    records = rig.records(result.journal_id)
    assert records[0]["record"] == "plan" and records[-1]["record"] == "end"
    assert records[-1]["outcome"] == "applied"
    # Each step is journaled pending, with its op and before-image, before it is done.
    for index in range(3):
        where = {r["state"]: i for i, r in enumerate(records) if r.get("index") == index}
        assert list(where) == ["pending", "done"] and where["pending"] < where["done"]
        assert records[where["pending"]]["before"] is not None and records[where["pending"]]["op"]
    vault_image = records[1]["before"]
    assert vault_image["secret_name"] == "plc-2-der" and vault_image["existed"] is False
    # The effect everywhere: the vault, the SPC, the mapping, and the synced file on the edge.
    assert rig.vault.value("plc-2-der") == PLC2.der.hex()
    assert "plc-2-der" in rig.spc_names() and ("plc-2-der", "plc-2.der") in rig.mappings()
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    assert pending_applies(rig.state_dir) == []
    # A line before the first write and one at the end, naming the same journal.
    started, applied = rig.audit.events()
    assert (started["outcome"], applied["outcome"]) == ("started", "applied")
    assert started["extra"]["journal"] == applied["extra"]["journal"] == result.journal_id


@pytest.mark.parametrize("moved", ["SecretProviderClass", "SecretSync"])
def test_a_409_mid_apply_rebases_and_continues(tmp_path: Path, moved: str) -> None:
    rig = Rig(plan_site(trust={"plc-1.der": PLC1.der, "plc-3.der": PLC3.der}), tmp_path)
    plan = _add_plc2(rig)
    # Someone else writes the object just before ours (after the plan, after our earlier steps).
    if moved == "SecretProviderClass":
        rig.vault.put("someone-else-der", STRANGER.der.hex())
        rig.cluster.hooks["patch SecretProviderClass"] = lambda: rig.cluster.edit(
            rk.SECRET_PROVIDER_CLASSES, NS, SPC, _add_object("someone-else-der")
        )
    else:
        rig.cluster.hooks["patch SecretSync"] = lambda: rig.cluster.edit(
            rk.SECRET_SYNCS, NS, TRUST, _drop_mapping("plc-3.der")
        )
    result = rig.apply(plan)
    assert result.outcome == APPLIED, result.error
    assert result.conflicts == 1 and "conflict" in rig.phases() and "rebased" in rig.phases()
    # Ours made, theirs kept.
    assert "plc-2-der" in rig.spc_names() and ("plc-2-der", "plc-2.der") in rig.mappings()
    if moved == "SecretProviderClass":
        assert "someone-else-der" in rig.spc_names()
    else:
        assert "plc-3.der" not in [t for _, t in rig.mappings()]
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    # The journal holds both revisions; the refused write is journaled failed, then done in revision 1.
    records = rig.records(result.journal_id)
    assert [r["revision"] for r in records if r["record"] == "plan"] == [0, 1]
    assert [r["state"] for r in records if r.get("target", "").startswith(moved)] == [
        "pending",
        "failed",
        "pending",
        "done",
    ]


def _spc_moved_under_the_apply(rig: Rig) -> None:
    """Someone else adds an SPC object just before our SPC write: a 409, then a re-plan."""
    rig.vault.put("someone-else-der", STRANGER.der.hex())
    rig.cluster.hooks["patch SecretProviderClass"] = lambda: rig.cluster.edit(
        rk.SECRET_PROVIDER_CLASSES, NS, SPC, _add_object("someone-else-der")
    )


def test_a_replan_is_put_to_on_replan_before_it_writes(rig: Rig) -> None:
    # Issue 13 item 15: the apply re-planned silently; the CLI and the dashboard now get to show the new
    # plan and ask again.
    plan = _add_plc2(rig)
    _spc_moved_under_the_apply(rig)
    asked: list[tuple[Plan, Plan, int]] = []

    def ask(previous: Plan, replanned: Plan) -> bool:
        asked.append((previous, replanned, rig.cluster.calls.count("patch SecretProviderClass")))
        return True

    result = rig.apply(plan, on_replan=ask)
    assert result.outcome == APPLIED, result.error
    [(previous, replanned, spc_writes)] = asked
    assert previous is plan and replanned.revision == 1 and spc_writes == 1  # asked before writing again
    assert result.replanned is replanned and "someone-else-der" in rig.spc_names()


def test_a_replan_not_confirmed_stops_before_its_first_write_with_the_journal_kept(rig: Rig) -> None:
    plan = _add_plc2(rig)
    _spc_moved_under_the_apply(rig)
    result = rig.apply(plan, on_replan=lambda _previous, _replanned: False)
    assert result.outcome == CONFLICT and result.journal_kept and result.done == 1, result
    assert "the new plan was not confirmed; stopped before its first write" in (result.error or "")
    assert result.replanned is not None and result.replanned.revision == 1
    assert rig.cluster.calls.count("patch SecretProviderClass") == 1  # the refused write only
    assert "plc-2-der" not in rig.spc_names() and rig.vault.value("plc-2-der") == PLC2.der.hex()
    [pending] = pending_applies(rig.state_dir)
    assert pending.id == result.journal_id  # to roll back, or resume against the lists as they are
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "conflict"]


def test_a_409_that_keeps_coming_gives_up_with_the_journal_kept(rig: Rig) -> None:
    plan = _add_plc2(rig)

    def again() -> None:  # a writer that always gets in first
        rig.cluster.edit(rk.SECRET_SYNCS, NS, TRUST, lambda _: None)
        rig.cluster.hooks["patch SecretSync"] = again

    rig.cluster.hooks["patch SecretSync"] = again
    result = rig.apply(plan, max_conflicts=2)
    assert result.outcome == FAILED and result.conflicts == 3 and result.journal_kept
    assert "409 Conflict" in (result.error or "")


def test_a_rebase_whose_changes_no_longer_apply_ends_in_the_conflict_outcome(rig: Rig) -> None:
    plan = _add_plc2(rig)
    # Someone else maps the same file name (to another secret) after we planned.
    theirs = {"sourcePath": "plc-1-der", "targetKey": "plc-2.der"}
    rig.cluster.edit(rk.SECRET_SYNCS, NS, TRUST, lambda s: s["spec"]["secretObject"]["data"].append(theirs))
    result = rig.apply(plan)
    assert result.outcome == CONFLICT and result.journal_kept and result.done == 2
    assert "no longer apply" in (result.error or "") and "plc-2.der" in (result.error or "")
    assert ("plc-1-der", "plc-2.der") in rig.mappings()
    [pending] = pending_applies(rig.state_dir)
    assert pending.id == result.journal_id
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "conflict"]
    # Ours is not half-done silently: rolled back, their mapping stays.
    rolled = rig.rollback(result.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert rig.vault.value("plc-2-der") is None and "plc-2-der" not in rig.vault.deleted
    assert "plc-2-der" not in rig.spc_names() and ("plc-1-der", "plc-2.der") in rig.mappings()


def test_a_write_of_our_secret_during_the_cluster_steps_is_a_conflict_not_applied(rig: Rig) -> None:
    # Another tool sets the secret after our guard looked, while the SPC and SecretSync are written:
    # the lists would map bytes nobody checked, so the apply must not say "applied".
    plan = _add_plc2(rig)
    rig.cluster.hooks["patch SecretSync"] = lambda: rig.vault.put("plc-2-der", PLC1.der.hex()) and None
    result = rig.apply(plan, wait_timeout=0)
    assert result.outcome == CONFLICT and result.journal_kept and result.done == 3, result
    assert "plc-2-der was written by someone else after this apply wrote it" in (result.error or "")
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "conflict"]
    [pending] = pending_applies(rig.state_dir)
    assert pending.id == result.journal_id


def test_an_overwrite_racing_a_delete_of_its_secret_is_a_conflict_with_nothing_written(rig: Rig) -> None:
    # From the adversarial pass: Key Vault's 409 (the name deleted, or being purged, between our read
    # and our set) ended as "apply failed" (exit 4) with the SDK's long message.
    plan = rig.plan(AddFile("trust", "plc-1.der", PLC2.der, overwrite=True))
    rig.vault.hooks["set"] = lambda: rig.vault.soft_delete("plc-1-der")
    result = rig.apply(plan)
    assert result.outcome == CONFLICT and not result.journal_kept and result.done == 0, result
    assert (result.error or "").startswith("vault secret plc-1-der was deleted by someone else while this")
    assert "nothing was written" in (result.error or "")
    assert pending_applies(rig.state_dir) == []
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "conflict"]


def test_a_failure_after_the_vault_write_keeps_the_journal(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)
    assert "forbidden (403)" in (failed.error or "") and "\n" not in (failed.error or "")
    # Half-done, but not silently: the vault and the SPC have it, the list does not, the journal says so.
    assert rig.vault.value("plc-2-der") == PLC2.der.hex() and "plc-2-der" in rig.spc_names()
    assert "plc-2.der" not in [t for _, t in rig.mappings()]
    [pending] = pending_applies(rig.state_dir)
    assert pending.id == failed.journal_id and pending.done == 2 and "403" in (pending.failed or "")
    states = [r["state"] for r in rig.records(failed.journal_id) if r.get("index") == 2]
    assert states == ["pending", "failed"]
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "failed"]


def test_an_unanswered_write_stays_pending_for_resume_to_judge(rig: Rig) -> None:
    plan = _add_plc2(rig)
    rig.cluster.hooks["patch SecretProviderClass"] = refuse(
        WriteError(f"updating SecretProviderClass {NS}/{SPC}: connection refused", unreachable=True)
    )
    result = rig.apply(plan, wait_timeout=0)
    assert result.outcome == FAILED and result.unreachable and result.journal_kept
    [pending] = pending_applies(rig.state_dir)
    assert pending.done == 1 and pending.uncertain == 1
    assert rig.resume(result.journal_id).outcome == APPLIED


def test_a_failure_before_any_write_leaves_nothing_pending(rig: Rig) -> None:
    plan = _add_plc2(rig)
    before = rig.everything()
    rig.vault.hooks["set"] = refuse(VaultError("writing secret plc-2-der: access denied (403 Forbidden)"))
    result = rig.apply(plan)
    assert result.outcome == NOTHING_DONE and "403" in (result.error or "") and not result.journal_kept
    assert rig.everything() == before
    assert pending_applies(rig.state_dir) == []
    # The write was attempted (refused): its started line, then the end.
    assert [e["outcome"] for e in rig.audit.events()] == ["started", "nothing-done"]


# -- resume ---------------------------------------------------------------------------------------------

KILL_POINTS = [
    "set",
    "set:after",  # the vault write: before it arrives, after it landed
    "patch SecretProviderClass",
    "patch SecretProviderClass:after",
    "patch SecretSync",
    "patch SecretSync:after",
    "get Secret",  # every step done, killed in the sync wait
]


@pytest.mark.parametrize("point", KILL_POINTS)
def test_resume_after_a_kill_at_each_step_finishes_the_plan(rig: Rig, point: str) -> None:
    plan = _add_plc2(rig)
    fake = rig.vault if point.startswith("set") else rig.cluster
    fake.hooks[point] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    assert pending.outcome is None  # no end record: interrupted, not failed
    resumed = rig.resume(pending.id)
    assert resumed.outcome == APPLIED, resumed.error
    assert resumed.sync is not None and resumed.sync.ok
    # Finished exactly once: one version written, one object, one mapping, the file on the edge.
    assert [s.value for _, s in rig.vault.live["plc-2-der"]] == [PLC2.der.hex()]
    assert rig.spc_names().count("plc-2-der") == 1
    assert rig.mappings().count(("plc-2-der", "plc-2.der")) == 1
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der
    assert pending_applies(rig.state_dir) == []
    assert rig.records(pending.id)[-1]["outcome"] == "applied"


def test_runs_killed_after_they_may_have_written_have_left_a_started_line(rig: Rig) -> None:
    # From the adversarial pass: 33 of 101 SIGKILLed applies that had written left no audit line; the
    # final line never came. The started line is fsync'd before the first write of each run.
    plan = _add_plc2(rig)
    info = audit_info_for(plan, action="trust add", context="site-ctx")
    rig.vault.hooks["set:after"] = kill  # the vault write landed, the process died
    with pytest.raises(Killed):
        rig.apply(plan, audit_info=info)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    [started] = rig.audit.events()
    assert (started["action"], started["outcome"], started["context"]) == ("trust add", "started", "site-ctx")
    assert started["sha256"] == list(info.thumbprints) == [hashlib.sha256(PLC2.der).hexdigest().upper()]
    assert (started["vault_secrets"], started["entries"]) == (["plc-2-der"], ["trust/plc-2.der"])
    assert started["plan_id"] == plan.plan_id and started["extra"] == {"journal": pending.id}
    # A resume and a rollback killed at their first write leave theirs, with the journal's entries.
    rig.cluster.hooks["patch SecretProviderClass"] = kill
    with pytest.raises(Killed):
        rig.resume(pending.id)
    rig.store.died()
    # The SPC patch never happened, so the rollback's first write is the vault secret's delete.
    rig.vault.hooks["delete"] = kill
    with pytest.raises(Killed):
        rig.rollback(pending.id)
    rig.store.died()
    events = list(rig.audit.events())
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("trust add", "started"),
        ("journal resume", "started"),
        ("journal rollback", "started"),
    ]
    for event in events[1:]:
        assert (event["vault_secrets"], event["entries"]) == (["plc-2-der"], ["trust/plc-2.der"])
        assert event["plan_id"] == plan.plan_id and event["extra"] == {"journal": pending.id}
    # Finished, the rollback writes its final line after its started one.
    assert rig.rollback(pending.id).outcome == ROLLED_BACK
    assert [e["outcome"] for e in rig.audit.events()][-2:] == ["started", "rolled-back"]


def test_a_resume_with_nothing_left_to_write_leaves_one_line(rig: Rig) -> None:
    plan = _add_plc2(rig)
    rig.cluster.hooks["get Secret"] = kill  # every step done, killed in the sync wait
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    assert rig.resume(pending.id).outcome == APPLIED
    assert [(e["action"], e["outcome"]) for e in rig.audit.events()] == [
        ("apply", "started"),
        ("journal resume", "applied"),
    ]


def test_a_409_during_a_resume_applies_the_delta_again_to_the_current_object(tmp_path: Path) -> None:
    # Found by the adversarial pass: a resume failed on the first 409 where an apply re-plans.
    rig = Rig(plan_site(trust={"plc-1.der": PLC1.der, "plc-3.der": PLC3.der}), tmp_path)
    failed = _failed_at_the_secret_sync(rig)
    rig.events.clear()
    rig.cluster.hooks["patch SecretSync"] = lambda: rig.cluster.edit(
        rk.SECRET_SYNCS, NS, TRUST, _drop_mapping("plc-3.der")
    )
    resumed = rig.resume(failed.journal_id)
    assert resumed.outcome == APPLIED, resumed.error
    assert resumed.sync is not None and resumed.sync.ok, resumed.sync.describe() if resumed.sync else None
    assert "conflict" in rig.phases() and rig.cluster.calls.count("patch SecretSync") == 1 + 2
    # Ours made, theirs kept.
    assert ("plc-2-der", "plc-2.der") in rig.mappings() and "plc-3.der" not in [t for _, t in rig.mappings()]
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der


def test_a_409_that_keeps_coming_fails_the_resume_with_the_journal_kept(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)

    def again() -> None:  # a writer that always gets in first
        rig.cluster.edit(rk.SECRET_SYNCS, NS, TRUST, lambda _: None)
        rig.cluster.hooks["patch SecretSync"] = again

    rig.cluster.hooks["patch SecretSync"] = again
    resumed = rig.resume(failed.journal_id)
    assert resumed.outcome == FAILED and resumed.journal_kept and "409 Conflict" in (resumed.error or "")
    assert rig.cluster.calls.count("patch SecretSync") == 1 + 1 + MAX_CONFLICT_RETRIES  # apply, resume
    [pending] = pending_applies(rig.state_dir)
    assert pending.id == failed.journal_id


def test_a_409_during_a_rollback_undoes_again_on_the_current_object(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)
    rig.vault.put("someone-else-der", STRANGER.der.hex())
    rig.cluster.hooks["patch SecretProviderClass"] = lambda: rig.cluster.edit(
        rk.SECRET_PROVIDER_CLASSES, NS, SPC, _add_object("someone-else-der")
    )
    rolled = rig.rollback(failed.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert "plc-2-der" not in rig.spc_names() and "someone-else-der" in rig.spc_names()
    assert rig.vault.value("plc-2-der") is None


def test_resume_refuses_while_the_secret_is_soft_deleted_then_redoes_it_once_purged(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)
    rig.vault.soft_delete("plc-2-der")  # by hand, in the portal
    before = rig.everything()
    refused = rig.resume(failed.journal_id)
    # Refused, not failed (exit 1, not 4): the user must recover or purge it first.
    assert refused.outcome == REFUSED and refused.journal_kept
    assert "deleted since and is recoverable" in (refused.error or "")
    assert [e["outcome"] for e in rig.audit.events()][-1] == "refused"
    assert pending_applies(rig.state_dir)[0].id == failed.journal_id
    assert rig.everything() == before  # judged before writing anything
    rig.vault.purge("plc-2-der")
    rig.events.clear()
    resumed = rig.resume(failed.journal_id)
    assert resumed.outcome == APPLIED, resumed.error
    starts = [e.message for e in rig.events if e.phase == "start"]
    assert starts[0].startswith("redo: ") and len(starts) == 2  # the vault write again, then the sync
    assert rig.vault.value("plc-2-der") == PLC2.der.hex()
    assert rig.cluster.synced(NS, TRUST)["plc-2.der"] == PLC2.der


def test_resume_does_not_overwrite_a_value_someone_else_wrote_since(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)
    rig.vault.put("plc-2-der", STRANGER.der.hex())
    before = rig.everything()
    refused = rig.resume(failed.journal_id)
    assert refused.outcome == CONFLICT and refused.journal_kept
    assert "no longer holds the value this apply wrote" in (refused.error or "")
    assert rig.everything() == before


def test_resume_redoes_a_cluster_edit_that_was_undone_by_hand(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)

    def drop_ours(spc: dict[str, Any]) -> None:
        objects = [o for o in parse_spc(spc).objects if o.object_name != "plc-2-der"]
        spc["spec"]["parameters"]["objects"] = serialize_objects(objects)

    rig.cluster.edit(rk.SECRET_PROVIDER_CLASSES, NS, SPC, drop_ours)
    resumed = rig.resume(failed.journal_id)
    assert resumed.outcome == APPLIED, resumed.error
    assert "plc-2-der" in rig.spc_names() and ("plc-2-der", "plc-2.der") in rig.mappings()


# -- rollback -------------------------------------------------------------------------------------------


def test_rollback_undoes_newest_first(rig: Rig) -> None:
    before = rig.everything()
    failed = _failed_at_the_secret_sync(rig)
    rig.events.clear()
    rolled = rig.rollback(failed.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert [s.kind for s in rolled.steps] == ["spc-update", "vault-write"]
    assert [e.target for e in rig.events if e.phase == "start"] == [
        f"SecretProviderClass/{NS}/{SPC}",
        "vault/plc-2-der",
    ]
    # Created then purged: the name is free again; the SPC holds what it held.
    assert rig.vault.value("plc-2-der") is None and "plc-2-der" not in rig.vault.deleted
    cluster_before, _ = before
    spc_key = (rk.SECRET_PROVIDER_CLASSES.key, NS, SPC)
    assert parse_spc(rig.cluster.objects[spc_key]).objects == parse_spc(cluster_before[spc_key]).objects
    assert pending_applies(rig.state_dir) == []
    states = [r["state"] for r in rig.records(failed.journal_id) if r["record"] == "step"]
    assert states[-2:] == ["rolled-back", "rolled-back"]


def test_rollback_progress_counts_its_own_steps(rig: Rig) -> None:
    # From the adversarial pass: a rollback of 2 steps printed [3/4] and [4/4], counting the apply's.
    failed = _failed_at_the_secret_sync(rig)
    rig.events.clear()
    assert rig.rollback(failed.journal_id).outcome == ROLLED_BACK
    steps = [(e.phase, e.index, e.total) for e in rig.events if e.index is not None]
    assert steps == [("start", 0, 2), ("done", 0, 2), ("start", 1, 2), ("done", 1, 2)]


def test_rollback_leaves_a_value_someone_else_wrote_alone(rig: Rig) -> None:
    failed = _failed_at_the_secret_sync(rig)
    rig.vault.put("plc-2-der", STRANGER.der.hex())
    rolled = rig.rollback(failed.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert {"target": "vault/plc-2-der", "vault": "unchanged"} in rolled.details
    assert rig.vault.value("plc-2-der") == STRANGER.der.hex()
    assert "plc-2-der" not in rig.spc_names()


def _map(target: str, source: str) -> Callable[[dict[str, Any]], None]:
    def change(sync: dict[str, Any]) -> None:
        data = [d for d in sync["spec"]["secretObject"]["data"] if d["targetKey"] != target]
        sync["spec"]["secretObject"]["data"] = [*data, {"sourcePath": source, "targetKey": target}]

    return change


def test_rollback_keeps_what_another_apply_of_the_same_file_name_now_uses(rig: Rig) -> None:
    # Ours was stopped after the vault write and the SPC grow; then someone added the same file name
    # with --overwrite: their value in plc-2-der, their mapping plc-2.der -> plc-2-der, and they found
    # our SPC object already there. Undoing ours must not take their entry apart.
    failed = _failed_at_the_secret_sync(rig)
    rig.vault.put("plc-2-der", PLC3.der.hex())
    rig.cluster.edit(rk.SECRET_SYNCS, NS, TRUST, _map("plc-2.der", "plc-2-der"))
    rolled = rig.rollback(failed.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert "plc-2-der" in rig.spc_names() and ("plc-2-der", "plc-2.der") in rig.mappings()
    assert rig.vault.value("plc-2-der") == PLC3.der.hex()
    spc_detail = next(d for d in rolled.details if d["target"] == f"SecretProviderClass/{NS}/{SPC}")
    assert spc_detail.get("kept") == ["plc-2-der"]


def test_rollback_of_a_mapped_apply_keeps_the_mapping_whose_secret_another_writer_took(rig: Rig) -> None:
    # Ours mapped plc-2.der and was stopped in its sync wait; another apply then overwrote plc-2-der
    # with its own file for the same entry: the mapping serves their file now.
    plan = _add_plc2(rig)
    rig.cluster.hooks["get SecretSync"] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    rig.vault.put("plc-2-der", PLC3.der.hex())
    journal_id = rig.store.held[0].id
    rolled = rig.rollback(journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert ("plc-2-der", "plc-2.der") in rig.mappings() and "plc-2-der" in rig.spc_names()
    assert rig.vault.value("plc-2-der") == PLC3.der.hex()


def test_rollback_does_not_purge_a_secret_it_created_that_another_entry_maps_now(rig: Rig) -> None:
    # A racer's apply mapped the secret ours created (its guard ran before ours wrote): purging it
    # would leave their applied entry mapping nothing.
    failed = _failed_at_the_secret_sync(rig)
    rig.cluster.edit(rk.SECRET_SYNCS, NS, TRUST, _map("plc-2-racer.der", "plc-2-der"))
    rolled = rig.rollback(failed.journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert rig.vault.value("plc-2-der") == PLC2.der.hex()
    vault_detail = next(d for d in rolled.details if d["target"] == "vault/plc-2-der")
    assert vault_detail["vault"] == "kept" and vault_detail["mapped_by"] == [f"{TRUST}/plc-2-racer.der"]
    assert "plc-2-der" in rig.spc_names()


def _overwrite_killed_in_its_sync_wait(rig: Rig) -> str:
    """An overwrite of plc-1.der with new bytes, synced to the edge, killed in its sync wait."""
    plan = rig.plan(AddFile("trust", "plc-1.der", PLC2.der, overwrite=True))
    rig.cluster.hooks["get Secret"] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    assert rig.cluster.synced(NS, TRUST)["plc-1.der"] == PLC2.der
    [pending] = pending_applies(rig.state_dir)
    return pending.id


def test_rollback_of_an_overwrite_forces_a_sync_and_expects_the_restored_bytes(rig: Rig) -> None:
    journal_id = _overwrite_killed_in_its_sync_wait(rig)
    rig.events.clear()
    rolled = rig.rollback(journal_id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    # Not only the vault: a sync was forced, and the wait saw the old file on the edge again.
    assert rig.vault.value("plc-1-der") == PLC1.der.hex()
    token = rig.cluster.objects[(rk.SECRET_SYNCS.key, NS, TRUST)]["spec"]["forceSynchronization"]
    assert "-rollback-" in token
    assert rolled.sync is not None and rolled.sync.ok and "synced" in rig.phases()
    assert rig.cluster.synced(NS, TRUST)["plc-1.der"] == PLC1.der


def test_a_resume_killed_after_the_vault_write_keeps_the_value_from_before_the_apply(rig: Rig) -> None:
    # The resume took a fresh before-image of the secret, which held the apply's own value by then:
    # a rollback after it "restored" the new certificate and kept the old one lost.
    plan = rig.plan(AddFile("trust", "plc-1.der", PLC2.der, overwrite=True))
    rig.vault.hooks["set:after"] = kill  # the overwrite landed, the process died
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    rig.cluster.hooks["patch SecretSync"] = kill  # the resume dies too, after re-judging the vault step
    with pytest.raises(Killed):
        rig.resume(pending.id)
    rig.store.died()
    rolled = rig.rollback(pending.id)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert rig.vault.value("plc-1-der") == PLC1.der.hex()
    assert rig.cluster.synced(NS, TRUST)["plc-1.der"] == PLC1.der


def test_a_resumed_add_rolled_back_leaves_no_secret_behind(rig: Rig) -> None:
    plan = _add_plc2(rig)
    rig.vault.hooks["set:after"] = kill
    with pytest.raises(Killed):
        rig.apply(plan)
    rig.store.died()
    [pending] = pending_applies(rig.state_dir)
    rig.cluster.hooks["patch SecretProviderClass"] = kill
    with pytest.raises(Killed):
        rig.resume(pending.id)
    rig.store.died()
    assert rig.rollback(pending.id).outcome == ROLLED_BACK
    assert rig.vault.value("plc-2-der") is None and "plc-2-der" not in rig.spc_names()


def test_rollback_of_an_overwrite_waits_for_the_restored_bytes_not_just_the_key(rig: Rig) -> None:
    journal_id = _overwrite_killed_in_its_sync_wait(rig)
    rig.cluster.controller = False  # the edge keeps serving the replacement
    # One poll: the wait is bounded, and what it reports is the point.
    rolled = rig.rollback(journal_id, wait_timeout=0.01)
    assert rolled.outcome == ROLLED_BACK and rolled.sync is not None and not rolled.sync.ok
    assert "plc-1.der is not the new file yet" in rolled.sync.describe()
