"""Journals (``J``): every apply the state directory remembers for this site, newest first, read-only.

Only the journals written for the site connected now (its API server or cluster, vault and ARM
resources) are listed, with those that record no site; another site's would be refused anyway
(``aio-certs journal --all`` lists them all).

Each line gives the journal id, its state (``PENDING`` for an interrupted or failed apply, ``RUNNING``
when another process holds it, else the outcome), the steps done and what was staged; the highlighted
one's details (``enter``) follow below. On a pending journal ``r`` hands it to the unfinished-applies
dialog (:class:`~tui.ui.modals.journal.JournalModal`), which resumes or rolls it back with the same
session code as at start; the details also name the ``aio-certs journal`` commands that do the same.
The journals are read in a thread worker (the state directory may be slow or unusable: one line).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

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
from tui.ui.modals.preview import ScrollBody
from tui.ui.view import format as fmt
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette

if TYPE_CHECKING:
    from tui.ops.journal import JournalInfo

JournalReader = Callable[[], Sequence["JournalInfo"]]
"""Reads every journal of the state directory (blocking; run in a worker)."""

VIEW_CSS = """
JournalViewModal, AuditViewModal { align: center middle; }
.history-dialog {
    width: 95%; max-width: 130; height: 90%;
    border: thick $accent; border-title-style: bold; background: $surface; padding: 0 1;
}
.history-dialog OptionList { height: 1fr; min-height: 4; border: none; padding: 0; }
.history-detail { height: auto; max-height: 12; border-top: solid $accent; }
.history-dialog .dialog-hint { height: 1; color: $text-muted; }
"""
"""Shared by the journal and audit views (their own CSS: the app's stylesheet does not know them)."""


def logged_time(value: object) -> str:
    """A time as a journal or the audit log stores it (ISO 8601), in the screen's one format
    (``2027-01-13 21:32Z``); the text as stored, escaped, when it is no time."""
    try:
        return fmt.when(datetime.fromisoformat(str(value)))
    except (TypeError, ValueError):
        return printable("" if value is None else str(value))[:25] or "?"


def journal_state(info: JournalInfo) -> str:
    """One word for a journal: UNUSABLE, RUNNING, PENDING, or its end outcome."""
    if info.problem:
        return "UNUSABLE"
    if info.busy:
        return "RUNNING"
    if info.pending:
        return "PENDING"
    return (info.outcome or "?").upper()


def newest_first(infos: Sequence[JournalInfo]) -> list[JournalInfo]:
    """Journals by the time they began, newest first (unreadable ones, which have none, by id)."""
    return sorted(infos, key=lambda i: (i.begun or "", i.id), reverse=True)


def journal_line(info: JournalInfo, palette: Palette) -> Text:
    """One journal on one line: id, state, steps, began, what was staged."""
    state = journal_state(info)
    level = {"PENDING": Level.WARNING, "UNUSABLE": Level.ERROR, "RUNNING": Level.INFO}.get(state, Level.OK)
    if state not in ("PENDING", "UNUSABLE", "RUNNING", "APPLIED", "ROLLED-BACK"):
        level = Level.WARNING
    line = Text(printable(info.id), style="bold")
    line.append(f"  {state:<11}", style=palette.style(level))
    if info.problem:
        line.append(printable(info.problem), style=palette.style(Level.MUTED))
        return line
    line.append(
        f" {info.done}/{info.steps} steps  {logged_time(info.begun)}  ", style=palette.style(Level.MUTED)
    )
    line.append(printable("; ".join(info.description)))
    return line


def _site_text(info: JournalInfo) -> str:
    """The site a journal was written for, as the refusal to finish it elsewhere names it."""
    site = info.site
    if site is None:
        return "not recorded (an earlier aio-certs): finished only with --site-unchecked"
    parts = [site.server or "?"]
    if site.cluster_uid:
        parts.append(f"cluster uid {site.cluster_uid}")
    if site.vault_url:
        parts.append(f"vault {site.vault_url}")
    return ", ".join(parts)


def journal_detail(info: JournalInfo, *, can_finish: bool) -> Text:
    """Everything the journal says, and what can be done about it."""
    rows = [
        ("journal", info.id),
        ("state", journal_state(info)),
        ("began", logged_time(info.begun)),
        ("context", info.context or "?"),
        ("site", _site_text(info)),
        (
            "steps",
            f"{info.done} of {info.steps} done"
            + (f", {info.uncertain} stopped around the write" if info.uncertain else ""),
        ),
    ]
    if info.failed:
        rows.append(("last error", info.failed))
    if info.problem:
        rows.append(("problem", info.problem))
    rows.extend(("change", line) for line in info.description)
    if info.audit_fields.entries:
        rows.append(("entries", ", ".join(info.audit_fields.entries)))
    rows.append(("file", str(info.path)))
    text = Text()
    for label, value in rows:
        text.append(f"{label:<11}", style="bold")
        text.append(printable(value) + "\n")
    if info.pending:
        ident = printable(info.id)
        how = "r: resume or roll back here, or " if can_finish else ""
        text.append(f"{how}aio-certs journal resume {ident} | aio-certs journal rollback {ident}")
    return text


class JournalsRead(Message):
    """The journals were read (``infos``) or could not be (``error``)."""

    def __init__(self, infos: Sequence[JournalInfo] | None, error: str | None) -> None:
        super().__init__()
        self.infos = infos
        self.error = error


class JournalViewModal(ModalScreen["JournalInfo | None"]):
    """Every journal, newest first; returns the pending journal to resume or roll back (``r``), or None."""

    DEFAULT_CSS = VIEW_CSS
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="journals.close", tooltip="Close the journal view"),
        Binding(
            "r",
            "finish",
            "Resume/roll back",
            id="journals.finish",
            tooltip="Resume or roll back the highlighted pending journal",
        ),
    ]

    def __init__(self, read: JournalReader, *, can_finish: bool, palette: Palette | None = None) -> None:
        super().__init__(id="journal-view")
        self._read_journals = read
        self.can_finish = can_finish
        """Resume and rollback are offered (not in the read-only view)."""
        self.palette = palette or DEFAULT_PALETTE
        self.infos: list[JournalInfo] = []
        self.error: str | None = None

    def compose(self) -> ComposeResult:
        """The list, the details of the highlighted journal, a hint."""
        with Vertical(id="journal-view-dialog", classes="history-dialog") as dialog:
            dialog.border_title = "Journals (reading…)"
            yield OptionList(id="journal-view-list")
            with ScrollBody(classes="history-detail"):  # every key of a burst scrolls
                yield Static("", id="journal-view-detail", markup=False)
            hint = "↑↓ choose · enter details · " + ("r resume/roll back · " if self.can_finish else "")
            yield Static(hint + "esc close", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Read the journals off the UI thread."""
        self.query_one("#journal-view-list", OptionList).focus()
        self._read()

    @work(
        thread=True,
        exclusive=True,
        group="journal-view",
        exit_on_error=False,
        name="read journals",
        description="read every journal of the state directory",
    )
    def _read(self) -> None:
        from tui.ui.change_session import one_line

        try:
            infos = self._read_journals()
        except Exception as exc:  # an unusable state directory: one line
            self.post_message(JournalsRead(None, one_line(exc)))
            return
        self.post_message(JournalsRead(infos, None))

    @on(JournalsRead)
    def _journals_read(self, message: JournalsRead) -> None:
        message.stop()
        dialog = self.query_one("#journal-view-dialog", Vertical)
        options = self.query_one("#journal-view-list", OptionList)
        if message.infos is None:
            self.error = message.error
            dialog.border_title = "Journals"
            self._detail(
                Text(f"✗ cannot read the journals: {message.error}", style=self.palette.style(Level.ERROR))
            )
            return
        self.infos = newest_first(message.infos)
        pending = sum(1 for i in self.infos if i.pending)
        dialog.border_title = f"Journals of this site: {len(self.infos)}, {pending} pending · newest first"
        options.add_options([Option(journal_line(i, self.palette)) for i in self.infos])
        if self.infos:
            options.highlighted = 0
        else:
            self._detail(
                Text(
                    "no journals of this site: nothing was applied to it from this state directory yet "
                    "(`aio-certs journal --all` lists every site's)"
                )
            )

    @property
    def chosen(self) -> JournalInfo | None:
        """The highlighted journal."""
        index = self.query_one("#journal-view-list", OptionList).highlighted
        return self.infos[index] if index is not None and 0 <= index < len(self.infos) else None

    @on(OptionList.OptionHighlighted)
    @on(OptionList.OptionSelected)
    def _show_chosen(self, event: Message) -> None:
        event.stop()
        chosen = self.chosen
        if chosen is not None:
            self._detail(journal_detail(chosen, can_finish=self.can_finish))

    def _detail(self, text: Text) -> None:
        self.query_one("#journal-view-detail", Static).update(text)

    def action_finish(self) -> None:
        """Hand the highlighted pending journal to the resume / roll back dialog."""
        chosen = self.chosen
        if chosen is None:
            return
        if not self.can_finish:
            self.notify("read-only view: resume and rollback are off", severity="warning", timeout=4)
        elif not chosen.pending:
            self.notify(
                f"journal {printable(chosen.id)} is {journal_state(chosen).lower()}: nothing to resume",
                timeout=4,
                markup=False,
            )
        else:
            self.dismiss(chosen)

    def action_close(self) -> None:
        """Close the view."""
        self.dismiss(None)
