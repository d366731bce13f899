"""``aio-certs status`` output: one pasteable screen, the full JSON snapshot, and the exit status.

Pure functions of a :class:`~tui.core.model.state.ClusterState`. Neither output ever contains private key
material: the model holds none (only whether ``tls.key`` exists), and PEM/DER bytes are left out of JSON
(thumbprints identify every certificate).
"""

from __future__ import annotations

import dataclasses
import textwrap
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from tui.core.certs.model import CertificateInfo, CrlInfo, iso_utc
from tui.core.durations import expiry_phrase, screen_time
from tui.core.health.findings import over_limit
from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.rotation import key_policy_text
from tui.core.model.sizes import limit_text, percent, size_text, usage_text
from tui.core.model.snapshot import AreaState
from tui.core.model.state import (
    SECRET_DATA_LIMIT,
    Area,
    ClusterState,
    Condition,
    Finding,
    OpcUaEntry,
    Severity,
    SyncView,
)

EXIT_HEALTHY = 0
EXIT_WARNINGS = 1
EXIT_CRITICAL = 2

TOP_FINDINGS = 10
MAX_ISSUER_ROWS = 8
_SEVERITY_TAG = {Severity.CRITICAL: "CRIT", Severity.WARNING: "WARN", Severity.INFO: "INFO"}


def exit_code(state: ClusterState) -> int:
    """0 when healthy, 1 with warnings, 2 with any critical finding (info findings do not count)."""
    severities = {f.severity for f in state.findings}
    if Severity.CRITICAL in severities:
        return EXIT_CRITICAL
    if Severity.WARNING in severities:
        return EXIT_WARNINGS
    return EXIT_HEALTHY


def _clip(text: str, width: int | None) -> str:
    if width is None:
        return text
    return text if len(text) <= width else text[: max(width - 1, 0)] + "…"


def _when(value: datetime | None) -> str:
    # The one screen form of a moment (JSON keeps ISO 8601 with seconds, iso_utc).
    return screen_time(value)


def _days(value: float | None) -> str:
    # The same days-left figure as the dashboard and inspect (tui.core.durations.days_left).
    return "?" if value is None else expiry_phrase(value)


def loading_text(loading: Iterable[str]) -> str:
    """``loading secrets, certificates``: what a view waits for, in words (empty when nothing)."""
    names = list(dict.fromkeys(loading))
    return f"loading {', '.join(names)}" if names else ""


def unread_reason(state: ClusterState, area: Area) -> str | None:
    """Why ``area`` holds no data when it could not be read (``loading``, ``unknown: cluster
    unreachable``); None once it was read, when an absent object is really absent.

    Never-read data is unknown, never "not found": the dashboard's panes and ``status`` say this instead.
    """
    view = state.area(area)
    if view.state is AreaState.PENDING:
        return "loading"
    if view.state is AreaState.UNREACHABLE:
        return "unknown: cluster unreachable"
    if view.state in (AreaState.FORBIDDEN, AreaState.ERROR):
        return f"unknown: {view.state.value}" + (f" ({view.message})" if view.message else "")
    # OK, not installed (absence is the answer), or reconnecting (it was read: the last data stands).
    return None


def _overall(state: ClusterState) -> str:
    return {EXIT_HEALTHY: "HEALTHY", EXIT_WARNINGS: "WARNINGS", EXIT_CRITICAL: "CRITICAL"}[exit_code(state)]


