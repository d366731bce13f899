"""Go-style durations (``90s``, ``2160h``, ``1h30m``) as cert-manager and our flags write them."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)")


def parse_duration(text: str) -> timedelta:
    """Parse ``text`` such as ``60s``, ``1h30m`` or ``2160h`` into a timedelta.

    ``d`` (days) is accepted as a convenience for people; cert-manager itself writes hours.
    Raises ValueError with a one-line reason on anything else.
    """
    raw = text.strip()
    if not raw:
        raise ValueError("empty duration")
    pos = 0
    total = 0.0
    for match in _PART.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if pos != len(raw) or pos == 0:
        raise ValueError(f"not a duration: {text!r} (use forms like 45s, 10m, 1h30m, 2160h)")
    return timedelta(seconds=total)


def format_duration(delta: timedelta) -> str:
    """Format a timedelta the way cert-manager writes durations (``2160h0m0s``)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours}h{minutes}m{secs}s"


def humanize(delta: timedelta) -> str:
    """Short human text for a span: ``42d``, ``5h 3m``, ``59s`` (negative spans get a minus sign)."""
    seconds = int(delta.total_seconds())
    sign = "-" if seconds < 0 else ""
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days >= 2:
        return f"{sign}{days}d"
    if days:
        return f"{sign}{days}d {hours}h"
    if hours:
        return f"{sign}{hours}h {minutes}m"
    if minutes:
        return f"{sign}{minutes}m {secs}s"
    return f"{sign}{secs}s"
