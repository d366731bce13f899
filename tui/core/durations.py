"""Go-style durations (``90s``, ``2160h``, ``1h30m``) as cert-manager and our flags write them."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

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


_DAY = timedelta(days=1)

DAYS_LEFT_RULE = (
    "Days left are whole days until the expiry (a certificate's notAfter, a CRL's nextUpdate), rounded "
    "down: 0d means under a day to go, -1d expired within the last day; 'expired Nd ago' shows N = "
    "minus days left."
)
"""The rounding rule, as the help and the docs state it."""


def days_left(end: datetime, now: datetime) -> int:
    """Whole days from ``now`` until ``end``, rounded down (floor); negative once ``end`` has passed.

    The one computation of days left: the tables, previews, Root CA pane, ``status`` (text and JSON)
    and ``inspect`` (text and JSON) all show this number (see :data:`DAYS_LEFT_RULE`). Rounding down
    keeps the sign honest: a certificate that expired a minute ago shows -1d, never 0d.
    """
    return (end - now) // _DAY


def days_text(days: float | None) -> str:
    """``26d``, ``0d``, ``-366d``; ``-`` when unknown (the table's Days column, the panes)."""
    return "-" if days is None else f"{math.floor(days)}d"


def expiry_phrase(days: float, *, expired_word: str = "expired", long: bool = False) -> str:
    """``expires in 26d`` / ``expired 366d ago`` from :func:`days_left`'s figure (``long``: ``days``).

    A fraction handed in is rounded down first, by the same rule.
    """
    days = math.floor(days)

    def count(n: int) -> str:
        if not long:
            return f"{n}d"
        return f"{n} day" if n == 1 else f"{n} days"

    if days < 0:
        return f"{expired_word} {count(-days)} ago"
    return f"expires in {count(days)}"


def screen_time(moment: datetime | None, *, empty: str = "-") -> str:
    """``2027-01-13 21:32Z``: the one form of a moment on screen and in text output (UTC, minutes).

    JSON uses ISO 8601 with seconds (``2027-01-13T21:32:50Z``, :func:`tui.core.certs.model.iso_utc`).
    Minutes suffice for a person comparing with ``kubectl`` output and keep narrow columns readable.
    """
    if moment is None:
        return empty
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


RETRY_AFTER_LONGEST = 60.0
"""The longest ``Retry-After`` a call without a deadline waits before its next attempt (seconds)."""
RETRY_ATTEMPT_ROOM = 1.0
"""Seconds a call must still have after a ``Retry-After`` wait for the attempt after it to be worth making."""


def worth_waiting(retry_after: float | None, left: float | None) -> bool:
    """Whether a call answered with ``Retry-After`` (a 429, or a 503 or other retried status that carries
    it) should wait that long and try again.

    ``left`` is what the call has before its deadline (None: no deadline). The Azure SDK sleeps whatever
    ``Retry-After`` says: an hour's answer would hold a status check or the vault's reader for that hour,
    and a wait that leaves the next attempt no time only ends in "did not answer in time", hiding that the
    service said "throttled". So a wait is taken only when the call still has :data:`RETRY_ATTEMPT_ROOM`
    after it (or, without a deadline, when it is at most :data:`RETRY_AFTER_LONGEST`); otherwise the call
    ends now with the service's answer.
    """
    if retry_after is None or retry_after <= 0:
        return True
    if left is None:
        return retry_after <= RETRY_AFTER_LONGEST
    return retry_after + RETRY_ATTEMPT_ROOM <= left
