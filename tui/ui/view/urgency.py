"""Where the urgent things are: finding counts per pane, and the pane to open on.

A technician's first question is "what is wrong here?": the tab strip and the header count the critical
and warning findings, and the dashboard opens on the pane that holds the most severe one (findings come
sorted worst first, see :func:`tui.core.health.findings.sort_findings`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tui.core.model.state import Finding, Severity

_PANE_OF_FAMILY: tuple[tuple[str, str], ...] = (
    ("root-ca", "root-ca"),
    ("quickstart", "root-ca"),
    ("bundle", "root-ca"),
    ("issuer", "issuers"),
    ("certificate", "issuers"),
    # The OPC UA pane's connector line shows the connector's own certificate (trial 19: the tabs left
    # it out and added up to one warning fewer than the header and status).
    ("connector", "opcua"),
    ("sync", "opcua"),
    ("spc", "opcua"),
    ("entry", "opcua"),
    ("arm", "opcua"),
)
"""Finding code prefix -> the pane that shows what it is about (areas and the vault: the header)."""


def finding_pane(finding: Finding) -> str | None:
    """The pane id whose rows a finding is about; None for what only the header shows (areas, vault)."""
    for prefix, pane in _PANE_OF_FAMILY:
        if finding.code.startswith(prefix):
            return pane
    return None


@dataclass(frozen=True)
class Counts:
    """Critical and warning findings of one pane (or of the whole site)."""

    critical: int = 0
    warning: int = 0

    def text(self) -> str:
        """``4 crit 9 warn`` (words, not only colour); empty when both are zero."""
        parts = []
        if self.critical:
            parts.append(f"{self.critical} crit")
        if self.warning:
            parts.append(f"{self.warning} warn")
        return " ".join(parts)


def _count(findings: Iterable[Finding]) -> Counts:
    items = list(findings)
    return Counts(
        sum(1 for f in items if f.severity is Severity.CRITICAL),
        sum(1 for f in items if f.severity is Severity.WARNING),
    )


_LAST_COUNTED: list[tuple[tuple[Finding, ...], dict[str, Counts]]] = []
"""The last state's findings (held, so the identity test cannot match a newer tuple at a freed address)
and their counts: the OPC UA title asks again on every filter keystroke."""


def pane_counts(findings: Iterable[Finding]) -> dict[str, Counts]:
    """Counts per pane id (every pane present, zeros included)."""
    if isinstance(findings, tuple) and _LAST_COUNTED and _LAST_COUNTED[0][0] is findings:
        return dict(_LAST_COUNTED[0][1])
    items = list(findings)
    counts = {
        pane: _count(f for f in items if finding_pane(f) == pane) for pane in ("root-ca", "issuers", "opcua")
    }
    if isinstance(findings, tuple):
        _LAST_COUNTED[:] = [(findings, counts)]
    return dict(counts)


def site_counts(findings: Iterable[Finding]) -> Counts:
    """Counts over every finding (the header's)."""
    return _count(findings)


def most_urgent_pane(findings: Iterable[Finding]) -> str | None:
    """The pane of the most severe critical or warning finding (the first shown one, as findings come
    sorted worst first); None when nothing is critical or warning on any pane."""
    best: tuple[int, str] | None = None
    for finding in findings:
        pane = finding_pane(finding)
        if pane is None or finding.severity is Severity.INFO:
            continue
        rank = finding.severity.rank
        if best is None or rank < best[0]:
            best = (rank, pane)
    return best[1] if best is not None else None
