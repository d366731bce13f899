"""The OPC UA filter's fast paths: search texts kept per state, a narrowing query testing only the
previous matches. Whatever path a query takes, it keeps exactly the entries a from-scratch match keeps."""

from __future__ import annotations

import sys
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tui.core.model.state import ClusterState, OpcUaEntry
from tui.ui.view import filtering
from tui.ui.view.filtering import HaystackCache, entry_haystack, haystack_inputs, parse_filter

WORDS = (
    "plc",
    "plc-line1",
    "pl",
    "p",
    "trust",
    "tr",
    "issuer",
    "expired",
    "expir",
    "exp",
    "critical",
    "ca",
    "crl",
    "der",
    "line",
    "problem",
    "healthy",
    "ok",
    "o",
    "contoso",
    "zzz",
    "-",
    ".",
)
"""Words and word fragments that occur (or, for ``zzz``, do not) in the test site's entries."""


def _scratch(entries: tuple[OpcUaEntry, ...], text: str) -> list[str]:
    """What the filter keeps, matched entry by entry with no cache at all."""
    entry_filter = parse_filter(text)
    return [e.key for e in entries if entry_filter.matches(e)]


def _keys(entries: list[OpcUaEntry]) -> list[str]:
    return [e.key for e in entries]


def _typed(texts: list[str]) -> list[str]:
    """Each text typed key by key, as the filter box reports it: every prefix, in order."""
    return [text[:end] for text in texts for end in range(1, len(text) + 1)]


@pytest.mark.parametrize(
    ("new", "old", "narrows"),
    [
        ("benc", "ben", True),
        ("ben", "benc", False),
        ("ben plc", "ben", True),
        ("plc ben", "ben", True),
        ("ben", "ben plc", False),
        ("!ab", "!abc", True),
        ("!abc", "!ab", False),
        ("abc", "!abc", False),
        ("problem", "proble", False),
        ("proble", "problem", False),
        ("ok", "o", False),
        ("problem plc", "problem", True),
        ("x", "", True),
        ("", "x", False),
    ],
)
def test_a_query_narrows_another_only_when_every_entry_it_keeps_is_kept_by_the_other(
    new: str, old: str, narrows: bool
) -> None:
    assert parse_filter(new).narrows(parse_filter(old)) is narrows


def test_typing_on_tests_only_the_entries_the_previous_query_kept(steady: ClusterState) -> None:
    entries = steady.opcua
    cache = HaystackCache()
    p = parse_filter("p").apply(entries, cache)
    assert cache.tested == len(entries)
    pl = parse_filter("pl").apply(entries, cache)
    assert cache.tested == len(p) < len(entries)
    parse_filter("plc !copy").apply(entries, cache)
    assert cache.tested == len(pl)
    parse_filter("p").apply(entries, cache)  # a deleted key widens: everything is tested again
    assert cache.tested == len(entries)
    # A copy of the same entries (the same objects) still narrows; new entries start over.
    parse_filter("pl").apply(tuple(list(entries)), cache)
    assert cache.tested == len(p)
    fewer = entries[1:]
    assert [e.key for e in parse_filter("plc").apply(fewer, cache)] == _scratch(fewer, "plc")
    assert cache.tested == len(fewer)


def test_the_empty_filter_prepares_the_search_texts_of_a_new_state(
    steady: ClusterState, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[str] = []

    def counted(entry: OpcUaEntry) -> str:
        made.append(entry.key)
        return entry_haystack(entry)

    monkeypatch.setattr(filtering, "entry_haystack", counted)
    cache = HaystackCache()
    assert parse_filter("").apply(steady.opcua, cache) == list(steady.opcua)
    assert sorted(made) == sorted(e.key for e in steady.opcua)  # made when the state was shown
    parse_filter("p").apply(steady.opcua, cache)
    assert len(made) == len(steady.opcua)  # the first keystroke makes none


def test_an_equal_entry_of_a_new_state_keeps_its_search_text(steady: ClusterState) -> None:
    cache = HaystackCache()
    first = cache.texts(steady.opcua)
    rebuilt = tuple(replace(e) for e in steady.opcua)  # equal values, new objects
    again = cache.texts(rebuilt)
    assert again == first
    assert all(a is b for a, b in zip(again, first, strict=True))  # reused, not recomputed


def test_an_entry_whose_health_changed_gets_a_new_search_text(steady: ClusterState) -> None:
    cache = HaystackCache()
    critical = _keys(parse_filter("critical").apply(steady.opcua, cache))
    assert "trust/sensor-hub.der" in critical
    healed = tuple(
        replace(e, flags=(), severity=None) if e.key == "trust/sensor-hub.der" else e for e in steady.opcua
    )
    assert _keys(parse_filter("critical").apply(healed, cache)) == [
        k for k in critical if k != "trust/sensor-hub.der"
    ]
    assert "trust/sensor-hub.der" in _keys(parse_filter("healthy").apply(healed, cache))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    queries=st.lists(
        st.lists(st.tuples(st.booleans(), st.sampled_from(WORDS)), min_size=1, max_size=3).map(
            lambda words: " ".join(("!" if negated else "") + word for negated, word in words)
        ),
        min_size=1,
        max_size=4,
    )
)
def test_every_keystroke_keeps_what_a_match_from_scratch_keeps(
    steady: ClusterState, queries: list[str]
) -> None:
    entries = steady.opcua
    cache = HaystackCache()
    for text in _typed(queries):
        assert [e.key for e in parse_filter(text).apply(entries, cache)] == _scratch(entries, text), text


def test_a_cached_text_holds_the_newest_entry_not_the_one_it_was_made_for(steady: ClusterState) -> None:
    # A rebuilt state brings equal entries as new objects; the text is reused, and the cache must let the
    # old entry go (it held every entry of the state before the vault's: about 1 MiB at 2,000 entries).
    old = steady.opcua[0]
    new = replace(old, vault_in_sync=not old.vault_in_sync)
    assert new is not old and haystack_inputs(new) == haystack_inputs(old)
    cache = HaystackCache()
    before = sys.getrefcount(old)
    text = cache.get(old)
    assert sys.getrefcount(old) == before + 1  # the cache holds it with its text
    assert cache.get(new) is text
    assert sys.getrefcount(old) == before  # ... and no more once a newer equal entry asked for it
    assert cache.get(new) is text
