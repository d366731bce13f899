"""Journal records: JSON round trips, before-images, and reading a journal back into a summary.

Resuming and rolling back an apply is tui/ops' job (it undoes each step against the objects as they
are now); its tests are tests/unit/test_ops_deltas.py and tests/integration/test_changes_*.py.
"""

from __future__ import annotations

import json
from datetime import timedelta
from types import MappingProxyType

import pytest

from tests.plansite import (
    NOW,
    PLC1,
    PLC2,
    plan_for,
    plan_site,
)
from tui.core.changes.changeset import AddFile, RemoveEntry
from tui.core.changes.journal import (
    ClusterBefore,
    EndRecord,
    JournalFormatError,
    PlanRecord,
    Record,
    StepRecord,
    StepState,
    VaultBefore,
    record_from_json,
    record_to_json,
    summarize,
    vault_before,
)
from tui.core.changes.operations import SpcEdit, Step, StepKind
from tui.core.model.snapshot import VaultSecret

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
        ({"record": "plan", "format": 99}, "journal record: format 99 is newer than this aio-certs (2)"),
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


def test_arm_steps_and_their_before_images_round_trip_in_format_2() -> None:
    from tui.core.changes.journal import ArmBefore
    from tui.core.changes.operations import ArmTarget, SyncEdit
    from tui.core.model.arm import Owner

    target = ArmTarget(
        "/subscriptions/s/resourceGroups/g/providers/x/secretSyncs/t", '"7"', "westeurope", "cl"
    )
    op = SyncEdit(
        "ns", "t", "trust", None, (), (("a-der", "a.der"),), "create", "spc", owner=Owner.ARM, arm=target
    )
    header = PlanRecord("p", 0, NOW, "ns", (Step(0, op),))
    assert roundtrip(header) == header and record_to_json(header)["format"] == 2
    image = ArmBefore("secretSyncs", "t", target.resource_id, True, '"7"', {"location": "westeurope"})
    pending = StepRecord(
        "p", 0, 0, StepKind.SYNC_CREATE, "ARM SecretSync/t", StepState.PENDING, NOW, image, op
    )
    assert roundtrip(pending) == pending and record_to_json(pending)["format"] == 2
    # Cluster-only records keep format 1, which earlier versions read; older ops read back as cluster edits.
    plan = plan_for(plan_site(), AddFile("trust", "plc-2.der", PLC2.der))
    plain = PlanRecord(plan.plan_id, 0, NOW, plan.namespace, plan.steps)
    assert record_to_json(plain)["format"] == 1
    old = {k: v for k, v in op.to_json().items() if k not in ("owner", "arm")}
    assert SyncEdit.from_json(old).arm is None and SyncEdit.from_json(old).owner is Owner.CLUSTER
