"""Every attempted change leaves an audit line, also when it is refused before any cluster connection:
read-only mode, a file that cannot be read, a journal that is not there; a journal's own entries,
secrets and thumbprints are read from the journal alone.

No cluster is needed: the kubeconfig points nowhere, and each refusal here comes before connecting.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.core.changes.journal import (
    JournalAuditFields,
    PlanRecord,
    StepRecord,
    StepState,
    journal_audit_fields,
    summarize,
)
from tui.core.changes.operations import SpcEdit, Step, SyncEdit, VaultDelete, VaultWrite
from tui.ops.journal import JournalStore

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
JOURNAL_ID = "20260301T120000Z-a1b2c3"
SHA = "ab" * 32


def _cli(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    state = tmp_path / "state"
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIO_CERTS_") and k != "KUBECONFIG"}
    env.update(
        {
            "AIO_CERTS_STATE_DIR": str(state),
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "KUBECONFIG": str(tmp_path / "none"),
        }
    )
    return subprocess.run(
        [sys.executable, "-m", "tui", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
        input="",
    )


def _events(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "state" / "audit.jsonl").read_text().splitlines()]


def _plan() -> PlanRecord:
    """An apply that adds one file, removes one entry with its secret, and maps one vault secret."""
    steps = (
        Step(
            0,
            VaultWrite(
                "plc-1-der",
                "3082",
                "application/pkix-cert",
                list_name="trust",
                target_key="plc-1.der",
                sha256=SHA,
            ),
        ),
        Step(
            1,
            SpcEdit(
                "azure-iot-operations",
                "opc-ua-connector",
                "7",
                "old",
                "new",
                added=("plc-1-der", "from-vault-der"),
                removed=("old-gw-der",),
            ),
        ),
        Step(
            2,
            SyncEdit(
                "azure-iot-operations",
                "aio-opc-ua-broker-trust-list",
                "trust",
                "8",
                before=(("old-gw-der", "old-gw.der"), ("kept-der", "kept.der")),
                after=(
                    ("kept-der", "kept.der"),
                    ("plc-1-der", "plc-1.der"),
                    ("from-vault-der", "from-vault.der"),
                ),
                action="update",
                spc_name="opc-ua-connector",
            ),
        ),
        Step(3, VaultDelete("old-gw-der", list_name="trust", target_key="old-gw.der")),
    )
    return PlanRecord("p1", 0, T0, "azure-iot-operations", steps, ("add trust/plc-1.der",), "aio-demo")


def test_a_journal_says_which_thumbprints_secrets_and_entries_it_concerns() -> None:
    plan = _plan()
    pending = StepRecord(
        "p1", 0, 0, plan.steps[0].kind, plan.steps[0].target, StepState.PENDING, T0, op=plan.steps[0].op
    )
    fields = journal_audit_fields(summarize([plan, pending]))
    assert fields == JournalAuditFields(
        thumbprints=(SHA,),
        vault_secrets=("plc-1-der", "from-vault-der", "old-gw-der"),
        entries=("trust/plc-1.der", "trust/from-vault.der", "trust/old-gw.der"),
    )
    assert journal_audit_fields(summarize([])) == JournalAuditFields()


def test_read_only_and_file_refusals_are_audited_with_what_was_asked_for(tmp_path: Path) -> None:
    weird = "pl\x1bc\n1.der"  # stored as given (JSON escapes it), printed escaped
    result = _cli(tmp_path, "trust", "add", str(tmp_path / weird), "--read-only", "--yes")
    assert result.returncode == 1 and len(result.stderr.splitlines()) == 1
    assert "\x1b" not in result.stderr
    result = _cli(tmp_path, "issuer", "add", str(tmp_path / "absent.crl"), "--secret-name", "ca-crl", "--yes")
    assert result.returncode == 1 and result.stderr.endswith("absent.crl: no such file\n")
    fifo = tmp_path / "pipe.der"
    os.mkfifo(fifo)
    assert _cli(tmp_path, "trust", "add", str(fifo), "--yes").returncode == 1
    assert _cli(tmp_path, "trust", "remove", "a.der", "b.crt", "--read-only", "--yes").returncode == 1
    assert _cli(tmp_path, "vault", "add", "plc-9-der", "--list", "issuer", "--read-only").returncode == 1
    assert _cli(tmp_path, "renew", "cert-manager/root", "--read-only").returncode == 1
    events = _events(tmp_path)
    assert [(e["action"], e["outcome"], e["entries"], e["vault_secrets"]) for e in events] == [
        ("trust add", "refused", [f"trust/{weird}"], []),
        ("issuer add", "refused", ["issuer/absent.crl"], ["ca-crl"]),
        ("trust add", "refused", ["trust/pipe.der"], []),
        ("trust remove", "refused", ["trust/a.der", "trust/b.crt"], []),
        ("vault add", "refused", [], ["plc-9-der"]),
        ("renew", "refused", ["cert-manager/root"], []),
    ]
    assert events[0]["extra"] == {"files": [str(tmp_path / weird)]}
    assert "read-only mode is on" in events[0]["detail"]
    assert events[1]["detail"].endswith("absent.crl: no such file")
    assert all(e["context"] == "" and e["plan_id"] is None and e["sha256"] == [] for e in events)
    raw = (tmp_path / "state" / "audit.jsonl").read_text()
    assert "\x1b" not in raw and "\\u001b" in raw  # one JSON line per event, control characters escaped


def test_journal_resume_and_rollback_are_audited_with_the_journals_entries(tmp_path: Path) -> None:
    plan = _plan()
    JournalStore(tmp_path / "state").create(JOURNAL_ID, plan).close()
    dry = _cli(tmp_path, "journal", "rollback", JOURNAL_ID, "--dry-run")
    assert dry.returncode == 0 and dry.stdout.startswith(f"would rollback journal {JOURNAL_ID}")
    assert _cli(tmp_path, "journal", "resume", JOURNAL_ID, "--read-only", "--yes").returncode == 1
    assert _cli(tmp_path, "journal", "resume", "20990101T000000Z-ffffff", "--yes").returncode == 1
    # Not confirmed (no terminal): refused after connecting, which fails first here (no cluster).
    unreachable = _cli(tmp_path, "journal", "resume", JOURNAL_ID)
    assert unreachable.returncode == 3
    events = _events(tmp_path)
    assert [(e["action"], e["outcome"]) for e in events] == [
        ("journal rollback", "dry-run"),
        ("journal resume", "refused"),
        ("journal resume", "refused"),
        ("journal resume", "unreachable"),
    ]
    fields = journal_audit_fields(summarize([plan]))
    for event in (events[0], events[1], events[3]):
        assert event["sha256"] == list(fields.thumbprints) == [SHA]
        assert event["vault_secrets"] == list(fields.vault_secrets)
        assert event["entries"] == list(fields.entries)
        assert event["plan_id"] == "p1" and event["extra"] == {"journal": JOURNAL_ID}
    assert events[2]["entries"] == [] and "not found" in events[2]["detail"]
    assert "read-only mode is on" in events[1]["detail"]
