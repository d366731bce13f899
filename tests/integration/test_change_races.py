"""Change safety against the demo site, through the real clients (issue 9, items 2-4).

- Two applies writing the same vault secret at once: Key Vault keeps the last write and has no
  preconditions, so at most one of them may report ``applied``, and the one that does must be the one
  whose bytes the vault (and so the edge) holds.
- A rollback of an overwrite killed during its sync wait must make the edge serve the old file again,
  not only the vault.
- A resume must look at the world again before writing: a secret the apply wrote and someone deleted
  since is written again (or the resume is refused while it sits in the deleted list), a secret someone
  else rewrote is not overwritten.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kubernetes import config as k8s_config

from tests import certgen
from tests.integration.changes_support import TRUST_SYNC, run_cli, running_demo, site_snapshot, synced_bytes
from tui.core.changes.changeset import AddFile, ChangeSet
from tui.core.clock import SystemClock
from tui.core.model import resources as rk
from tui.core.model.settings import ModelSettings
from tui.core.model.spc import cli_object, parse_spc, serialize_objects
from tui.demo.environment import DemoEnvironment
from tui.ops.apply import APPLIED, CONFLICT, FAILED, REFUSED, ApplyResult, StepEvent
from tui.ops.audit import AuditLog
from tui.ops.resume import ROLLED_BACK
from tui.ops.runner import ChangeSession
from tui.vault.client import make_secret_client

WAIT = 20.0
ROUNDS = 12
NAMESPACE = "azure-iot-operations"
SPC_NAME = "opc-ua-connector"


@pytest.fixture(scope="module")
def demo() -> Iterator[DemoEnvironment]:
    # The cluster write path: lists on the cluster alone (ARM-owned ones: test_changes_arm.py).
    with running_demo(cluster_only=True) as env:
        yield env


def _session(demo: DemoEnvironment, state_dir: Path) -> ChangeSession:
    api_client = k8s_config.new_client_from_config(config_file=str(demo.kubeconfig_path))
    vault = make_secret_client(demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))
    return ChangeSession(
        api_client,
        ModelSettings(),
        clock=SystemClock(),
        state_dir=state_dir,
        context="aio-demo",
        vault_client_for=lambda _state: vault,
    )


def _leaf(cn: str) -> certgen.Issued:
    now = datetime.now(UTC).replace(microsecond=0)
    return certgen.make_leaf(None, cn, not_before=now - timedelta(days=1), days=365)


def _quiet(_: StepEvent) -> None:
    return None


def _vault_value(demo: DemoEnvironment, name: str) -> str:
    return demo.vault.snapshot()["secrets"][name]["versions"][-1]["value"]


def test_two_racing_adds_of_one_name_apply_at_most_once(demo: DemoEnvironment, tmp_path: Path) -> None:
    # One user's state directory, two processes' worth of sessions: as two shells on one edge host.
    state = tmp_path / "state"
    first, second = _session(demo, state), _session(demo, state)
    outcomes: list[tuple[str, ...]] = []
    for round_no in range(ROUNDS):
        name = f"same-{round_no}.der"
        files = [_leaf(f"racer a {round_no}").der, _leaf(f"racer b {round_no}").der]
        # Both plan before either applies: each believes the name is free.
        planned = [
            s.plan(ChangeSet.of([AddFile("trust", name, data)]))
            for s, data in zip((first, second), files, strict=True)
        ]
        assert all(plan.applicable for plan, _ in planned), [p.problems for p, _ in planned]
        results: list[ApplyResult | None] = [None, None]
        start = threading.Barrier(2)

        def run(
            i: int,
            session: ChangeSession,
            plans: list = planned,
            out: list = results,
            barrier: threading.Barrier = start,
        ) -> None:
            plan, site = plans[i]
            barrier.wait()
            out[i] = session.apply(plan, site, action="trust add", progress=_quiet, wait_timeout=0)

        threads = [threading.Thread(target=run, args=(i, s)) for i, s in enumerate((first, second))]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert all(r is not None for r in results)
        done = [r for r in results if r is not None]
        outcomes.append(tuple(sorted(r.outcome for r in done)))
        assert all(r.outcome in (APPLIED, CONFLICT) for r in done), [(r.outcome, r.error) for r in done]
        winners = [i for i, r in enumerate(done) if r.outcome == APPLIED]
        assert len(winners) <= 1, (round_no, [(r.outcome, r.error) for r in done])
        if winners:
            # The one that says applied is the one whose bytes the vault holds.
            assert _vault_value(demo, name.replace(".", "-")) == files[winners[0]].hex()
    applied = [e for e in AuditLog(state, clock=SystemClock()).events() if e["outcome"] == APPLIED]
    per_entry: dict[str, int] = {}
    for event in applied:
        for entry in event["entries"]:
            per_entry[entry] = per_entry.get(entry, 0) + 1
    assert all(count == 1 for count in per_entry.values()), per_entry
    # Conflicts are reported as such (not as failures), in the audit log too.
    conflicts = sum(o.count(CONFLICT) for o in outcomes)
    audited = sum(1 for e in AuditLog(state, clock=SystemClock()).events() if e["outcome"] == CONFLICT)
    assert audited == conflicts and conflicts >= ROUNDS, outcomes


def _drop_end_record(session: ChangeSession, journal_id: str) -> None:
    """What a kill during the sync wait leaves: every step done, no end record."""
    path = session.journals.path_of(journal_id)
    lines = [line for line in path.read_text().splitlines() if json.loads(line)["record"] != "end"]
    path.write_text("".join(f"{line}\n" for line in lines))


def test_rollback_of_an_overwrite_killed_in_its_sync_wait_restores_the_synced_file(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    session = _session(demo, tmp_path / "state")
    original = synced_bytes(demo, TRUST_SYNC)["historian-main.der"]
    replacement = _leaf("historian replacement").der
    plan, site = session.plan(
        ChangeSet.of([AddFile("trust", "historian-main.der", replacement, overwrite=True)])
    )
    assert plan.applicable, plan.problems
    applied = session.apply(plan, site, action="trust add", progress=_quiet, wait_timeout=WAIT)
    assert applied.outcome == APPLIED and applied.sync is not None and applied.sync.ok
    assert synced_bytes(demo, TRUST_SYNC)["historian-main.der"] == replacement
    _drop_end_record(session, applied.journal_id)
    events: list[StepEvent] = []
    rolled = session.rollback(applied.journal_id, progress=events.append, wait_timeout=WAIT)
    assert rolled.outcome == ROLLED_BACK, rolled.error
    # Not only the vault: the edge serves the old file again, and the rollback waited to see it.
    assert _vault_value(demo, "historian-main-der") == original.hex()
    assert rolled.sync is not None and rolled.sync.ok, rolled.sync
    assert synced_bytes(demo, TRUST_SYNC)["historian-main.der"] == original
    assert any(e.phase == "synced" for e in events)
    # The rollback's audit line names what it concerned, as the apply's line did (issue 9, item 11).
    started, line = [
        e
        for e in AuditLog(tmp_path / "state", clock=SystemClock()).events()
        if e["action"] == "journal rollback"
    ]
    assert started["outcome"] == "started" and started["entries"] == line["entries"]
    assert line["outcome"] == ROLLED_BACK and line["entries"] == ["trust/historian-main.der"]
    assert line["vault_secrets"] == ["historian-main-der"]
    assert line["sha256"] == [plan.vault_writes[0].sha256]


def _interrupted_add(demo: DemoEnvironment, session: ChangeSession, name: str, data: bytes) -> ApplyResult:
    """An add whose vault write and SPC grow are done and whose SecretSync write failed (journal kept)."""
    plan, site = session.plan(ChangeSet.of([AddFile("trust", name, data)]))
    assert plan.applicable, plan.problems
    demo.api.forbid(rk.SECRET_SYNCS.key, verbs=("patch", "update"))
    try:
        failed = session.apply(plan, site, action="trust add", progress=_quiet, wait_timeout=0)
    finally:
        demo.api.reset_faults()
    assert failed.outcome == FAILED and failed.journal_kept and failed.done == 2, failed
    return failed


def test_resume_writes_again_a_secret_deleted_since_or_refuses_while_it_is_recoverable(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    session = _session(demo, tmp_path / "state")
    leaf = _leaf("plc resumed")
    failed = _interrupted_add(demo, session, "plc-resumed.der", leaf.der)
    demo.vault.store.delete_secret("plc-resumed-der")  # by hand, in the portal: soft-deleted
    demo.settle()  # the controllers' own reaction to the interrupted apply is not the resume's doing
    before = site_snapshot(demo)
    refused = session.resume(failed.journal_id, progress=_quiet, wait_timeout=WAIT)
    assert refused.outcome == REFUSED and refused.journal_kept  # exit 1: the user must act first
    assert "deleted since and is recoverable" in (refused.error or "") and "\n" not in (refused.error or "")
    assert site_snapshot(demo) == before  # judged before writing anything
    demo.vault.store.purge_deleted("plc-resumed-der")
    resumed = session.resume(failed.journal_id, progress=_quiet, wait_timeout=WAIT)
    assert resumed.outcome == APPLIED, resumed.error
    assert resumed.sync is not None and resumed.sync.ok, resumed.sync
    assert _vault_value(demo, "plc-resumed-der") == leaf.der.hex()
    assert synced_bytes(demo, TRUST_SYNC)["plc-resumed.der"] == leaf.der


def test_resume_does_not_overwrite_a_secret_someone_else_wrote_since(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    session = _session(demo, tmp_path / "state")
    failed = _interrupted_add(demo, session, "plc-taken-over.der", _leaf("plc mine").der)
    theirs = _leaf("plc theirs").der.hex()
    demo.vault.put_secret("plc-taken-over-der", theirs, "application/pkix-cert", {"file-encoding": "hex"})
    demo.settle()
    before = site_snapshot(demo)
    refused = session.resume(failed.journal_id, progress=_quiet, wait_timeout=WAIT)
    assert refused.outcome == CONFLICT and refused.journal_kept
    assert "no longer holds the value this apply wrote" in (refused.error or "")
    assert site_snapshot(demo) == before
    assert _vault_value(demo, "plc-taken-over-der") == theirs


def test_the_cli_shows_the_replanned_diff_when_the_lists_move_under_an_apply(
    demo: DemoEnvironment, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 13 item 15 (CLI): another writer changes the SPC between our vault write and our SPC write;
    # the apply's 409 re-plans, and the CLI must show the new plan (and, with --yes, go on) instead of
    # re-planning in silence.
    leaf = _leaf("plc replanned")
    path = tmp_path / "plc-replanned.der"
    path.write_bytes(leaf.der)
    theirs = _leaf("someone else")
    demo.vault.put_secret(
        "someone-else-der", theirs.der.hex(), "application/pkix-cert", {"file-encoding": "hex"}
    )
    store = demo.vault.store
    original = store.set_secret

    def set_then_move_the_spc(name: str, *args: object, **kwargs: object) -> object:
        written = original(name, *args, **kwargs)  # type: ignore[arg-type]
        if name == "plc-replanned-der":
            spc = demo.api.get(rk.SECRET_PROVIDER_CLASSES.key, NAMESPACE, SPC_NAME)
            assert spc is not None
            objects = [*parse_spc(spc).objects, cli_object("someone-else-der")]
            spc["spec"]["parameters"]["objects"] = serialize_objects(objects)
            demo.api.put(spc)
        return written

    monkeypatch.setattr(store, "set_secret", set_then_move_the_spc)
    result = run_cli(
        demo, tmp_path / "state", "trust", "add", str(path), "--yes", "--wait-timeout", str(WAIT)
    )
    assert result.returncode == 0, result.stderr
    assert "the lists changed while this apply ran" in result.stderr and "revision 1" in result.stderr
    assert result.stdout.count("Plan ") == 2 and "rebased 1x" in result.stdout  # the first diff, then the new
    spc = demo.api.get(rk.SECRET_PROVIDER_CLASSES.key, NAMESPACE, SPC_NAME)
    assert spc is not None
    names = [o.object_name for o in parse_spc(spc).objects]
    assert "someone-else-der" in names and "plc-replanned-der" in names  # theirs kept, ours added
    assert synced_bytes(demo, TRUST_SYNC)["plc-replanned.der"] == leaf.der
