"""Stale list entries: what the dashboard's ``x`` marks for review before a bulk delete.

An entry is stale when it is expired, a duplicate of another entry of the same list (one is kept, the
others are marked), orphaned (a mapping whose vault secret is gone) or a CRL whose CA is gone. A key
added to the synced Secret by hand is not stale for that alone: the AIO docs add the trust list's CRL
so (docs/domain.md §5.4). Each gets a one-line reason; nothing here decides to delete anything.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from tui.core.durations import screen_time
from tui.core.model.state import ClusterState, Health, OpcUaEntry

_AGED_WORDS = frozenset(
    {"old", "copy", "backup", "bak", "prev", "previous", "orig", "tmp", "dup", "duplicate"}
)
"""Name parts that say a file is the spare copy (``plc-1-old.crt``, ``plc-1.der.bak``)."""


def _identity(entry: OpcUaEntry) -> str | None:
    if entry.certificate is not None:
        return entry.certificate.sha256
    return entry.crl.sha256 if entry.crl is not None else None


def aged_name(target_key: str) -> bool:
    """Whether a file name says it is a spare copy (``-old``, ``copy``, ``.bak``, a trailing ``~``)."""
    parts = re.split(r"[-_.\s]+", target_key.lower())
    return target_key.endswith("~") or any(part in _AGED_WORDS for part in parts)


def _keeper_rank(entry: OpcUaEntry) -> tuple[int, int, int, int, int, str]:
    # Keep the copy that works end to end, then the one with fewest other flags, then the one whose name
    # does not call it a spare copy (the original upload: issue 13 item 20), then the shortest name.
    complete = entry.mapped and entry.synced and entry.vault_present is not False and entry.spc_object
    return (
        0 if complete else 1,
        len(entry.flags),
        1 if aged_name(entry.target_key) else 0,
        0 if entry.source_path else 1,
        len(entry.target_key),
        entry.target_key,
    )


@dataclass(frozen=True)
class DuplicateGroup:
    """Entries of one list that hold the same certificate or CRL; all but one are stale."""

    list_name: str
    what: str
    """``certificate`` or ``CRL``."""
    keys: tuple[str, ...]
    """Entry keys, the one kept by default first (then in list order)."""

    @property
    def default_keep(self) -> str:
        """The entry kept unless the user picks another."""
        return self.keys[0]


def duplicate_groups(state: ClusterState) -> tuple[DuplicateGroup, ...]:
    """Every set of duplicate entries, in list order of their first member."""
    groups: dict[tuple[str, str], list[OpcUaEntry]] = defaultdict(list)
    for entry in state.opcua:
        ident = _identity(entry)
        if ident is not None:
            groups[(entry.list_name, ident)].append(entry)
    out = []
    for (list_name, _ident), members in groups.items():
        if len(members) < 2:
            continue
        keep = min(members, key=_keeper_rank)
        what = "certificate" if keep.certificate is not None else "CRL"
        rest = tuple(m.key for m in members if m is not keep)
        out.append(DuplicateGroup(list_name, what, (keep.key, *rest)))
    return tuple(out)


def stale_reasons(state: ClusterState, keep: Collection[str] = ()) -> dict[str, str]:
    """Entry key -> why it is stale, in the order of ``state.opcua`` (trust list, then issuer list).

    ``keep`` names entries the user chose to keep out of their duplicate group (default: the best copy,
    :func:`duplicate_groups`); the others of that group are then the duplicates.
    """
    reasons: dict[str, list[str]] = defaultdict(list)
    for group in duplicate_groups(state):
        chosen = next((k for k in group.keys if k in keep), group.default_keep)
        for key in group.keys:
            if key != chosen:
                reasons[key].append(f"duplicate: same {group.what} as {chosen}, which is kept")
    for entry in state.opcua:
        if Health.EXPIRED in entry.flags and entry.certificate is not None:
            reasons[entry.key].append(f"expired at {screen_time(entry.certificate.not_after)}")
        if entry.mapped and entry.vault_present is False:
            reasons[entry.key].append(f"orphaned: mapped, but vault secret {entry.source_path} is gone")
        if entry.crl is not None and entry.signed_by is None:
            reasons[entry.key].append("CRL whose CA is gone (no CA in the lists signed it)")
    order = [e.key for e in state.opcua if e.key in reasons]
    return {key: "; ".join(reasons[key]) for key in order}


def stale_entries(state: ClusterState) -> tuple[str, ...]:
    """Keys of the stale entries (see :func:`stale_reasons` for why each is)."""
    return tuple(stale_reasons(state))
