"""Table rows for the OPC UA and Issuers panes: column definitions, cells, and sort orders.

Rows are built from the immutable model only; the panes hand them to a
:class:`~tui.ui.widgets.keyed_table.KeyedTable`. Sorting happens here on the model's values (dates,
numbers), never on the displayed text, with the row key as the tie-breaker so the order is stable.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tui.core.model.state import Health, IssuerView, OpcUaEntry, Severity
from tui.ui.view import format as fmt
from tui.ui.view.cells import Cell, CellPool, MiddleCell, RowCells
from tui.ui.view.columns import ColumnSpec
from tui.ui.view.levels import Level, Palette, days_level, severity_level

MARK = "●"

HEALTH_MIN, HEALTH_MAX = 20, 44
"""Bounds of the Health column's minimum width, which follows its longest cell (:func:`fit_columns`)."""

FILE_MIN, FILE_MAX = 16, 32
"""Bounds of the File column's minimum width, which follows its longest name (:func:`fit_columns`)."""

OPCUA_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("mark", " ", 1),
    # Which list an entry is in decides what a change does: never dropped before the flags (trial 3).
    ColumnSpec("list", "List", 6, priority=0),
    # File name and health first (issue 13): they say which entry and what is wrong; the subject is in
    # the preview. Both flex the most so similar names and several flags read whole.
    ColumnSpec("file", "File", FILE_MIN, flex=3, priority=0, max_width=48, floor=FILE_MIN),
    ColumnSpec("subject", "Subject", 14, flex=1, priority=3),
    ColumnSpec("issuer", "Issuer", 12, flex=1, priority=5),
    ColumnSpec("thumb", "Thumbprint", 10, priority=6),
    ColumnSpec("not_after", "Not after", 10, priority=4),
    ColumnSpec("days", "Days", 5, priority=0),
    ColumnSpec("health", "Health", HEALTH_MIN, flex=2, priority=0, max_width=48, floor=HEALTH_MIN),
)
"""Every column the OPC UA table may show, in display order."""

ISSUER_COLUMNS: tuple[ColumnSpec, ...] = (
    ColumnSpec("name", "Name", 16, flex=4, priority=0, max_width=60),
    ColumnSpec("kind", "Kind", 7, priority=2),
    ColumnSpec("type", "Type", 10, priority=1),
    ColumnSpec("ready", "Ready", 5, flex=1, priority=0, max_width=40),
    ColumnSpec("certs", "Certs", 5, priority=1),
    ColumnSpec("role", "Role", 7, priority=6),
    ColumnSpec("since", "Since", 17, priority=5),
    ColumnSpec("message", "Message", 12, flex=3, priority=4),
)
"""Every column the Issuers table may show, in display order."""

_FAR_FUTURE = datetime.max.replace(tzinfo=None)


def _expiry(entry: OpcUaEntry) -> datetime | None:
    if entry.certificate is not None:
        return entry.certificate.not_after
    if entry.crl is not None:
        return entry.crl.next_update
    return None


def _naive(value: datetime | None) -> datetime:
    # Unknown dates sort after every known one; comparisons need one kind of datetime.
    return value.replace(tzinfo=None) if value is not None else _FAR_FUTURE


def _severity_rank(severity: Severity | None) -> int:
    return severity.rank if severity is not None else 3


_NO_DAYS = float("inf")


def urgency(entry: OpcUaEntry) -> tuple[int, float, str]:
    """Most urgent first: worst severity, then fewest days left (unknown last), then the flags."""
    days = entry.days_left if entry.days_left is not None else _NO_DAYS
    return (_severity_rank(entry.severity), days, ",".join(f.value for f in entry.flags))


SEVERITY_WORD: dict[Severity | None, str] = {
    Severity.CRITICAL: "CRIT",
    Severity.WARNING: "WARN",
    Severity.INFO: "INFO",
    None: "ok",
}
"""The word at the head of every health cell: the severity without colour (monochrome, colour-blind)."""

SEVERITY_NOTE = (
    "the worst severity of the entry's flags, in a word (critical, warning, info; ok: no flag), then the "
    "flags; expiring gives its days left"
)
"""How the help explains the health cell."""


def health_text(entry: OpcUaEntry) -> str:
    """``CRIT expired``, ``WARN expiring 26d``, ``WARN duplicate,not-synced``, ``ok``; ``checking vault``
    (``…,checking vault+arm``) while the vault or ARM is read again after the lists changed; ``loading``
    while the lists' collections are not all listed yet."""
    # One word for both: the cell is narrow at 80 columns.
    checking = [f"checking {'+'.join(entry.checking)}"] if entry.checking else []
    if entry.loading:  # its Secret, SecretSync or SPC not listed yet: not judged on those
        checking.insert(0, "loading")
    if not entry.flags:
        return ",".join(checking) if checking else SEVERITY_WORD[None]
    words = []
    for flag in entry.flags:
        if flag is Health.EXPIRING and entry.days_left is not None:
            words.append(f"{flag.value} {fmt.days_text(entry.days_left)}")
        else:
            words.append(flag.value)
    return f"{SEVERITY_WORD[entry.severity]} {','.join(words + checking)}"


