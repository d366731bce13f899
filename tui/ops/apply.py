"""Apply a change plan: journaled steps, conflicts re-planned, then a bounded wait for the sync.

:func:`apply_plan` runs :attr:`Plan.steps` in order (vault writes, SPC grown, SecretSyncs, SPC shrunk,
vault deletes). Each step is journaled before (``pending``, with its before-image, to undo it) and after
(``done``). A 409 on a cluster write re-reads the site, re-plans with
:func:`~tui.core.changes.plan.rebase_plan` and continues with the rebased steps, a bounded number of
times. Any other failure stops the apply: the journal is kept (unless nothing was written at all) so that
``aio-certs journal resume|rollback`` can finish or undo it. Finally the synced Secret is awaited, with
progress events, up to ``wait_timeout``.

The audit log gets a ``started`` line just before the run's first write (fsync'd, like every line) and
its final line (``applied``, ``failed``, ``conflict``...) at the end: a run killed in between, even by
SIGKILL, has left its trail, with the journal id that says how far it got.

The same engine resumes and rolls back journaled applies (:mod:`tui.ops.resume`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from tui.arm.errors import ArmConflict, ArmError
from tui.cluster.writes import ConflictError, WriteError
from tui.core.changes.journal import Before, EndRecord, PlanRecord, SiteIdentity, StepRecord, StepState
from tui.core.changes.operations import Operation, SpcEdit, Step, SyncEdit, VaultDelete, VaultWrite
from tui.core.clock import Clock
from tui.core.model.snapshot import AreaState
from tui.ops import journal as jr
from tui.ops.audit import AuditLog
from tui.ops.errors import ArmNotSettled, ArmUnavailable, WriteConflict, WriteRefused
from tui.ops.ports import ArmPort, ClusterPort, VaultPort
from tui.ops.steps import Adapters, before_image, run_planned
from tui.ops.sync_wait import SyncCheck, SyncExpectation, WaitResult, expectations, wait_for_sync
from tui.ops.vault_ops import still_ours
from tui.vault.errors import VaultError

if TYPE_CHECKING:
    from tui.core.changes.plan import Plan
    from tui.core.model.arm import ArmSnapshot
    from tui.core.model.snapshot import RawSnapshot
    from tui.core.model.state import ClusterState

# Controllers write status too (each write moves the resourceVersion), so allow a few rounds.
MAX_CONFLICT_RETRIES = 5

# Outcomes of an apply (ApplyResult.outcome).
APPLIED = "applied"
FAILED = "failed"
NOTHING_DONE = "nothing-done"
STARTED = "started"
"""The audit outcome written just before a run's first write; its final line follows (see the module
docstring)."""
REFUSED = "refused"
"""A resume that found a target it may not write over until the user acts (a secret deleted but
recoverable): nothing written, the journal kept pending (:class:`~tui.ops.errors.WriteRefused`)."""
CONFLICT = "conflict"
"""Another writer got in (a vault secret written around our write, or a 409 whose re-plan no longer
applies): stopped before the next write; the journal is kept when anything of ours was written."""


@dataclass(frozen=True)
class StepEvent:
    """Progress of an apply, for a CLI line or a TUI progress list.

    ``phase`` is ``start``, ``done``, ``failed``, ``skipped`` (already in place), ``conflict``,
    ``rebased``, ``wait`` (a sync check changed), ``synced`` or ``wait-timeout``.
    """

    phase: str
    index: int | None
    total: int
    target: str
    message: str = ""


Progress = Callable[[StepEvent], None]
Reread = Callable[[], "tuple[ClusterState, RawSnapshot | None, ArmSnapshot | None]"]
"""A fresh read of the site for a re-plan: the model, the raw objects and what ARM holds now."""
OnReplan = Callable[["Plan", "Plan"], bool]
"""Asked ``(previous, replanned)`` when a conflict made the apply re-plan, before the new revision writes
anything: True goes on, False stops the apply there (outcome ``conflict``, the journal kept when
anything was written). The CLI shows the new diff and its new warnings and asks again; see
:func:`new_warnings`."""

DRIFT_WARNING = (
    "written on the cluster only while Azure Resource Manager owns it (--local-only): ARM keeps its "
    "own copy, and the next change made with the portal or az iot ops connector opcua will undo this"
)
"""What the audit log says next to every object a ``--local-only`` run wrote (docs/domain.md §9.3)."""


@dataclass(frozen=True)
class AuditInfo:
    """What the audit log records for this apply (besides time, user and outcome)."""

    action: str
    context: str
    thumbprints: tuple[str, ...] = ()
    vault_secrets: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    arm_resources: tuple[str, ...] = ()
    """The ARM resource ids the run writes through Azure Resource Manager."""
    drift: tuple[str, ...] = ()
    """ARM-owned objects the run writes on the cluster only (``--local-only``)."""

    def extra(self) -> dict[str, Any]:
        """The audit line's ``extra`` fields: the ARM resources, and the drift with its warning."""
        out: dict[str, Any] = {}
        if self.arm_resources:
            out["arm_resources"] = list(self.arm_resources)
        if self.drift:
            out["drift"] = list(self.drift)
            out["drift_warning"] = DRIFT_WARNING
        return out


