"""The OPC UA pane: one table of trust-list and issuer-list entries with filter, sort, marks and changes.

The view is ``sort(filter(entries))``: a new state, a filter keystroke, a sort change or a mark each
recompute it and hand the rows to the :class:`~tui.ui.widgets.keyed_table.KeyedTable`, which keeps the
cursor on the same entry. Row cells are cached per entry object (states are immutable), so a live
update or a mark rebuilds only the rows that changed.

Changes start here (``u`` upload, ``v`` add from Key Vault, ``d`` delete, ``x`` mark stale entries,
``z``/``Z`` unstage; ``a`` applies from any pane): the pane only asks
(:class:`~tui.ui.messages.ChangeRequested`), the app opens the dialogs. Staged changes stay visible
(:mod:`tui.ui.view.staging`): the file name gets ``+``, ``~``, ``-`` or ``✓`` and the health cell says what
is staged; a staged add is a row of its own. The keys are hidden in the read-only view and when the app
has no way to write.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.timer import Timer
from textual.widgets import DataTable, Input

from tui.core.health.report import unread_reason
from tui.core.model.names import LIST_ISSUER, LIST_TRUST
from tui.core.model.sizes import limit_text, percent, size_severity
from tui.core.model.state import Area, ClusterState, OpcUaEntry, Severity
from tui.ui.messages import ChangeRequested, PreviewRequested
from tui.ui.view import connection
from tui.ui.view.cells import Cell, CellPool, MiddleCell, RowCells
from tui.ui.view.connector_doc import connector_line
from tui.ui.view.filtering import EntryFilter, HaystackCache, parse_filter
from tui.ui.view.levels import DEFAULT_PALETTE, Level, days_level
from tui.ui.view.rows import (
    DEFAULT_OPCUA_SORT,
    OPCUA_COLUMNS,
    SEVERITY_WORD,
    SORT_KEYS,
    SortOrder,
    entry_cells,
    fit_columns,
    health_text,
    sort_entries,
)
from tui.ui.view.staging import MARKER_LABEL, MARKER_SYMBOL, StageKind, Staging
from tui.ui.view.urgency import pane_counts
from tui.ui.widgets.filter_input import FilterInput
from tui.ui.widgets.keyed_table import KeyedTable
from tui.ui.widgets.text_line import TextLine
from tui.ui.widgets.titled import Titled

_PROBLEMS = frozenset((Severity.CRITICAL, Severity.WARNING))

FIRST_FILL_MARGIN = 40
"""Rows built beyond the first screenful before the first frame: the first page-down finds them there."""

FILL_BATCH = 300
"""Rows built and added per turn of the event loop once the first frame is out (about 50 ms each at
2,000 entries on the project's machine: a key typed meanwhile waits at most that long)."""

FILTER_TAIL_DELAY = 0.3
"""Seconds after the last filter keystroke before the table is given the rows below the first screenful
(design §10.1): a keystroke refills only what can be seen, and at a person's pace (0.15-0.4 s between
keys) the rest rarely lands just as the next key comes."""

_DAYS_SEVERITY: dict[Level, Severity] = {Level.ERROR: Severity.CRITICAL, Level.WARNING: Severity.WARNING}
"""A staged add's severity from its days' colour (it has no flags until it is in the list)."""


def _list_size(state: ClusterState, list_name: str) -> int | None:
    """The list Secret's data, the larger of now and after the next sync; None without a Secret."""
    sync = state.sync(list_name)
    return sync.size_bytes if sync is not None else None


def _size_note(state: ClusterState, list_name: str) -> str:
    """`` (92% of 1 MiB)`` beside a list's count once it nears the most a Secret may hold (80 %,
    docs/domain.md §1.2), where a narrow title still shows it; empty below."""
    size = _list_size(state, list_name)
    if size is None or size_severity(size) is None:
        return ""
    return f" ({percent(size)}% of {limit_text()})"


def _sizes_text(state: ClusterState) -> str:
    """`` · size 3%/0% of 1 MiB``: both lists against the limit (trust/issuer), at the title's end."""
    sizes = [_list_size(state, name) for name in (LIST_TRUST, LIST_ISSUER)]
    if all(size is None for size in sizes):
        return ""
    shown = "/".join("-" if size is None else f"{percent(size)}%" for size in sizes)
    return f" · size {shown} of {limit_text()}"


class OpcUaPane(Titled, Vertical):
    """Trust and issuer list entries, most urgent first; ``/`` filters, ``p`` shows problems only,
    ``s``/``S`` and one shift+letter per column sort, ``space`` marks."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_mark", "Mark", id="opcua.mark", tooltip="Mark or unmark the entry"),
        Binding(
            "ctrl+backslash",
            "clear_marks",
            "Clear marks",
            show=False,
            id="opcua.clear-marks",
            tooltip="Unmark every entry",
        ),
        Binding("s", "sort_next", "Sort", id="opcua.sort", tooltip="Sort by the next column"),
        Binding(
            "o",
            "connector",
            "Connector cert",
            show=False,
            id="opcua.connector",
            tooltip="Preview the OPC UA connector's own certificate (w there writes it to a file)",
        ),
        Binding(
            "S", "sort_reverse", "Reverse", show=False, id="opcua.reverse", tooltip="Reverse the sort order"
        ),
        # In the footer only where it has room (show_problems_key); the palette offers it too.
        Binding(
            "p",
            "toggle_problems",
            "Problems",
            show=False,
            id="opcua.problems",
            tooltip="Show only the entries with a critical or warning finding (again: show all)",
        ),
        # One key per column, k9s style (shift+letter; again: reverse). Listed by ? and the palette.
        *(
            Binding(
                key,
                f"sort_by('{column}')",
                f"Sort by {label}",
                show=False,
                id=f"opcua.sort-{column.replace('_', '-')}",
                tooltip=f"Sort by {label.lower()}" + (f" ({note})" if note else "") + "; again: reverse",
            )
            for key, column, label, note in SORT_KEYS
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="opcua.clear-filter",
            tooltip="Clear the filter and close the filter box",
        ),
        # Not in the footer (it is full at 80x24): listed by ? and the palette.
        Binding(
            "u",
            "change('upload')",
            "Upload",
            show=False,
            id="opcua.upload",
            tooltip="Upload a certificate or CRL file into a list (staged until you apply)",
        ),
        Binding(
            "v",
            "change('vault-add')",
            "From vault",
            show=False,
            id="opcua.vault-add",
            tooltip="Add a certificate or CRL already in Key Vault to a list (staged)",
        ),
        Binding(
            "d",
            "change('delete')",
            "Delete",
            show=False,
            id="opcua.delete",
            tooltip="Remove the marked entries, or the one under the cursor (staged)",
        ),
        Binding(
            "x",
            "change('mark-stale')",
            "Mark stale",
            show=False,
            id="opcua.mark-stale",
            tooltip="Mark every stale entry (expired, duplicate, orphaned, CRL without CA) for review",
        ),
        Binding(
            "z",
            "change('unstage')",
            "Unstage",
            show=False,
            id="opcua.unstage",
            tooltip="Unstage the changes of the marked entries, or of the one under the cursor",
        ),
        Binding(
            "Z",
            "change('discard')",
            "Discard all",
            show=False,
            id="opcua.discard",
            tooltip="Discard every staged change (asks first)",
        ),
    ]

    NEED_STAGED: ClassVar[frozenset[str]] = frozenset(("unstage", "discard"))
    """Change actions that only make sense with something staged (shown dimmed otherwise)."""

    def __init__(self, *, id: str = "opcua") -> None:
        super().__init__(id=id, classes="pane")
        self.set_title("OPC UA lists")
        self.palette = DEFAULT_PALETTE
        self.marked: set[str] = set()
        # Not ``sort_order``: Textual's Widget uses that name for the order of its children.
        self.entry_sort: SortOrder = DEFAULT_OPCUA_SORT
        self.filter: EntryFilter = parse_filter("")
        self.problems_only = False
        """``p``: only entries with a critical or warning severity (and rows with a staged change)."""
        self._longest = (-1, -1)
        self._state: ClusterState | None = None
        self._haystacks = HaystackCache()
        self._cells: dict[str, tuple[OpcUaEntry, bool, StageKind | None, RowCells]] = {}
        self._pool = CellPool()
        """Cells of the columns whose values repeat, one per look, shared among rows."""
        self.staging = Staging()
        """Staged changes (and applied ones awaiting the live state) shown in the table."""
        self._markers: dict[str, StageKind] = {}
        self.shown: list[OpcUaEntry] = []
        """Entries currently shown, in display order (all of them, also while the first fill is under way:
        counts and the cursor's targets come from here, not from the rows the table holds so far)."""
        self._fill_limit: int | None = None
        """While the first fill is under way, or a filter keystroke's rows below the first screenful are
        held back: how many of :attr:`shown` the table holds (from the top)."""
        self._filled_once = False
        self._tail_timer: Timer | None = None
        """Gives the table the rows a filter keystroke held back, once typing pauses."""
        self._title_parts: tuple[ClusterState, str, str] | None = None

    def show_problems_key(self, shown: bool) -> None:
        """Show ``p Problems`` in the footer or not: it fits beside the others from about 100 columns, not
        at 80 (trial: nothing on screen said ``p`` exists). The key works either way."""
        bindings = self._bindings.key_to_bindings
        current = bindings.get("p", [])
        wanted = [replace(b, show=shown) if b.id == "opcua.problems" else b for b in current]
        if wanted != current:
            # A new list: the map's lists are shared with the class's until replaced.
            bindings["p"] = wanted
            self.refresh_bindings()

    def compose(self) -> ComposeResult:
        """The table, and the filter box (hidden until ``/``)."""
        table = KeyedTable(OPCUA_COLUMNS, id="opcua-table")
        table.before_last_row = self.finish_fill
        table.before_key = self._finish_held_tail
        yield table
        # The certificate the connector presents to every server: what they must trust (issue 12 item 14).
        yield TextLine("", id="opcua-connector")
        box = FilterInput(
            placeholder="filter: words, expired, expiring, crl-stale, staged, !word …", id="opcua-filter"
        )
        # A blinking cursor repaints twice a second: bytes over SSH for nothing.
        box.cursor_blink = False
        # The table follows each keystroke in the same turn as the box's echo, so both are one frame.
        box.value_typed = self._filter_typed
        yield box

    @property
    def table(self) -> KeyedTable:
        """The entries table."""
        return self.query_one("#opcua-table", KeyedTable)

    @property
    def filter_input(self) -> Input:
        """The filter box."""
        return self.query_one("#opcua-filter", Input)

    # -- data ------------------------------------------------------------------------------------

    def show(self, state: ClusterState) -> None:
        """Show a new state (entries updated by key; filter, sort, marks and cursor kept)."""
        # The first complete state after partial ones (lists still arriving) changes every row: filled
        # anew viewport-first like the first state, not updated cell by cell (design §10.1).
        refill = self._state is not None and not self._state.complete and state.complete
        self._state = state
        self._show_connector(state)
        entries = self.entries(state)
        if not self._filled_once or refill:
            self._start_first_fill(len(entries))
        elif self._fill_limit is None and self._rows_change(entries, more_than=self._window()):
            self._start_batched_update()
        self._fit_columns(entries)
        keys = {entry.key for entry in entries}
        self.marked &= keys
        if len(self._cells) > len(keys):
            self._cells = {k: v for k, v in self._cells.items() if k in keys}
            self._haystacks.prune(entries)
        self._refresh_view(rebuild=refill)

    def _start_first_fill(self, count: int) -> None:
        """Fill the table viewport-first on the first state (design §10.1).

        Building every row's cells takes about 0.3 s at 2,000 entries and would hold the first frame: only
        the first screenful (in the current order, plus a margin) is built now, the rest in batches of
        :data:`FILL_BATCH` after the frame is painted. A later state, filter, sort or mark recomputes the
        whole order and shows its first rows up to the same limit, so no batch can add a stale row.
        """
        self._filled_once = True
        first = self.app.size.height + FIRST_FILL_MARGIN
        if count > first:
            self._fill_limit = first
            self.call_after_refresh(self._fill_more)

    def _window(self) -> int:
        """The rows a paint can show from the top down to the bottom of the view, plus a margin."""
        return int(self.table.scroll_offset.y) + self.app.size.height + FIRST_FILL_MARGIN

    def _rows_change(self, entries: tuple[OpcUaEntry, ...], *, more_than: int) -> bool:
        """Whether more than ``more_than`` of ``entries`` would get new cells (an entry unlike the one its
        cached cells were built for). Stops counting there; unchanged entries are mostly the very objects
        the cache holds (the model shares them between states), so the scan is cheap."""
        cells, changed = self._cells, 0
        for entry in entries:
            cached = cells.get(entry.key)
            if cached is None or (cached[0] is not entry and cached[0] != entry):
                changed += 1
                if changed > more_than:
                    return True
        return False

    def _start_batched_update(self) -> None:
        """A state that changes most rows (the vault's first read, a new day): the rows down to the bottom
        of the view now, the rest in batches after the paint, as the first fill does.

        Building every row's cells and updating them in the table took 150-250 ms of the UI thread at
        2,000 entries when the vault's listing arrived; a key pressed meanwhile waited for all of it."""
        self._fill_limit = self._window()
        self.call_after_refresh(self._fill_more)

    @property
    def filling(self) -> bool:
        """True while the first fill's batches are still adding rows to the table."""
        return self._fill_limit is not None

    def _fill_more(self) -> None:
        """Add the next batch of the first fill (after a paint, so keys and frames go between batches)."""
        if self._fill_limit is None or self._state is None:
            return
        if not self._state.complete:
            return  # a partial state's rows all change with the complete one, which fills anew
        self._fill_limit += FILL_BATCH
        if self._fill_limit >= len(self.shown):
            self._fill_limit = None
        # ``shown`` is the current order: every filter, sort, mark and state recomputes it at once.
        self.table.extend(self._rows(self._state))
        if self._fill_limit is not None:
            self.call_after_refresh(self._fill_more)

    def finish_fill(self) -> None:
        """Add every remaining row now (a jump to a row the batches have not reached yet, the end of a
        pause in typing a filter, the table taking the focus)."""
        if self._tail_timer is not None:
            self._tail_timer.stop()
            self._tail_timer = None
        if self._fill_limit is not None and self._state is not None:
            self._fill_limit = None
            self.table.extend(self._rows(self._state))

    def _finish_held_tail(self) -> None:
        # A key for the table (after a click on it, or typed ahead behind enter) while a filter keystroke's
        # rows are held: the key must find them all (the first fill's batches keep their own pace).
        if self._tail_timer is not None:
            self.finish_fill()

    def _hold_tail(self) -> None:
        """Let the next refill give the table only the first screenful (plus a margin) of the rows shown,
        and give it the rest once typing pauses (:data:`FILTER_TAIL_DELAY`).

        Every filter keystroke used to refill the table with every match (2,000 rows at scale) to paint
        about 30; the counts and the cursor's targets come from :attr:`shown` either way. While the rows
        are held the table's scroll range is that first screenful; ``enter`` and ``esc`` in the box and
        any key for the table add the rest at once.
        """
        window = self.app.size.height + FIRST_FILL_MARGIN
        self._fill_limit = window if self._fill_limit is None else min(self._fill_limit, window)
        if self._tail_timer is not None:
            self._tail_timer.stop()
        self._tail_timer = self.set_timer(FILTER_TAIL_DELAY, self.finish_fill, name="filter tail")

    def _rows(self, state: ClusterState) -> list[tuple[str, RowCells]]:
        """The table's rows: every shown entry, or its first ones while rows are held back (the first
        fill, a filter keystroke)."""
        if self._fill_limit is not None:
            # The table keeps the cursor on its entry through a new order; a sort during the fill can move
            # that entry below the rows added so far, so the rows down to it (and a margin) come now.
            below = self._cursor_below(state, self._fill_limit)
            if below is not None:
                self._fill_limit = below + 1 + FIRST_FILL_MARGIN
            if self._fill_limit >= len(self.shown):
                self._fill_limit = None  # every row fits under the limit: nothing held back
        shown = self.shown if self._fill_limit is None else self.shown[: self._fill_limit]
        return [(entry.key, self._row(entry, state)) for entry in shown]

    def _cursor_below(self, state: ClusterState, limit: int) -> int | None:
        """The index in :attr:`shown` of the entry under the table's cursor when it is at ``limit`` or
        below; None when it is above, or not shown (a keystroke filtered it out)."""
        cursor = self.table.cursor_key
        if cursor is None:
            return None
        tail = self.shown[limit:]
        entry = state.entry(cursor)
        if entry is not None:  # the state's own entry object: compared by identity, no keys built
            found = next((index for index, each in enumerate(tail) if each is entry), None)
        else:  # a staged add's row, made anew for every view
            found = next((index for index, each in enumerate(tail) if each.key == cursor), None)
        return None if found is None else limit + found

    def _fit_columns(self, entries: tuple[OpcUaEntry, ...]) -> None:
        # File and Health get the width of their longest cells (of every entry, so that filtering does not
        # shift them); a staged row's file name has a two-cell prefix.
        health = max((len(health_text(e)) for e in entries), default=0)
        if self._markers:
            # A staged row's health cell is its severity word (at most 4 cells and a space) and its label.
            health = max(health, *(5 + len(MARKER_LABEL[kind]) for kind in self._markers.values()))
        file = max((len(e.target_key) for e in entries), default=0) + (2 if self._markers else 0)
        if (file, health) != self._longest:
            self._longest = (file, health)
            self.table.set_specs(fit_columns(OPCUA_COLUMNS, file, health))

    def entries(self, state: ClusterState) -> tuple[OpcUaEntry, ...]:
        """The state's entries plus a row for each staged add not in the lists yet."""
        if not self.staging.items and not self.staging.applied:
            return state.opcua
        # The app's clock at each repaint, as the dialogs that staged them (trial 13: a split dialog said
        # 29d, the row then 30d, computed at the older state's build time).
        ghosts = self.staging.ghost_entries(state, self._now(state))
        return state.opcua + ghosts if ghosts else state.opcua

    def _now(self, state: ClusterState) -> datetime:
        clock = getattr(self.app, "clock", None)
        return clock.now() if clock is not None else state.built_at

    def staged_label(self, key: str) -> str | None:
        """What is staged on the row ``key`` (``staged remove``...), None when nothing is."""
        kind = self._markers.get(key)
        return MARKER_LABEL[kind] if kind is not None else None

    def set_staging(self, staging: Staging) -> None:
        """Show these staged changes (rows marked, staged adds as rows of their own)."""
        if staging == self.staging:
            return
        self.staging = staging
        self._markers = staging.markers()
        # ``staged`` (and ``add``, ``remove``...) find the rows whose health cell says what is staged.
        self._haystacks.set_extra({key: MARKER_LABEL[kind] for key, kind in self._markers.items()})
        if self._state is not None:
            self.show(self._state)
        self.refresh_bindings()

    def restyle(self) -> None:
        """Re-render every row (after a theme change)."""
        self._cells.clear()
        self._pool = CellPool()  # the old theme's looks would only wait for the limit
        self._refresh_view()

    def _row(self, entry: OpcUaEntry, state: ClusterState) -> RowCells:
        marked = entry.key in self.marked
        staged = self._markers.get(entry.key)
        cached = self._cells.get(entry.key)
        # Each rebuild of the model makes new entry objects; an equal entry (cheap to compare: its
        # decoded parts are shared by the decode cache) keeps its cells, so nothing is re-rendered.
        if (
            cached is not None
            and cached[1] == marked
            and cached[2] is staged
            and (cached[0] is entry or cached[0] == entry)
        ):
            if cached[0] is not entry:
                self._cells[entry.key] = (entry, marked, staged, cached[3])
            return cached[3]
        cells = entry_cells(
            entry,
            self.palette,
            marked=marked,
            warn_days=state.settings.expiring_warn_days,
            critical_days=state.settings.expiring_critical_days,
            pool=self._pool,
        )
        if staged is not None:
            # A CRL is judged by staleness, not by days (entry_cells): only a certificate's days count.
            level = (
                days_level(
                    entry.days_left, state.settings.expiring_warn_days, state.settings.expiring_critical_days
                )
                if entry.certificate is not None
                else Level.PLAIN
            )
            cells = self._staged_cells(entry, cells, staged, level)
        self._cells[entry.key] = (entry, marked, staged, cells)
        return cells

    def _staged_cells(self, entry: OpcUaEntry, cells: RowCells, staged: StageKind, days: Level) -> RowCells:
        """The row's cells with what is staged on it: a prefix on the file name, and the health cell led by
        the row's severity word, as every health cell is (trial 12: the days were orange, the cell said
        only ``staged add``). A staged add has no flags yet: its word follows its days' colour."""
        level = Level.MUTED if staged is StageKind.APPLIED else Level.INFO
        style = f"{self.palette.style(level)} italic"
        out = dict(cells)
        out["file"] = MiddleCell(f"{MARKER_SYMBOL[staged]} {cells['file'].plain}", style)
        severity = entry.severity if entry.flags else _DAYS_SEVERITY.get(days)
        out["health"] = Cell(f"{SEVERITY_WORD[severity]} {MARKER_LABEL[staged]}", style)
        return out

    def _refresh_view(self, *, rebuild: bool = False) -> None:
        state = self._state
        if state is None:
            return
        visible = self.filter.apply(self.entries(state), self._haystacks)
        if self.problems_only:
            visible = [e for e in visible if e.severity in _PROBLEMS or e.key in self._markers]
        self.shown = sort_entries(visible, self.entry_sort, self.marked)
        self.table.apply(self._rows(state), rebuild=rebuild)
        self._update_titles(state)

    def _update_titles(self, state: ClusterState) -> None:
        head, tail = self._state_title(state)
        title = head
        if self.filter.active or self.problems_only:
            # Of every row the table can show, staged adds included (they match filters too); before the
            # severity counts, which the tab strip repeats at 80 columns where the title is cut.
            title += f" · {len(self.shown)} of {len(self.entries(state))} match"
        title += tail
        self.set_title(title)
        # The footer is full at 80 columns: the subtitle names the keys of sorting and of problems only.
        subtitle = f"sort {self.entry_sort.label(OPCUA_COLUMNS)} (H D F… ?)"
        if self.marked:
            subtitle += f" · {len(self.marked)} marked"
        if self.staging.items:
            subtitle += f" · {len(self.staging.items)} staged (a applies)"
        elif self.staging.applied:
            subtitle += f" · {len(self.staging.applied)} applied, awaiting the live state"
        if self.problems_only:
            subtitle += " · problems only (p: all)"
        if self.filter.active:
            subtitle += f" · filter: {self.filter.text.strip()}"
        self.set_subtitle(subtitle)

    def _state_title(self, state: ClusterState) -> tuple[str, str]:
        """The title's parts before and after the match count: they depend on the state only, so they are
        worked out once per state, not on every filter keystroke."""
        cached = self._title_parts
        if cached is not None and cached[0] is state:
            return cached[1], cached[2]
        trust: int | str = sum(1 for e in state.opcua if e.list_name == LIST_TRUST)
        issuer: int | str = sum(1 for e in state.opcua if e.list_name == LIST_ISSUER)
        if state.loading:
            trust = issuer = "loading"  # some collection not listed yet: the counts come with the rest
        elif not state.opcua and unread_reason(state, Area.OPC_UA) is not None:
            trust = issuer = "?"  # never read: unknown, not empty
        # The tab strip's count (trial 4: the title counted entries, the strip findings, and they differed).
        counts = pane_counts(state.findings)["opcua"]
        critical, warning = counts.critical, counts.warning
        # First: where a change to these lists must go (docs/domain.md §9), never cut off at 80 columns.
        # Who owns the lists is known once they were read: until then "owner ?" (trial 6), not a guess.
        owners = "owner ?" if unread_reason(state, Area.OPC_UA) is not None else connection.owners_text(state)
        head = (
            f"OPC UA lists ({owners}) · trust {trust}{_size_note(state, LIST_TRUST)}"
            f" · issuer {issuer}{_size_note(state, LIST_ISSUER)}"
        )
        tail = ""
        if critical:
            tail += f" · {critical} critical"
        if warning:
            tail += f" · {warning} warning"
        area = state.area("opc-ua")
        if not area.ok:
            tail += f" · {area.state.value}"
        tail += _sizes_text(state)
        self._title_parts = (state, head, tail)
        return head, tail

    # -- filter ----------------------------------------------------------------------------------

    def _show_connector(self, state: ClusterState) -> None:
        text, level = connector_line(state)
        # A TextLine: an unchanged line is left alone, and a changed one asks for a layout pass only when
        # its length does (a Static's update asked on every state: a reflow and repaint of the screen).
        line = self.query_one("#opcua-connector", TextLine)
        line.show(Text(text, style=self.palette.style(level), no_wrap=True, overflow="ellipsis"))

    def action_connector(self) -> None:
        """Open the preview of the connector's own certificate."""
        self.post_message(PreviewRequested("connector", "connector-cert"))

    def open_filter(self) -> None:
        """Show the filter box and focus it."""
        self.add_class("-filtering")
        # At once (Widget.focus defers): the letters typed after ``/`` in the same write are already
        # queued and must reach the box, not the table's bindings (trial: ``/plc``).
        self.screen.set_focus(self.filter_input)

    def set_filter(self, text: str) -> None:
        """Filter the entries by ``text`` (see :mod:`tui.ui.view.filtering`)."""
        new = parse_filter(text)
        if new.terms == self.filter.terms:
            self.filter = new
            if self._state is not None:
                self._update_titles(self._state)
            return
        self.filter = new
        # A different set of rows: refill, the table puts the cursor back on its entry if still shown.
        # Only the first screenful now; the rest when typing pauses.
        self._hold_tail()
        self._refresh_view(rebuild=True)

    def _filter_typed(self, value: str) -> None:
        # Called by the box as its value changes, before its echo is painted: one frame shows both.
        self.set_filter(value)

    @on(Input.Changed, "#opcua-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        event.stop()
        # The box already applied its value (``_filter_typed``). Of a burst of keys (a paste, keys typed
        # ahead) the older values arrive here after newer ones were applied: never go back to them.
        if event.value == self.filter_input.value:
            self.set_filter(event.value)

    @on(Input.Submitted, "#opcua-filter")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not self.filter.active:
            self.remove_class("-filtering")
        self.finish_fill()
        self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """``escape`` only clears when there is a filter; otherwise it falls through to the screen.

        Change keys are hidden when the app cannot write or the view is read-only (the screen then says
        why on a press); apply and unstage are shown dimmed while nothing is staged.
        """
        if action == "clear_filter":
            return self.filter.active or self.has_class("-filtering") or bool(self.filter_input.value)
        if action == "change":
            if not getattr(self.app, "changes_enabled", False):
                return False
            if parameters and parameters[0] in self.NEED_STAGED and not self.staging.items:
                return None
        return True

    def action_change(self, action: str) -> None:
        """Ask the app for a change dialog, naming the marked entries or the one under the cursor."""
        if action in ("delete", "unstage"):
            keys = (
                tuple(sorted(self.marked))
                if self.marked
                else ((self.table.cursor_key,) if self.table.cursor_key is not None else ())
            )
        else:
            keys = (self.table.cursor_key,) if self.table.cursor_key is not None else ()
        self.post_message(ChangeRequested(action, keys))

    def mark(self, keys: set[str]) -> None:
        """Mark exactly these entries (``x``: the stale ones) and sort the marked first."""
        self.marked = set(keys)
        self.entry_sort = SortOrder("mark")
        self._refresh_view()

    def action_clear_filter(self) -> None:
        """Clear the filter, hide the box and return to the table."""
        if self.filter_input.value:
            self.filter_input.value = ""  # refills through _filter_typed
        self.set_filter("")
        self.finish_fill()
        self.remove_class("-filtering")
        self.table.focus()

    # -- marks and sort --------------------------------------------------------------------------

    def action_toggle_mark(self) -> None:
        """Mark or unmark the entry under the cursor."""
        key = self.table.cursor_key
        if key is None:
            return
        if key in self.marked:
            self.marked.discard(key)
        else:
            self.marked.add(key)
        self._refresh_view()

    def action_clear_marks(self) -> None:
        """Unmark every entry."""
        if self.marked:
            self.marked.clear()
            self._refresh_view()

    def sort_by(self, column: str, *, reverse: bool | None = None) -> None:
        """Sort by ``column``; choosing the current column again flips the direction."""
        if reverse is None:
            reverse = not self.entry_sort.reverse if column == self.entry_sort.column else False
        self.entry_sort = SortOrder(column, reverse)
        self._refresh_view()

    def action_sort_next(self) -> None:
        """Sort by the next visible column (after the last one, back to the first)."""
        keys = [c.key for c in self.table.placed_columns if c.key != "mark"] or [c.key for c in OPCUA_COLUMNS]
        current = self.entry_sort.column
        following = keys[(keys.index(current) + 1) % len(keys)] if current in keys else keys[0]
        self.sort_by(following, reverse=False)

    def action_sort_by(self, column: str) -> None:
        """Sort by ``column`` (one key per column); pressed again, reverse."""
        self.sort_by(column)

    def action_toggle_problems(self) -> None:
        """Show only the entries with a problem, or all of them again."""
        self.problems_only = not self.problems_only
        self._refresh_view(rebuild=True)

    def action_sort_reverse(self) -> None:
        """Reverse the sort direction."""
        self.sort_by(self.entry_sort.column, reverse=not self.entry_sort.reverse)

    def on_data_table_header_selected(self, event: DataTable.HeaderSelected) -> None:
        """Clicking a column header sorts by it."""
        event.stop()
        if event.column_key.value is not None:
            self.sort_by(str(event.column_key.value))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        """``enter`` on an entry opens its preview."""
        event.stop()
        if event.row_key.value is not None:
            self.post_message(PreviewRequested("entry", str(event.row_key.value)))