OPCUA_SORT: dict[str, Callable[[OpcUaEntry], Any]] = {
    "mark": lambda e: 0,
    "list": lambda e: e.list_name,
    "file": lambda e: e.target_key.lower(),
    "subject": lambda e: fmt.common_name(
        e.certificate.subject if e.certificate else e.crl.issuer if e.crl else ""
    ).lower(),
    "issuer": lambda e: fmt.common_name(
        e.certificate.issuer if e.certificate else e.crl.issuer if e.crl else ""
    ).lower(),
    "thumb": lambda e: e.certificate.sha1 if e.certificate else "",
    "not_after": lambda e: _naive(_expiry(e)),
    "days": lambda e: _naive(_expiry(e)),
    "health": urgency,
}
"""Sort value of each OPC UA column, from the model (not from the displayed text)."""

SORT_KEYS: tuple[tuple[str, str, str, str], ...] = (
    ("H", "health", "Health", "most urgent first: severity, then days left"),
    ("D", "days", "Days", "fewest days left first"),
    ("F", "file", "File", ""),
    ("T", "list", "List", "trust, then issuer"),
    ("N", "subject", "Subject", "the certificate's name"),
    ("I", "issuer", "Issuer", ""),
    ("E", "not_after", "Not after", "expiry date"),
    ("P", "thumb", "Thumbprint", ""),
    ("M", "mark", "Marks", "marked first"),
)
"""``(key, column, label, note)``: the OPC UA pane's key for each column, k9s style (shift+letter; the
lower-case letters and ``C``, ``G``, ``J``, ``L``, ``S``, ``Z`` are taken)."""


@dataclass(frozen=True)
class SortOrder:
    """Which column a table is sorted by, and in which direction."""

    column: str
    reverse: bool = False

    def label(self, specs: Sequence[ColumnSpec]) -> str:
        """``Days ▲`` for the pane title."""
        # The mark column has no header text: name it, or the subtitle reads "sort   ▲".
        names = {c.key: c.label.strip() or ("marked first" if c.key == "mark" else c.key) for c in specs}
        return f"{names.get(self.column, self.column)} {'▼' if self.reverse else '▲'}"


DEFAULT_OPCUA_SORT = SortOrder("health")
"""Most urgent first (severity, then days left): what is wrong shows on the first screen."""


_MemoKey = tuple[SortOrder, frozenset[str]]


class _SortMemo:
    """Where each entry stood in the last full sort, so sorting a filtered subset is a lookup per entry.

    Filter keystrokes sort subsets of one state's entries again and again under one order. The order is
    total (ties broken by key), so a subset's sorted order is its members' order in the full sort. The
    memo holds the entries it ranked, so an ``id`` found in it is that very entry, never a newer object
    that took over the address of a freed one.
    """

    def __init__(self) -> None:
        self._key: _MemoKey | None = None
        self._entries: list[OpcUaEntry] = []
        self._rank: dict[int, int] = {}

    def sorted(self, entries: Sequence[OpcUaEntry], key: _MemoKey) -> list[OpcUaEntry] | None:
        """``entries`` in the remembered order, or None when some of them were not ranked under ``key``."""
        if key != self._key:
            return None
        rank = self._rank
        try:
            return sorted(entries, key=lambda e: rank[id(e)])
        except KeyError:  # an entry of another state, or outside the remembered set
            return None

    def remember(self, ordered: list[OpcUaEntry], key: _MemoKey) -> None:
        """Rank ``ordered`` (the result of a full sort) under ``key``."""
        self._key = key
        self._entries = ordered
        self._rank = {id(entry): index for index, entry in enumerate(ordered)}


_SORT_MEMO = _SortMemo()


def sort_entries(
    entries: Sequence[OpcUaEntry], order: SortOrder, marked: Collection[str] = ()
) -> list[OpcUaEntry]:
    """Entries sorted by ``order`` (marked first when sorting by the mark column), ties by key."""
    memo_key = (order, frozenset(marked) if order.column == "mark" else frozenset())
    known = _SORT_MEMO.sorted(entries, memo_key)
    if known is not None:
        return known
    if order.column == "mark":
        value: Callable[[OpcUaEntry], Any] = lambda e: e.key not in marked  # noqa: E731
    else:
        value = OPCUA_SORT.get(order.column, OPCUA_SORT["list"])
    ordered = sorted(entries, key=lambda e: e.key)
    # Two stable passes: the key order survives as the tie-breaker in either direction.
    ordered.sort(key=value, reverse=order.reverse)
    _SORT_MEMO.remember(ordered, memo_key)
    return ordered


