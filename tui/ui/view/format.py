"""Short display texts for the dashboard: dates, days left, thumbprints, conditions.

Pure functions without Textual, shared by the panes, the preview and the tests. Every time is shown in
UTC with a trailing ``Z`` so a technician can compare it with ``kubectl`` output as it is.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from tui.core.durations import humanize
from tui.core.model.state import Condition

DASH = "-"


def when(value: datetime | None, *, seconds: bool = True) -> str:
    """``2026-01-31 12:00:05Z`` (or without seconds); ``-`` when unknown."""
    if value is None:
        return DASH
    return value.strftime("%Y-%m-%d %H:%M:%SZ" if seconds else "%Y-%m-%d %H:%MZ")


def day(value: datetime | None) -> str:
    """``2026-01-31``: the date part only, for narrow table columns."""
    return value.strftime("%Y-%m-%d") if value is not None else DASH


def clock_time(value: datetime | None) -> str:
    """``12:00:05``: time of day in UTC, for recent events such as a rotation seen this run."""
    return value.strftime("%H:%M:%S") if value is not None else DASH


def days_text(days: float | None) -> str:
    """Days left as a table shows them: ``59d``, ``5h``, ``12m``, ``-3d`` once expired; ``-`` if unknown.

    Whole days above one day keep the column narrow and change at most once a day, so a live table
    does not repaint a cell every rebuild for a fraction nobody reads.
    """
    if days is None:
        return DASH
    sign = "-" if days < 0 else ""
    magnitude = abs(days)
    if magnitude >= 1:
        return f"{sign}{int(magnitude)}d"
    hours = magnitude * 24
    if hours >= 1:
        return f"{sign}{int(hours)}h"
    return f"{sign}{int(hours * 60)}m"


def span(delta: timedelta) -> str:
    """A countdown or age such as ``4m 12s`` or ``59d`` (see :func:`tui.core.durations.humanize`)."""
    return humanize(delta)


def until(target: datetime | None, now: datetime) -> str:
    """``in 4m 12s`` / ``12s ago`` relative to ``now``; empty when ``target`` is unknown."""
    if target is None:
        return ""
    delta = target - now
    if delta >= timedelta(0):
        return f"in {span(delta)}"
    return f"{span(-delta)} ago"


def thumb(sha1: str | None, length: int = 10) -> str:
    """The first ``length`` hex digits of a thumbprint followed by an ellipsis; ``-`` when unknown."""
    if not sha1:
        return DASH
    return sha1 if len(sha1) <= length else sha1[:length] + "…"


_CN = re.compile(r"(?:^|,)CN=((?:\\.|[^,\\])+)")


def common_name(dn: str) -> str:
    """The CN of an RFC 4514 name (``CN=PLC 1,O=Contoso`` -> ``PLC 1``); the whole name when it has none."""
    match = _CN.search(dn)
    if match is None:
        return dn
    return re.sub(r"\\(.)", r"\1", match.group(1))


def clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells with an ellipsis (ASCII-width assumption, as in subject names)."""
    if width <= 0:
        return ""
    return text if len(text) <= width else text[: width - 1] + "…"


def condition_text(condition: Condition | None) -> str:
    """``True (Ready)`` / ``False (Failed: message)`` / ``-`` for a status condition."""
    if condition is None:
        return DASH
    reason = f" ({condition.reason})" if condition.reason else ""
    return f"{condition.status}{reason}"


def ready_text(ready: bool | None) -> str:
    """``yes`` / ``no`` / ``?`` for a tri-state readiness."""
    if ready is None:
        return "?"
    return "yes" if ready else "no"


def one_line(text: str, width: int | None = None) -> str:
    """Collapse whitespace (a condition message may hold newlines) and optionally clip."""
    flat = " ".join(text.split())
    return clip(flat, width) if width is not None else flat
