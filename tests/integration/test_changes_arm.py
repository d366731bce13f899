"""Changes to ARM-owned lists through the real SDK against the demo's ARM emulator (issue 11, item 7).

The demo's lists are created through its ARM emulator and projected onto the emulated cluster, so they
are ARM-owned as on a real site. ``aio-certs`` runs as a subprocess (or, for the race, as an in-process
change session) with the demo's ``AIO_CERTS_ARM_*`` environment, and the official CLI's own way of
editing a list (GET the resource, edit it, PUT it back whole) is played by ``tests/armcli.py``. The same
behaviours on in-memory fakes, step by step and kill point by kill point, are in
tests/unit/test_ops_arm.py.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests import armcli, certgen
from tests.integration.changes_support import (
    NS,
    ROOT,
    SPC,
    TRUST_SYNC,
    cli_env,
    run_cli,
    running_demo,
    site_snapshot,
    synced_bytes,
)
from tui.cli import build_parser
from tui.commands.shared.change_flow import open_session
from tui.commands.shared.settings import command_settings
from tui.config import UserConfig
from tui.core.changes.changeset import AddFile, ChangeSet
from tui.core.model.arm import ArmKind
from tui.core.model.spc import parse_objects
from tui.demo.environment import DemoEnvironment
from tui.ops.apply import APPLIED, StepEvent
from tui.vault.client import make_secret_client

WAIT = "30"
DEADLINE = 30.0
"""Bounds on waits for the emulators and the CLI; never a timed assertion."""


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _cert(tmp_path: Path, name: str) -> tuple[Path, bytes]:
    now = datetime.now(UTC).replace(microsecond=0)
    leaf = certgen.make_leaf(None, name, not_before=now - timedelta(days=1), days=365)
    path = tmp_path / f"{name}.der"
    path.write_bytes(leaf.der)
    return path, leaf.der


def _arm_mappings(demo: DemoEnvironment, name: str = TRUST_SYNC) -> list[tuple[str, str]]:
    body = demo.arm.resource(ArmKind.SECRET_SYNC, name)
    assert body is not None
    return [(m["sourcePath"], m["targetKey"]) for m in body["properties"]["objectSecretMapping"]]


def _arm_objects(demo: DemoEnvironment) -> list[str]:
    body = demo.arm.resource(ArmKind.SPC, SPC)
    assert body is not None
    return [o.object_name for o in parse_objects(body["properties"].get("objects"))]


def _arm_state(demo: DemoEnvironment) -> dict[str, Any]:
    """Every list resource ARM holds (ETags included) and how many operations it ever ran."""
    return {
        "resources": {kind.value: demo.arm.resources(kind) for kind in ArmKind},
        "operations": len(demo.arm.operations()),
    }


def _audit(state_dir: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]


def _vault(demo: DemoEnvironment) -> Any:
    return make_secret_client(demo.vault_url, auth="demo", ca_bundle=str(demo.vault_ca_path))


def _cli_change(demo: DemoEnvironment, file_name: str, content: bytes) -> None:
    """``az iot ops connector opcua trust add`` as the official CLI makes it, then the projection."""
    client = armcli.for_demo(demo)
    vault = _vault(demo)
    try:
        armcli.trust_add(client, demo.arm.site.resource_group, file_name, vault=vault, content=content)
    finally:
        vault.close()
        client.close()
    assert demo.arm.wait_idle(DEADLINE)


def _synced(demo: DemoEnvironment, key: str, content: bytes | None) -> bool:
    """Wait (bounded) until the synced trust list holds ``key`` with ``content`` (None: not at all)."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        files = synced_bytes(demo, TRUST_SYNC)
        if files.get(key) == content:
            return True
        time.sleep(0.1)
    return False


# -- add, remove, purge -------------------------------------------------------------------------------


def test_add_remove_and_purge_go_through_arm(demo: DemoEnvironment, tmp_path: Path) -> None:
    path, der = _cert(tmp_path, "plc-arm")
    demo.arm.clear_requests()
    added = run_cli(demo, tmp_path, "trust", "add", str(path), "--yes", "--wait-timeout", WAIT)
    assert added.returncode == 0, added.stderr
    assert "through Azure Resource Manager (ETag " in added.stdout
    assert ("plc-arm-der", "plc-arm.der") in _arm_mappings(demo) and "plc-arm-der" in _arm_objects(demo)
    assert synced_bytes(demo, TRUST_SYNC)["plc-arm.der"] == der
    puts = [r for r in demo.arm.requests() if r.method == "PUT"]
    assert len(puts) == 2 and all(r.if_match for r in puts)  # the SPC, then the SecretSync, each guarded
    started, event = _audit(tmp_path)
    assert (
        started["outcome"] == "started"
        and started["extra"]["arm_resources"] == event["extra"]["arm_resources"]
    )
    resource_ids = event["extra"]["arm_resources"]
    assert event["outcome"] == "applied" and [i.rsplit("/", 2)[-2:] for i in resource_ids] == [
        ["azureKeyVaultSecretProviderClasses", SPC],
        ["secretSyncs", TRUST_SYNC],
    ]

    removed = run_cli(
        demo, tmp_path, "trust", "remove", "plc-arm.der", "--purge", "--yes", "--wait-timeout", WAIT
    )
    assert removed.returncode == 0, removed.stderr
    assert "plc-arm.der" not in {t for _, t in _arm_mappings(demo)} and "plc-arm-der" not in _arm_objects(
        demo
    )
    assert "plc-arm.der" not in synced_bytes(demo, TRUST_SYNC)
    vault = demo.vault.snapshot()
    assert "plc-arm-der" not in {k.lower() for k in vault["secrets"]} and vault["deleted"] == {}