def _root_lines(state: ClusterState) -> list[str]:
    root = state.root_ca
    lines = ["Root CA"]
    cert = root.certificate
    unread = unread_reason(state, Area.ROOT_CA)
    if cert is None:
        reason = (
            (unread if not root.secret_present else None)
            or root.note
            or root.decode_error
            or ("secret not found" if not root.secret_present else "no certificate")
        )
        lines.append(f"  {'secret':<13} {root.key}: {reason}")
    else:
        lines.append(f"  {'subject':<13} {cert.subject}")
        if root.anchor is not None and root.anchor.sha256 != cert.sha256:
            lines.append(f"  {'under root':<13} {root.anchor.subject}")
        if root.quickstart:
            lines.append(f"  {'quickstart':<13} yes: AIO's self-generated CA, not for production")
        lines.append(f"  {'thumbprint':<13} SHA-1 {cert.sha1}")
        lines.append(f"  {'not after':<13} {_when(cert.not_after)} ({_days(root.days_left)})")
        lines.append(f"  {'secret':<13} {root.key}")
    rotation = root.rotation
    revision = f", revision {rotation.revision}" if rotation.revision is not None else ""
    if unread and not root.secret_present:
        lines.append(f"  {'rotation':<13} {unread}")
    else:
        lines.append(f"  {'rotation':<13} {rotation.phase.value}: {rotation.message}{revision}")
    if root.resource is not None:
        # Whether a renewal makes a new key; unset depends on cert-manager's version (docs/domain.md §3.1).
        lines.append(f"  {'key rotation':<13} {key_policy_text(root.resource.rotation_policy)}")
    d = state.discovery
    lines.append(f"  {'issuer':<13} {d.issuer_key} (from {d.issuer_source})")
    bundle = state.trust_bundle
    lines.append(f"  {'trust bundle':<13} {bundle.namespace}/{bundle.configmap} [{bundle.key}]")
    bundle_unread = unread_reason(state, Area.TRUST_BUNDLE)
    if not bundle.present and bundle_unread:
        verdict = bundle_unread
    elif not bundle.present:
        verdict = "ConfigMap not found"
    elif not bundle.key_present:
        verdict = f"ConfigMap has no key {bundle.key}"
    elif bundle.holds_current_ca is None:
        verdict = f"current CA unknown; {len(bundle.certificates)} certificate(s)"
    else:
        direct = root.certificate is not None and any(
            c.sha256 == root.certificate.sha256 for c in bundle.certificates
        )
        if not bundle.holds_current_ca:
            verdict = "OUT OF SYNC: current CA missing"
        else:
            verdict = "in sync: holds the current CA" + ("" if direct else "'s root")
        verdict += f"; {len(bundle.certificates)} certificate(s)"
        if root.old_key_certificates:
            verdict += f"; {len(root.old_key_certificates)} leaf certificate(s) signed by the old key"
    lines.append(f"  {'bundle check':<13} {verdict}")
    return lines


def _issuer_lines(state: ClusterState, width: int) -> list[str]:
    lines = ["Issuers"]
    if not state.issuers:
        lines.append(f"  ({unread_reason(state, Area.ISSUERS) or 'none'})")
        return lines

    name_w = min(max(len(i.display_name) for i in state.issuers), max(20, width - 50))
    lines.append(f"  {'NAME':<{name_w}}  {'KIND':<13} {'TYPE':<10} {'READY':<5} {'CERTS':>6}  REASON")
    for issuer in state.issuers[:MAX_ISSUER_ROWS]:
        ready = {True: "yes", False: "NO", None: "?"}[issuer.ready]
        certs = f"{issuer.certificates_backed}" + (
            f"/{issuer.certificates_failing}!" if issuer.certificates_failing else ""
        )
        reason = issuer.reason + (f": {issuer.message}" if issuer.message and not issuer.ready else "")
        lines.append(
            f"  {_clip(issuer.display_name, name_w):<{name_w}}  {issuer.kind:<13} {issuer.type:<10} "
            f"{ready:<5} {certs:>6}  {reason}"
        )
    if len(state.issuers) > MAX_ISSUER_ROWS:
        lines.append(f"  ... and {len(state.issuers) - MAX_ISSUER_ROWS} more")
    return lines


def health_counts(entries: tuple[OpcUaEntry, ...]) -> dict[str, int]:
    """Entries by worst severity: ``ok``, ``warning``, ``critical`` (info-only counts as ok)."""
    counts = {"ok": 0, "warning": 0, "critical": 0}
    for entry in entries:
        if entry.severity is Severity.CRITICAL:
            counts["critical"] += 1
        elif entry.severity is Severity.WARNING:
            counts["warning"] += 1
        else:
            counts["ok"] += 1
    return counts


def flag_counts(entries: tuple[OpcUaEntry, ...]) -> dict[str, int]:
    """How many entries carry each health flag, most common first."""
    counter = Counter(flag.value for entry in entries for flag in entry.flags)
    return dict(counter.most_common())


