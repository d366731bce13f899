"""Defensive readers of Kubernetes object fields, shared by every ``build_*`` module.

Objects come from a cluster (or a test) and are not to be trusted: every reader returns an empty
mapping, None or an empty tuple for a missing or mistyped field instead of raising.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from tui.core.durations import parse_duration
from tui.core.model.state import Condition

Obj = Mapping[str, Any]
"""A Kubernetes object (or part of one) as a plain mapping."""

_EMPTY: Obj = {}


def as_map(value: Any) -> Obj:
    """``value`` when it is a mapping, else an empty one: objects from a cluster are not to be trusted."""
    return value if isinstance(value, Mapping) else _EMPTY


def field_of(obj: Any, name: str) -> Obj:
    """The mapping under ``name`` in ``obj`` (empty when either is not a mapping)."""
    return as_map(as_map(obj).get(name))


def meta_of(obj: Obj | None) -> Obj:
    """``metadata`` of an object."""
    return field_of(obj, "metadata")


def spec_of(obj: Obj | None) -> Obj:
    """``spec`` of an object."""
    return field_of(obj, "spec")


def status_of(obj: Obj | None) -> Obj:
    """``status`` of an object."""
    return field_of(obj, "status")


def parse_time(value: Any) -> datetime | None:
    """An RFC 3339 timestamp as the API writes it (``2026-01-01T12:00:00Z``); None when absent or bad."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo else None


def to_int(value: Any) -> int | None:
    """An integer field (a number or numeric text); None when absent or not a number."""
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def to_duration(value: Any) -> timedelta | None:
    """A Go-style duration field (``2160h``); None when absent or malformed."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_duration(value)
    except ValueError:
        return None


def parse_conditions(raw: Any) -> tuple[Condition, ...]:
    """Status conditions as :class:`Condition` values (malformed items skipped)."""
    if not isinstance(raw, list):
        return ()
    out = []
    for item in raw:
        if not isinstance(item, Mapping) or not item.get("type"):
            continue
        out.append(
            Condition(
                type=str(item["type"]),
                status=str(item.get("status") or "Unknown"),
                reason=str(item.get("reason") or ""),
                message=str(item.get("message") or ""),
                last_transition=parse_time(item.get("lastTransitionTime")),
                observed_generation=to_int(item.get("observedGeneration")),
            )
        )
    return tuple(out)


def find_condition(conditions: Sequence[Condition], type_: str) -> Condition | None:
    """The first condition of ``type_``, or None."""
    return next((c for c in conditions if c.type == type_), None)


def b64_bytes(value: Any) -> bytes | None:
    """Strict base64 text (a Secret's ``data`` value) as bytes; None when absent or not base64."""
    if not isinstance(value, str):
        return None
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines included) folded into one space."""
    return " ".join(text.split())