@dataclass(frozen=True)
class ApplyResult:
    """How an apply (or resume, or rollback) ended."""

    journal_id: str
    outcome: str
    """``applied``, ``failed`` (journal kept), ``nothing-done`` (failed before any write), ``conflict``,
    ``refused`` (a resume that must wait for the user; journal kept) or ``rolled-back``."""
    steps: tuple[Step, ...]
    """The steps run (in every plan revision) followed by those not run."""
    done: int
    """How many of :attr:`steps` were done."""
    error: str | None = None
    unreachable: bool = False
    """The failure was a connection problem (the cluster or vault could not be reached)."""
    sync: WaitResult | None = None
    """The wait for the synced Secret; None when not waited (failure, or ``wait_timeout`` 0)."""
    conflicts: int = 0
    details: tuple[dict[str, Any], ...] = field(default=())
    """Per-step results (versions written, what was already in place...)."""
    journal_kept: bool = False
    """The journal stays pending for ``journal resume|rollback`` (something of this run may be written)."""
    replanned: Plan | None = None
    """The newest plan revision when a conflict made the apply re-plan (None when it never did): what
    it went on with, or, when ``on_replan`` said no, what it stopped before."""

    @property
    def ok(self) -> bool:
        """Every step done (whether the sync was confirmed is :attr:`sync`)."""
        return self.outcome == APPLIED


def audit_info_for(plan: Plan, *, action: str, context: str, state: ClusterState | None = None) -> AuditInfo:
    """Thumbprints, secret names and entries of a plan, for the audit log.

    Removed entries' thumbprints come from ``state`` (what was in the list when planned).
    """
    prints = [w.sha256 for w in plan.vault_writes if w.sha256]
    secrets = [w.secret_name for w in plan.vault_writes] + [d.secret_name for d in plan.vault_deletes]
    entries = [f"{r.list_name}/{r.target_key}" for r in plan.resolved if r.target_key]
    if state is not None:
        for key in entries:
            entry = state.entry(key)
            if entry is not None and entry.certificate is not None and entry.certificate.sha256 not in prints:
                prints.append(entry.certificate.sha256)
            if entry is not None and entry.source_path and entry.source_path not in secrets:
                secrets.append(entry.source_path)
    return AuditInfo(
        action,
        context,
        tuple(prints),
        tuple(dict.fromkeys(secrets)),
        tuple(entries),
        plan.arm_resources,
        plan.drift,
    )


def new_warnings(previous: Plan, replanned: Plan) -> list[str]:
    """The warnings of ``replanned`` that ``previous`` did not have (say, a CRL left without its CA
    because someone removed the CA meanwhile), for the question asked again after a re-plan."""
    known = {str(w) for w in previous.warnings}
    return [str(w) for w in replanned.warnings if str(w) not in known]


def failure_line(exc: BaseException) -> tuple[str, bool]:
    """One line for a failure, and whether it was a connection problem."""
    if isinstance(exc, WriteError):
        return str(exc), exc.unreachable
    if isinstance(exc, VaultError):
        return str(exc), exc.state is AreaState.UNREACHABLE
    if isinstance(exc, ArmError):
        return str(exc), exc.state is AreaState.UNREACHABLE
    if isinstance(exc, WriteConflict | WriteRefused | ArmUnavailable | ArmNotSettled):
        return str(exc), False
    return f"{type(exc).__name__}: {' '.join(str(exc).split())}", False


