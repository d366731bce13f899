"""Apply (``a``): plan the staged changes, show the exact diff, confirm, and follow the apply step by step.

The plan is made in a thread worker by the :class:`~tui.ops.runner.ChangeSession` (a fresh read of the
cluster and the vault, then the core's validation): the dialog shows its problems and warnings (Azure
Resource Manager markers among them) and :meth:`~tui.core.changes.plan.Plan.render_diff`. Only an applicable
plan can be confirmed, with the Apply button. The apply runs in another thread worker; each progress
event of the runner is posted to the dialog and shown as it happens, then the result. While it runs the
dialog cannot be closed: the journal and the audit log record what it does either way.

When Azure Resource Manager owns the lists and cannot be written, the plan is refused with the equivalent
``az iot ops`` commands; the dialog then offers "cluster copy only" (the CLI's ``--local-only``), off by
default: ticking it plans again writing the cluster copies, whose drift the plan warns about and the
audit log records.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Static
from textual.worker import get_current_worker

from tui.ui.change_session import (
    Replanned,
    SessionHolder,
    audit_attempt,
    one_line,
    outcome_of,
    replan_before_apply,
    steady_text,
)
from tui.ui.messages import StepProgressed
from tui.ui.modals.preview import ScrollBody
from tui.ui.modals.progress import StepProgress
from tui.ui.modals.safe import safe
from tui.ui.modals.verdict import issue_lines
from tui.ui.view.levels import DEFAULT_PALETTE, Level, Palette
from tui.ui.view.staging import Staging

if TYPE_CHECKING:
    from tui.core.changes.plan import Plan
    from tui.ops.apply import ApplyResult, StepEvent
    from tui.ops.runner import Site

APPLY_ACTION = "dashboard apply"
"""Audit action of an apply started from the dashboard."""

DEFAULT_WAIT_TIMEOUT = 60.0
"""How long the apply waits for the SecretSyncs and synced Secrets to show the change."""

LOCAL_ONLY_LABEL = "cluster copy only: ARM cannot be written; the next portal or CLI change undoes it"
"""The explicit choice that writes ARM-owned objects on the cluster (``--local-only`` on the CLI)."""


@dataclass(frozen=True)
class ApplyOutcome:
    """How the dialog ended, for the dashboard to update the staged changes."""

    outcome: str
    """``applied``, ``failed`` (journal kept), ``nothing-done``, ``refused`` (problems) or ``cancelled``."""
    journal_id: str | None = None
    error: str | None = None
    synced: bool | None = None
    """The wait saw the synced Secrets show the change (None: not waited)."""
    recover: bool = False
    """The user asked to resume or roll back the failed apply now."""


class PlanMade(Message):
    """The worker planned the staged changes."""

    def __init__(self, plan: Plan, site: Site) -> None:
        super().__init__()
        self.plan = plan
        self.site = site


class PlanChanged(Message):
    """Planned again just before applying, the plan differs from the one reviewed: nothing was written."""

    def __init__(self, again: Replanned) -> None:
        super().__init__()
        self.again = again


@dataclass
class ReplanQuestion:
    """Asked from the apply's worker when a conflict made the engine re-plan mid-apply (its
    ``on_replan``): the worker waits on ``answered`` for the user's ``go_on``."""

    previous: Plan
    replanned: Plan
    answered: threading.Event = field(default_factory=threading.Event)
    go_on: bool = False


class ReplanAsked(Message):
    """The engine re-planned mid-apply and waits for the user (see :class:`ReplanQuestion`)."""

    def __init__(self, question: ReplanQuestion) -> None:
        super().__init__()
        self.question = question


class WorkFailed(Message):
    """Planning or applying could not run at all (one line)."""

    def __init__(self, error: str) -> None:
        super().__init__()
        self.error = error


class ApplyFinished(Message):
    """The apply ended (applied, failed or nothing done)."""

    def __init__(self, result: ApplyResult) -> None:
        super().__init__()
        self.result = result


