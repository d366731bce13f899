"""``status`` output: the pasteable screen, the JSON snapshot and the exit status."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

from tests import certgen as cg
from tests.rawobjects import Site, cluster_issuer, quickstart_site, secret_sync
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.health.report import exit_code, render_status, state_to_json
from tui.core.model import resources as rk
from tui.core.model.names import QUICKSTART_CA_COMMON_NAME, ROOT_CA_SECRET, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState, Finding, Severity

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
SITE_CA = cg.make_ca("Contoso Site Root CA")
BYO_ROOT = cg.make_ca("Contoso AIO Issuing CA", days=365)
LAST_CHANGE = "2025-04-10 23:59Z"
"""When the fake site's lists last changed (lastSuccessfulSyncTime), as the screen writes a moment."""


def _leaf(cn: str, days_left: float) -> bytes:
    return cg.make_leaf(
        SITE_CA, cn, not_before=NOW - timedelta(days=10), not_after=NOW + timedelta(days=days_left)
    ).der


def _site(**files: bytes) -> Site:
    crl = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=1))
    return quickstart_site(
        NOW,
        ca=ROOT,
        trust={k.replace("_", "."): v for k, v in files.items()},
        issuer_list={"site-ca.crt": SITE_CA.pem, "site-ca.crl": crl.der},
    )


def _state(site: Site) -> ClusterState:
    return build_state(
        site.snapshot(), settings=ModelSettings(), now=NOW, vault=site.vault_snapshot(), cache=DecodeCache()
    )


def _replace_findings(state: ClusterState, *severities: Severity) -> ClusterState:
    import dataclasses

    findings = tuple(Finding(s, "x", "x", str(i)) for i, s in enumerate(severities))
    return dataclasses.replace(state, findings=findings)


@pytest.mark.parametrize(
    ("severities", "code"),
    [
        ((), 0),
        ((Severity.INFO,), 0),
        ((Severity.WARNING, Severity.INFO), 1),
        ((Severity.CRITICAL, Severity.WARNING), 2),
    ],
)
def test_exit_code_follows_the_worst_finding(severities: tuple[Severity, ...], code: int) -> None:
    state = _replace_findings(_state(_site(plc_der=_leaf("plc", 200))), *severities)
    assert exit_code(state) == code


def test_status_screen_holds_what_a_ticket_needs() -> None:
    state = _state(_site(plc_der=_leaf("plc", 200), old_der=_leaf("old", -4), soon_der=_leaf("soon", 12)))
    text = render_status(state, width=100)
    lines = text.splitlines()
    assert lines[0].startswith(
        "aio-certs status: CRITICAL   namespace azure-iot-operations   at 2025-04-11 00:00Z"
    )
    assert all(len(line) <= 100 for line in lines)
    assert len(lines) <= 40  # one screenful
    root = state.root_ca.certificate
    assert root is not None
    for expected in (
        f"  subject       {root.subject}",
        "  quickstart    yes: AIO's self-generated CA, not for production",
        f"  thumbprint    SHA-1 {root.sha1}",
        "  not after     2026-01-01 00:00Z (expires in 265d)",
        "  rotation      steady: next renewal 2025-12-02 00:00Z, revision 1",
        "  key rotation  Never: renewals keep the key",
        "  bundle check  in sync: holds the current CA; 1 certificate(s)",
        "  trust      3 entries: 1 ok, 1 warning, 1 critical; sync ok",
        # lastSuccessfulSyncTime moves only when the data changes: never called the last sync.
        f"             size 1 KiB of 1 MiB (0%); last change synced {LAST_CHANGE}",
        "  issuer     2 entries: 2 ok, 0 warning, 0 critical; sync ok",
        f"             size 941 B of 1 MiB (0%); last change synced {LAST_CHANGE}",
        "Findings: 1 critical, 2 warning, 0 info",
        "  CRIT  trust list old.der (old): expired 4d ago",
        "  WARN  trust list soon.der (soon): expires in 12d",
    ):
        assert expected in lines, expected
    issuer_rows = [line for line in lines if "ClusterIssuer" in line]
    assert any(
        row.split()[:4] == ["azure-iot-operations-aio-certificate-issuer", "ClusterIssuer", "ca", "yes"]
        for row in issuer_rows
    )


