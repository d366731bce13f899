"""Remembered build results, so a rebuild whose inputs did not change reuses the last result.

The live view rebuilds on every watch event, but most events touch one small object (a SecretSync's
status, the root CA Secret) while the expensive part - 2,000 OPC UA entries - depends on a few others.
Each memoised part is stored with the *inputs* it was computed from and the span of time over which
its time-dependent fields (days left, "expired", "not yet valid", "CRL stale") cannot change; a later
build reuses it only when its inputs compare equal and its ``now`` falls inside that span.

Inputs are compared by value (``==``), never by identity alone: equal tuples, dicts and strings are
cheap to compare when they are the very same objects (Python checks identity first), and still correct
when a caller rebuilt or mutated an object in place. Callers pass copies of mutable mappings.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

MISS: Final = object()
"""What :meth:`BuildMemo.get` returns when nothing reusable is stored."""


@dataclass(frozen=True, slots=True)
class _Slot:
    inputs: Any
    since: datetime
    until: datetime | None
    value: Any


class BuildMemo:
    """The last result of each memoised part of a build, by part name; thread-safe and bounded.

    ``get``/``put`` are the whole protocol: a result computed at ``now`` from ``inputs`` is valid for
    any later build at a time in ``[now, until)`` with equal inputs (``until`` None: forever).
    """

    def __init__(self, maxsize: int = 32) -> None:
        self.maxsize = maxsize
        self._slots: OrderedDict[Hashable, _Slot] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, name: Hashable, inputs: Any, now: datetime) -> Any:
        """The value stored for ``name`` if made from equal inputs and still valid at ``now``; else MISS."""
        with self._lock:
            slot = self._slots.get(name)
            if slot is not None:
                self._slots.move_to_end(name)
        # A clock that moved backwards is outside the span too: "days left" grows again.
        if (
            slot is not None
            and slot.since <= now
            and (slot.until is None or now < slot.until)
            and slot.inputs == inputs
        ):
            with self._lock:
                self.hits += 1
            return slot.value
        with self._lock:
            self.misses += 1
        return MISS

    def peek(self, name: Hashable) -> Any:
        """The stored value of ``name`` whatever its inputs (for finer-grained reuse), or MISS."""
        with self._lock:
            slot = self._slots.get(name)
        return MISS if slot is None else slot.value

    def put(self, name: Hashable, inputs: Any, now: datetime, until: datetime | None, value: Any) -> None:
        """Remember ``value`` computed at ``now`` from ``inputs``, valid before ``until``."""
        with self._lock:
            self._slots[name] = _Slot(inputs, now, until, value)
            self._slots.move_to_end(name)
            while len(self._slots) > self.maxsize:
                self._slots.popitem(last=False)

    def clear(self) -> None:
        """Forget everything (tests; a caller that wants a from-scratch build)."""
        with self._lock:
            self._slots.clear()
