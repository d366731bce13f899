"""A synced list's size against the 1 MiB a Secret may hold, judged and worded the same everywhere.

The API server refuses a Secret whose data exceeds 1 MiB (docs/domain.md §1.2), so the secret sync
controller cannot write a list past that and the list stops updating. The dashboard title, ``status``
and its JSON, and the findings all read these helpers.
"""

from __future__ import annotations

from tui.core.model.state import SECRET_DATA_LIMIT, Severity

WARN_FRACTION = 0.8
"""From this share of the limit a list's size is a warning: there is room for little more."""


def size_severity(size: int | None, limit: int = SECRET_DATA_LIMIT) -> Severity | None:
    """Warning from 80 % of the limit, critical at or over it (the next write fails); else None."""
    if size is None:
        return None
    if size >= limit:
        return Severity.CRITICAL
    if size >= WARN_FRACTION * limit:
        return Severity.WARNING
    return None


def percent(size: int, limit: int = SECRET_DATA_LIMIT) -> int:
    """Whole percent of the limit, rounded down (99 % until the limit is really reached)."""
    return size * 100 // limit


def size_text(size: int) -> str:
    """``640 B``, ``812 KiB``, ``1.02 MiB``: binary units, as the limit is stated."""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size // 1024} KiB"
    return f"{size / (1024 * 1024):.2f} MiB"


def limit_text(limit: int = SECRET_DATA_LIMIT) -> str:
    """The limit as it is stated: ``1 MiB``."""
    mib = 1024 * 1024
    return f"{limit // mib} MiB" if limit % mib == 0 else size_text(limit)


def usage_text(size: int, limit: int = SECRET_DATA_LIMIT) -> str:
    """``812 KiB of 1 MiB (79%)``."""
    return f"{size_text(size)} of {limit_text(limit)} ({percent(size, limit)}%)"
