"""Findings of the flagged OPC UA entries, remembered until their wording would change.

"expired 3d ago" and "expires in 5h 3m" depend on the time, at the granularity
:func:`~tui.core.durations.humanize` prints: days from two days on, then hours, minutes, seconds.
The findings of one set of entries are kept with the first moment any of those texts moves on.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from tui.core.build.memo import MISS, BuildMemo
from tui.core.health.findings import entry_findings
from tui.core.model.settings import ModelSettings
from tui.core.model.state import Finding, Health, OpcUaEntry

_SECOND = timedelta(seconds=1)
_TICK = timedelta(microseconds=1)


def _unit(seconds: int) -> int:
    # The smallest step humanize shows at this size; every switch of size is a multiple of the finer step.
    if seconds >= 2 * 86400:
        return 86400
    if seconds >= 86400:
        return 3600
    if seconds >= 3600:
        return 60
    return 1


def text_stable_until(entry: OpcUaEntry, now: datetime) -> datetime | None:
    """The first moment after ``now`` at which this entry's finding texts may read differently."""
    cert = entry.certificate
    if cert is None:
        return None
    if Health.EXPIRED in entry.flags and now >= cert.not_after:
        # "expired humanize(now - notAfter) ago": whole seconds since notAfter, counted up.
        elapsed = int((now - cert.not_after).total_seconds())
        unit = _unit(elapsed)
        return cert.not_after + (elapsed // unit + 1) * unit * _SECOND
    if Health.EXPIRING in entry.flags and cert.not_after >= now:
        # "expires in humanize(notAfter - now)": whole seconds left, counted down; the text holds
        # while at least (left // unit) * unit seconds remain.
        left = int((cert.not_after - now).total_seconds())
        unit = _unit(left)
        return cert.not_after - (left // unit) * unit * _SECOND + _TICK
    return None


def remembered_entry_findings(
    entries: Sequence[OpcUaEntry], settings: ModelSettings, now: datetime, memo: BuildMemo
) -> list[Finding]:
    """:func:`~tui.core.health.findings.entry_findings` of every flagged entry, reused while unchanged.

    ``entries`` should be the very tuple the entries memo remembered: comparing it with itself costs
    a pointer per entry.
    """
    name = ("opcua-findings", settings.namespace)
    inputs = (settings, entries)
    remembered = memo.get(name, inputs, now)
    if remembered is not MISS:
        return list(remembered)
    findings: list[Finding] = []
    bounds: list[datetime] = []
    for entry in entries:
        if entry.flags:
            findings += entry_findings(entry, settings, now)
            bound = text_stable_until(entry, now)
            if bound is not None:
                bounds.append(bound)
    memo.put(name, inputs, now, min(bounds, default=None), tuple(findings))
    return findings