def _opcua_lines(state: ClusterState) -> list[str]:
    spc = f" (SPC {state.opcua_spc})" if state.opcua_spc else ""
    owners = {name: state.list_owner(name).value for name in (LIST_TRUST, LIST_ISSUER)}
    if len(set(owners.values())) == 1:
        owner = f"owner {owners[LIST_TRUST]}"
    else:
        owner = "owner " + ", ".join(f"{name} {value}" for name, value in owners.items())
    lines = [f"OPC UA lists{spc}, {owner}"]
    for list_name in (LIST_TRUST, LIST_ISSUER):
        entries = state.entries(list_name)
        sync = state.sync(list_name)
        counts = health_counts(entries)
        unread = unread_reason(state, Area.OPC_UA)
        if unread and not entries:
            lines.append(f"  {list_name:<6} {unread}")
            continue
        if sync is None or not sync.present:
            # AIO's deployment creates the trust list's Secret before any SecretSync (docs/domain.md §2.5).
            held = (
                f", Secret holds {len(sync.secret_keys)} hand-added key(s)"
                if sync and sync.secret_present
                else ""
            )
            sync_text = f"no SecretSync{held}"
        elif sync.whole_list_failing:
            why = f": over the {limit_text()} limit" if over_limit(sync) else ""
            sync_text = f"sync FAILING ({sync.failing[0].reason}{why})"
        elif sync.failing:
            sync_text = f"sync PARTIAL: {len(sync.item_failures)} item(s) failed"
        elif sync.last_successful_sync is None and all(_transient(c) for c in sync.conditions):
            # Nothing yet, or only the placeholder the controller holds while a sync runs (§5.3).
            sync_text = "sync not reported yet"
        else:
            sync_text = "sync ok"
        lines.append(
            f"  {list_name:<6} {len(entries):>5} entries: {counts['ok']} ok, {counts['warning']} warning, "
            f"{counts['critical']} critical; {sync_text}"
        )
        detail = _sync_detail(sync)
        if detail:
            lines.append(f"{'':<13}{detail}")  # under the entry count
    flags = flag_counts(state.opcua)
    if flags:
        lines.append("  flags: " + ", ".join(f"{name} {count}" for name, count in flags.items()))
    arm = arm_summary(state)
    if arm:
        lines.append(f"  {arm}")
    return lines


def _transient(condition: Condition) -> bool:
    """The ``Unknown`` placeholder the sync controller holds while a sync runs (docs/domain.md §5.3)."""
    return condition.type == "Unknown" or condition.reason == "Unknown"


def _sync_detail(sync: SyncView | None) -> str:
    """The list Secret's size against the 1 MiB limit and when a change last synced (the controller
    moves ``lastSuccessfulSyncTime`` only when the data changes, so it is no sign of a recent poll:
    docs/domain.md §5.3)."""
    if sync is None:
        return ""
    parts = []
    if sync.data_bytes is None and sync.next_bytes is not None:
        # No synced Secret (refused, or not written yet): the size the vault's values make.
        parts.append(f"no synced Secret; size {usage_text(sync.next_bytes)} after the next sync")
    if sync.data_bytes is not None:
        size = f"size {usage_text(sync.data_bytes)}"
        if sync.next_bytes is not None and sync.next_bytes != sync.data_bytes:
            size += f", {size_text(sync.next_bytes)} after the next sync"
        parts.append(size)
    if sync.present and sync.last_successful_sync is not None:
        parts.append(f"last change synced {_when(sync.last_successful_sync)}")
    return "; ".join(parts)


def _list_json(state: ClusterState, name: str) -> dict[str, Any]:
    """A list's line of the JSON summary: health counts, owner, size against the limit, last change."""
    sync = state.sync(name)
    size = sync.size_bytes if sync is not None else None
    return {
        **health_counts(state.entries(name)),
        "owner": state.list_owner(name).value,
        "size_bytes": sync.data_bytes if sync is not None else None,
        "next_size_bytes": sync.next_bytes if sync is not None else None,
        "size_limit_bytes": SECRET_DATA_LIMIT,
        # Of the larger of now and after the next sync: what decides whether the list still fits.
        "size_percent": percent(size) if size is not None else None,
        "last_change_synced": iso_utc(sync.last_successful_sync) if sync is not None else None,
    }


def arm_summary(state: ClusterState) -> str | None:
    """One line on Azure Resource Manager's side of the lists; None on a cluster-only site."""
    arm = state.arm
    if not arm.in_use:
        return None
    # The resource group is what a technician finds in the portal; the subscription id is in --json.
    where = f" (resource group {arm.resource_group})" if arm.resource_group else ""
    if arm.state is AreaState.OK:
        return f"ARM{where}: ok, {arm.resource_count} list resource(s)"
    reason = f": {arm.message}" if arm.message else ""
    return f"ARM{where}: {arm.state.value}{reason}"