class StepRun:
    """State shared by the steps of one run (apply, resume, rollback): journal, records, progress."""

    def __init__(self, journal: jr.Journal, plan: PlanRecord, progress: Progress, clock: Clock) -> None:
        self.journal = journal
        self.plan = plan
        self.progress = progress
        self.clock = clock
        self.executed: list[Step] = []
        """Steps done by this run or before it, in execution order (every revision)."""
        self.details: list[dict[str, Any]] = []
        self.versions: dict[str, str] = {}
        self.left = len(plan.steps)
        """Steps still to run (for progress totals)."""
        self.audit: AuditLog | None = None
        self.info: AuditInfo | None = None
        self.started = False
        """The ``started`` audit line has been written (:meth:`about_to_write`)."""
        self.first_write: datetime | None = None
        """When this run began writing (None: it wrote nothing): the sync wait tells the SecretSync
        conditions left from before it apart by this."""

    def audit_to(self, audit: AuditLog | None, info: AuditInfo) -> None:
        """Where :meth:`about_to_write` and the run's final line are audited, and with what."""
        self.audit, self.info = audit, info

    def about_to_write(self) -> None:
        """Audit ``started`` once, before the first write of the run (kill-proof: fsync'd first).

        A run refused or failing before it writes anything keeps its single final line."""
        if self.first_write is None:
            self.first_write = self.clock.now()
        if self.started or self.info is None:
            return
        self.started = True
        record_audit(self.audit, self.info, STARTED, self.plan.plan_id, "", journal_id=self.journal.id)

    def record(
        self,
        step: Step,
        state: StepState,
        *,
        before: Before | None = None,
        op: Operation | None = None,
        resource_version: str | None = None,
        message: str = "",
        revision: int | None = None,
    ) -> None:
        """Journal one state change of ``step`` (durably, before returning).

        ``revision``: the plan revision the step belongs to, when not the newest (a done step of an earlier
        revision redone by a resume)."""
        rev = self.plan.revision if revision is None else revision
        self.journal.append(
            StepRecord(
                self.plan.plan_id,
                rev,
                step.index,
                step.kind,
                step.target,
                state,
                self.clock.now(),
                before,
                op,
                resource_version,
                message,
            )
        )

    def end(self, outcome: str, message: str = "") -> None:
        """Journal the end of the run and release the journal."""
        self.journal.append(EndRecord(self.plan.plan_id, outcome, self.clock.now(), message))
        self.journal.close()

    def event(self, phase: str, step: Step | None, message: str = "") -> None:
        """Report progress of ``step`` (None: the run as a whole)."""
        position: int | None = None
        if step is not None:
            # A step just executed is the last of ``executed``: report it at its own place, not the next.
            done = bool(self.executed) and self.executed[-1] is step
            position = len(self.executed) - 1 if done else len(self.executed)
        self.progress(
            StepEvent(phase, position, len(self.executed) + self.left, step.target if step else "", message)
        )


def describe_step(step: Step) -> str:
    """A few words on what a step does, for progress lines."""
    op = step.op
    if isinstance(op, VaultWrite):
        return f"{'new version of' if op.replaces else 'set'} secret for {op.list_name}/{op.target_key}"
    if isinstance(op, VaultDelete):
        return "delete and purge" if op.purge else "delete"
    if isinstance(op, SpcEdit):
        parts = [f"+{len(op.added)}" if op.added else "", f"-{len(op.removed)}" if op.removed else ""]
        return "objects " + " ".join(p for p in parts if p)
    assert isinstance(op, SyncEdit)
    return f"{op.action} ({len(op.after)} mapping(s))" + (", force sync" if op.force_synchronization else "")


