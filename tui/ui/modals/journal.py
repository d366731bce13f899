"""Unfinished applies (shown at start, and after a failed apply): resume, roll back, or decide later.

Each pending journal is listed with when it began, how many steps were done, the last error and what
was staged. Resume runs the remaining steps; roll back undoes what is still the apply's own doing (the
runner decides, from the journal). Either runs in a thread worker with the same step-by-step progress as
an apply; "Later" leaves the journal for the next start or ``aio-certs journal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, OptionList, Static
from textual.widgets.option_list import Option

from tui.ui.change_session import SessionHolder, audit_attempt, one_line, outcome_of
from tui.ui.messages import StepProgressed
from tui.ui.modals.journal_view import logged_time
from tui.ui.modals.progress import StepProgress
from tui.ui.modals.safe import safe
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette

if TYPE_CHECKING:
    from tui.ops.apply import ApplyResult, StepEvent
    from tui.ops.journal import JournalInfo

DEFAULT_WAIT_TIMEOUT = 60.0
"""How long a resume or rollback waits for the synced Secrets."""


def summary_text(summary: JournalInfo, palette: Palette) -> Text:
    """One journal on two lines: id, time, progress, last error; then what was staged."""
    head = Text(summary.id, style="bold")
    head.append(
        f"  began {logged_time(summary.begun) if summary.begun else '?'}  "
        f"{summary.done}/{summary.steps} steps done",
        style=palette.style(Level.MUTED),
    )
    if summary.uncertain:
        head.append(f" ({summary.uncertain} stopped around the write)", style=palette.style(Level.WARNING))
    if summary.context:
        head.append(f"  context {summary.context}", style=palette.style(Level.MUTED))
    why = f"last error: {summary.failed}" if summary.failed else "interrupted"
    head.append(f"  {why}", style=palette.style(Level.WARNING))
    what = "; ".join(summary.description) or f"{summary.steps} step(s)"
    return safe(Text.assemble(head, "\n  ", (what, palette.style(Level.PLAIN))))


class JournalRunEnded(Message):
    """A resume or rollback ended (``result``), or could not start (``error``)."""

    def __init__(self, journal_id: str, verb: str, result: ApplyResult | None, error: str | None) -> None:
        super().__init__()
        self.journal_id = journal_id
        self.verb = verb
        self.result = result
        self.error = error


class JournalModal(ModalScreen[str | None]):
    """Pending applies with resume / roll back / later; returns the last outcome (None if nothing ran)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "later",
            "Later",
            id="journal.later",
            tooltip="Decide later: the journal stays (next start, or aio-certs journal)",
        ),
    ]

    def __init__(
        self,
        summaries: Sequence[JournalInfo],
        sessions: SessionHolder,
        *,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
        palette: Palette | None = None,
    ) -> None:
        super().__init__(id="journal")
        self.summaries = list(summaries)
        self.sessions = sessions
        self.wait_timeout = wait_timeout
        self.palette = palette or DEFAULT_PALETTE
        self.running = False
        self.progress = StepProgress()
        self.outcome: str | None = None

    def compose(self) -> ComposeResult:
        """The journals, progress, buttons."""
        count = len(self.summaries)
        with Vertical(id="journal-dialog", classes="change-dialog") as dialog:
            dialog.border_title = f"{count} unfinished appl{'y' if count == 1 else 'ies'}"
            yield Static(
                "An earlier apply did not finish. Nothing is left half-done silently: resume it "
                "or roll it back.",
                id="journal-intro",
                markup=False,
            )
            yield OptionList(
                *[Option(summary_text(s, self.palette), id=s.id) for s in self.summaries], id="journal-list"
            )
            yield Static("", id="journal-progress", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Resume", id="journal-resume", variant="primary")
                yield Button("Roll back", id="journal-rollback", variant="warning")
                yield Button("Later", id="journal-later")
            yield Static("↑↓ choose · tab to a button · esc later", classes="dialog-hint", markup=False)

    def on_mount(self) -> None:
        """Highlight the first journal."""
        options = self.query_one("#journal-list", OptionList)
        if self.summaries:
            options.highlighted = 0
        options.focus()

    @property
    def chosen(self) -> JournalInfo | None:
        """The highlighted journal."""
        index = self.query_one("#journal-list", OptionList).highlighted
        return self.summaries[index] if index is not None and 0 <= index < len(self.summaries) else None

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "journal-later":
            self.action_later()
        elif event.button.id == "journal-resume":
            self.run("resume")
        elif event.button.id == "journal-rollback":
            self.run("rollback")

    def run(self, verb: str) -> None:
        """Resume or roll back the highlighted journal (one at a time)."""
        chosen = self.chosen
        if self.running or chosen is None:
            return
        self.running = True
        self.progress = StepProgress()
        for button in self.query(Button):
            button.disabled = True
        self._show(
            Text(
                f"{'resuming' if verb == 'resume' else 'rolling back'} {chosen.id}…",
                style=self.palette.style(Level.INFO),
            )
        )
        self._run(chosen.id, verb)

    def _progress(self, event: StepEvent) -> None:
        """Hand one runner event to the dialog (post_message is thread-safe and keeps the order)."""
        self.post_message(StepProgressed(event))

    @work(
        thread=True,
        exclusive=True,
        group="journal-run",
        exit_on_error=False,
        name="journal",
        description="resume or roll back an unfinished apply",
    )
    def _run(self, journal_id: str, verb: str) -> None:
        session = None
        try:
            session = self.sessions.get()
            call = session.resume if verb == "resume" else session.rollback
            result = call(journal_id, progress=self._progress, wait_timeout=self.wait_timeout)
        except Exception as exc:  # JournalBusy, an unreachable site...: one line in the dialog
            error = one_line(exc)
            info = next((s for s in self.summaries if s.id == journal_id), None)
            if session is not None and info is not None:  # the runner audits only what it ran
                fields = info.audit_fields
                audit_attempt(
                    session,
                    f"journal {verb}",
                    outcome_of(exc),
                    entries=fields.entries,
                    thumbprints=fields.thumbprints,
                    vault_secrets=fields.vault_secrets,
                    plan_id=info.plan_id,
                    detail=error,
                )
            self.post_message(JournalRunEnded(journal_id, verb, None, error))
            return
        self.post_message(JournalRunEnded(journal_id, verb, result, None))

    @on(StepProgressed)
    def _progressed(self, message: StepProgressed) -> None:
        message.stop()
        self.progress.handle(message.event)
        self._show(self.progress.text(self.palette))

    @on(JournalRunEnded)
    def _ended(self, message: JournalRunEnded) -> None:
        message.stop()
        self.running = False
        result = message.result
        lines = [self.progress.text(self.palette)] if self.progress.rows else []
        if result is None:
            lines.append(
                Text(
                    f"✗ {message.verb} of {message.journal_id}: {message.error}",
                    style=self.palette.style(Level.ERROR),
                )
            )
            self.outcome = "failed"
        elif result.outcome in ("applied", "rolled-back"):
            done = "resumed and finished" if message.verb == "resume" else "rolled back"
            lines.append(Text(f"✓ {message.journal_id} {done}", style=self.palette.style(Level.OK)))
            self.outcome = result.outcome
            self.summaries = [s for s in self.summaries if s.id != message.journal_id]
            options = self.query_one("#journal-list", OptionList)
            options.clear_options()
            options.add_options([Option(summary_text(s, self.palette), id=s.id) for s in self.summaries])
            if self.summaries:
                options.highlighted = 0
        else:
            how = "stopped on a conflict" if result.outcome == "conflict" else "failed"
            lines.append(
                Text(
                    f"✗ {message.verb} of {message.journal_id} {how}: {result.error}; the journal is kept",
                    style=self.palette.style(Level.ERROR),
                )
            )
            self.outcome = result.outcome
        self._show(Text("\n").join(lines))
        left = bool(self.summaries)
        self.query_one("#journal-resume", Button).disabled = not left
        self.query_one("#journal-rollback", Button).disabled = not left
        later = self.query_one("#journal-later", Button)
        later.disabled = False
        later.label = "Later" if left else "Close"
        later.focus()

    def _show(self, text: Text) -> None:
        self.query_one("#journal-progress", Static).update(safe(text))

    def action_later(self) -> None:
        """Close (not while a resume or rollback runs)."""
        if self.running:
            self.notify(
                "still running; it ends on its own (the journal records every step)",
                severity="warning",
                timeout=4,
            )
            return
        self.dismiss(self.outcome)