def test_status_screen_narrow_and_troubled() -> None:
    site = _site(plc_der=_leaf("plc", 200))
    site.set_state(rk.BUNDLES, AreaState.NOT_INSTALLED, "not served")
    site.set_state(rk.CLUSTER_BUNDLES, AreaState.NOT_INSTALLED, "not served")
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(
            TRUST_LIST_SYNC,
            NS,
            "opc-ua-connector",
            [("plc-der", "plc.der")],
            failure=("ProviderError", "keyvault unreachable"),
        ),
    )
    for i in range(12):
        site.add(
            rk.CLUSTER_ISSUERS,
            cluster_issuer(
                f"extra-issuer-{i:02d}",
                ready=False,
                reason="ErrorSetup",
                type_="venafi",
                message="bad credentials",
            ),
        )
    text = render_status(_state(site), width=60)
    lines = text.splitlines()
    assert all(len(line) <= 60 for line in lines)
    assert "Not fully read: trust-bundle not-installed" in lines
    # The sync verdict folds under the entry count rather than being cut (trial finding 8/9).
    at = lines.index("  trust      1 entries: 0 ok, 1 warning, 0 critical; sync")
    assert lines[at + 1] == " " * 13 + "FAILING (ProviderError)"
    assert any(line.startswith("  ... and ") and line.endswith(" more") for line in lines)
    # The sync failure is critical; issuers nothing depends on are warnings.
    assert "Findings: 1 critical, 13 warning, 1 info (top 10 of 15)" in lines
    assert "  ... 5 more: aio-certs status --all" in lines


def test_missing_root_ca_is_described() -> None:
    site = _site(plc_der=_leaf("plc", 200))
    site.remove(rk.SECRETS, "cert-manager", ROOT_CA_SECRET)
    text = render_status(_state(site))
    assert "  secret        cert-manager/azure-iot-operations-aio-ca-certificate: secret not found" in text
    assert "root CA: secret cert-manager/azure-iot-operations-aio-ca-certificate not found" in text


def test_json_is_the_full_snapshot_and_serialisable() -> None:
    state = _state(_site(plc_der=_leaf("plc", 200), old_der=_leaf("old", -4)))
    data = state_to_json(state)
    text = json.dumps(data)  # no default=: everything must already be JSON types
    back = json.loads(text)
    assert back["summary"] == {
        "health": "critical",
        "exit_code": 2,
        "findings": {"critical": 1, "warning": 1},
        "opcua": {
            "trust": {
                "ok": 1,
                "warning": 0,
                "critical": 1,
                "owner": "cluster",
                "size_bytes": state.sync("trust").data_bytes,  # type: ignore[union-attr]
                "next_size_bytes": None,
                "size_limit_bytes": 1048576,
                "size_percent": 0,
                "last_change_synced": "2025-04-10T23:59:00Z",
            },
            "issuer": {
                "ok": 2,
                "warning": 0,
                "critical": 0,
                "owner": "cluster",
                "size_bytes": state.sync("issuer").data_bytes,  # type: ignore[union-attr]
                "next_size_bytes": None,
                "size_limit_bytes": 1048576,
                "size_percent": 0,
                "last_change_synced": "2025-04-10T23:59:00Z",
            },
        },
        "arm": {"state": "pending", "in_use": False, "message": "no ARM ids known (a cluster-only site)"},
        "flags": {"expired": 1},
    }
    assert back["root_ca"]["certificate"]["sha1"] == state.root_ca.certificate.sha1  # type: ignore[union-attr]
    assert back["root_ca"]["certificate"]["source"] == "cert-manager/azure-iot-operations-aio-ca-certificate"
    assert back["root_ca"]["rotation"]["phase"] == "steady"
    assert back["settings"]["expiring_warn_days"] == 30
    plc = next(e for e in back["opcua"] if e["key"] == "trust/plc.der")
    assert plc["certificate"]["source"] == "trust/plc.der"
    assert plc["vault_tags"] == {"file-encoding": "hex"}
    assert plc["signed_by"] == "issuer/site-ca.crt"
    assert [f["code"] for f in back["findings"]] == ["entry-expired", "quickstart-ca"]
    assert back["areas"][0] == {
        "area": "root-ca",
        "state": "ok",
        "message": "",
        "parts": [
            ["v1/secrets", {"state": "ok", "message": "", "since": None}],
            ["cert-manager.io/v1/certificates", {"state": "ok", "message": "", "since": None}],
        ],
    }
    assert {i["key"] for i in back["issuers"]} == {
        "ClusterIssuer/azure-iot-operations-aio-certificate-issuer",
        "ClusterIssuer/azure-iot-operations-aio-selfsigned-root",
    }


