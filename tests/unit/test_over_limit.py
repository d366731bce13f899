"""A list over the API server's 1 MiB (trial finding 8): the API server refused the synced Secret, so
there is none. ``status`` still gives the size the vault's values make, says the sync fails for being
over the limit, and decodes each entry from its vault value, so an expired certificate stays an
expired finding (with ``not-synced`` beside it)."""

from __future__ import annotations

import json
from datetime import timedelta

from tests import certgen as cg
from tests.rawobjects import Site, quickstart_site, secret_sync
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.health.report import render_status, state_to_json
from tui.core.model import resources as rk
from tui.core.model.names import OPCUA_SPC, QUICKSTART_CA_COMMON_NAME, TRUST_LIST_SYNC
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState
from tui.core.model.state import SECRET_DATA_LIMIT, ClusterState, Health, Severity

NOW = cg.EPOCH + timedelta(days=100)
NS = "azure-iot-operations"
ROOT = cg.make_ca(QUICKSTART_CA_COMMON_NAME, days=365)
# What the emulated controller (and SSC v0.0.4) reports for any refused patch (docs/domain.md §5.3).
REFUSED = ("UnknownError", "Secret patch failed with an unknown error; see the logs.")


def _over_limit_site() -> tuple[Site, dict[str, bytes]]:
    ca = cg.make_ca("Vendor CA")
    expired = cg.make_leaf(
        ca, "Robot Cell 07", not_before=NOW - timedelta(days=400), not_after=NOW - timedelta(days=5)
    )
    files = {"robot-cell-07.der": expired.der, "plc-01.der": cg.make_leaf(ca, "PLC 01", days=300).der}
    # Padding files of the vault (hex, as the official tooling stores them) push the list past 1 MiB.
    padding = {f"bulk-{i}.der": b"\x30" * 300_000 for i in range(4)}
    site = quickstart_site(NOW, ca=ROOT, trust={**files, **padding})
    site.remove(rk.SECRETS, NS, TRUST_LIST_SYNC)  # refused by the API server: never written
    mappings = [(name.replace(".", "-"), name) for name in {**files, **padding}]
    site.add(rk.SECRET_SYNCS, secret_sync(TRUST_LIST_SYNC, NS, OPCUA_SPC, mappings, failure=REFUSED))
    return site, {**files, **padding}


def _build(site: Site, *, values: bool = True) -> ClusterState:
    return build_state(
        site.snapshot(),
        settings=ModelSettings(),
        now=NOW,
        vault=site.vault_snapshot(values=values),
        cache=DecodeCache(),
    )


def test_the_size_comes_from_the_vault_values_when_no_secret_was_written() -> None:
    site, files = _over_limit_site()
    state = _build(site)
    sync = state.sync("trust")
    assert sync is not None and sync.data_bytes is None
    assert sync.next_bytes == sum(len(v) for v in files.values()) > SECRET_DATA_LIMIT
    summary = state_to_json(state)["summary"]["opcua"]["trust"]
    assert summary["size_bytes"] is None and summary["next_size_bytes"] == sync.next_bytes
    assert summary["size_percent"] == sync.next_bytes * 100 // SECRET_DATA_LIMIT
    json.dumps(state_to_json(state), default=str)  # still serialisable


def test_the_failure_is_explained_as_over_the_limit_with_a_critical_size_finding() -> None:
    state = _build(_over_limit_site()[0])
    failing = next(f for f in state.findings if f.code == "sync-failing")
    assert failing.severity is Severity.CRITICAL
    assert failing.message.endswith("over the 1 MiB limit the API server allows")
    assert "the Secret would hold 1.1" in failing.message
    size = next(f for f in state.findings if f.code == "sync-size")
    assert size.severity is Severity.CRITICAL and "MiB of 1 MiB (11" in size.message
    text = render_status(state, width=None)
    assert "sync FAILING (UnknownError: over the 1 MiB limit)" in text
    assert "no synced Secret; size 1.1" in text and "after the next sync" in text


def test_entries_are_decoded_from_their_vault_values() -> None:
    state = _build(_over_limit_site()[0])
    entry = state.entry("trust/robot-cell-07.der")
    assert entry is not None and entry.from_vault and not entry.synced
    assert entry.certificate is not None and entry.certificate.common_name == "Robot Cell 07"
    assert entry.days_left is not None and entry.days_left < 0
    assert {Health.EXPIRED, Health.NOT_SYNCED} <= set(entry.flags)
    assert entry.severity is Severity.CRITICAL
    expired = next(f for f in state.findings if f.code == "entry-expired")
    assert expired.subject == "trust/robot-cell-07.der" and expired.severity is Severity.CRITICAL
    assert "(Robot Cell 07): expired 5d ago" in expired.message
    assert any(f.code == "entry-not-synced" and f.subject == entry.key for f in state.findings)


def test_without_vault_values_nothing_is_made_up() -> None:
    state = _build(_over_limit_site()[0], values=False)
    sync = state.sync("trust")
    assert sync is not None and sync.next_bytes is None
    entry = state.entry("trust/robot-cell-07.der")
    assert entry is not None and entry.certificate is None and entry.content == "missing"
    assert not entry.from_vault


def test_at_80_columns_the_sync_verdict_folds_under_the_entry_count() -> None:
    lines = render_status(_build(_over_limit_site()[0]), width=80).splitlines()
    assert all(len(line) <= 80 for line in lines)
    at = next(i for i, line in enumerate(lines) if line.startswith("  trust ") and " entries: " in line)
    assert not lines[at].endswith("…") and lines[at + 1].startswith(" " * 13 + "over the")
    assert "sync FAILING (UnknownError: over the 1 MiB limit)" in " ".join(
        line.strip() for line in lines[at : at + 2]
    )


def test_unread_secrets_leave_entries_unknown_not_decoded_from_the_vault() -> None:
    """Only Secrets that were read say a file is not synced; forbidden ones leave it unknown."""
    site = _over_limit_site()[0].set_state(rk.SECRETS, AreaState.FORBIDDEN, "secrets is forbidden")
    entry = _build(site).entry("trust/robot-cell-07.der")
    assert entry is not None and entry.certificate is None and not entry.from_vault
