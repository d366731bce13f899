"""One object for each recurring immutable value, for values kept as long as the dashboard runs.

A site's 2,000 device certificates from one CA hold one issuer string and one key-usage tuple; its 2,000
vault secrets carry two or three content types and one tag set. Made separately, each is an equal copy
per certificate or secret; passed through :func:`shared`, each is one object (pickle then writes it once
too: the decoded store on disk, the snapshot a forked vault reader sends back). Values are immutable, so
sharing changes nothing but memory. The table is bounded and starts again when full, so values that come
and go cannot grow it for ever; a race between threads at worst makes two equal objects.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, TypeVar, cast

_T = TypeVar("_T")

LIMIT = 4096
"""Distinct values the table keeps before it starts again."""

_TABLE: dict[Hashable, Any] = {}


def shared(value: _T, key: Hashable | None = None) -> _T:
    """``value``, or an equal one handed out before.

    ``key`` stands for a value that cannot be a dict key itself (a read-only mapping: a tuple of its items
    behind a marker object of the caller's, so that no other value's key can equal it).
    """
    if len(_TABLE) >= LIMIT:
        _TABLE.clear()
    return cast(_T, _TABLE.setdefault(value if key is None else key, value))
