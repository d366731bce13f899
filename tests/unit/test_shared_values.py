"""tui/core/shared.py: equal recurring values become one object (certificate fields, a vault listing's
content types and tag sets), and the table stays bounded."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tui.core import shared as shared_module
from tui.core.shared import shared
from tui.vault.listing import shared_tags


def test_equal_tags_are_one_read_only_mapping_with_the_same_items_in_order() -> None:
    first = shared_tags({"file-encoding": "hex", "note": "x"})
    again = shared_tags(dict([("file-encoding", "hex"), ("note", "x")]))
    assert again is first and isinstance(first, MappingProxyType)
    assert list(first.items()) == [("file-encoding", "hex"), ("note", "x")]
    assert shared_tags({"note": "x", "file-encoding": "hex"}) == first  # another order: equal, kept as given
    assert list(shared_tags({"note": "x", "file-encoding": "hex"})) == ["note", "file-encoding"]
    assert shared_tags(None) is shared_tags({}) and shared_tags(None) == {}
    with pytest.raises(TypeError):
        first["note"] = "y"  # type: ignore[index]


def test_a_tag_set_never_stands_for_another_value() -> None:
    # Its key holds a marker of the listing's: a tuple of the same items is not the mapping.
    items = (("file-encoding", "hex"),)
    assert shared(items) is not shared_tags(dict(items)) and shared(items) == items


def test_equal_texts_are_one_string() -> None:
    made = "".join(["application/", "pkix-cert"])
    kept = shared("application/pkix-cert")
    assert shared(made) is kept and shared(None) is None


def test_the_table_starts_again_at_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared_module, "LIMIT", 3)
    monkeypatch.setattr(shared_module, "_TABLE", {})
    first = shared("t0")
    for i in range(1, 4):
        shared(f"t{i}")
    assert len(shared_module._TABLE) == 1  # the fourth started the table again
    assert shared("".join(["t", "0"])) == first
