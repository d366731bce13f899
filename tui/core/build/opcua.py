"""The OPC UA trust and issuer list entries: every file of both lists, linked into chains and flagged.

The rows come from :mod:`tui.core.build.opcua_rows`; here they get their days left, chain links
(:mod:`tui.core.build.chains`) and health flags. The whole result is remembered in the cache's
:class:`~tui.core.build.memo.BuildMemo` with everything it was computed from and the time until which
no days-left figure or time-dependent flag can change, so a rebuild caused by anything else (a
SecretSync status write, the root CA, the clock ticking) reuses the entries as they are.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from tui.core.build.cache import DecodeCache
from tui.core.build.chains import link_chains
from tui.core.build.entry_findings import remembered_entry_findings
from tui.core.build.memo import MISS
from tui.core.build.opcua_rows import Row, list_rows
from tui.core.build.readers import field_of
from tui.core.durations import days_left
from tui.core.health.findings import duplicate_keys, entry_flags
from tui.core.model import resources as rk
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, VaultSnapshot
from tui.core.model.spc import SpcView
from tui.core.model.state import Finding, OpcUaEntry, SyncView

_DAY = timedelta(days=1)
# datetime's resolution: the first instant after a given one.
_TICK = timedelta(microseconds=1)


def _whole_days(until: datetime, now: datetime) -> int:
    # The one days-left rule (whole days, rounded down, -1 on the first expired day): stable between
    # rebuilds, so a row only changes when something a human would notice changes.
    return days_left(until, now)


def _days_left(row: Row, now: datetime) -> int | None:
    certificate, crl = row["certificate"], row["crl"]
    if certificate is not None:
        return _whole_days(certificate.not_after, now)
    if crl is not None and crl.next_update is not None:
        return _whole_days(crl.next_update, now)
    return None


def stable_until(rows: Iterable[Row], now: datetime) -> datetime | None:
    """The first moment after ``now`` at which a days-left figure or a time-dependent flag of these rows
    may change (None: never); results built at ``now`` hold for every time in ``[now, that)``.

    Days left ``q = (end - now) // 1 day`` stays ``q`` up to and including ``end - q days``; "not yet
    valid" ends at notBefore; "CRL stale" starts just after nextUpdate, which is also where the CRL's
    days left last changes before it.
    """
    bounds: list[datetime] = []
    for row in rows:
        certificate, crl = row["certificate"], row["crl"]
        end = certificate.not_after if certificate is not None else (crl.next_update if crl else None)
        if end is not None:
            bounds.append(end - _whole_days(end, now) * _DAY + _TICK)
        if certificate is not None and certificate.not_before > now:
            bounds.append(certificate.not_before)
    return min(bounds, default=None)


def _entries(
    rows: Sequence[Row],
    syncs: Sequence[SyncView],
    settings: ModelSettings,
    now: datetime,
    spc_readable: bool,
    cache: DecodeCache,
    loading: tuple[str, ...] = (),
) -> tuple[OpcUaEntry, ...]:
    if loading:
        for row in rows:
            row["loading"] = loading
            if rk.SECRETS.plural in loading and row["content"] == "missing":
                row["content"] = "loading"  # not synced, or not listed yet: unknown which
    link_chains(rows, cache)
    failing = {s.list_name for s in syncs if s.whole_list_failing}
    item_errors = {s.list_name: _item_errors(s, rows) for s in syncs if s.present and s.item_failures}
    for row in rows:
        error = item_errors.get(row["list_name"], {}).get(row["target_key"])
        if error is not None:
            row["sync_error"] = error
    entries = [OpcUaEntry(**row) for row in rows]
    duplicates = duplicate_keys(entries)
    out = []
    for entry, row in zip(entries, rows, strict=True):
        flags, severity = entry_flags(
            entry,
            now=now,
            settings=settings,
            duplicate=entry.key in duplicates,
            sync_failing=entry.list_name in failing or entry.sync_error is not None,
            spc_known=spc_readable,
        )
        # Constructing again from the row is several times cheaper than dataclasses.replace.
        out.append(OpcUaEntry(**row, flags=flags, severity=severity) if flags else entry)
    return tuple(out)


def _item_errors(sync: SyncView, rows: Sequence[Row]) -> dict[str, str]:
    """Target key -> reason, for each entry of ``sync``'s list a ``PartialSync`` summary names.

    The summary may name an item by its target key (the file name) or by its vault secret (the source
    path); an exact name wins, then the same name in another case.
    """
    mine = [row for row in rows if row["list_name"] == sync.list_name]
    exact: dict[str, str] = {}
    folded: dict[str, str] = {}
    for row in mine:
        for name in (row["target_key"], row["source_path"]):
            if name:
                exact.setdefault(name, row["target_key"])
                folded.setdefault(name.lower(), row["target_key"])
    out: dict[str, str] = {}
    for item, reason in sync.item_failures:
        target = exact.get(item) or folded.get(item.lower())
        if target is not None:
            out.setdefault(target, reason)
    return out


def build_opcua(
    raw: RawSnapshot,
    settings: ModelSettings,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> tuple[OpcUaEntry, ...]:
    """Every trust and issuer list entry, decoded, joined, linked into chains and flagged."""
    return build_opcua_with_findings(raw, settings, syncs, spcs, vault, now, cache)[0]


def build_opcua_with_findings(
    raw: RawSnapshot,
    settings: ModelSettings,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> tuple[tuple[OpcUaEntry, ...], list[Finding]]:
    """:func:`build_opcua` and the findings of the flagged entries (each remembered separately)."""
    entries = _remembered_entries(raw, settings, syncs, spcs, vault, now, cache)
    findings = remembered_entry_findings(entries, settings, now, cache.memo)
    # A remembered build hands out the remembered entry objects themselves: they are frozen, and a copy
    # per build would keep two of every entry alive (the memo's and the state's) for no change in any
    # result (consumers compare entries by key and ``==``, identity being only their fast path).
    return entries, findings


def _remembered_entries(
    raw: RawSnapshot,
    settings: ModelSettings,
    syncs: Sequence[SyncView],
    spcs: Sequence[SpcView],
    vault: VaultSnapshot | None,
    now: datetime,
    cache: DecodeCache,
) -> tuple[OpcUaEntry, ...]:
    """The entries, as remembered or just built."""
    ns = settings.namespace
    spc_by_name = {s.name: s for s in spcs}
    # Which SPCs hold an object of each file name: a mapped object may sit in another SPC than the
    # SecretSync's (docs/domain.md §2.5). Sorted by name so the one reported is always the same.
    spc_index: dict[str, tuple[str, ...]] = {}
    for spc_view in sorted(spcs, key=lambda v: v.name):
        for obj in spc_view.objects:
            spc_index[obj.file_name] = (*spc_index.get(obj.file_name, ()), spc_view.name)
    spc_readable = raw.state_of(rk.SECRET_PROVIDER_CLASSES.key).state is AreaState.OK
    # Only Secrets that were read say a mapped file is not synced (then its vault value stands in).
    secrets_read = raw.state_of(rk.SECRETS.key).state in (AreaState.OK, AreaState.RECONNECTING)
    # Copies: the memo must keep what this result was made from even if a caller mutates its objects.
    vault_secrets = dict(vault.secrets) if vault is not None and vault.status.state is AreaState.OK else None
    checking = vault.checking if vault is not None and vault_secrets is not None else frozenset()
    # The lists' collections not listed yet: nothing is judged absent from them.
    loading = tuple(
        r.plural for r in (rk.SECRETS, rk.SECRET_SYNCS, rk.SECRET_PROVIDER_CLASSES) if raw.pending(r.key, ns)
    )
    lists = [
        (
            sync,
            dict(field_of(raw.get(rk.SECRETS.key, ns, sync.name), "data")),
            spc_by_name.get(sync.spc_name or ""),
        )
        for sync in syncs
    ]
    # Only what the entries read: a SecretSync's status (other than failing or not) is not here.
    inputs: tuple[Any, ...] = (
        settings,
        spc_readable,
        secrets_read,
        vault_secrets,
        checking,
        loading,
        tuple(
            (
                sync.name,
                sync.list_name,
                sync.spc_name,
                sync.mappings,
                sync.whole_list_failing,
                sync.item_failures if sync.present else (),
                data,
                None if spc is None else (spc.name, spc.objects),
            )
            for sync, data, spc in lists
        ),
        tuple((s.name, s.objects) for s in spcs),
    )
    memo = cache.memo
    name = ("opcua", ns)
    remembered = memo.get(name, inputs, now)
    if remembered is not MISS:
        return remembered
    rows: list[Row] = []
    for sync, data, spc in lists:
        part = ("opcua-rows", ns, sync.name, sync.list_name)
        static, table = list_rows(
            sync, data, spc, vault_secrets, cache, memo.peek(part), spc_index, checking, secrets_read
        )
        memo.put(part, None, now, None, table)
        # The rows are this call's own (the memo keeps their values, not these dicts): fields are added
        # in place, here and by link_chains.
        for row in static:
            row["days_left"] = _days_left(row, now)
        rows.extend(static)
    entries = _entries(rows, syncs, settings, now, spc_readable, cache, loading)
    memo.put(name, inputs, now, stable_until(rows, now), entries)
    return entries
