"""Journal records: JSON round trips, reading a journal back, "did it land", and rollback of real plans.

The rollback tests run real plans step by step against a small in-memory site (a dict vault, one SPC
objects string, SecretSync mappings, resourceVersions with preconditions), journaling as the executor
must, then undo them with :func:`rollback_steps` and compare the whole site with how it started.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

import pytest

from tests import certgen as cg
from tests.plansite import (
    NOW,
    PLC1,
    PLC2,
    PLC3,
    SITE_CA,
    SPC_VERSION,
    SYNC_VERSIONS,
    build,
    plan_for,
    plan_site,
)
from tui.core.changes import AddFile, RemoveEntry
from tui.core.journal_records import (
    ClusterBefore,
    EndRecord,
    JournalFormatError,
    PlanRecord,
    Record,
    RollbackError,
    StepRecord,
    StepState,
    VaultBefore,
    record_from_json,
    record_to_json,
    rollback_steps,
    spc_edit_landed,
    summarize,
    sync_edit_landed,
    vault_before,
    vault_delete_landed,
    vault_write_landed,
)
from tui.core.plan import Plan
from tui.core.plan_ops import Operation, SpcEdit, Step, StepKind, SyncEdit, VaultDelete, VaultWrite
from tui.core.snapshot import VaultSecret
from tui.core.spc import parse_objects

HEX = MappingProxyType({"file-encoding": "hex"})


def roundtrip(record: Record) -> Record:
    return record_from_json(json.loads(json.dumps(record_to_json(record))))


# --- Records and JSON -----


def test_every_record_round_trips_through_json() -> None:
    plan = plan_for(
        plan_site(), AddFile("trust", "plc-2.der", PLC2.der), RemoveEntry("trust", "plc-1.der", purge=True)
    )
    header = PlanRecord(plan.plan_id, 0, NOW, plan.namespace, plan.steps, plan.changes.describe(), "kind-aio")
    assert roundtrip(header) == header
    vault = VaultBefore(
        "plc-1-der",
        True,
        PLC1.der.hex(),
        "application/pkix-cert",
        HEX,
        PLC1.cert.not_valid_after_utc,
        True,
        "0123abcd",
    )
    cluster = ClusterBefore(
        "SecretSync",
        "ns",
        "aio-opc-ua-broker-trust-list",
        True,
        "601",
        None,
        (("plc-1-der", "plc-1.der"),),
        "opc-ua-connector",
        "aio-ssc-sa",
        "Opaque",
        "tok",
    )
    for step, before in zip(plan.steps, [vault, cluster, cluster, vault], strict=False):
        pending = StepRecord(
            plan.plan_id, 0, step.index, step.kind, step.target, StepState.PENDING, NOW, before, step.op
        )
        assert roundtrip(pending) == pending
    done = StepRecord(
        plan.plan_id,
        2,
        3,
        StepKind.SPC_UPDATE,
        "SecretProviderClass/ns/x",
        StepState.DONE,
        NOW + timedelta(seconds=2),
        resource_version="9",
    )
    assert roundtrip(done) == done
    failed = StepRecord(
        plan.plan_id,
        0,
        1,
        StepKind.SYNC_UPDATE,
        "SecretSync/ns/x",
        StepState.FAILED,
        NOW,
        message="409 Conflict",
    )
    assert roundtrip(failed) == failed
    end = EndRecord(plan.plan_id, "rolled-back", NOW, "user asked")
    assert roundtrip(end) == end


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"record": "end", "plan_id": "p", "at": "2025-01-01T00:00:00Z"},
            "journal record: missing field 'outcome'",
        ),
        (
            {"record": "end", "plan_id": "p", "outcome": "maybe", "at": "2025-01-01T00:00:00Z"},
            "journal record: unknown outcome 'maybe'",
        ),
        (
            {"record": "end", "plan_id": "p", "outcome": "applied", "at": "yesterday"},
            "journal record: field 'at' is not a time ('yesterday')",
        ),
        ({"record": "gossip"}, "journal record: unknown record type 'gossip'"),
        ({"record": "plan", "format": 99}, "journal record: format 99 is newer than this aio-certs (1)"),
        (
            {
                "record": "step",
                "plan_id": "p",
                "index": 0,
                "kind": "vault-bake",
                "target": "t",
                "state": "done",
                "at": "2025-01-01T00:00:00Z",
            },
            "journal record (step): malformed (ValueError: 'vault-bake' is not a valid StepKind)",
        ),
        ([], "journal record: not a JSON object"),
    ],
)
def test_bad_records_are_one_line_errors(data: object, message: str) -> None:
    with pytest.raises(JournalFormatError) as info:
        record_from_json(data)  # type: ignore[arg-type]
    assert str(info.value) == message
    assert "\n" not in str(info.value)


def test_vault_before_images_never_keep_what_is_not_a_certificate() -> None:
    assert vault_before("x", None) == VaultBefore("x", existed=False)
    cert = VaultSecret("plc-1-der", PLC1.der.hex(), "application/pkix-cert", HEX)
    image = vault_before("plc-1-der", cert, version="v1")
    assert (image.existed, image.value, image.version, image.restorable) == (True, PLC1.der.hex(), "v1", True)
    key = VaultSecret("k", PLC1.key_pem.hex(), None, HEX)
    password = VaultSecret("p", "hunter2", None)
    for secret in (key, password):
        image = vault_before(secret.name, secret)
        assert image.existed and image.value is None and not image.restorable
        assert secret.value not in json.dumps(image.to_json())


# --- Reading a journal back -----


def _step(plan_id: str, rev: int, index: int, state: StepState, **kwargs: object) -> StepRecord:
    return StepRecord(plan_id, rev, index, StepKind.VAULT_WRITE, f"vault/s{index}", state, NOW, **kwargs)  # type: ignore[arg-type]


def test_summary_of_an_interrupted_apply() -> None:
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    old = PlanRecord("old", 0, NOW, "ns", ())
    header = PlanRecord(plan.plan_id, 0, NOW, plan.namespace, plan.steps)
    before = VaultBefore("plc-2-der", existed=False)
    records: list[Record] = [
        old,
        EndRecord("old", "applied", NOW),
        header,
        _step(plan.plan_id, 0, 0, StepState.PENDING, before=before, op=plan.steps[0].op),
        _step(plan.plan_id, 0, 0, StepState.DONE),
        _step(plan.plan_id, 0, 1, StepState.PENDING, op=plan.steps[1].op),
    ]
    summary = summarize(records)
    assert summary.plan == header and summary.interrupted and summary.end is None
    (done,) = summary.done_steps
    assert (done.index, done.before, done.op) == (
        0,
        before,
        plan.steps[0].op,
    )  # joined from its pending record
    assert [r.index for r in summary.uncertain] == [1]
    assert [s.index for s in summary.remaining()] == [1, 2]
    finished = summarize(
        [
            *records,
            _step(plan.plan_id, 0, 1, StepState.DONE),
            EndRecord(plan.plan_id, "failed", NOW, "gave up"),
        ]
    )
    assert not finished.interrupted and finished.uncertain == ()
    assert summarize([]).plan is None and not summarize([]).interrupted and summarize([]).remaining() == ()


def test_summary_follows_rebased_revisions() -> None:
    first = PlanRecord("p", 0, NOW, "ns", ())
    second = PlanRecord("p", 1, NOW, "ns", (Step(0, SpcEdit("ns", "spc", "9", None, "x")),))
    summary = summarize([first, _step("p", 0, 0, StepState.DONE), second])
    assert summary.plan == second and summary.plans == (first, second)
    assert [r.key for r in summary.done_steps] == [(0, 0)]
    assert [s.index for s in summary.remaining()] == [0]


def test_landed_checks_for_steps_left_pending() -> None:
    write = VaultWrite("plc-2-der", "ABCD", "application/pkix-cert")
    assert vault_write_landed(write, VaultSecret("plc-2-der", "abcd\n", None))
    assert not vault_write_landed(write, VaultSecret("plc-2-der", "abce", None))
    assert not vault_write_landed(write, None)
    assert vault_delete_landed(VaultDelete("s"), None) and not vault_delete_landed(
        VaultDelete("s"), write and VaultSecret("s", "00", None)
    )
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    assert plan.spc_edit is not None
    assert spc_edit_landed(plan.spc_edit, plan.spc_edit.after)
    assert not spc_edit_landed(plan.spc_edit, plan.spc_edit.before)
    assert not spc_edit_landed(plan.spc_edit, "array: [broken")
    (sync,) = plan.sync_edits
    assert sync_edit_landed(sync, True, sync.after) and not sync_edit_landed(sync, True, sync.before)
    delete = SyncEdit("ns", "s", "trust", "1", sync.after, (), "delete", "spc")
    assert sync_edit_landed(delete, False, ()) and not sync_edit_landed(delete, True, sync.after)
    forced = SyncEdit(
        "ns", "s", "trust", "1", sync.after, sync.after, "update", "spc", force_synchronization="t2"
    )
    assert sync_edit_landed(forced, True, sync.after, "t2") and not sync_edit_landed(
        forced, True, sync.after, "t1"
    )


# --- Apply and roll back real plans against an in-memory site -----


class Conflict(Exception):
    """A resourceVersion precondition failed."""


@dataclass
class World:
    """The parts of a site a plan touches, with resourceVersions that move on every write."""

    vault: dict[str, VaultSecret]
    spc_objects: str | None
    spc_version: int
    syncs: dict[str, tuple[tuple[str, str], ...]]
    sync_versions: dict[str, int]
    force: dict[str, str | None] = field(default_factory=dict)
    next_version: int = 1000

    def snapshot(self) -> tuple[object, ...]:
        """Everything that must be back as it was after a rollback (not the resourceVersions)."""
        vault = {
            k: (v.value, v.content_type, dict(v.tags), v.expires_on) for k, v in sorted(self.vault.items())
        }
        return vault, parse_objects(self.spc_objects), dict(sorted(self.syncs.items()))

    def bump(self) -> int:
        self.next_version += 1
        return self.next_version

    def before(self, op: Operation) -> VaultBefore | ClusterBefore:
        if isinstance(op, VaultWrite | VaultDelete):
            return vault_before(op.secret_name, self.vault.get(op.secret_name.lower()))
        if isinstance(op, SpcEdit):
            return ClusterBefore(
                "SecretProviderClass", op.namespace, op.name, True, str(self.spc_version), self.spc_objects
            )
        present = op.name in self.syncs
        return ClusterBefore(
            "SecretSync",
            op.namespace,
            op.name,
            present,
            str(self.sync_versions.get(op.name)) if present else None,
            None,
            self.syncs.get(op.name, ()),
            op.spc_name,
            op.service_account,
            op.secret_type,
            self.force.get(op.name),
        )

    def apply(self, op: Operation, previous_spc: list[int]) -> str | None:
        """Perform one operation with the preconditions a real server would check; the new version."""
        if isinstance(op, VaultWrite):
            self.vault[op.secret_name.lower()] = VaultSecret(
                op.secret_name,
                op.value,
                op.content_type,
                MappingProxyType(dict(op.tags)),
                expires_on=op.expires_on,
            )
            return None
        if isinstance(op, VaultDelete):
            del self.vault[op.secret_name.lower()]
            return None
        if isinstance(op, SpcEdit):
            expected = op.resource_version if op.resource_version is not None else str(previous_spc[-1])
            if expected != str(self.spc_version):
                raise Conflict(f"SPC at {self.spc_version}, expected {expected}")
            self.spc_objects = op.after
            self.spc_version = self.bump()
            previous_spc.append(self.spc_version)
            return str(self.spc_version)
        if op.action == "create":
            assert op.name not in self.syncs
        elif str(self.sync_versions[op.name]) != op.resource_version:
            raise Conflict(f"{op.name} at {self.sync_versions[op.name]}, expected {op.resource_version}")
        if op.action == "delete":
            del self.syncs[op.name]
            return None
        self.syncs[op.name] = op.after
        self.force[op.name] = op.force_synchronization or self.force.get(op.name)
        self.sync_versions[op.name] = self.bump()
        return str(self.sync_versions[op.name])


def world_of(site_kwargs: dict[str, object]) -> World:
    built = build(plan_site(**site_kwargs))  # type: ignore[arg-type]
    spc = next(s for s in built.state.spcs if s.name == built.state.opcua_spc)
    syncs = {s.name: s.mappings for s in built.state.syncs if s.present}
    return World(
        {k.lower(): v for k, v in built.vault.secrets.items()},
        spc.raw_objects,
        int(SPC_VERSION),
        syncs,
        {name: int(v) for name, v in SYNC_VERSIONS.items()},
    )


def execute(world: World, plan: Plan, steps: tuple[Step, ...], stop_after: int | None = None) -> list[Record]:
    """Run steps the write-ahead way; stop (as if killed) after ``stop_after`` steps."""
    records: list[Record] = [PlanRecord(plan.plan_id, plan.revision, NOW, plan.namespace, steps)]
    versions = [world.spc_version]
    for step in steps:
        if stop_after is not None and step.index >= stop_after:
            break
        records.append(
            StepRecord(
                plan.plan_id,
                plan.revision,
                step.index,
                step.kind,
                step.target,
                StepState.PENDING,
                NOW,
                world.before(step.op),
                step.op,
            )
        )
        version = world.apply(step.op, versions)
        records.append(
            StepRecord(
                plan.plan_id,
                plan.revision,
                step.index,
                step.kind,
                step.target,
                StepState.DONE,
                NOW,
                resource_version=version,
            )
        )
    return records


PLANS = {
    "add-create-overwrite-purge": (
        {"trust": {"plc-1.der": PLC1.der, "plc-2.der": PLC2.der}, "issuer": {}},
        [
            RemoveEntry("trust", "plc-1.der", purge=True),
            AddFile("trust", "plc-2.der", PLC3.der, overwrite=True),
            AddFile("issuer", "site-ca.crt", SITE_CA.pem),
        ],
    ),
    "remove-last-and-swap-secret": (
        {},
        [
            RemoveEntry("issuer", "site-ca.crt", purge=True),
            AddFile("trust", "plc-1.der", PLC2.der, secret_name="plc-1-v2", overwrite=True),
        ],
    ),
    "crl-and-ca": (
        {"issuer": {}},
        [
            AddFile("issuer", "line-ca.crl", cg.make_crl(LINE := cg.make_ca("Line CA"), this_update=NOW).der),
            AddFile("issuer", "line-ca.crt", LINE.pem),
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(PLANS))
def test_a_whole_apply_rolls_back_to_where_it_started(name: str) -> None:
    site_kwargs, changes = PLANS[name]
    world = world_of(site_kwargs)
    start = world.snapshot()
    plan = plan_for(plan_site(**site_kwargs), *changes)  # type: ignore[arg-type]
    assert plan.applicable, plan.problems
    records = execute(world, plan, plan.steps)
    assert world.snapshot() != start
    summary = summarize(records)
    assert summary.interrupted and summary.remaining() == ()
    undo = rollback_steps(plan, summary.done_steps)
    assert [s.index for s in undo] == list(range(len(plan.steps)))
    versions = [world.spc_version]
    for step in undo:
        world.apply(step.op, versions)
    assert world.snapshot() == start


def test_a_killed_apply_rolls_back_from_its_journal_alone() -> None:
    site_kwargs, changes = PLANS["add-create-overwrite-purge"]
    world = world_of(site_kwargs)
    start = world.snapshot()
    plan = plan_for(plan_site(**site_kwargs), *changes)  # type: ignore[arg-type]
    # Killed between the vault writes and the SecretSync edits; only the journal survives (as JSON lines).
    records = execute(world, plan, plan.steps, stop_after=3)
    lines = [json.dumps(record_to_json(r)) for r in records]
    summary = summarize(record_from_json(json.loads(line)) for line in lines)
    assert summary.interrupted
    assert [r.kind for r in summary.done_steps] == [
        StepKind.VAULT_WRITE,
        StepKind.VAULT_WRITE,
        StepKind.SPC_UPDATE,
    ]
    undo = rollback_steps(None, summary.done_steps)
    assert [s.kind for s in undo] == [StepKind.SPC_UPDATE, StepKind.VAULT_DELETE, StepKind.VAULT_WRITE]
    versions = [world.spc_version]
    for step in undo:
        world.apply(step.op, versions)
    assert world.snapshot() == start


def test_rollback_refuses_to_overwrite_a_later_change() -> None:
    world = world_of({})
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    summary = summarize(execute(world, plan, plan.steps))
    world.syncs["aio-opc-ua-broker-trust-list"] += (("theirs", "theirs.der"),)
    world.sync_versions["aio-opc-ua-broker-trust-list"] = world.bump()  # someone edited after us
    undo = rollback_steps(plan, summary.done_steps)
    with pytest.raises(Conflict):
        world.apply(undo[0].op, [world.spc_version])


def test_rollback_needs_what_it_restores() -> None:
    write = VaultWrite("db", "00", "application/pkix-cert")
    unknown = StepRecord(
        "p",
        0,
        0,
        StepKind.VAULT_WRITE,
        "vault/db",
        StepState.DONE,
        NOW,
        before=VaultBefore("db", existed=True),
        op=write,
    )
    with pytest.raises(RollbackError, match=r"^step 0 \(vault/db\): the previous value was not recorded"):
        rollback_steps(None, [unknown])
    no_image = StepRecord("p", 0, 0, StepKind.VAULT_WRITE, "vault/db", StepState.DONE, NOW, op=write)
    with pytest.raises(RollbackError, match="no before-image"):
        rollback_steps(None, [no_image])
    no_op = StepRecord("p", 3, 0, StepKind.VAULT_WRITE, "vault/db", StepState.DONE, NOW)
    with pytest.raises(RollbackError, match="its operation is not known"):
        rollback_steps(None, [no_op])
