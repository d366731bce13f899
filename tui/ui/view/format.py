"""Short display texts for the dashboard: dates, days left, thumbprints, conditions.

Pure functions without Textual, shared by the panes, the preview and the tests. Every time is shown in
UTC with a trailing ``Z`` so a technician can compare it with ``kubectl`` output as it is.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

from tui.core import durations
from tui.core.durations import humanize
from tui.core.model.state import Condition

DASH = "-"


def when(value: datetime | None, *, seconds: bool = False) -> str:
    """``2026-01-31 12:00Z``: the one form of a moment on screen (see
    :func:`tui.core.durations.screen_time`); ``-`` when unknown. ``seconds`` is kept for callers and
    ignored: one format everywhere reads better than a precision nobody compares."""
    del seconds
    return durations.screen_time(value, empty=DASH)


def day(value: datetime | None) -> str:
    """``2026-01-31``: the date part only, for narrow table columns."""
    return value.strftime("%Y-%m-%d") if value is not None else DASH


def clock_time(value: datetime | None) -> str:
    """``12:00Z``: the time part of the one screen form, for the header's "since" (one narrow line)."""
    return when(value)[-6:] if value is not None else DASH


def days_text(days: float | None) -> str:
    """Days left as every view shows them: ``59d``, ``0d``, ``-366d``; ``-`` if unknown.

    The figure comes from :func:`tui.core.durations.days_left` (whole days, rounded down); a fraction
    handed in is rounded down the same way, so no view can show another number.
    """
    return durations.days_text(None if days is None else math.floor(days))


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
