"""One object for each value a vault's listing repeats: content types and tag sets.

A site's certificates are stored alike: at 2,000 secrets the listing holds three content types and often
one tag set (``file-encoding: hex``), yet each secret arrived with its own string and its own tag mapping
(a read-only view over a dict of strings, about 400 bytes). The snapshot keeps them for as long as it is
shown, in the process that read it and, pickled, in the dashboard a forked reader hands it to; equal
values shared here are pickled once and stay shared there (``pickle`` keeps each object once).

Sharing changes no result: the tag mapping is made of the same items in the same order, read-only, and a
string is a string. Both tables forget everything once they hold :data:`LIMIT` values, so a vault of
all-different tags cannot grow them without bound.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LIMIT = 512
"""Distinct values each table keeps before it starts again."""

_tag_sets: dict[tuple[tuple[str, str], ...], Mapping[str, str]] = {}
_texts: dict[str, str] = {}


def shared_tags(tags: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only mapping equal to ``tags`` (empty for None), the same object for the same items."""
    items = tuple(tags.items()) if tags else ()
    found = _tag_sets.get(items)
    if found is None:
        if len(_tag_sets) >= LIMIT:
            _tag_sets.clear()
        found = _tag_sets[items] = MappingProxyType(dict(items))
    return found


def shared_text(text: str | None) -> str | None:
    """``text`` itself, or an equal string handed out before (None stays None)."""
    if text is None:
        return None
    found = _texts.get(text)
    if found is None:
        if len(_texts) >= LIMIT:
            _texts.clear()
        found = _texts[text] = text
    return found