def _area_line(state: ClusterState) -> str | None:
    troubled = [f"{a.area.value} {a.state.value}" for a in state.areas if a.state is not AreaState.OK]
    if state.arm.in_use and state.arm.state not in (AreaState.OK, AreaState.PENDING):
        troubled.append(f"arm {state.arm.state.value}")
    if not troubled:
        return None
    return "Not fully read: " + "; ".join(troubled)


def _finding_lines(findings: tuple[Finding, ...], *, show_all: bool) -> list[str]:
    counts = Counter(f.severity for f in findings)
    head = (
        f"Findings: {counts[Severity.CRITICAL]} critical, {counts[Severity.WARNING]} warning, "
        f"{counts[Severity.INFO]} info"
    )
    shown = findings if show_all else findings[:TOP_FINDINGS]
    hidden = len(findings) - len(shown)
    if hidden:
        head += f" (top {TOP_FINDINGS} of {len(findings)})"
    lines = [head]
    lines += [f"  {_SEVERITY_TAG[f.severity]}  {f.message}" for f in shown]
    if hidden:
        lines.append(f"  ... {hidden} more: aio-certs status --all")
    if not findings:
        lines.append("  none")
    return lines


_FINDING_INDENT = " " * 8
"""Where a wrapped finding continues: under its message, past ``  CRIT  ``."""


def _wrap_finding(line: str, width: int) -> list[str]:
    """A finding line (``  WARN  message``) folded at spaces, continued under its message."""
    indent = len(_FINDING_INDENT)
    if len(line) <= width or not line.startswith("  ") or width <= indent + 10:
        return [_clip(line, width)]
    head, message = line[:indent], line[indent:]
    parts = textwrap.wrap(message, width - indent, break_on_hyphens=False) or [""]
    return [head + parts[0], *(_FINDING_INDENT + part for part in parts[1:])]


def _join_fitting(parts: list[str], width: int | None, gap: str = "   ") -> list[str]:
    """``parts`` on one line separated by ``gap``, starting a new line where the next part would not fit
    in ``width``: a part (the time of the report) is never cut."""
    lines: list[str] = []
    for part in parts:
        if lines and (width is None or len(lines[-1]) + len(gap) + len(part) <= width):
            lines[-1] += gap + part
        else:
            lines.append(part)
    return [_clip(line, width) for line in lines]


_LABEL_INDENT = 16
"""Where the value of a ``  label        value`` line starts (a two-space margin, a 13-wide label)."""


_LIST_INDENT = 13
"""Where a list line of ``status`` continues: under its entry count, as its size line does."""


def _wrap_labelled(
    line: str, width: int | None, indent: int = _LABEL_INDENT, *, free: bool = False
) -> list[str]:
    """A ``  label        value`` line folded at spaces, continued at column ``indent`` (under its
    value); a line without that shape is cut. ``free``: any indented line folds at its last space that
    fits, continued at ``indent``."""
    if width is None or len(line) <= width:
        return [line]
    if width <= indent + 10 or not line.startswith("  "):
        return [_clip(line, width)]
    if free:
        cut = line.rfind(" ", indent, width + 1)
        if cut <= indent:
            return [_clip(line, width)]
        head, rest = line[:cut], line[cut + 1 :]
    elif len(line) > indent and line[indent - 1] == " ":
        head, rest = line[:indent].rstrip(), line[indent:]
    else:
        return [_clip(line, width)]
    # A name is never split across lines (it could not be copied); one longer than the line is cut.
    parts = textwrap.wrap(rest, width - indent, break_on_hyphens=False, break_long_words=False) or [""]
    if not free:
        parts[0] = line[:indent] + parts[0]
        return [_clip(parts[0], width), *(_clip(" " * indent + p, width) for p in parts[1:])]
    return [head, *(_clip(" " * indent + p, width) for p in parts)]


