"""The OPC UA table's ``/`` filter: words that must all match, health words, ``!`` to negate.

A word matches an entry when it occurs (case-insensitively) in its list, file name, vault secret name,
subject, issuer, thumbprint, content kind or health flags, so ``expired``, ``crl-stale``, ``duplicate``
or ``trust`` work as words. ``problem`` matches any entry with a flag, ``healthy`` one without, and
``critical``/``warning`` its worst severity. ``!word`` keeps the entries the word does not match.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from tui.core.model import OpcUaEntry

_PROBLEM_WORDS = frozenset({"problem", "problems", "unhealthy", "bad"})
_HEALTHY_WORDS = frozenset({"healthy", "ok", "good"})


@dataclass(frozen=True)
class Term:
    """One word of the filter."""

    word: str
    negated: bool = False

    def matches(self, entry: OpcUaEntry, haystack: str) -> bool:
        """Whether the entry satisfies this word (negation applied)."""
        if self.word in _PROBLEM_WORDS:
            hit = bool(entry.flags)
        elif self.word in _HEALTHY_WORDS:
            hit = not entry.flags
        else:
            hit = self.word in haystack
        return hit != self.negated


@dataclass(frozen=True)
class EntryFilter:
    """A parsed filter; the empty filter matches everything."""

    text: str
    terms: tuple[Term, ...]

    @property
    def active(self) -> bool:
        """True when the filter restricts anything."""
        return bool(self.terms)

    def matches(self, entry: OpcUaEntry, haystack: str | None = None) -> bool:
        """Whether every word matches ``entry`` (``haystack`` may be passed in when cached)."""
        if not self.terms:
            return True
        text = haystack if haystack is not None else entry_haystack(entry)
        return all(term.matches(entry, text) for term in self.terms)

    def apply(self, entries: Iterable[OpcUaEntry],
              haystacks: HaystackCache | None = None) -> list[OpcUaEntry]:
        """The matching entries, in the given order."""
        if not self.terms:
            return list(entries)
        cache = haystacks or HaystackCache()
        return [e for e in entries if self.matches(e, cache.get(e))]


def parse_filter(text: str) -> EntryFilter:
    """Split ``text`` into lower-case words; a leading ``!`` negates a word, a lone ``!`` is ignored."""
    terms: list[Term] = []
    for raw in text.lower().split():
        negated = raw.startswith("!")
        word = raw[1:] if negated else raw
        if word:
            terms.append(Term(word, negated))
    return EntryFilter(text, tuple(terms))


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
    """Haystacks by entry key, recomputed only when the entry changes (entries are immutable values)."""

    def __init__(self) -> None:
        self._cache: dict[str, tuple[OpcUaEntry, str]] = {}

    def get(self, entry: OpcUaEntry) -> str:
        """The haystack of ``entry``, cached while an equal entry is seen."""
        hit = self._cache.get(entry.key)
        if hit is not None and (hit[0] is entry or hit[0] == entry):
            return hit[1]
        text = entry_haystack(entry)
        self._cache[entry.key] = (entry, text)
        return text

    def prune(self, keep: Sequence[OpcUaEntry]) -> None:
        """Forget entries that are no longer in the state."""
        wanted = {e.key for e in keep}
        for key in [k for k in self._cache if k not in wanted]:
            del self._cache[key]
