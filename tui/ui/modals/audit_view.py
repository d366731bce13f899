"""Audit trail (``L``): every line of the audit log, newest first, read-only.

Each line gives the time, the action, its outcome, the context and the entries concerned; the
highlighted one's every field (``enter``) follows below. The log holds no key material (the engine
writes none); every value is still escaped before it is shown. Read in a thread worker.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from tui.core.text import printable
from tui.ui.modals.journal_view import VIEW_CSS, logged_time
from tui.ui.modals.preview import ScrollBody
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette

AuditReader = Callable[[], Iterable[Mapping[str, Any]]]
"""Reads every audit event, oldest first, as the log stores them (blocking; run in a worker)."""

MAX_EVENTS = 2000
"""The newest this many events are listed (the log only grows; the CLI reads the file for more)."""

_GOOD = {"applied", "rolled-back", "requested", "dry-run"}
_BAD = {"failed", "conflict", "unreachable"}
_NEUTRAL = {"started"}
"""Written just before a run's first write; its own final line follows (nothing to warn about)."""


def _text(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else str(value)


def event_line(event: Mapping[str, Any], palette: Palette) -> Text:
    """One event on one line: time, action, outcome, context, entries."""
    outcome = _text(event.get("outcome")) or "?"
    level = Level.WARNING  # refused, cancelled, nothing-done...: worth a look
    if outcome in _GOOD:
        level = Level.OK
    elif outcome in _BAD:
        level = Level.ERROR
    elif outcome in _NEUTRAL:
        level = Level.PLAIN
    line = Text(logged_time(event.get("time")), style=palette.style(Level.MUTED))
    line.append(f"  {printable(_text(event.get('action'))):<16}", style="bold")
    line.append(f" {printable(outcome):<12}", style=palette.style(level))
    context = _text(event.get("context"))
    if context:
        line.append(f" {printable(context)}", style=palette.style(Level.MUTED))
    entries = _text(event.get("entries"))
    if entries:
        line.append(f"  {printable(entries)}")
    return line


_FIELDS = (
    "time",
    "user",
    "host",
    "context",
    "action",
    "outcome",
    "entries",
    "vault_secrets",
    "sha256",  # of each file (lines written before said "thumbprints": read back as sha256)
    "plan_id",
    "detail",
    "extra",
)


def event_detail(event: Mapping[str, Any]) -> Text:
    """Every field of one event, one per line (known fields first, then any others)."""
    text = Text()
    keys = [k for k in _FIELDS if k in event] + [k for k in event if k not in _FIELDS]
    for key in keys:
        value = logged_time(event.get(key)) if key == "time" else _text(event.get(key))
        if not value:
            continue
        text.append(f"{key:<14}", style="bold")
        text.append(printable(value) + "\n")
    return text


class AuditRead(Message):
    """The audit log was read (``events``, newest first) or could not be (``error``)."""

    def __init__(self, events: Sequence[Mapping[str, Any]] | None, error: str | None, total: int = 0) -> None:
        super().__init__()
        self.events = events
        self.error = error
        self.total = total


class AuditViewModal(ModalScreen[None]):
    """The audit trail, newest first."""

    DEFAULT_CSS = VIEW_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="audit.close", tooltip="Close the audit view"),
    ]

    def __init__(self, read: AuditReader, *, palette: Palette | None = None) -> None:
        super().__init__(id="audit-view")
        self._read_events = read
        self.palette = palette or DEFAULT_PALETTE
        self.events: list[Mapping[str, Any]] = []

    def compose(self) -> ComposeResult:
        """The list, the details of the highlighted event, a hint."""
        with Vertical(id="audit-view-dialog", classes="history-dialog") as dialog:
            dialog.border_title = "Audit trail (reading…)"
            yield OptionList(id="audit-view-list")
            with ScrollBody(classes="history-detail"):  # every key of a burst scrolls
                yield Static("", id="audit-view-detail", markup=False)
            yield Static("↑↓ choose · enter details · esc close", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Read the log off the UI thread."""
        self.query_one("#audit-view-list", OptionList).focus()
        self._read()

    @work(
        thread=True,
        exclusive=True,
        group="audit-view",
        exit_on_error=False,
        name="read audit log",
        description="read the audit log",
    )
    def _read(self) -> None:
        from tui.ui.change_session import one_line

        try:
            events = list(self._read_events())
        except Exception as exc:  # an unusable state directory: one line
            self.post_message(AuditRead(None, one_line(exc)))
            return
        newest = [e for e in reversed(events[-MAX_EVENTS:]) if isinstance(e, Mapping)]
        self.post_message(AuditRead(newest, None, len(events)))

    @on(AuditRead)
    def _audit_read(self, message: AuditRead) -> None:
        message.stop()
        dialog = self.query_one("#audit-view-dialog", Vertical)
        if message.events is None:
            dialog.border_title = "Audit trail"
            self._detail(
                Text(f"✗ cannot read the audit log: {message.error}", style=self.palette.style(Level.ERROR))
            )
            return
        self.events = list(message.events)
        count = len(self.events)
        shown = (
            f"newest {count} of {message.total}"
            if message.total > count
            else f"{count} event{'' if count == 1 else 's'}"
        )
        dialog.border_title = f"Audit trail: {shown} · newest first"
        options = self.query_one("#audit-view-list", OptionList)
        options.add_options([Option(event_line(e, self.palette)) for e in self.events])
        if self.events:
            options.highlighted = 0
        else:
            self._detail(Text("the audit log is empty: nothing was changed or attempted yet"))

    @on(OptionList.OptionHighlighted)
    @on(OptionList.OptionSelected)
    def _show_chosen(self, event: Message) -> None:
        event.stop()
        index = self.query_one("#audit-view-list", OptionList).highlighted
        if index is not None and 0 <= index < len(self.events):
            self._detail(event_detail(self.events[index]))

    def _detail(self, text: Text) -> None:
        self.query_one("#audit-view-detail", Static).update(text)

    def action_close(self) -> None:
        """Close the view."""
        self.dismiss(None)