def apply_plan(
    plan: Plan,
    *,
    kube: ClusterPort,
    vault: VaultPort | None,
    journal: jr.JournalStore,
    audit: AuditLog | None,
    clock: Clock,
    progress: Progress,
    wait_timeout: float,
    audit_info: AuditInfo | None = None,
    reread: Reread | None = None,
    max_conflicts: int = MAX_CONFLICT_RETRIES,
    arm: ArmPort | None = None,
    on_replan: OnReplan | None = None,
    site: SiteIdentity | None = None,
) -> ApplyResult:
    """Run ``plan`` (which must be applicable) step by step under a new journal; see the module docstring.

    ``site`` is what identifies the site written to; each plan record carries it, with the plan's own
    ARM resource ids, so the journal is never resumed or rolled back against another site.

    ``kube`` and ``vault`` are the ports (:mod:`tui.ops.ports`); ``vault`` is None when no vault is known
    (a plan that writes nothing to a vault needs none); ``arm`` is None when there is no ARM access (a
    plan that writes nothing through ARM needs none). ``reread`` returns a fresh ``(ClusterState,
    RawSnapshot, ArmSnapshot)`` for re-planning after a 409 or ARM's 412; without it a conflict fails
    the apply. ``on_replan`` (:data:`OnReplan`) is asked before a re-planned revision writes anything;
    without it the apply goes on (the ``rebased`` progress event says so).
    Never raises for adapter failures: they end in the result (``outcome`` ``failed`` or
    ``nothing-done``) with a one-line ``error``.
    """
    from tui.core.changes.plan import rebase_plan

    if not plan.applicable:
        raise ValueError("apply_plan needs an applicable plan (no problems, at least one step)")
    info = audit_info or AuditInfo("apply", "", arm_resources=plan.arm_resources, drift=plan.drift)
    adapters = Adapters(kube, vault, arm)
    journal_id = jr.new_journal_id(clock.now())

    def plan_record(p: Plan) -> PlanRecord:
        written = replace(site, arm_resources=tuple(p.arm_resources)) if site is not None else None
        return PlanRecord(
            p.plan_id,
            p.revision,
            clock.now(),
            p.namespace,
            p.steps,
            p.changes.describe(),
            info.context,
            written,
        )

    run = StepRun(journal.create(journal_id, plan_record(plan)), plan_record(plan), progress, clock)
    run.audit_to(audit, info)
    conflicts = 0
    current = previous = plan
    replanned: Plan | None = None
    steps = list(plan.steps)
    position = 0
    pending_written = False
    try:
        while position < len(steps):
            step = steps[position]
            run.left = len(steps) - position
            run.event("start", step, describe_step(step))
            pending_written = False
            try:
                before = before_image(adapters, step, run.versions)
                run.record(step, StepState.PENDING, before=before, op=step.op)
                pending_written = True
                run.about_to_write()
                result = run_planned(adapters, step, run.versions, before)
            except (ConflictError, ArmConflict) as exc:
                run.record(step, StepState.FAILED, message=str(exc))
                conflicts += 1
                run.event("conflict", step, str(exc))
                if reread is None or conflicts > max_conflicts:
                    raise
                state, raw, arm_now = reread()
                current = rebase_plan(current, state, raw=raw, arm=arm_now)
                if current.problems:
                    detail = "; ".join(str(p) for p in current.problems)
                    raise WriteConflict(
                        f"re-planned after a concurrent change and the changes no longer apply: {detail}",
                        written=False,
                    ) from None
                replanned = current
                if on_replan is not None and not on_replan(previous, current):
                    raise WriteConflict(
                        "re-planned after a concurrent change and the new plan was not confirmed; "
                        "stopped before its first write",
                        written=False,
                    ) from None
                previous = current
                # The done steps stay done; the rebased revision holds what is left, numbered afresh.
                run.plan = plan_record(current)
                run.journal.append(run.plan)
                steps, position = list(current.steps), 0
                run.event(
                    "rebased", None, f"re-planned against the current objects (revision {current.revision})"
                )
                continue
            run.record(
                step, StepState.DONE, resource_version=result.get("resource_version") or result.get("etag")
            )
            run.details.append({"target": step.target, **result})
            run.executed.append(step)
            position += 1
            run.left = len(steps) - position
            run.event("skipped" if result.get("already") else "done", step)
        check_still_ours(run, adapters)
    except WriteConflict as exc:
        return _conflicted(
            run,
            exc,
            steps[position] if position < len(steps) else None,
            pending_written,
            audit,
            info,
            plan.plan_id,
            (*run.executed, *steps[position:]),
            conflicts + 1,
            replanned,
        )
    except Exception as exc:  # every adapter failure ends here: journaled, audited, one line
        error, unreachable = failure_line(exc)
        failed_step = steps[position] if position < len(steps) else None
        # Without an answer (unreachable), or with ARM's operation ended Failed or Canceled, the step
        # stays pending: it may have happened, and resume or rollback look at the target to know. A
        # refusal (a conflict is journaled above) wrote nothing.
        uncertain = unreachable or isinstance(exc, ArmNotSettled)
        refused = not uncertain and not isinstance(exc, ConflictError | ArmConflict)
        if failed_step is not None and pending_written and refused:
            run.record(failed_step, StepState.FAILED, message=error)
        run.event("failed", failed_step, error)
        wrote = bool(run.executed) or (uncertain and pending_written)
        run.end("failed" if wrote else jr.ABANDONED, error)
        outcome = FAILED if wrote else NOTHING_DONE
        record_audit(audit, info, outcome, plan.plan_id, error, journal_id=journal_id)
        return ApplyResult(
            journal_id,
            outcome,
            (*run.executed, *steps[position:]),
            len(run.executed),
            error,
            unreachable,
            conflicts=conflicts,
            details=tuple(run.details),
            journal_kept=wrote,
            replanned=replanned,
        )
    sync = finish_with_wait(run, adapters, wait_timeout)
    run.end(jr.APPLIED, "" if sync is None or sync.ok else f"not synced: {sync.describe()}")
    detail = "" if sync is None or sync.ok else sync.describe()
    record_audit(audit, info, APPLIED, plan.plan_id, detail, journal_id=journal_id)
    return ApplyResult(
        journal_id,
        APPLIED,
        tuple(run.executed),
        len(run.executed),
        sync=sync,
        conflicts=conflicts,
        details=tuple(run.details),
        replanned=replanned,
    )


