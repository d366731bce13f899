"""``aio-certs trust|issuer add|remove`` and ``vault add`` as a technician runs them, against the demo.

Each test runs the CLI in a subprocess with the demo's environment (what ``source DIR/env`` sets) and
checks the result the way a technician would: kubectl for the SPC, the SecretSync and the synced
Secret, and the Key Vault emulator for what was stored.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes

from tests import certgen
from tests.integration.changes_support import (
    ISSUER_SYNC,
    NS,
    TRUST_SYNC,
    kubectl_absent,
    kubectl_json,
    run_cli,
    running_demo,
    spc_object_names,
    sync_mappings,
    synced_bytes,
)
from tui.demo.environment import DemoEnvironment

WAIT = ("--wait-timeout", "20")


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def _now() -> datetime:
    # The CLI judges expiry on the real clock, so test certificates are made relative to it.
    return datetime.now(UTC).replace(microsecond=0)


def _vault_secret(demo: DemoEnvironment, name: str) -> dict | None:
    """The stored record of one secret (every version, oldest first), or None."""
    secrets = demo.vault.snapshot()["secrets"]
    return next((r for k, r in secrets.items() if k.lower() == name.lower()), None)


def _latest(record: dict | None) -> dict:
    assert record is not None
    return record["versions"][-1]


def _audit(state_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (state_dir / "audit.jsonl").read_text().splitlines()]


def test_trust_add_der_and_crt(demo: DemoEnvironment, tmp_path: Path) -> None:
    leaf = certgen.make_leaf(None, "plc-new", not_before=_now() - timedelta(days=1), days=365)
    other = certgen.make_leaf(None, "hmi-new", not_before=_now() - timedelta(days=1), days=365)
    (tmp_path / "plc-new.der").write_bytes(leaf.der)
    (tmp_path / "hmi-new.crt").write_bytes(other.pem)
    result = run_cli(
        demo,
        tmp_path,
        "trust",
        "add",
        str(tmp_path / "plc-new.der"),
        str(tmp_path / "hmi-new.crt"),
        "--yes",
        *WAIT,
    )
    assert result.returncode == 0, result.stderr
    assert "+ plc-new-der -> plc-new.der" in result.stdout  # the diff was shown
    assert "synced: the synced Secrets show the change" in result.stderr

    assert ("plc-new-der", "plc-new.der") in sync_mappings(demo, TRUST_SYNC)
    assert ("hmi-new-crt", "hmi-new.crt") in sync_mappings(demo, TRUST_SYNC)
    assert {"plc-new-der", "hmi-new-crt"} <= set(spc_object_names(demo))
    data = synced_bytes(demo, TRUST_SYNC)
    assert data["plc-new.der"] == leaf.der and data["hmi-new.crt"] == other.pem
    der_secret = _latest(_vault_secret(demo, "plc-new-der"))
    pem_secret = _latest(_vault_secret(demo, "hmi-new-crt"))
    assert der_secret["value"] == leaf.der.hex()
    assert der_secret["content_type"] == "application/pkix-cert"
    assert der_secret["tags"] == {"file-encoding": "hex"}
    assert pem_secret["content_type"] == "application/x-pem-file"
    started, event = _audit(tmp_path)
    assert (started["action"], started["outcome"]) == ("trust add", "started")
    assert started["extra"]["journal"] == event["extra"]["journal"]
    assert event["action"] == "trust add" and event["outcome"] == "applied"
    assert set(event["vault_secrets"]) == {"plc-new-der", "hmi-new-crt"}
    assert leaf.cert.fingerprint(hashes.SHA256()).hex().upper() in event["sha256"]
    assert leaf.der.hex() not in json.dumps(event)  # never a value in the audit log


def test_issuer_add_ca_with_its_crl(demo: DemoEnvironment, tmp_path: Path) -> None:
    ca = certgen.make_ca("Site Issuing CA", not_before=_now() - timedelta(days=10), days=1000)
    crl = certgen.make_crl(
        ca, this_update=_now() - timedelta(hours=1), next_update=_now() + timedelta(days=7)
    )
    (tmp_path / "site-ca.der").write_bytes(ca.der)
    (tmp_path / "site-ca.crl").write_bytes(crl.der)
    result = run_cli(
        demo,
        tmp_path,
        "issuer",
        "add",
        str(tmp_path / "site-ca.der"),
        str(tmp_path / "site-ca.crl"),
        "--yes",
        "--json",
        *WAIT,
    )
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["result"]["outcome"] == "applied" and document["result"]["synced"] is True
    mappings = sync_mappings(demo, ISSUER_SYNC)
    assert ("site-ca-der", "site-ca.der") in mappings and ("site-ca-crl", "site-ca.crl") in mappings
    data = synced_bytes(demo, ISSUER_SYNC)
    assert data["site-ca.der"] == ca.der and data["site-ca.crl"] == crl.der
    assert _latest(_vault_secret(demo, "site-ca-crl"))["content_type"] == "application/pkix-crl"


def test_vault_add_existing_secret(demo: DemoEnvironment, tmp_path: Path) -> None:
    leaf = certgen.make_leaf(None, "plc-9", not_before=_now() - timedelta(days=1), days=365)
    demo.vault.put_secret(
        "plc-9-der", leaf.der.hex(), content_type="application/pkix-cert", tags={"file-encoding": "hex"}
    )
    listed = run_cli(demo, tmp_path, "vault", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [row["name"] for row in json.loads(listed.stdout)] == ["plc-9-der"]
    vault_before = demo.vault.snapshot()
    result = run_cli(demo, tmp_path, "vault", "add", "plc-9-der", "--list", "trust", "--yes", *WAIT)
    assert result.returncode == 0, result.stderr
    assert ("plc-9-der", "plc-9.der") in sync_mappings(demo, TRUST_SYNC)
    assert synced_bytes(demo, TRUST_SYNC)["plc-9.der"] == leaf.der
    assert demo.vault.snapshot() == vault_before  # nothing written to the vault


def test_remove_keeps_the_secret_and_purge_deletes_it(demo: DemoEnvironment, tmp_path: Path) -> None:
    result = run_cli(demo, tmp_path, "trust", "remove", "plc-press-line2.der", "--yes", *WAIT)
    assert result.returncode == 0, result.stderr
    assert "plc-press-line2.der" not in [t for _, t in sync_mappings(demo, TRUST_SYNC)]
    assert "plc-press-line2.der" not in synced_bytes(demo, TRUST_SYNC)
    assert "plc-press-line2-der" not in spc_object_names(demo)
    assert _vault_secret(demo, "plc-press-line2-der") is not None  # kept, as the official tool does

    purged = run_cli(demo, tmp_path, "trust", "remove", "robot-cell-07.der", "--purge", "--yes", *WAIT)
    assert purged.returncode == 0, purged.stderr
    snapshot = demo.vault.snapshot()
    assert "robot-cell-07-der" not in {k.lower() for k in snapshot["secrets"]}
    assert snapshot["deleted"] == {}  # purged: the deleted list is empty
    assert "robot-cell-07.der" not in synced_bytes(demo, TRUST_SYNC)


def test_removing_the_last_entries_deletes_the_secret_sync(demo: DemoEnvironment, tmp_path: Path) -> None:
    names = [t for _, t in sync_mappings(demo, ISSUER_SYNC)]
    result = run_cli(demo, tmp_path, "issuer", "remove", *names, "--yes", *WAIT)
    assert result.returncode == 0, result.stderr
    assert kubectl_absent(demo, "secretsyncs.secret-sync.x-k8s.io", "-n", NS, ISSUER_SYNC)
    assert kubectl_absent(demo, "secret", "-n", NS, ISSUER_SYNC)
    assert sync_mappings(demo, TRUST_SYNC)  # the other list is untouched
    spc = kubectl_json(demo, "get", "secretproviderclasses", "-n", NS, "opc-ua-connector")
    assert spc["spec"]["parameters"]["keyvaultName"]  # the SPC itself stays


def test_overwrite_replaces_the_file_behind_an_entry(demo: DemoEnvironment, tmp_path: Path) -> None:
    first = certgen.make_leaf(None, "gw-1 first", not_before=_now() - timedelta(days=1), days=365)
    second = certgen.make_leaf(None, "gw-1 second", not_before=_now() - timedelta(days=1), days=365)
    path = tmp_path / "gw-1.der"
    path.write_bytes(first.der)
    assert run_cli(demo, tmp_path, "trust", "add", str(path), "--yes", *WAIT).returncode == 0
    path.write_bytes(second.der)
    refused = run_cli(demo, tmp_path, "trust", "add", str(path), "--yes")
    assert refused.returncode == 1
    assert "overwrite" in refused.stderr
    result = run_cli(demo, tmp_path, "trust", "add", str(path), "--overwrite", "--yes", *WAIT)
    assert result.returncode == 0, result.stderr
    assert synced_bytes(demo, TRUST_SYNC)["gw-1.der"] == second.der
    assert _latest(_vault_secret(demo, "gw-1-der"))["value"] == second.der.hex()
    assert sync_mappings(demo, TRUST_SYNC).count(("gw-1-der", "gw-1.der")) == 1