def _connector_lines(state: ClusterState) -> list[str]:
    """The OPC UA connector's own certificate: subject, expiry and who renews it, on one line."""
    view = state.connector_certificate
    lines = ["Connector certificate"]
    if view is None:
        lines.append(
            f"  {'certificate':<13} {unread_reason(state, Area.OPC_UA) or 'unknown: Secrets not read'}"
        )
        return lines
    if not view.present:
        lines.append(f"  {'certificate':<13} none: {view.where} not found")
        return lines
    cert = view.certificate
    if cert is None:
        lines.append(f"  {'certificate':<13} {view.where}: {view.decode_error or 'unreadable'}")
        return lines
    if view.renews_automatically:
        renewal = "by cert-manager" + (f" at {_when(view.renewal_time)}" if view.renewal_time else "")
    else:
        renewal = "a certificate of your own: nothing renews it"
    lines.append(
        f"  {'certificate':<13} {cert.subject}; expires {_when(cert.not_after)} "
        f"({_days(view.days_left)}); renewal: {renewal}"
    )
    return lines


def render_status(state: ClusterState, *, width: int | None = 100, show_all: bool = False) -> str:
    """One screenful a technician can paste into a ticket.

    ``width`` bounds every line (the terminal's width); findings wrap onto indented lines rather than
    lose their end, other lines are cut. ``None`` (stdout is not a terminal: a pipe, a file, a ticket)
    cuts nothing. ``show_all`` lists every finding instead of the first :data:`TOP_FINDINGS`.
    """
    header = [
        f"aio-certs status: {_overall(state)}",
        f"namespace {state.namespace}",
        f"at {_when(state.built_at)}",
    ]
    body = _join_fitting(header, width)
    area = _area_line(state)
    if area:
        body.append(_clip(area, width))
    body.append("")
    # Label-and-value lines fold under their value rather than lose their end (a verdict, a time).
    for line in [*_root_lines(state), "", *_connector_lines(state), ""]:
        body += _wrap_labelled(line.rstrip(), width)
    lines = _issuer_lines(state, width if width is not None else 200)
    lines.append("")
    body += [_clip(line.rstrip(), width) for line in lines]
    # A list's line ends with its sync verdict (why it fails): folded under the entry count, not cut.
    for line in [*_opcua_lines(state), ""]:
        body += _wrap_labelled(line.rstrip(), width, indent=_LIST_INDENT, free=True)
    for line in _finding_lines(state.findings, show_all=show_all):
        line = line.rstrip()
        body += _wrap_finding(line, width) if width is not None else [line]
    return "\n".join(body) + "\n"


# --- JSON -----


# Tuples of (name, value) pairs kept hashable in the model, written as JSON objects.
_PAIR_FIELDS = frozenset({"vault_tags", "extra"})


def _json(value: Any, source: str) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, datetime):
        return iso_utc(value)
    if isinstance(value, timedelta):
        return value.total_seconds()
    if isinstance(value, CertificateInfo | CrlInfo):
        return value.to_json(source)
    if isinstance(value, bytes):
        return None  # raw bytes never go out; thumbprints identify them
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        key = getattr(value, "key", None)
        # Certificates inside a keyed row are named after the row (``trust/plc-1.der``) in ``source``.
        here = key if isinstance(key, str) else source
        out: dict[str, Any] = {}
        if isinstance(key, str) and not any(f.name == "key" for f in dataclasses.fields(value)):
            out["key"] = key
        for f in dataclasses.fields(value):
            item = getattr(value, f.name)
            if f.name in _PAIR_FIELDS:
                out[f.name] = {str(k): v for k, v in item}
            else:
                out[f.name] = _json(item, here or f.name)
        return out
    if isinstance(value, Mapping):
        return {str(k): _json(v, f"{source}.{k}") for k, v in value.items()}
    if isinstance(value, tuple | list | frozenset | set):
        items = sorted(value) if isinstance(value, frozenset | set) else value
        return [_json(v, source) for v in items]
    return str(value)


def state_to_json(state: ClusterState) -> dict[str, Any]:
    """The full snapshot as JSON-ready data, with a summary (overall health, exit code, counts) first."""
    body = _json(state, "")
    summary = {
        "health": _overall(state).lower(),
        "exit_code": exit_code(state),
        "findings": dict(Counter(f.severity.value for f in state.findings)),
        "opcua": {name: _list_json(state, name) for name in (LIST_TRUST, LIST_ISSUER)},
        "arm": {"state": state.arm.state.value, "in_use": state.arm.in_use, "message": state.arm.message},
        "flags": flag_counts(state.opcua),
    }
    return {"summary": summary, **body}
