"""Memoised decoding for the model builder: one :class:`DecodeCache` outlives many builds.

The live view rebuilds on every watch event, so decoding and signature checks are memoised by content
hash in a cache that outlives a single build; the same cache carries the builder's remembered
results (:class:`~tui.core.build.memo.BuildMemo`), so one object is all a live view has to keep.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from tui.core.build.memo import BuildMemo
from tui.core.certs import CertError, CertificateInfo, CrlInfo, decode_bytes


@dataclass(frozen=True, slots=True)
class DecodedValue:
    """Decoding outcome of one byte string, independent of the name it was found under."""

    certificates: tuple[CertificateInfo, ...]
    crls: tuple[CrlInfo, ...]
    private_key_present: bool
    form: str | None
    error: str | None


class DecodeCache:
    """Bounded LRU memo of decodes (by SHA-256 of the bytes) and signature checks; thread-safe.

    One instance is shared by every build of a live view; a fresh one per test keeps tests independent.
    """

    def __init__(self, maxsize: int = 8192) -> None:
        self.maxsize = maxsize
        self._decoded: OrderedDict[bytes, DecodedValue] = OrderedDict()
        self._verified: OrderedDict[tuple[str, str], bool] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.memo = BuildMemo()
        """Remembered parts of earlier builds (:mod:`tui.core.build.memo`), reused when their inputs recur."""

    def _get(self, table: OrderedDict[Any, Any], key: Any) -> Any:
        with self._lock:
            value = table.get(key)
            if value is not None:
                table.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
            return value

    def _put(self, table: OrderedDict[Any, Any], key: Any, value: Any) -> None:
        with self._lock:
            table[key] = value
            while len(table) > self.maxsize:
                table.popitem(last=False)

    def ensure_capacity(self, items: int) -> None:
        """Grow the bound to at least ``items``: a cyclic scan larger than an LRU would miss every time."""
        with self._lock:
            self.maxsize = max(self.maxsize, items)

    def decoded_items(self) -> list[tuple[bytes, DecodedValue]]:
        """Every remembered decode by SHA-256, least recently used first (a copy, e.g. to save it)."""
        with self._lock:
            return list(self._decoded.items())

    def preload(self, items: Iterable[tuple[bytes, DecodedValue]]) -> int:
        """Remember decodes made earlier (an on-disk copy); entries already held are kept. Returns how many
        were added."""
        added = 0
        with self._lock:
            for digest, value in items:
                if digest not in self._decoded:
                    self._decoded[digest] = value
                    self._decoded.move_to_end(digest, last=False)  # older than anything decoded here
                    added += 1
            self.maxsize = max(self.maxsize, len(self._decoded))
        return added

    def decode(self, data: bytes, digest: bytes, source: str) -> DecodedValue:
        """Decode ``data`` (whose SHA-256 is ``digest``); errors become ``error`` text, never raise."""
        cached = self._get(self._decoded, digest)
        if cached is not None:
            return cached
        # Checked on the raw bytes because the decoder refuses a key-only file without saying it held one.
        has_key = b"PRIVATE KEY-----" in data
        try:
            decoded = decode_bytes(data, source)
            value = DecodedValue(
                decoded.certificates, decoded.crls, decoded.private_key_present or has_key, decoded.form, None
            )
        except CertError as exc:
            value = DecodedValue((), (), has_key, None, exc.reason)
        self._put(self._decoded, digest, value)
        return value

    def verified(self, child: str, issuer: str, check: Callable[[], bool]) -> bool:
        """Memoised signature check keyed by the two SHA-256 fingerprints."""
        key = (child, issuer)
        cached = self._get(self._verified, key)
        if cached is not None:
            return bool(cached)
        result = check()
        self._put(self._verified, key, result)
        return result


DEFAULT_CACHE = DecodeCache()
"""Process-wide cache used when a caller passes none."""


def decode_value(cache: DecodeCache, data: bytes, source: str) -> DecodedValue:
    """Decode ``data`` through ``cache`` (hashing it first); ``source`` names it in error text."""
    return cache.decode(data, hashlib.sha256(data).digest(), source)
