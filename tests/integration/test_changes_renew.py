"""``aio-certs renew`` against the demo: cert-manager rotates, refusals write nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.changes_support import (
    kubectl_json,
    one_line_error,
    run_cli,
    running_demo,
    site_snapshot,
)
from tui.cluster.config import load_cluster_config
from tui.cluster.writes import ClusterWriter
from tui.core.build.certmanager import parse_certificate
from tui.core.clock import SystemClock
from tui.demo.environment import DemoEnvironment
from tui.ops.audit import AuditLog
from tui.ops.renew import RenewalMovedOn, request_renewal

ROOT_CERT = "azure-iot-operations-aio-selfsigned-root"


@pytest.fixture
def demo() -> Iterator[DemoEnvironment]:
    with running_demo() as env:
        yield env


def test_renew_rotates_the_root_ca(demo: DemoEnvironment, tmp_path: Path) -> None:
    before = kubectl_json(demo, "get", "certificate", "-n", "cert-manager", ROOT_CERT)["status"]["revision"]
    result = run_cli(demo, tmp_path, "renew", "--yes", "--wait", "--wait-timeout", "30", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["certificate"] == f"cert-manager/{ROOT_CERT}"
    assert report["outcome"] == "issued"
    after = kubectl_json(demo, "get", "certificate", "-n", "cert-manager", ROOT_CERT)["status"]["revision"]
    assert after == before + 1 == report["revision_after"]
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [(e["action"], e["outcome"], e["entries"]) for e in events] == [
        ("renew", "applied", [f"cert-manager/{ROOT_CERT}"])
    ]


def test_a_renewal_confirmed_on_an_old_revision_is_refused(demo: DemoEnvironment, tmp_path: Path) -> None:
    # Trial finding 2: a renew dialog opened on revision 1, someone renews from a shell (revision 2),
    # then the dialog's Renew: the real client's write must not issue revision 3.
    shown = parse_certificate(kubectl_json(demo, "get", "certificate", "-n", "cert-manager", ROOT_CERT))
    other = run_cli(demo, tmp_path / "other", "renew", "--yes", "--wait", "--wait-timeout", "30")
    assert other.returncode == 0, other.stderr
    moved = kubectl_json(demo, "get", "certificate", "-n", "cert-manager", ROOT_CERT)
    assert moved["status"]["revision"] == (shown.revision or 0) + 1
    connection = load_cluster_config(str(demo.kubeconfig_path), None, environ={})
    clock = SystemClock()
    audit = AuditLog(tmp_path, clock=clock)
    try:
        writer = ClusterWriter(connection.api_client, timeout=(2.0, 5.0))
        with pytest.raises(RenewalMovedOn, match=rf"now revision {moved['status']['revision']} "):
            request_renewal(writer, shown, audit=audit, context=connection.context, clock=clock)
    finally:
        connection.close()
    # Nothing written: no manual trigger, no third revision (cert-manager's own status writes may move
    # the resourceVersion, so that is not compared).
    after = parse_certificate(kubectl_json(demo, "get", "certificate", "-n", "cert-manager", ROOT_CERT))
    assert after.revision == moved["status"]["revision"]
    assert not (after.issuing is not None and after.issuing.reason == "ManuallyTriggered")
    assert [e["outcome"] for e in audit.events()] == ["refused"]


def test_refusals_write_nothing(demo: DemoEnvironment, tmp_path: Path) -> None:
    before = site_snapshot(demo)
    no_tty = run_cli(demo, tmp_path, "renew")
    assert no_tty.returncode == 1
    assert "stdin is not a terminal" in one_line_error(no_tty, "aio-certs renew: not confirmed")
    read_only = run_cli(demo, tmp_path, "renew", "--yes", "--read-only")
    assert read_only.returncode == 1
    assert "read-only mode is on" in one_line_error(read_only, "aio-certs renew: renew: refused")
    unknown = run_cli(demo, tmp_path, "renew", "no-such-cert", "--yes")
    assert unknown.returncode == 1
    assert "not found (known: " in one_line_error(unknown, "aio-certs renew: Certificate 'no-such-cert'")
    dry = run_cli(demo, tmp_path, "renew", "--dry-run", "--read-only")
    assert dry.returncode == 0 and "would renew Certificate cert-manager/" in dry.stdout
    assert site_snapshot(demo) == before
    # Nothing was written to the site, but every attempt left its line in the audit log.
    events = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    root = f"cert-manager/{ROOT_CERT}"
    assert [(e["action"], e["outcome"], e["entries"]) for e in events] == [
        ("renew", "cancelled", [root]),
        ("renew", "refused", []),
        ("renew", "refused", ["no-such-cert"]),
        ("renew", "dry-run", [root]),
    ]
    assert "read-only mode is on" in events[1]["detail"] and "not found" in events[2]["detail"]


def test_config_file_read_only_is_honoured(demo: DemoEnvironment, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text("read_only = true\n", encoding="utf-8")
    before = site_snapshot(demo)
    result = run_cli(demo, tmp_path, "renew", "--yes", AIO_CERTS_CONFIG=str(config))
    assert result.returncode == 1
    assert "read-only mode is on" in one_line_error(result, "aio-certs renew:")
    assert site_snapshot(demo) == before
