"""Stale list entries: what the dashboard's ``x`` marks for review before a bulk delete.

An entry is stale when it is expired, a duplicate of another entry of the same list (one is kept, the
others are marked), orphaned (a synced key nothing maps, or a mapping whose vault secret is gone) or a
CRL whose CA is gone. Each gets a one-line reason; nothing here decides to delete anything.
"""

from __future__ import annotations

from collections import defaultdict

from tui.core.certs.model import iso_utc
from tui.core.model.state import ClusterState, Health, OpcUaEntry


def _identity(entry: OpcUaEntry) -> str | None:
    if entry.certificate is not None:
        return entry.certificate.sha256
    return entry.crl.sha256 if entry.crl is not None else None


def _keeper_rank(entry: OpcUaEntry) -> tuple[int, int, int, str]:
    # Keep the copy that works end to end, then the one with fewest other flags, then the first name.
    complete = entry.mapped and entry.synced and entry.vault_present is not False and entry.spc_object
    return (0 if complete else 1, len(entry.flags), 0 if entry.source_path else 1, entry.target_key)


def stale_reasons(state: ClusterState) -> dict[str, str]:
    """Entry key -> why it is stale, in the order of ``state.opcua`` (trust list, then issuer list)."""
    reasons: dict[str, list[str]] = defaultdict(list)
    groups: dict[tuple[str, str], list[OpcUaEntry]] = defaultdict(list)
    for entry in state.opcua:
        ident = _identity(entry)
        if ident is not None:
            groups[(entry.list_name, ident)].append(entry)
    for members in groups.values():
        if len(members) < 2:
            continue
        keep = min(members, key=_keeper_rank)
        for entry in members:
            if entry is not keep:
                what = "certificate" if entry.certificate is not None else "CRL"
                reasons[entry.key].append(f"duplicate: same {what} as {keep.key}, which is kept")
    for entry in state.opcua:
        if Health.EXPIRED in entry.flags and entry.certificate is not None:
            reasons[entry.key].append(f"expired at {iso_utc(entry.certificate.not_after)}")
        if entry.synced and not entry.mapped:
            reasons[entry.key].append("orphaned: synced key that no SecretSync mapping names")
        if entry.mapped and entry.vault_present is False:
            reasons[entry.key].append(f"orphaned: mapped, but vault secret {entry.source_path} is gone")
        if entry.crl is not None and entry.signed_by is None:
            reasons[entry.key].append("CRL whose CA is gone (no CA in the lists signed it)")
    order = [e.key for e in state.opcua if e.key in reasons]
    return {key: "; ".join(reasons[key]) for key in order}


def stale_entries(state: ClusterState) -> tuple[str, ...]:
    """Keys of the stale entries (see :func:`stale_reasons` for why each is)."""
    return tuple(stale_reasons(state))