def test_our_entries_survive_the_next_official_cli_change(demo: DemoEnvironment, tmp_path: Path) -> None:
    # The bug of issue 11: entries written on the cluster copy vanish at the next portal or CLI change.
    ours, ours_der = _cert(tmp_path, "plc-ours")
    assert run_cli(demo, tmp_path, "trust", "add", str(ours), "--yes", "--wait-timeout", WAIT).returncode == 0
    _, theirs_der = _cert(tmp_path, "plc-theirs")
    _cli_change(demo, "plc-theirs.der", theirs_der)
    assert _synced(demo, "plc-theirs.der", theirs_der)
    files = synced_bytes(demo, TRUST_SYNC)
    assert files["plc-ours.der"] == ours_der  # still there after ARM's copy was rebuilt and projected
    # With --local-only the edit is the cluster copy's alone, and the same CLI change drops it, as the
    # plan and the audit log warned.
    local, local_der = _cert(tmp_path, "plc-local")
    done = run_cli(
        demo, tmp_path, "trust", "add", str(local), "--local-only", "--yes", "--wait-timeout", WAIT
    )
    assert done.returncode == 0, done.stderr
    assert "only its cluster copy is written (--local-only)" in done.stderr
    assert synced_bytes(demo, TRUST_SYNC)["plc-local.der"] == local_der
    _, third_der = _cert(tmp_path, "plc-third")
    _cli_change(demo, "plc-third.der", third_der)
    assert _synced(demo, "plc-local.der", None)
    assert synced_bytes(demo, TRUST_SYNC)["plc-ours.der"] == ours_der


# -- conflicts ----------------------------------------------------------------------------------------


