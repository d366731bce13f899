"""Finish or undo an apply that a journal says was interrupted or failed.

:func:`resume_apply` runs the newest plan revision's steps that are not done, each against the objects
as they are now: a step whose effect is already there (it landed just before the process died) is
skipped, others apply their delta to the current object, so someone else's edit since is kept.
:func:`rollback_apply` undoes, newest first, every step that is done or may have happened (left
``pending``), putting back only what is still that step's doing. Both hold the journal's lock for the
whole run, append to the same journal and end it ``applied`` or ``rolled-back``; a failure leaves it
pending again with the reason. Steps refused outright (409, 403) wrote nothing and are not undone.
"""

from __future__ import annotations

from typing import Any

from tui.core.clock import Clock
from tui.core.journal_records import StepRecord, StepState
from tui.core.plan_ops import Step, SyncEdit
from tui.ops import journal as jr
from tui.ops.apply import (
    APPLIED,
    FAILED,
    ApplyResult,
    AuditInfo,
    Progress,
    StepRun,
    describe_step,
    failure_line,
    finish_with_wait,
    record_audit,
    wait_with_progress,
)
from tui.ops.steps import Adapters, before_image, run_resumed, undo
from tui.ops.sync_wait import SyncExpectation

ROLLED_BACK = "rolled-back"


def _open(store: jr.JournalStore, journal_id: str, progress: Progress, clock: Clock,
          action: str) -> tuple[StepRun, Any, AuditInfo]:
    journal = store.open(journal_id)
    summary = journal.summary()
    if summary.plan is None:
        journal.close()
        raise jr.JournalError(f"journal {journal_id}: holds no plan; nothing to {action}")
    run = StepRun(journal, summary.plan, progress, clock)
    run.executed = [Step(r.index, r.op) for r in summary.done_steps if r.op is not None]
    info = AuditInfo(f"journal {action}", summary.plan.context)
    return run, summary, info


def _fail(run: StepRun, step: Step | None, exc: Exception, audit: Any, info: AuditInfo,
          steps: tuple[Step, ...]) -> ApplyResult:
    error, unreachable = failure_line(exc)
    run.event("failed", step, error)
    run.end("failed", error)
    record_audit(audit, info, FAILED, run.plan.plan_id, error)
    return ApplyResult(run.journal.id, FAILED, steps, len(run.executed), error, unreachable,
                       details=tuple(run.details))


def resume_apply(journal_id: str, *, kube: Any, vault: Any, store: jr.JournalStore, audit: Any,
                 clock: Clock, progress: Progress, wait_timeout: float) -> ApplyResult:
    """Run the remaining steps of journal ``journal_id``; raises :class:`~tui.ops.journal.JournalError`
    (including ``JournalBusy``) when the journal cannot be taken."""
    run, summary, info = _open(store, journal_id, progress, clock, "resume")
    adapters = Adapters(kube, vault)
    remaining = list(summary.remaining())
    current: Step | None = None
    try:
        for position, step in enumerate(remaining):
            current = step
            run.left = len(remaining) - position
            run.event("start", step, describe_step(step))
            before = before_image(adapters, step, run.versions)
            run.record(step, StepState.PENDING, before=before, op=step.op)
            result = run_resumed(adapters, step, run.versions)
            run.record(step, StepState.DONE, resource_version=result.get("resource_version"))
            run.details.append({"target": step.target, **result})
            run.executed.append(step)
            run.left -= 1
            run.event("skipped" if result.get("already") else "done", step)
    except Exception as exc:  # adapter failures: journaled, audited, one line; the journal stays pending
        error, unreachable = failure_line(exc)
        if current is not None and not unreachable:
            run.record(current, StepState.FAILED, message=error)
        left = tuple(remaining[remaining.index(current):]) if current is not None else ()
        return _fail(run, current, exc, audit, info, (*run.executed, *left))
    sync = finish_with_wait(run, adapters, wait_timeout)
    run.end(jr.APPLIED, "" if sync is None or sync.ok else f"not synced: {sync.describe()}")
    record_audit(audit, info, APPLIED, run.plan.plan_id, "" if sync is None or sync.ok else sync.describe())
    return ApplyResult(journal_id, APPLIED, tuple(run.executed), len(run.executed), sync=sync,
                       details=tuple(run.details))


def _rollback_expectations(ops: list[SyncEdit]) -> list[SyncExpectation]:
    """After a rollback each touched SecretSync holds its ``before`` mappings again (or is gone).

    ``ops`` come newest first; the oldest edit of a SecretSync says how it was before the apply.
    """
    first: dict[str, SyncEdit] = {}
    for op in ops:
        first[op.key] = op  # later in the list = older step: overwrite so the oldest wins
    out = []
    for op in first.values():
        if not op.before:
            out.append(SyncExpectation(op.namespace, op.name, present=False))
        else:
            keys: dict[str, bytes | None] = {t: None for _, t in op.before}
            out.append(SyncExpectation(op.namespace, op.name, keys=keys,
                                       absent=tuple(t for _, t in op.after if t not in keys)))
    return out


def rollback_apply(journal_id: str, *, kube: Any, vault: Any, store: jr.JournalStore, audit: Any,
                   clock: Clock, progress: Progress, wait_timeout: float) -> ApplyResult:
    """Undo every done (or possibly done) step of journal ``journal_id``, newest first, then wait."""
    run, summary, info = _open(store, journal_id, progress, clock, "rollback")
    adapters = Adapters(kube, vault)
    # Done steps carry their op and before-image; a step left pending carries them on that very record.
    candidates: list[StepRecord] = [*summary.done_steps, *summary.uncertain]
    candidates.sort(key=lambda r: r.key, reverse=True)
    undone: list[Step] = []
    current: StepRecord | None = None
    try:
        for position, rec in enumerate(candidates):
            if rec.op is None:
                raise jr.JournalError(f"step {rec.index} ({rec.target}): the journal lacks its operation")
            current = rec
            step = Step(rec.index, rec.op)
            run.left = len(candidates) - position
            run.event("start", step, f"undo: {describe_step(step)}")
            result = undo(adapters, step, rec.before)
            run.journal.append(StepRecord(rec.plan_id, rec.revision, rec.index, rec.kind, rec.target,
                                          StepState.ROLLED_BACK, clock.now(), message=str(result)))
            run.details.append({"target": step.target, **result})
            undone.append(step)
            run.executed = [s for s in run.executed if s.target != step.target or s.index != step.index]
            run.event("skipped" if result.get("already") else "done", step)
    except Exception as exc:  # as in resume: the journal stays pending with the reason
        failed = Step(current.index, current.op) if current is not None and current.op is not None else None
        return _fail(run, failed, exc, audit, info, tuple(undone))
    syncs = [s.op for s in undone if isinstance(s.op, SyncEdit)]
    sync = wait_with_progress(run, adapters, _rollback_expectations(syncs), wait_timeout)
    run.end(jr.ROLLED_BACK, "" if sync is None or sync.ok else f"not synced: {sync.describe()}")
    detail = "" if sync is None or sync.ok else sync.describe()
    record_audit(audit, info, ROLLED_BACK, run.plan.plan_id, detail)
    return ApplyResult(journal_id, ROLLED_BACK, tuple(undone), len(undone), sync=sync,
                       details=tuple(run.details))
