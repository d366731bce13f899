"""tui/vault/shared.py: equal listing values become one object, and the tables stay bounded."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from tui.vault import shared
from tui.vault.shared import shared_tags, shared_text


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


def test_equal_texts_are_one_string() -> None:
    made = "".join(["application/", "pkix-cert"])
    kept = shared_text("application/pkix-cert")
    assert shared_text(made) is kept and shared_text(None) is None


def test_the_tables_start_again_at_their_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "LIMIT", 3)
    monkeypatch.setattr(shared, "_texts", {})
    first = shared_text("t0")
    for i in range(1, 4):
        shared_text(f"t{i}")
    assert len(shared._texts) == 1  # the fourth started the table again
    assert shared_text("".join(["t", "0"])) == first