def test_no_private_key_material_in_any_output() -> None:
    site = _site(plc_der=_leaf("plc", 200), key_crt=ROOT.key_pem)
    state = _state(site)
    secret_b64 = site.get(rk.SECRETS, "cert-manager", ROOT_CA_SECRET)["data"]["tls.key"]
    key_body = base64.b64decode(secret_b64).decode().splitlines()[1]  # first base64 line of the key
    outputs = [render_status(state), json.dumps(state_to_json(state)), repr(state)]
    for out in outputs:
        assert key_body not in out
        assert secret_b64 not in out
        assert "PRIVATE KEY-----" not in out
    assert state.root_ca.private_key_present is True
    assert state.entry("trust/key.crt").private_key_present is True  # type: ignore[union-attr]


def test_status_lists_a_partial_sync_a_secret_without_its_secretsync_and_the_size_to_come() -> None:
    site = _site(plc_der=_leaf("plc", 200), cam_der=_leaf("cam", 200))
    site.add(
        rk.SECRET_SYNCS,
        secret_sync(
            TRUST_LIST_SYNC,
            NS,
            "opc-ua-connector",
            [("plc-der", "plc.der"), ("cam-der", "cam.der")],
            failure=("PartialSync", '[{"objectName": "cam-der", "status": "Failed", "error": "403"}]'),
        ),
    )
    # The vault holds a larger plc.der than synced: the list grows at the next sync.
    site.vault_files["plc.der"] = b"\1" * 900_000
    state = _state(site)
    sync = state.sync("trust")
    assert sync is not None and sync.data_bytes is not None and sync.data_bytes < 1024
    lines = render_status(state, width=100).splitlines()
    assert "  trust      2 entries: 0 ok, 2 warning, 0 critical; sync PARTIAL: 1 item(s) failed" in lines
    # 900,000 bytes of plc.der and cam.der as synced.
    after = 900_000 + len(_leaf("cam", 200))
    assert (
        f"             size {sync.data_bytes} B of 1 MiB (0%), {after // 1024} KiB after the next sync"
        in lines
    )
    summary = state_to_json(state)["summary"]["opcua"]["trust"]
    assert summary["size_bytes"] == sync.data_bytes and summary["next_size_bytes"] == after
    assert summary["size_percent"] == 85  # of the larger: the size after the next sync

    # The deployment's trust list Secret, before any SecretSync: its keys were added by hand.
    site.remove(rk.SECRET_SYNCS, NS, TRUST_LIST_SYNC)
    lines = render_status(_state(site), width=120).splitlines()
    assert (
        "  trust      2 entries: 2 ok, 0 warning, 0 critical; no SecretSync, Secret holds 2 hand-added key(s)"
        in lines
    )


def test_a_sync_holding_only_the_unknown_placeholder_is_not_reported_yet() -> None:
    site = _site(plc_der=_leaf("plc", 200))
    sync = site.get(rk.SECRET_SYNCS, NS, TRUST_LIST_SYNC)
    # The controller's placeholder while its first sync runs (docs/domain.md §5.3): no failure, no "ok".
    sync["status"] = {
        "conditions": [{"type": "Unknown", "status": "Unknown", "reason": "Unknown", "message": ""}]
    }
    lines = render_status(_state(site), width=100).splitlines()
    assert "  trust      1 entries: 1 ok, 0 warning, 0 critical; sync not reported yet" in lines


def test_an_unset_rotation_policy_is_not_called_always() -> None:
    site = _site(plc_der=_leaf("plc", 200))
    root = site.get(rk.CERTIFICATES, "cert-manager", "azure-iot-operations-aio-selfsigned-root")
    root["spec"]["privateKey"].pop("rotationPolicy")
    lines = render_status(_state(site), width=100).splitlines()
    assert "  key rotation  unset (cert-manager's default: Always from v1.18, Never before)" in lines