class ApplyModal(ModalScreen[ApplyOutcome]):
    """Plan, diff, confirm, progress and result of applying the staged changes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "escape",
            "close",
            "Close",
            id="apply.close",
            tooltip="Cancel before applying, or close once finished (not while applying)",
        ),
        Binding("j", "scroll('down')", "Down", show=False, id="apply.down", tooltip="Scroll the plan down"),
        Binding("k", "scroll('up')", "Up", show=False, id="apply.up", tooltip="Scroll the plan up"),
    ]

    def __init__(
        self,
        sessions: SessionHolder,
        staging: Staging,
        *,
        read_only: bool = False,
        wait_timeout: float = DEFAULT_WAIT_TIMEOUT,
        palette: Palette | None = None,
    ) -> None:
        super().__init__(id="apply")
        self.sessions = sessions
        self.staging = staging
        self.read_only = read_only
        self.wait_timeout = wait_timeout
        self.palette = palette or DEFAULT_PALETTE
        self.phase = "planning"
        """``planning``, ``review``, ``applying``, ``asked`` (a mid-apply re-plan awaits an answer) or
        ``finished``."""
        self.question: ReplanQuestion | None = None
        """The engine's question after a mid-apply re-plan, while it waits for the answer."""
        self.local_only = False
        """The user chose to write ARM-owned objects on the cluster only (off until ticked)."""
        self.plan: Plan | None = None
        self.site: Site | None = None
        self.progress = StepProgress()
        self.result: ApplyResult | None = None
        self.outcome: ApplyOutcome | None = None

    def compose(self) -> ComposeResult:
        """Verdict, plan diff, progress, buttons, hint."""
        count = len(self.staging)
        with Vertical(id="apply-dialog", classes="change-dialog") as dialog:
            dialog.border_title = f"Apply {count} staged change{'' if count == 1 else 's'}"
            yield Static(
                Text("planning: reading the cluster and the vault…"),
                id="apply-verdict",
                classes="verdict",
                markup=False,
            )
            yield Checkbox(LOCAL_ONLY_LABEL, False, id="apply-local-only")
            # Progress above the diff, in the same scroll: the buttons stay on screen at 80x24. A ScrollBody
            # counts every j of a burst (a held key over SSH), as the preview does.
            with ScrollBody(id="apply-body"):
                yield Static("", id="apply-progress", markup=False)
                yield Static("", id="apply-diff", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Apply", id="apply-confirm", variant="warning", disabled=True)
                yield Button("Resume or roll back…", id="apply-recover", variant="primary")
                yield Button("Cancel", id="apply-cancel")
            yield Static(
                "tab to Apply, enter confirms · esc cancel · j/k scroll",
                id="apply-hint",
                classes="dialog-hint",
                markup=False,
            )

    def on_mount(self) -> None:
        """Start planning."""
        self.query_one("#apply-recover", Button).display = False
        self.query_one("#apply-progress", Static).display = False
        self.query_one("#apply-local-only", Checkbox).display = False
        self.query_one("#apply-body").focus()
        self._plan(self.staging)

    # -- planning --------------------------------------------------------------------------------

    @work(
        thread=True,
        exclusive=True,
        group="apply-plan",
        exit_on_error=False,
        name="plan",
        description="read the site and plan the staged changes",
    )
    def _plan(self, staging: Staging, local_only: bool = False) -> None:
        session = None
        try:
            session = self.sessions.get()
            plan, site = session.plan(staging.changes, read_only=self.read_only, local_only=local_only)
            if plan.problems:
                # As the CLI does: a refused plan is audited (nothing was written).
                session.record_refusal(APPLY_ACTION, plan, "; ".join(str(p) for p in plan.problems))
        except Exception as exc:  # one line in the dialog, never a traceback
            error = one_line(exc)
            if session is not None:  # as the CLI does: an attempt that could not be planned is audited
                audit_attempt(
                    session,
                    APPLY_ACTION,
                    outcome_of(exc),
                    entries=[k for item in staging.items if (k := item.entry_key)],
                    detail=error,
                )
            self.post_message(WorkFailed(error))
            return
        self.post_message(PlanMade(plan, site))

    @on(PlanMade)
    def _plan_made(self, message: PlanMade) -> None:
        message.stop()
        plan = self.plan = message.plan
        self.site = message.site
        self.phase = "review"
        notes = []
        if plan.applicable:
            ok_line = f"✓ {len(plan.steps)} step(s) to write; nothing is written until you press Apply"
        elif plan.problems:
            ok_line = ""
            notes.append("nothing will be written: fix or unstage (z) what is refused")
        else:
            ok_line = "nothing to do: the lists already look like that"
        self.query_one("#apply-verdict", Static).update(
            issue_lines(plan.problems, plan.warnings, self.palette, ok_line=ok_line, notes=notes)
        )
        self.query_one("#apply-diff", Static).update(safe(plan.render_diff().rstrip("\n")))
        button = self.query_one("#apply-confirm", Button)
        button.label = f"Apply {len(plan.steps)} step{'' if len(plan.steps) == 1 else 's'}"
        button.disabled = not plan.applicable
        # Offered only where it helps: ARM owns the lists and cannot be written (or it is already on).
        unwritable = any(p.code == "arm-unavailable" for p in plan.problems)
        self.query_one("#apply-local-only", Checkbox).display = unwritable or self.local_only

    @on(Checkbox.Changed, "#apply-local-only")
    def _local_only_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        if self.phase != "review" or event.value == self.local_only:
            return
        self.local_only = event.value
        self.phase = "planning"
        self.plan = None
        self.query_one("#apply-confirm", Button).disabled = True
        what = "the cluster copies only" if event.value else "through Azure Resource Manager"
        self.query_one("#apply-verdict", Static).update(Text(f"planning again: writing {what}…"))
        self._plan(self.staging, self.local_only)

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        message.stop()
        stage = "plan" if self.phase == "planning" else "apply"
        self.phase = "finished" if self.phase == "applying" else "review"
        self.query_one("#apply-verdict", Static).update(
            safe(Text(f"✗ cannot {stage}: {message.error}", style=self.palette.style(Level.ERROR)))
        )
        self.query_one("#apply-confirm", Button).disabled = True
        if stage == "apply":
            self.outcome = ApplyOutcome("nothing-done", error=message.error)
            self.query_one("#apply-cancel", Button).label = "Close"

    # -- applying --------------------------------------------------------------------------------

    @on(Button.Pressed, "#apply-confirm")
    def _confirm_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.confirm()

    def confirm(self) -> None:
        """Apply the reviewed plan (only an applicable one, once); when asked after a mid-apply re-plan,
        go on with the new revision."""
        if self.phase == "asked":
            self._answer(True)
            return
        plan, site = self.plan, self.site
        if self.phase != "review" or plan is None or site is None or not plan.applicable:
            return
        self.phase = "applying"
        self.progress = StepProgress(plan.steps)
        self.query_one("#apply-confirm", Button).disabled = True
        self.query_one("#apply-cancel", Button).disabled = True
        progress = self.query_one("#apply-progress", Static)
        progress.display = True
        progress.update(self.progress.text(self.palette))
        self.query_one("#apply-body", VerticalScroll).scroll_home(animate=False)
        self.query_one("#apply-verdict", Static).update(
            Text("applying: the journal records every step", style=self.palette.style(Level.INFO))
        )
        self._apply(plan, site)

    def _progress(self, event: StepEvent) -> None:
        """Hand one runner event to the dialog (post_message is thread-safe and keeps the order)."""
        self.post_message(StepProgressed(event))

    @work(
        thread=True,
        exclusive=True,
        group="apply-run",
        exit_on_error=False,
        name="apply",
        description="apply the plan with the journal",
    )
    def _apply(self, plan: Plan, site: Site) -> None:
        try:
            session = self.sessions.get()
            # Someone may have changed the lists while the diff was read: plan again, and ask again
            # when the new plan reads differently (issue 13 item 15), rather than re-plan silently.
            again = replan_before_apply(
                session, plan, self.staging.changes, read_only=self.read_only, local_only=self.local_only
            )
            if again.changed:
                self.post_message(PlanChanged(again))
                return
            plan, site = again.plan, again.site
            # post_message is thread-safe: each runner event reaches the dialog in order.
            result = session.apply(
                plan,
                site,
                action=APPLY_ACTION,
                progress=self._progress,
                wait_timeout=self.wait_timeout,
                on_replan=self._ask_replan,
            )
        except Exception as exc:  # e.g. the journal directory cannot be created: nothing was written
            self.post_message(WorkFailed(one_line(exc)))
            return
        self.post_message(ApplyFinished(result))

    def _ask_replan(self, previous: Plan, replanned: Plan) -> bool:
        """The engine's ``on_replan``, on the apply's worker: show the new revision and wait for the user
        (nothing of it is written until they answer; the dialog cannot be closed meanwhile)."""
        question = ReplanQuestion(previous, replanned)
        self.post_message(ReplanAsked(question))
        worker = get_current_worker()
        # Woken by the answer; the timeout only lets a quitting app (the worker cancelled) stop the apply
        # before the new revision writes, rather than leave this thread waiting for ever.
        while not question.answered.wait(0.5):
            if worker.is_cancelled:
                return False
        return question.go_on

    @on(ReplanAsked)
    def _replan_asked(self, message: ReplanAsked) -> None:
        message.stop()
        question = self.question = message.question
        self.phase = "asked"
        seen = {steady_text(w.message) for w in question.previous.warnings}
        new = [w for w in question.replanned.warnings if steady_text(w.message) not in seen]
        lines = [
            Text(
                "⚠ someone changed the lists during the apply: the rest was planned again (below). "
                "Go on writes it; Stop leaves what is done in the journal (resume or roll back)",
                style=self.palette.style(Level.WARNING),
            ),
            *[Text(f"new: {w.message}", style=self.palette.style(Level.WARNING)) for w in new],
        ]
        self.query_one("#apply-verdict", Static).update(Text("\n").join(lines))
        self.query_one("#apply-diff", Static).update(safe(question.replanned.render_diff().rstrip("\n")))
        steps = len(question.replanned.steps)
        confirm = self.query_one("#apply-confirm", Button)
        confirm.label = f"Go on: {steps} step{'' if steps == 1 else 's'}"
        confirm.disabled = False
        cancel = self.query_one("#apply-cancel", Button)
        cancel.label = "Stop here"
        cancel.disabled = False
        body = self.query_one("#apply-body", VerticalScroll)
        body.scroll_home(animate=False)
        body.focus()

    def _answer(self, go_on: bool) -> None:
        question, self.question = self.question, None
        if question is None:
            return
        self.phase = "applying"
        self.query_one("#apply-confirm", Button).disabled = True
        cancel = self.query_one("#apply-cancel", Button)
        cancel.disabled = True
        cancel.label = "Cancel"
        what = "going on with the new plan" if go_on else "stopping before the new plan writes anything"
        self.query_one("#apply-verdict", Static).update(Text(what, style=self.palette.style(Level.INFO)))
        question.go_on = go_on
        question.answered.set()

    @on(PlanChanged)
    def _plan_changed(self, message: PlanChanged) -> None:
        message.stop()
        again = message.again
        self.query_one("#apply-progress", Static).display = False
        self.query_one("#apply-cancel", Button).disabled = False
        self._plan_made(PlanMade(again.plan, again.site))
        lines = [
            Text(
                "⚠ the site changed while you reviewed the plan: nothing was written. This is the plan now; "
                "press Apply again to write it",
                style=self.palette.style(Level.WARNING),
            )
        ]
        lines += [
            Text(f"new: {w.message}", style=self.palette.style(Level.WARNING)) for w in again.new_warnings
        ]
        verdict = self.query_one("#apply-verdict", Static)
        verdict.update(Text("\n").join([*lines, self._verdict_text(again.plan)]))
        # Back where a first review starts: reading the plan; tab, enter applies it (the hint's words).
        body = self.query_one("#apply-body", VerticalScroll)
        body.scroll_home(animate=False)
        body.focus()

    def _verdict_text(self, plan: Plan) -> Text:
        ok_line = f"✓ {len(plan.steps)} step(s) to write" if plan.applicable else ""
        return issue_lines(plan.problems, plan.warnings, self.palette, ok_line=ok_line)

    @on(StepProgressed)
    def _progressed(self, message: StepProgressed) -> None:
        message.stop()
        self.progress.handle(message.event)
        self.query_one("#apply-progress", Static).update(self.progress.text(self.palette))

    @on(ApplyFinished)
    def _finished(self, message: ApplyFinished) -> None:
        from tui.ops.apply import APPLIED, CONFLICT, FAILED

        message.stop()
        result = self.result = message.result
        self.phase = "finished"
        synced = result.sync.ok if result.sync is not None else None
        self.outcome = ApplyOutcome(result.outcome, result.journal_id, result.error, synced)
        if result.outcome == APPLIED:
            if synced is False:
                text = Text(
                    f"applied, but not synced yet: {result.sync.describe() if result.sync else ''}"
                    " · the table shows it when the sync catches up",
                    style=self.palette.style(Level.WARNING),
                )
            else:
                text = Text(
                    "✓ applied · watch the OPC UA table: the change arrives with the live state",
                    style=self.palette.style(Level.OK),
                )
        elif result.outcome == FAILED or (result.outcome == CONFLICT and result.journal_kept):
            done = f"{result.done}/{len(result.steps)} steps done"
            what = "stopped on a conflict" if result.outcome == CONFLICT else "apply failed"
            text = Text(
                f"✗ {what} ({done}): {result.error}. "
                f"Journal {result.journal_id} kept: resume or roll back it",
                style=self.palette.style(Level.ERROR),
            )
            self.query_one("#apply-recover", Button).display = True
        elif result.outcome == CONFLICT:
            text = Text(
                f"✗ stopped on a conflict before anything was written: {result.error}",
                style=self.palette.style(Level.ERROR),
            )
        else:
            text = Text(
                f"✗ apply failed before anything was written: {result.error}; nothing was changed",
                style=self.palette.style(Level.ERROR),
            )
        self.query_one("#apply-verdict", Static).update(safe(text))
        self.query_one("#apply-confirm", Button).display = False
        self.query_one("#apply-hint", Static).update("esc close · j/k scroll the plan")
        cancel = self.query_one("#apply-cancel", Button)
        cancel.label = "Close"
        cancel.disabled = False
        cancel.focus()

    # -- closing ---------------------------------------------------------------------------------

    @on(Button.Pressed, "#apply-cancel")
    def _cancel_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.action_close()

    @on(Button.Pressed, "#apply-recover")
    def _recover_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if self.outcome is not None:
            self.dismiss(
                ApplyOutcome(
                    self.outcome.outcome,
                    self.outcome.journal_id,
                    self.outcome.error,
                    self.outcome.synced,
                    recover=True,
                )
            )

    def action_close(self) -> None:
        """Cancel (audited when a plan was shown), or close once finished; never while applying (asked
        after a mid-apply re-plan, it stops the apply there)."""
        if self.phase == "asked":
            self._answer(False)
            return
        if self.phase == "applying":
            self.notify(
                "the apply is running; it ends on its own (the journal records every step)",
                severity="warning",
                timeout=4,
            )
            return
        if self.outcome is not None:
            self.dismiss(self.outcome)
            return
        plan = self.plan
        if plan is not None and plan.applicable:
            self._audit_cancel(plan)
        self.dismiss(ApplyOutcome("refused" if plan is not None and plan.problems else "cancelled"))

    def _audit_cancel(self, plan: Plan) -> None:
        sessions = self.sessions

        def record() -> None:
            sessions.get().record_refusal(
                APPLY_ACTION, plan, "not confirmed in the dashboard", outcome="cancelled"
            )

        # On the app, not this dialog: the dialog is gone before the audit line is written.
        self.app.run_worker(
            record,
            thread=True,
            group="audit",
            exit_on_error=False,
            name="audit cancel",
            description="audit a cancelled apply",
        )

    def action_scroll(self, direction: str) -> None:
        """Scroll the plan one line (every key of a burst counts)."""
        self.query_one("#apply-body", ScrollBody).scroll_lines(1 if direction == "down" else -1)
