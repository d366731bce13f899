"""What the header says about the connection: live, reconnecting since T, forbidden, offline vault or ARM,
data age.

Derived purely from the latest :class:`~tui.core.model.state.ClusterState` (its per-area read states carry the
reflectors' ``since`` times) and ``now``, so a test can assert the header text for any situation without
a network.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.core.model.state import Area, ClusterState, Health
from tui.ui.view import format as fmt
from tui.ui.view.levels import Level


@dataclass(frozen=True)
class Summary:
    """One short header item and how alarming it is."""

    text: str
    level: Level


def _cluster_parts(state: ClusterState) -> dict[str, ResourceStatus]:
    parts: dict[str, ResourceStatus] = {}
    for view in state.areas:
        if view.area is Area.VAULT:
            continue
        for key, status in view.parts:
            parts.setdefault(key, status)
    return parts


def _earliest(statuses: Iterable[ResourceStatus]) -> datetime | None:
    times = [s.since for s in statuses if s.since is not None]
    return min(times) if times else None


def cluster_summary(state: ClusterState | None, source_error: str | None = None) -> Summary:
    """``live``, ``reconnecting since 10:42:07``, ``forbidden: secrets``, ``unreachable``, ``connecting…``."""
    if source_error:
        return Summary(f"error: {fmt.one_line(source_error, 60)}", Level.ERROR)
    if state is None:
        return Summary("connecting…", Level.MUTED)
    parts = _cluster_parts(state)
    by_state: dict[AreaState, list[tuple[str, ResourceStatus]]] = {}
    for key, status in sorted(parts.items()):
        by_state.setdefault(status.state, []).append((key, status))
    if parts and len(by_state.get(AreaState.UNREACHABLE, ())) == len(parts):
        return Summary("unreachable", Level.ERROR)
    reconnecting = by_state.get(AreaState.RECONNECTING, []) + by_state.get(AreaState.UNREACHABLE, [])
    if reconnecting:
        since = _earliest(s for _, s in reconnecting)
        suffix = f" since {fmt.clock_time(since)}" if since else ""
        return Summary(f"reconnecting{suffix}", Level.WARNING)
    forbidden = by_state.get(AreaState.FORBIDDEN, [])
    if forbidden:
        names = ", ".join(_short(key) for key, _ in forbidden[:2])
        more = f" +{len(forbidden) - 2}" if len(forbidden) > 2 else ""
        return Summary(f"forbidden: {names}{more}", Level.ERROR)
    if by_state.get(AreaState.ERROR):
        return Summary("read errors", Level.ERROR)
    if by_state.get(AreaState.PENDING):
        return Summary("loading…", Level.MUTED)
    return Summary("live", Level.OK)


def _short(resource_key: str) -> str:
    # Resource keys read like "cert-manager.io/v1/certificates"; the plural is what people recognise.
    return resource_key.rsplit("/", 1)[-1]


def rereading(vault: Summary) -> Summary:
    """The header's vault item from ``ctrl+r`` until the read is back: ``vault re-reading…``, or, when the
    last read went wrong, that state kept with its level (``vault offline · re-reading…``)."""
    if vault.level in (Level.WARNING, Level.ERROR):
        return Summary(f"{vault.text} · re-reading…", vault.level)
    return Summary("vault re-reading…", Level.MUTED)


def vault_summary(state: ClusterState | None) -> Summary:
    """``vault ok (N)``, ``vault reading (N)``, ``vault offline``, ``vault forbidden``, ``vault not read``
    or ``vault …``."""
    if state is None:
        return Summary("vault …", Level.MUTED)
    vault = state.vault
    if vault.state is AreaState.OK:
        if vault.values_pending:
            # Listed, values still coming: whether entries match the vault is not known yet.
            return Summary(f"vault reading ({vault.secret_count})", Level.MUTED)
        return Summary(f"vault ok ({vault.secret_count})", Level.OK)
    if vault.state is AreaState.PENDING:
        # The model cannot tell "not read yet" from "no vault configured"; both mean nothing to show.
        return Summary("vault not read", Level.MUTED)
    if vault.state is AreaState.FORBIDDEN:
        return Summary("vault forbidden", Level.ERROR)
    return Summary("vault offline", Level.WARNING)


def arm_summary(state: ClusterState | None) -> Summary:
    """``arm drift (N)``, ``arm offline``, ``arm forbidden``, ``arm error``, ``arm not read``; empty when
    ARM was read and agrees, and on a cluster-only site (nothing names ARM, so there is nothing to say)."""
    if state is None or not state.arm.in_use:
        return Summary("", Level.MUTED)
    arm = state.arm
    if arm.state is AreaState.OK:
        drifted = sum(1 for e in state.opcua if Health.ARM_DRIFT in e.flags)
        drifted += sum(1 for f in state.findings if f.code in ("spc-arm-drift", "sync-arm-drift"))
        if drifted:
            return Summary(f"arm drift ({drifted})", Level.WARNING)
        # Nothing to say: an 80-column header has no room to spare for good news (the READ-ONLY badge
        # must stay whole); the OPC UA title already says the lists are ARM's.
        return Summary("", Level.OK)
    if arm.state is AreaState.PENDING:
        return Summary("arm not read", Level.MUTED)
    if arm.state is AreaState.FORBIDDEN:
        return Summary("arm forbidden", Level.ERROR)
    if arm.state is AreaState.UNREACHABLE:
        return Summary("arm offline", Level.WARNING)
    return Summary("arm error", Level.WARNING)


def owners_text(state: ClusterState) -> str:
    """Where the OPC UA lists live, for the pane title: ``owner arm``, ``owner cluster``, or per list
    (``trust arm, issuer cluster``) when they differ."""
    owners = {name: state.list_owner(name).value for name in (LIST_TRUST, LIST_ISSUER)}
    if owners[LIST_TRUST] == owners[LIST_ISSUER]:
        return f"owner {owners[LIST_TRUST]}"
    return "owner " + ", ".join(f"{name} {owner}" for name, owner in owners.items())


def data_age(state: ClusterState | None, now: datetime) -> timedelta | None:
    """How old the shown data is: since the connection broke when it did, else since the snapshot."""
    if state is None:
        return None
    broken = [
        s
        for s in _cluster_parts(state).values()
        if s.state in (AreaState.RECONNECTING, AreaState.UNREACHABLE)
    ]
    since = _earliest(broken)
    reference = since if since is not None else state.taken_at
    return max(now - reference, timedelta(0))


def _broken_since(state: ClusterState) -> datetime | None:
    broken = [
        s
        for s in _cluster_parts(state).values()
        if s.state in (AreaState.RECONNECTING, AreaState.UNREACHABLE)
    ]
    return _earliest(broken) if broken else None


def age_summary(state: ClusterState | None, now: datetime) -> Summary:
    """``1m 35s old``: how old the data on screen is, shown only while the connection is broken (the
    watches keep a live view current, so an age there said nothing); warning after a minute."""
    if state is None or not any(
        s.state in (AreaState.RECONNECTING, AreaState.UNREACHABLE) for s in _cluster_parts(state).values()
    ):
        return Summary("", Level.MUTED)
    age = data_age(state, now)
    if age is None:
        return Summary("", Level.MUTED)
    stale = age > timedelta(minutes=1)
    return Summary(f"{fmt.span(age)} old", Level.WARNING if stale else Level.MUTED)


HEADER_HELP: tuple[tuple[str, str], ...] = (
    ("● live", "The cluster is watched: what changes shows within a second"),
    (
        "● reconnecting",
        "Since T: the watches retry by themselves; after a minute a notice says what to check",
    ),
    ("1m 35s old", "How old the data on screen is while the connection is broken (hidden when live)"),
    (
        "vault ok (N)",
        "N secrets, as of the last read: every minute, at once on ctrl+r and when the cluster "
        "connection breaks; a failed read is retried after 5, 10, 20 and 40 s",
    ),
    (
        "vault re-reading…",
        "ctrl+r: the vault and ARM are read again (once typing pauses); a notice says what was found",
    ),
)
"""What the header's items mean, for the help."""


RECONNECT_HINT_AFTER = timedelta(minutes=1)
"""How long the cluster may stay out of reach before the dashboard says what to check."""

RECONNECT_HINT_EVERY = timedelta(minutes=5)
"""How often the dashboard says it again while the cluster stays out of reach."""


def reconnect_hint(state: ClusterState | None, now: datetime, server: str) -> str | None:
    """What to do when the API server has not answered for :data:`RECONNECT_HINT_AFTER`; None before.

    The watches retry by themselves, so a short outage needs nothing; a long one is usually a network
    path (VPN, firewall) or a site that moved to another address, which only a new kubeconfig fixes:
    the dashboard reads the kubeconfig once, at start.
    """
    if state is None:
        return None
    since = _broken_since(state)
    if since is None or now - since < RECONNECT_HINT_AFTER:
        return None
    where = f" at {server}" if server else ""
    return (
        f"the API server{where} has not answered since {fmt.clock_time(since)} "
        f"({fmt.span(now - since)}); the dashboard keeps retrying. Check the network or VPN; if the "
        "cluster moved, update the kubeconfig (or pick another --context) and restart aio-certs"
    )