def test_a_change_made_through_arm_between_plan_and_put_is_a_412_and_rebased(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    args = build_parser().parse_args(["trust", "add", "x.der", "--kubeconfig", str(demo.kubeconfig_path)])
    environ = {**demo.env_vars(), "AIO_CERTS_STATE_DIR": str(tmp_path / "state")}
    session, connection = open_session(command_settings(args, UserConfig(), environ))
    try:
        _, der = _cert(tmp_path, "plc-race")
        plan, site = session.plan(ChangeSet.of([AddFile("trust", "plc-race.der", der)]))
        assert plan.applicable and plan.arm_resources, plan.problems
        _, theirs = _cert(tmp_path, "plc-racer")
        _cli_change(demo, "plc-racer.der", theirs)  # new ETags on both resources
        events: list[StepEvent] = []
        result = session.apply(plan, site, action="test", progress=events.append, wait_timeout=float(WAIT))
    finally:
        connection.close()
    assert result.outcome == APPLIED and result.conflicts == 1, result.error
    assert [e.phase for e in events].count("rebased") == 1
    assert "412" in next(e.message for e in events if e.phase == "conflict")
    mappings = _arm_mappings(demo)
    assert ("plc-race-der", "plc-race.der") in mappings and ("plc-racer-der", "plc-racer.der") in mappings
    files = synced_bytes(demo, TRUST_SYNC)
    assert files["plc-race.der"] == der and files["plc-racer.der"] == theirs


def test_arm_refusing_every_call_refuses_the_change_and_writes_nothing(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    path, _ = _cert(tmp_path, "plc-denied")
    before, arm_before = site_snapshot(demo), _arm_state(demo)
    demo.arm.deny("read", "write", "delete")
    refused = run_cli(demo, tmp_path, "trust", "add", str(path), "--yes")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    [line] = [x for x in refused.stderr.splitlines() if x.strip()]
    assert line.startswith(
        f"aio-certs trust add: SecretProviderClass {NS}/{SPC} and SecretSync {NS}/{TRUST_SYNC}"
    )
    assert "403" in line and "nothing was written" in line and "--local-only" in line
    assert (
        f"az iot ops connector opcua trust add --instance <instance> -g {demo.arm.site.resource_group} "
        "--certificate-file plc-denied.der"
    ) in line
    demo.arm.deny()
    assert site_snapshot(demo) == before and _arm_state(demo) == arm_before
    assert [e["outcome"] for e in _audit(tmp_path)] == ["refused"]


def test_local_only_writes_the_cluster_copy_and_the_drift_shows(
    demo: DemoEnvironment, tmp_path: Path
) -> None:
    path, der = _cert(tmp_path, "plc-local")
    arm_before = _arm_state(demo)
    demo.arm.deny("read", "write", "delete")
    done = run_cli(demo, tmp_path, "trust", "add", str(path), "--local-only", "--yes", "--wait-timeout", WAIT)
    assert done.returncode == 0, done.stderr
    demo.arm.deny()
    assert _arm_state(demo) == arm_before  # ARM never heard of it
    assert synced_bytes(demo, TRUST_SYNC)["plc-local.der"] == der
    started, event = _audit(tmp_path)
    assert started["outcome"] == "started" and started["extra"]["drift"] == event["extra"]["drift"]
    assert event["outcome"] == "applied" and event["extra"]["drift"] == [
        f"SecretProviderClass {NS}/{SPC}",
        f"SecretSync {NS}/{TRUST_SYNC}",
    ]
    assert "the next change made with the portal or az iot ops" in event["extra"]["drift_warning"]
    status = run_cli(demo, tmp_path, "status", "--json")
    findings = json.loads(status.stdout)["findings"]
    drift = [f for f in findings if "arm-drift" in f["code"]]
    assert drift and any("plc-local.der" in json.dumps(f) for f in drift), findings


# -- killed mid-apply ---------------------------------------------------------------------------------


def _records(state_dir: Path) -> list[dict[str, Any]]:
    files = sorted((state_dir / "journal").glob("*.jsonl")) if (state_dir / "journal").exists() else []
    out = []
    for line in files[-1].read_text().splitlines() if files else []:
        try:
            out.append(json.loads(line))
        except ValueError:
            continue  # a line being written right now
    return out


def _kill_in_the_arm_write(demo: DemoEnvironment, state_dir: Path, path: Path) -> str:
    """Run ``trust add`` and SIGKILL it once the vault write is done and ARM has accepted the SPC PUT
    but not finished it (the emulator holds the long-running operation); then ARM finishes it, as ARM
    does whatever became of the client."""
    demo.arm.hold_operations()
    command = [sys.executable, "-m", "tui", "trust", "add", str(path), "--yes", "--request-timeout", "60"]
    with open(state_dir / "killed.out", "wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=cli_env(demo, state_dir), stdout=out, stderr=out, stdin=subprocess.DEVNULL
        )
        try:
            deadline = time.monotonic() + DEADLINE
            while not any(not o.done and o.kind is ArmKind.SPC for o in demo.arm.operations()):
                assert time.monotonic() < deadline and process.poll() is None, "the apply never wrote ARM"
                time.sleep(0.02)
            process.send_signal(signal.SIGKILL)
            assert process.wait(DEADLINE) == -signal.SIGKILL
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(DEADLINE)
    demo.arm.release_operations()
    assert demo.arm.wait_idle(DEADLINE)
    records = _records(state_dir)
    assert [(r["record"], r.get("state"), r.get("index")) for r in records] == [
        ("plan", None, None),
        ("step", "pending", 0),
        ("step", "done", 0),
        ("step", "pending", 1),
    ]
    assert records[3]["target"] == f"ARM SecretProviderClass/{SPC}" and records[3]["before"]["type"] == "arm"
    return sorted((state_dir / "journal").glob("*.jsonl"))[-1].stem


def test_killed_in_the_arm_write_resumes(demo: DemoEnvironment, tmp_path: Path) -> None:
    path, der = _cert(tmp_path, "plc-killed")
    journal_id = _kill_in_the_arm_write(demo, tmp_path, path)
    assert "plc-killed.der" not in {t for _, t in _arm_mappings(demo)}  # the SecretSync step never ran
    resumed = run_cli(demo, tmp_path, "journal", "resume", journal_id, "--yes", "--wait-timeout", WAIT)
    assert resumed.returncode == 0, resumed.stderr
    assert _arm_objects(demo).count("plc-killed-der") == 1
    assert _arm_mappings(demo).count(("plc-killed-der", "plc-killed.der")) == 1
    assert synced_bytes(demo, TRUST_SYNC)["plc-killed.der"] == der
    assert json.loads(run_cli(demo, tmp_path, "journal", "--json").stdout)[0]["outcome"] == "applied"


def test_killed_in_the_arm_write_rolls_back(demo: DemoEnvironment, tmp_path: Path) -> None:
    path, _ = _cert(tmp_path, "plc-killed")
    objects_before, mappings_before = _arm_objects(demo), _arm_mappings(demo)
    vault_before = site_snapshot(demo)["vault"]
    journal_id = _kill_in_the_arm_write(demo, tmp_path, path)
    assert "plc-killed-der" in _arm_objects(demo)  # ARM finished the write the killed process started
    rolled = run_cli(demo, tmp_path, "journal", "rollback", journal_id, "--yes", "--wait-timeout", WAIT)
    assert rolled.returncode == 0, rolled.stderr
    assert demo.arm.wait_idle(DEADLINE)
    assert _arm_objects(demo) == objects_before and _arm_mappings(demo) == mappings_before
    vault_after = site_snapshot(demo)["vault"]
    assert vault_after["secrets"].keys() == vault_before["secrets"].keys() and vault_after["deleted"] == {}
    assert json.loads(run_cli(demo, tmp_path, "journal", "--json").stdout)[0]["outcome"] == "rolled-back"
