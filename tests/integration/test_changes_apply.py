"""The apply engine in process, through the real kubernetes client and SecretClient against the demo.

Faults are injected where a real site produces them: a concurrent edit between plan and apply (409),
Key Vault throttling (429 with Retry-After), a write the API server refuses (403) part way through.
The journal must let every interrupted apply be resumed or rolled back, and nothing may be half-done
silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kubernetes import config as k8s_config

from tests import certgen
from tests.integration.changes_support import (
    NS,
    SPC,
    TRUST_SYNC,
    run_cli,
    running_demo,
    site_snapshot,
    spc_object_names,
    sync_mappings,
    synced_bytes,
)
from tui.core.changes.changeset import AddFile, ChangeSet
from tui.core.clock import SystemClock
from tui.core.model import resources as rk
from tui.core.model.settings import ModelSettings
from tui.core.model.spc import cli_object, parse_spc, serialize_objects
from tui.demo.environment import DemoEnvironment
from tui.ops.apply import APPLIED, CONFLICT, FAILED, NOTHING_DONE, StepEvent
from tui.ops.journal import pending_applies
from tui.ops.resume import ROLLED_BACK
from tui.ops.runner import ChangeSession
from tui.vault.client import make_secret_client

WAIT = 20.0


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    # The cluster write path: lists on the cluster alone (ARM-owned ones: test_changes_arm.py).
    with running_demo(cluster_only=True) as env:
        yield env


@pytest.fixture
def session(demo: DemoEnvironment, tmp_path: Path) -> Iterator[ChangeSession]:
    api_client = k8s_config.new_client_from_config(config_file=str(demo.kubeconfig_path))
    # Few retries, quick backoff: the tests inject throttling and want it survived, not waited out.
    vault = make_secret_client(
        demo.vault_url,
        auth="demo",
        ca_bundle=str(demo.vault_ca_path),
        retry_total=5,
        retry_backoff_factor=0.05,
        retry_backoff_max=0.5,
    )
    try:
        yield ChangeSession(
            api_client,
            ModelSettings(),
            clock=SystemClock(),
            state_dir=tmp_path / "state",
            context="aio-demo",
            vault_client_for=lambda _state: vault,
        )
    finally:
        vault.close()
        api_client.close()


def _leaf(cn: str) -> certgen.Issued:
    now = datetime.now(UTC).replace(microsecond=0)
    return certgen.make_leaf(None, cn, not_before=now - timedelta(days=1), days=365)


def _add(name: str, data: bytes) -> ChangeSet:
    return ChangeSet.of([AddFile("trust", name, data)])


class Events:
    """Collects progress events (what the CLI prints and the TUI shows)."""

    def __init__(self) -> None:
        self.items: list[StepEvent] = []

    def __call__(self, event: StepEvent) -> None:
        self.items.append(event)

    def phases(self) -> list[str]:
        return [e.phase for e in self.items]


def _vault_names(demo: DemoEnvironment) -> set[str]:
    return {k.lower() for k in demo.vault.snapshot()["secrets"]}


def test_apply_journals_every_step_and_confirms_the_sync(
    demo: DemoEnvironment, session: ChangeSession
) -> None:
    leaf = _leaf("plc-apply")
    plan, site = session.plan(_add("plc-apply.der", leaf.der))
    assert plan.applicable, plan.problems
    events = Events()
    result = session.apply(plan, site, action="trust add", progress=events, wait_timeout=WAIT)
    assert result.outcome == APPLIED and result.sync is not None and result.sync.ok
    assert events.phases()[-1] == "synced"
    assert events.phases().count("done") == len(plan.steps)
    # Each step is reported at its own place, 0..n-1 of n, when it starts and when it is done.
    numbered = [(e.phase, e.index, e.total) for e in events.items if e.phase in ("start", "done")]
    total = len(plan.steps)
    assert numbered == [(phase, i, total) for i in range(total) for phase in ("start", "done")]
    assert synced_bytes(demo, TRUST_SYNC)["plc-apply.der"] == leaf.der
    text = session.journals.path_of(result.journal_id).read_text()
    records = [json.loads(line) for line in text.splitlines()]
    kinds = [r["record"] for r in records]
    assert kinds[0] == "plan" and kinds[-1] == "end" and records[-1]["outcome"] == "applied"
    states = [r["state"] for r in records if r["record"] == "step"]
    assert states.count("pending") == states.count("done") == len(plan.steps)
    # Each step is journaled as pending, with its before-image and op, before it is done.
    for index in range(len(plan.steps)):
        where = {r["state"]: i for i, r in enumerate(records) if r.get("index") == index}
        assert where["pending"] < where["done"]
        assert records[where["pending"]]["before"] is not None and records[where["pending"]]["op"]
    vault_image = next(r["before"] for r in records if r.get("kind") == "vault-write" and r["before"])
    assert vault_image == {**vault_image, "secret_name": "plc-apply-der", "existed": False}
    assert pending_applies(session.state_dir) == []


def test_a_concurrent_spc_edit_is_survived_and_kept(demo: DemoEnvironment, session: ChangeSession) -> None:
    leaf, other = _leaf("plc-409"), _leaf("someone-else")
    plan, site = session.plan(_add("plc-409.der", leaf.der))
    # Someone else adds an object (with its secret) between our plan and our apply: our SPC write is 409.
    demo.vault.put_secret(
        "someone-else-der",
        other.der.hex(),
        content_type="application/pkix-cert",
        tags={"file-encoding": "hex"},
    )
    spc = demo.api.get(rk.SECRET_PROVIDER_CLASSES.key, NS, SPC)
    assert spc is not None
    objects = [*parse_spc(spc).objects, cli_object("someone-else-der")]
    spc["spec"]["parameters"]["objects"] = serialize_objects(objects)
    demo.api.put(spc)

    events = Events()
    result = session.apply(plan, site, action="trust add", progress=events, wait_timeout=WAIT)
    assert result.outcome == APPLIED, result.error
    # Ours at least; the sync controller's status writes after our SPC edit may cost another round.
    assert result.conflicts >= 1 and "conflict" in events.phases() and "rebased" in events.phases()
    names = spc_object_names(demo)
    assert "plc-409-der" in names and "someone-else-der" in names  # their edit kept, ours made
    assert ("plc-409-der", "plc-409.der") in sync_mappings(demo, TRUST_SYNC)
    assert result.sync is not None and result.sync.ok


def test_a_concurrent_secret_sync_edit_mid_apply_is_survived(
    demo: DemoEnvironment, session: ChangeSession
) -> None:
    leaf = _leaf("plc-mid")
    plan, site = session.plan(_add("plc-mid.der", leaf.der))
    # Someone removes an entry from the SecretSync after we planned: the SPC write passes, ours is 409.
    sync = demo.api.get(rk.SECRET_SYNCS.key, NS, TRUST_SYNC)
    assert sync is not None
    data = sync["spec"]["secretObject"]["data"]
    sync["spec"]["secretObject"]["data"] = [d for d in data if d["targetKey"] != "plc-paint-shop.der"]
    demo.api.put(sync)

    result = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    assert result.outcome == APPLIED, result.error
    # At least ours; the sync controller's status writes (after our SPC edit) may add another.
    assert result.conflicts >= 1
    targets = [t for _, t in sync_mappings(demo, TRUST_SYNC)]
    assert "plc-mid.der" in targets and "plc-paint-shop.der" not in targets
    assert synced_bytes(demo, TRUST_SYNC)["plc-mid.der"] == leaf.der


def test_vault_throttling_is_survived(demo: DemoEnvironment, session: ChangeSession) -> None:
    leaf = _leaf("plc-429")
    plan, site = session.plan(_add("plc-429.der", leaf.der))
    demo.vault.clear_requests()
    demo.vault.throttle(3, retry_after=0.2)
    result = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    assert result.outcome == APPLIED, result.error
    statuses = [r.status for r in demo.vault.requests()]
    assert statuses.count(429) == 3  # the throttled answers really happened, and were retried
    assert synced_bytes(demo, TRUST_SYNC)["plc-429.der"] == leaf.der


def _fail_at_the_secret_sync(
    demo: DemoEnvironment, session: ChangeSession, leaf: certgen.Issued
) -> tuple[Any, dict[str, Any]]:
    before = site_snapshot(demo)
    plan, site = session.plan(_add("plc-403.der", leaf.der))
    demo.api.forbid(rk.SECRET_SYNCS.key, verbs=("patch", "update"))
    result = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    demo.api.reset_faults()
    assert result.outcome == FAILED
    assert "forbidden (403)" in (result.error or "") and "\n" not in (result.error or "")
    # Half-done, but not silently: the vault and the SPC have it, the list does not, the journal says so.
    assert "plc-403-der" in _vault_names(demo)
    assert "plc-403-der" in spc_object_names(demo)
    assert "plc-403.der" not in [t for _, t in sync_mappings(demo, TRUST_SYNC)]
    [pending] = pending_applies(session.state_dir)
    assert pending.id == result.journal_id and pending.done == 2 and "403" in (pending.failed or "")
    return result, before


def test_a_failed_apply_resumes(demo: DemoEnvironment, session: ChangeSession) -> None:
    leaf = _leaf("plc-403")
    failed, _ = _fail_at_the_secret_sync(demo, session, leaf)
    events = Events()
    resumed = session.resume(failed.journal_id, progress=events, wait_timeout=WAIT)
    assert resumed.outcome == APPLIED, resumed.error
    assert events.phases().count("start") == 1  # only the step that had not been done
    assert synced_bytes(demo, TRUST_SYNC)["plc-403.der"] == leaf.der
    assert pending_applies(session.state_dir) == []
    outcomes = [e["outcome"] for e in session.audit.events()]
    # Each run's started line (written before its first write), then its one final line.
    assert outcomes == ["started", "failed", "started", "applied"]


def test_a_failed_apply_rolls_back(demo: DemoEnvironment, session: ChangeSession) -> None:
    failed, before = _fail_at_the_secret_sync(demo, session, _leaf("plc-403"))
    result = session.rollback(failed.journal_id, progress=Events(), wait_timeout=WAIT)
    assert result.outcome == ROLLED_BACK, result.error
    after = site_snapshot(demo)
    assert after["vault"]["secrets"].keys() == before["vault"]["secrets"].keys()
    assert after["vault"]["deleted"] == {}  # created then purged: the name is free again
    spc_before = parse_spc(
        next(o for o in before["cluster"][rk.SECRET_PROVIDER_CLASSES.key] if o["metadata"]["name"] == SPC)
    )
    spc_now = demo.api.get(rk.SECRET_PROVIDER_CLASSES.key, NS, SPC) or {}
    assert parse_spc(spc_now).objects == spc_before.objects
    sync_before = next(
        o for o in before["cluster"][rk.SECRET_SYNCS.key] if o["metadata"]["name"] == TRUST_SYNC
    )
    assert demo.api.get(rk.SECRET_SYNCS.key, NS, TRUST_SYNC)["spec"] == sync_before["spec"]
    assert pending_applies(session.state_dir) == []


def test_a_failure_before_any_write_leaves_nothing_pending(
    demo: DemoEnvironment, session: ChangeSession
) -> None:
    plan, site = session.plan(_add("plc-denied.der", _leaf("plc-denied").der))
    before = site_snapshot(demo)
    demo.vault.deny("set")
    result = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    demo.vault.deny()
    assert result.outcome == NOTHING_DONE and "403" in (result.error or "")
    assert site_snapshot(demo) == before
    assert pending_applies(session.state_dir) == []


def test_azure_managed_objects_are_warned_about(demo: DemoEnvironment, tmp_path: Path) -> None:
    spc = demo.api.get(rk.SECRET_PROVIDER_CLASSES.key, NS, SPC)
    assert spc is not None
    # A marker of ARM's other than the resourceId annotation (which makes it ARM-owned: written through
    # ARM, test_changes_arm.py): ARM does not know the object, so it is written on the cluster, warned.
    spc["metadata"].setdefault("annotations", {})["management.azure.com/operationId"] = "op-1"
    demo.api.put(spc)
    path = tmp_path / "arm.der"
    path.write_bytes(_leaf("arm").der)
    before = site_snapshot(demo)
    refused = run_cli(demo, tmp_path, "trust", "add", str(path))
    assert refused.returncode == 1 and site_snapshot(demo) == before
    result = run_cli(demo, tmp_path, "trust", "add", str(path), "--yes", "--wait-timeout", "20")
    assert result.returncode == 0, result.stderr
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: "))
    assert f"SecretProviderClass {NS}/{SPC} looks managed from Azure Resource Manager (annotation" in warning
    assert "undo this edit" in warning


def test_a_concurrent_edit_that_invalidates_the_change_fails_clearly(
    demo: DemoEnvironment, session: ChangeSession
) -> None:
    plan, site = session.plan(_add("plc-taken.der", _leaf("plc-taken").der))
    # Someone else maps the same file name (to another secret) after we planned.
    sync = demo.api.get(rk.SECRET_SYNCS.key, NS, TRUST_SYNC)
    assert sync is not None
    theirs = {"sourcePath": "historian-main-der", "targetKey": "plc-taken.der"}
    sync["spec"]["secretObject"]["data"].append(theirs)
    demo.api.put(sync)
    result = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    # Another writer got in: a conflict of its own, the vault write kept in the journal.
    assert result.outcome == CONFLICT and result.journal_kept
    assert "no longer apply" in (result.error or "") and "plc-taken.der" in (result.error or "")
    # Their mapping is untouched; ours is not half-done silently: the journal waits for a decision.
    assert ("historian-main-der", "plc-taken.der") in sync_mappings(demo, TRUST_SYNC)
    [pending] = pending_applies(session.state_dir)
    rolled = session.rollback(pending.id, progress=Events(), wait_timeout=WAIT)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    assert "plc-taken-der" not in _vault_names(demo) and "plc-taken-der" not in spc_object_names(demo)
    assert ("historian-main-der", "plc-taken.der") in sync_mappings(demo, TRUST_SYNC)


def test_rolling_back_an_overwrite_restores_the_previous_file(
    demo: DemoEnvironment, session: ChangeSession
) -> None:
    original = demo.vault.snapshot()["secrets"]["historian-main-der"]["versions"][-1]["value"]
    replacement = _leaf("historian replacement").der
    changes = ChangeSet.of([AddFile("trust", "historian-main.der", replacement, overwrite=True)])
    plan, site = session.plan(changes)
    assert plan.applicable, plan.problems
    demo.api.forbid(rk.SECRET_SYNCS.key, verbs=("patch", "update"))
    failed = session.apply(plan, site, action="trust add", progress=Events(), wait_timeout=WAIT)
    demo.api.reset_faults()
    assert failed.outcome == FAILED
    latest = demo.vault.snapshot()["secrets"]["historian-main-der"]["versions"][-1]
    assert latest["value"] == replacement.hex()
    rolled = session.rollback(failed.journal_id, progress=Events(), wait_timeout=WAIT)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    versions = demo.vault.snapshot()["secrets"]["historian-main-der"]["versions"]
    assert versions[-1]["value"] == original and versions[-1]["content_type"] == "application/pkix-cert"
    assert synced_bytes(demo, TRUST_SYNC)["historian-main.der"] == bytes.fromhex(original)