def check_still_ours(run: StepRun, adapters: Adapters) -> None:
    """Before saying "applied": every secret this run wrote must still hold its value.

    The guard around each write sees writers that overlap it; one that sets the secret later, while the
    cluster steps run, would otherwise leave the lists mapping bytes nobody checked under an "applied".
    Raises :class:`~tui.ops.errors.WriteConflict` (written: the journal is kept to roll back).
    """
    taken = [
        s.op.secret_name
        for s in run.executed
        if isinstance(s.op, VaultWrite) and not still_ours(adapters.need_vault(s), s.op)
    ]
    if taken:
        raise WriteConflict(
            f"vault secret {', '.join(taken)} was written by someone else after this apply "
            "wrote it; the lists map their value now: roll back, or plan the change again",
            written=True,
        )


def _conflicted(
    run: StepRun,
    exc: WriteConflict,
    step: Step | None,
    pending_written: bool,
    audit: AuditLog | None,
    info: AuditInfo,
    plan_id: str,
    steps: tuple[Step, ...],
    conflicts: int,
    replanned: Plan | None = None,
) -> ApplyResult:
    """End a run stopped by another writer: journal, audit, result (see :data:`CONFLICT`)."""
    error = str(exc)
    if step is not None and pending_written and not exc.written:
        run.record(step, StepState.FAILED, message=error)
    # A step whose own write happened stays pending: a rollback then puts back what is still ours, and
    # a resume judges the secret again before going on.
    run.event("conflict", step, error)
    wrote = bool(run.executed) or (exc.written and pending_written)
    run.end(CONFLICT if wrote else jr.ABANDONED, error)
    record_audit(audit, info, CONFLICT, plan_id, error, journal_id=run.journal.id)
    return ApplyResult(
        run.journal.id,
        CONFLICT,
        steps,
        len(run.executed),
        error,
        conflicts=conflicts,
        details=tuple(run.details),
        journal_kept=wrote,
        replanned=replanned,
    )


def finish_with_wait(run: StepRun, adapters: Adapters, wait_timeout: float) -> WaitResult | None:
    """Wait for the SecretSyncs the steps touched (None when ``wait_timeout`` is 0 or none was touched)."""
    return wait_with_progress(run, adapters, expectations(run.executed), wait_timeout)


def wait_with_progress(
    run: StepRun, adapters: Adapters, wanted: Sequence[SyncExpectation], wait_timeout: float
) -> WaitResult | None:
    """Wait for ``wanted`` with a progress event per change (None when there is nothing to wait for)."""
    if wait_timeout <= 0 or not wanted:
        return None
    total = len(run.executed)

    def on_check(check: SyncCheck) -> None:
        message = "in sync" if check.ok else check.reason
        run.progress(StepEvent("wait", None, total, f"SecretSync/{check.expectation.key}", message))

    result = wait_for_sync(
        adapters.kube, wanted, timeout=wait_timeout, on_check=on_check, since=run.first_write
    )
    phase = "synced" if result.ok else "wait-timeout"
    message = f"{result.seconds:.1f}s" if result.ok else result.describe()
    run.progress(StepEvent(phase, None, total, "", message))
    return result


def record_audit(
    audit: AuditLog | None,
    info: AuditInfo,
    outcome: str,
    plan_id: str,
    detail: str,
    *,
    journal_id: str | None = None,
) -> None:
    """Append one audit event of the run (nothing when no audit log is given); ``journal_id`` names the
    journal that holds its steps (``extra.journal``), so the ``started`` line and the final one pair up."""
    if audit is None:
        return
    extra = info.extra()
    if journal_id is not None:
        extra["journal"] = journal_id
    audit.record(
        action=info.action,
        outcome=outcome,
        context=info.context,
        thumbprints=info.thumbprints,
        vault_secrets=info.vault_secrets,
        entries=info.entries,
        plan_id=plan_id,
        detail=detail,
        extra=extra,
    )