def fit_columns(
    specs: Sequence[ColumnSpec], longest_file: int, longest_health: int
) -> tuple[ColumnSpec, ...]:
    """``specs`` with the File and Health minimum widths set to hold their longest cells (within bounds).

    Columns get their room by priority: the optional columns (subject, issuer, dates, thumbprint) only
    show once the file names and health texts fit whole, so two long names that differ near the end
    are not cut alike while a subject takes the room. The raised widths are preferences, not minimums:
    where even they do not fit (80 columns, one long health text), :func:`layout_columns` narrows both
    back towards ``FILE_MIN`` and ``HEALTH_MIN`` (the name cut in the middle, the health words at the
    end) rather than drop Health or List (trial finding 3).
    """
    widths = {
        "file": min(max(longest_file, FILE_MIN), FILE_MAX),
        "health": min(max(longest_health, HEALTH_MIN), HEALTH_MAX),
    }
    return tuple(replace(spec, width=widths[spec.key]) if spec.key in widths else spec for spec in specs)


ISSUER_NAME_MIN, ISSUER_NAME_MAX = 16, 32
"""Bounds of the issuer Name column's minimum width, which follows the longest name."""


def fit_issuer_columns(specs: Sequence[ColumnSpec], longest_name: int) -> tuple[ColumnSpec, ...]:
    """``specs`` with the Name column's minimum width set to hold the longest name (within bounds):
    Kind, Type and Certs give way before a name is cut beside spare space (the detail shows them)."""
    width = min(max(longest_name, ISSUER_NAME_MIN), ISSUER_NAME_MAX)
    return tuple(replace(spec, width=width) if spec.key == "name" else spec for spec in specs)


def entry_cells(
    entry: OpcUaEntry,
    palette: Palette,
    *,
    marked: bool,
    warn_days: int,
    critical_days: int,
    pool: CellPool | None = None,
) -> RowCells:
    """Cells of one OPC UA entry for every column in :data:`OPCUA_COLUMNS`; the columns whose values repeat
    take their cells from ``pool`` when one is given (shared with other rows)."""
    cert, crl = entry.certificate, entry.crl
    # Common names read best in a narrow column; the filter and the preview use the full names.
    if cert is not None:
        subject, issuer, thumbprint = fmt.common_name(cert.subject), fmt.common_name(cert.issuer), cert.sha1
    elif crl is not None:
        subject, issuer, thumbprint = f"CRL of {fmt.common_name(crl.issuer)}", fmt.common_name(crl.issuer), ""
    else:
        subject, issuer, thumbprint = f"({entry.content})", "", ""
    level = severity_level(entry.severity)
    health = health_text(entry)
    if cert is not None:
        days_style = palette.style(days_level(entry.days_left, warn_days, critical_days))
    elif crl is not None and entry.days_left is not None:
        # A CRL is judged by staleness only (a weekly CRL is days from its nextUpdate all the time): red
        # once stale, as its health says, never beside a healthy "ok".
        days_style = palette.style(Level.ERROR if Health.CRL_STALE in entry.flags else Level.PLAIN)
    else:
        days_style = palette.style(Level.MUTED)

    shared = pool.cell if pool is not None else Cell
    return {
        "mark": shared(MARK if marked else " ", palette.style(Level.INFO)),
        "list": shared(entry.list_name),
        "file": MiddleCell(entry.target_key, palette.style(level) if entry.flags else ""),
        "subject": Cell(subject),
        "issuer": shared(issuer, palette.style(Level.MUTED) if not entry.issuer_in_list and issuer else ""),
        "thumb": Cell(fmt.thumb(thumbprint, 10) if thumbprint else fmt.DASH),
        "not_after": shared(fmt.day(_expiry(entry))),
        "days": shared(fmt.days_text(entry.days_left), days_style),
        "health": shared(health, palette.style(level)),
    }


def issuer_cells(issuer: IssuerView, palette: Palette) -> RowCells:
    """Cells of one issuer for every column in :data:`ISSUER_COLUMNS`."""
    if issuer.ready is None:
        ready, level = "?" + (f" ({issuer.reason})" if issuer.reason else ""), Level.MUTED
    elif issuer.ready:
        ready, level = "yes", Level.OK
    else:
        ready, level = "no" + (f" ({issuer.reason})" if issuer.reason else ""), Level.ERROR
    certs = str(issuer.certificates_backed)
    if issuer.certificates_failing:
        certs += f" ✗{issuer.certificates_failing}"

    return {
        "name": MiddleCell(issuer.display_name),
        "kind": Cell("Cluster" if issuer.kind == "ClusterIssuer" else "Issuer"),
        "type": Cell(issuer.type),
        "ready": Cell(ready, palette.style(level)),
        "certs": Cell(certs, palette.style(Level.WARNING) if issuer.certificates_failing else ""),
        "role": Cell(",".join(issuer.roles) or fmt.DASH, palette.style(Level.INFO) if issuer.roles else ""),
        "since": Cell(fmt.when(issuer.last_transition, seconds=False)),
        "message": Cell(fmt.one_line(issuer.message) or fmt.DASH, palette.style(Level.MUTED)),
    }
