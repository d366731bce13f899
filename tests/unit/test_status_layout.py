"""``status`` text layout (issue 13 items 5, 17, 23): never cut when piped, wrap findings at 80 columns,
``--all`` lists every finding and says how many more there are without it, and data never read is
unknown, never "not found"."""

from __future__ import annotations

import io
from dataclasses import replace

import pytest

from tests.ui import sitedata
from tui.commands.status.run import status_width
from tui.core.health.report import TOP_FINDINGS, render_status
from tui.core.model import resources as rk
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import ClusterState, Finding, Severity

LONG = (
    "trust list a-very-long-file-name-for-a-plc-certificate.der (PLC Line 1 of the packaging hall): "
    "expires in 3d"
)


@pytest.fixture(scope="module")
def steady() -> ClusterState:
    return sitedata.steady_state()


def _with_findings(state: ClusterState, count: int, message: str = LONG) -> ClusterState:
    findings = tuple(
        Finding(Severity.WARNING, "entry-expiring", f"{i} {message}", f"k{i}") for i in range(count)
    )
    return replace(state, findings=findings)


def test_piped_status_cuts_nothing(steady: ClusterState) -> None:
    assert status_width(io.StringIO()) is None  # not a terminal
    text = render_status(_with_findings(steady, 3), width=None)
    assert f"  WARN  0 {LONG}" in text.splitlines()
    assert "…" not in text


def test_at_80_columns_findings_wrap_instead_of_losing_their_end(steady: ClusterState) -> None:
    text = render_status(_with_findings(steady, 2), width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines)
    start = lines.index(next(line for line in lines if line.startswith("  WARN  0 ")))
    # The continuation lines are indented under the message, and the end of it is there.
    assert lines[start + 1].startswith(" " * 8) and not lines[start + 1].startswith(" " * 9)
    joined = " ".join(line.strip() for line in lines[start : start + 3])
    assert f"0 {LONG}" in joined and "expires in 3d" in joined


def test_all_lists_every_finding_and_without_it_says_how_many_more(steady: ClusterState) -> None:
    state = _with_findings(steady, TOP_FINDINGS + 5, "short")
    top = render_status(state, width=None).splitlines()
    assert f"Findings: 0 critical, {TOP_FINDINGS + 5} warning, 0 info (top {TOP_FINDINGS} of 15)" in top
    assert "  ... 5 more: aio-certs status --all" in top
    assert sum(1 for line in top if line.startswith("  WARN  ")) == TOP_FINDINGS
    every = render_status(state, width=None, show_all=True).splitlines()
    assert sum(1 for line in every if line.startswith("  WARN  ")) == TOP_FINDINGS + 5
    assert not any("more" in line for line in every)


def test_a_cluster_never_read_is_unknown_not_missing() -> None:
    site = sitedata.make_site()
    for kind in rk.ALL_KINDS:
        site.objects[kind.key] = {}
        site.states[kind.key] = ResourceStatus(AreaState.UNREACHABLE, "connection refused")
    text = render_status(sitedata.build(site, vault=False), width=None)
    assert "not found" not in text and "no SecretSync" not in text and "(none)" not in text
    lines = text.splitlines()
    assert any(
        line.startswith("  secret") and line.endswith("unknown: cluster unreachable") for line in lines
    )
    assert "  bundle check  unknown: cluster unreachable" in lines
    assert "  (unknown: cluster unreachable)" in lines  # issuers
    assert "  trust  unknown: cluster unreachable" in lines


def test_at_80_columns_label_lines_wrap_and_the_header_time_is_whole(steady: ClusterState) -> None:
    """Trial finding 9: ``bundle check ... 1 leaf certifi…`` was cut and the header time read ``02:…``."""
    root = replace(steady.root_ca, old_key_certificates=("default/broker-leaf",))
    state = replace(steady, root_ca=root, namespace="azure-iot-operations-long")
    lines = render_status(state, width=80).splitlines()
    assert all(len(line) <= 80 for line in lines)
    assert not any(line.endswith("…") for line in lines[:20])
    header = " ".join(lines[:2])
    assert header.endswith(f"at {steady.built_at:%Y-%m-%d %H:%M}Z")
    start = next(i for i, line in enumerate(lines) if line.startswith("  bundle check  "))
    assert lines[start + 1].startswith(" " * 16) and not lines[start + 1].startswith(" " * 17)
    joined = " ".join(line.strip() for line in lines[start : start + 3])
    assert "1 leaf certificate(s) signed by the old key" in joined
