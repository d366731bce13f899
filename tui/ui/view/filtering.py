"""The OPC UA table's ``/`` filter: words that must all match, health words, ``!`` to negate.

A word matches an entry when it occurs (case-insensitively) in its list, file name, vault secret name,
subject, issuer, thumbprint, content kind or health flags, so ``expired``, ``crl-stale``, ``duplicate``
or ``trust`` work as words. ``problem`` matches any entry with a flag, ``healthy`` one without, and
``critical``/``warning`` its worst severity (the health cell's ``CRIT``/``WARN`` words match too), and
``staged`` the rows with a staged change. ``!word`` keeps the entries the word does not match.

Filtering runs on every keystroke over thousands of entries, so the per-keystroke work is kept to one
substring test per candidate: the lower-cased search text of each entry is computed once per state
(:class:`HaystackCache`), and a query that only narrows the previous one (``ben`` -> ``benc``) tests only
the entries the previous one kept.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tui.core.model.state import OpcUaEntry

_PROBLEM_WORDS = frozenset({"problem", "problems", "unhealthy", "bad"})
_HEALTHY_WORDS = frozenset({"healthy", "ok", "good"})


@dataclass(frozen=True)
class Term:
    """One word of the filter."""

    word: str
    negated: bool = False

    @property
    def is_health_word(self) -> bool:
        """True for ``problem``/``healthy`` and their synonyms, which test the flags, not the text."""
        return self.word in _PROBLEM_WORDS or self.word in _HEALTHY_WORDS

    def matches(self, entry: OpcUaEntry, haystack: str) -> bool:
        """Whether the entry satisfies this word (negation applied)."""
        if self.word in _PROBLEM_WORDS:
            hit = bool(entry.flags)
        elif self.word in _HEALTHY_WORDS:
            hit = not entry.flags
        else:
            hit = self.word in haystack
        return hit != self.negated

    def implies(self, other: Term) -> bool:
        """Whether every entry this word keeps is also kept by ``other``.

        ``benc`` implies ``ben`` (a text holding ``benc`` holds ``ben``) and ``!ben`` implies ``!benc``;
        health words only imply themselves, since they do not test the text.
        """
        if self == other:
            return True
        if self.negated != other.negated or self.is_health_word or other.is_health_word:
            return False
        return self.word in other.word if self.negated else other.word in self.word


@dataclass(frozen=True)
class EntryFilter:
    """A parsed filter; the empty filter matches everything."""

    text: str
    terms: tuple[Term, ...]

    @property
    def active(self) -> bool:
        """True when the filter restricts anything."""
        return bool(self.terms)

    def narrows(self, previous: EntryFilter) -> bool:
        """True when every entry this filter keeps is kept by ``previous`` (the query was typed on)."""
        return all(any(term.implies(old) for term in self.terms) for old in previous.terms)

    def matches(self, entry: OpcUaEntry, haystack: str | None = None) -> bool:
        """Whether every word matches ``entry`` (``haystack`` may be passed in when cached)."""
        if not self.terms:
            return True
        text = haystack if haystack is not None else entry_haystack(entry)
        return all(term.matches(entry, text) for term in self.terms)

    def apply(
        self, entries: Iterable[OpcUaEntry], haystacks: HaystackCache | None = None
    ) -> list[OpcUaEntry]:
        """The matching entries, in the given order.

        Pass the same ``haystacks`` and the same ``entries`` sequence (a state's tuple) keystroke after
        keystroke: the search texts are then computed once, and a narrowing query tests only the entries
        the previous query kept. The empty filter keeps everything but still brings the texts up to date
        (when given a cache), so a new state's are ready before the first keystroke.
        """
        entries = entries if isinstance(entries, Sequence) else tuple(entries)
        if not self.terms:
            if haystacks is not None:
                # Bring the search texts up to date with a new state now, not on the first keystroke.
                haystacks.texts(entries)
            return list(entries)
        cache = haystacks if haystacks is not None else HaystackCache()
        return cache.select(entries, self)


def parse_filter(text: str) -> EntryFilter:
    """Split ``text`` into lower-case words; a leading ``!`` negates a word, a lone ``!`` is ignored."""
    terms: list[Term] = []
    for raw in text.lower().split():
        negated = raw.startswith("!")
        word = raw[1:] if negated else raw
        if word:
            terms.append(Term(word, negated))
    return EntryFilter(text, tuple(terms))


def haystack_inputs(entry: OpcUaEntry) -> tuple[object, ...]:
    """The parts of ``entry`` that :func:`entry_haystack` reads (keep the two in step).

    Comparing these is half the cost of comparing whole entries, and mostly identity tests: a rebuilt
    state shares the decoded certificate and CRL objects of the one before.
    """
    return (
        entry.list_name,
        entry.target_key,
        entry.content,
        entry.source_path,
        entry.certificate,
        entry.crl,
        entry.flags,
        entry.severity,
    )


def entry_haystack(entry: OpcUaEntry) -> str:
    """Everything a filter word may match in one entry, lower-cased, separated by newlines."""
    parts: list[str] = [entry.list_name, entry.target_key, entry.content]
    if entry.source_path:
        parts.append(entry.source_path)
    cert = entry.certificate
    if cert is not None:
        parts += [cert.subject, cert.issuer, cert.sha1, cert.serial]
        if cert.application_uri:
            parts.append(cert.application_uri)
        if cert.is_ca:
            parts.append("ca")
    if entry.crl is not None:
        parts.append(entry.crl.issuer)
    parts += [flag.value for flag in entry.flags]
    if entry.severity is not None:
        parts.append(entry.severity.value)
    return "\n".join(parts).lower()


class HaystackCache:
    """Search texts of the entries, and the last filter's result, for filtering keystroke after keystroke.

    Texts are kept by entry key and recomputed only when the parts they are made of change (entries
    are immutable values); :meth:`texts` also remembers the list it built for the last entry sequence,
    so repeated filters over the same entries cost no per-entry lookups at all.
    """

    def __init__(self) -> None:
        self._cache: dict[str, tuple[OpcUaEntry, tuple[object, ...], str]] = {}
        self._entries: Sequence[OpcUaEntry] | None = None
        self._texts: list[str] = []
        self._last: tuple[EntryFilter, list[int]] | None = None
        """The last filter applied to ``_entries`` and the indices it kept."""
        self.tested = 0
        """How many entries the last :meth:`select` tested (fewer than all when it narrowed)."""
        self._extra: Mapping[str, str] = {}
        """Words shown on a row beyond the entry itself (``staged add``), by entry key."""

    def set_extra(self, extra: Mapping[str, str]) -> None:
        """Let words shown on rows beyond the entry (what is staged on it) match too.

        ``staged`` then finds the rows whose health cell says ``staged add`` or ``staged remove``. A new
        mapping drops the remembered texts, since the same entries now read differently.
        """
        if dict(extra) == dict(self._extra):
            return
        self._extra = dict(extra)
        self._entries = None
        self._last = None

    def get(self, entry: OpcUaEntry) -> str:
        """The haystack of ``entry`` (and of its row's extra words), cached while its parts stay the same."""
        key = entry.key
        extra = self._extra.get(key)
        hit = self._cache.get(key)
        if hit is not None and hit[0] is entry:
            text = hit[2]
        else:
            inputs = haystack_inputs(entry)
            text = hit[2] if hit is not None and hit[1] == inputs else entry_haystack(entry)
            # Hold the entry of the state on screen and its parts, not those the text was made for: the
            # old ones, and whatever only they refer to, would otherwise live as long as the text (at
            # 2,000 entries, every entry of the state before the vault's).
            self._cache[key] = (entry, inputs, text)
        return text if extra is None else f"{text}\n{extra.lower()}"

    def texts(self, entries: Sequence[OpcUaEntry]) -> list[str]:
        """The haystack of each entry, in order (built once per sequence object)."""
        if not self._same_entries(entries):
            self._texts = [self.get(entry) for entry in entries]
            self._entries = entries
            self._last = None
        return self._texts

    def _same_entries(self, entries: Sequence[OpcUaEntry]) -> bool:
        # The very entry objects in the same order (a state's tuple, or a copy of it). Held by
        # reference, so an identity cannot belong to a newer object that reused a freed address.
        known = self._entries
        if known is None or len(known) != len(entries):
            return False
        return entries is known or all(map(operator.is_, entries, known))

    def select(self, entries: Sequence[OpcUaEntry], entry_filter: EntryFilter) -> list[OpcUaEntry]:
        """The entries ``entry_filter`` keeps, in order; narrows the last result when it can."""
        texts = self.texts(entries)
        last = self._last
        candidates: Sequence[int] = range(len(entries))
        if last is not None and entry_filter.narrows(last[0]):
            candidates = last[1]
        terms = entry_filter.terms
        self.tested = len(candidates)
        if all(not term.negated and not term.is_health_word for term in terms):
            # The common case, plain words: substring tests only, no per-entry method calls.
            words = [term.word for term in terms]
            if len(words) == 1:
                word = words[0]
                kept = [i for i in candidates if word in texts[i]]
            else:
                kept = [i for i in candidates if all(w in texts[i] for w in words)]
        else:
            kept = [i for i in candidates if all(term.matches(entries[i], texts[i]) for term in terms)]
        self._last = (entry_filter, kept)
        return [entries[i] for i in kept]

    def prune(self, keep: Sequence[OpcUaEntry]) -> None:
        """Forget entries that are no longer in the state."""
        wanted = {e.key for e in keep}
        for key in [k for k in self._cache if k not in wanted]:
            del self._cache[key]
