"""Finish or undo an apply that a journal says was interrupted or failed.

:func:`resume_apply` runs the steps not yet done, each against the objects as they are now: a step whose
effect is already there is skipped, others apply their delta to the current object (so someone else's
edit since is kept). :func:`rollback_apply` undoes, newest first, every step that was started (a
started step may have taken effect before the process died), putting back what each one changed.
Both hold the journal's lock for the whole run and append to the same journal, ending it with
``applied`` or ``rolled-back``; a failure leaves it pending again with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tui.core.clock import Clock
from tui.core.plan_ops import Step, SyncEdit
from tui.ops import journal as jr
from tui.ops.apply import (
    APPLIED,
    FAILED,
    ApplyResult,
    AuditInfo,
    Progress,
    StepEvent,
    StepRun,
    describe_step,
    failure_line,
    finish_with_wait,
    record_audit,
)
from tui.ops.steps import Adapters, before_write, run_resumed, undo
from tui.ops.sync_wait import SyncExpectation, WaitResult, wait_for_sync

ROLLED_BACK = "rolled-back"


def journal_steps(records: list[dict[str, Any]]) -> list[Step]:
    """The step list a journal ends up with (the begin record's, or the latest re-plan's)."""
    steps: list[Any] = []
    for record in records:
        if record.get("type") in (jr.BEGIN, jr.REBASED) and record.get("steps") is not None:
            steps = record["steps"]
    return [Step.from_json(s) for s in steps]


def _starts(records: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    """The first step-start record of each step index (what the step found before writing)."""
    out: dict[int, dict[str, Any]] = {}
    for record in records:
        if record.get("type") == jr.STEP_START and isinstance(record.get("index"), int):
            out.setdefault(record["index"], record)
    return out


def _may_have_written(records: list[dict[str, Any]]) -> set[int]:
    """Step indexes whose last word is done, or started with no answer (killed, connection lost).

    A step whose last record is a refusal (409 conflict, 403, validation) certainly wrote nothing.
    """
    last: dict[int, dict[str, Any]] = {}
    for record in records:
        if record.get("type") in (jr.STEP_START, jr.STEP_DONE, jr.STEP_FAILED) and isinstance(
                record.get("index"), int):
            last[record["index"]] = record
    return {i for i, r in last.items()
            if r["type"] != jr.STEP_FAILED or r.get("unreachable", True)}


def _done(records: list[dict[str, Any]]) -> set[int]:
    undone: set[int] = set()
    done: set[int] = set()
    for record in records:
        if record.get("type") == jr.STEP_DONE and isinstance(record.get("index"), int):
            done.add(record["index"])
        if record.get("type") == "undo-done" and isinstance(record.get("index"), int):
            undone.add(record["index"])
    return done - undone


def _info(records: list[dict[str, Any]], action: str) -> tuple[AuditInfo, str]:
    begin = next((r for r in records if r.get("type") == jr.BEGIN), {})
    info = AuditInfo(f"journal {action} ({begin.get('action') or 'apply'})", str(begin.get("context") or ""))
    return info, str(begin.get("plan_id") or "")


def resume_apply(journal_id: str, *, kube: Any, vault: Any, store: jr.JournalStore, audit: Any, clock: Clock,
                 progress: Progress, wait_timeout: float) -> ApplyResult:
    """Run the remaining steps of journal ``journal_id``; raises :class:`~tui.ops.journal.JournalError`
    (including ``JournalBusy``) when the journal cannot be taken."""
    journal = store.open(journal_id)
    records = journal.records
    steps = journal_steps(records)
    info, plan_id = _info(records, "resume")
    adapters = Adapters(kube, vault)
    run = StepRun(journal, steps, progress)
    run.done = sorted(_done(records))
    journal.append({"type": "resume", "time": clock.now().isoformat()})
    current: Step | None = None
    try:
        for step in steps:
            if step.index in run.done:
                continue
            current = step
            run.event("start", step, describe_step(step))
            start = before_write(adapters, step)
            journal.append({"type": jr.STEP_START, "index": step.index, "target": step.target,
                            "resumed": True, **start})
            result = run_resumed(adapters, step, run.versions)
            journal.append({"type": jr.STEP_DONE, "index": step.index, **result})
            run.done.append(step.index)
            run.details.append({"index": step.index, "target": step.target, **result})
            run.event("skipped" if result.get("already") else "done", step)
    except Exception as exc:  # adapter failures: journaled, audited, one line; the journal stays pending
        error, unreachable = failure_line(exc)
        journal.append({"type": jr.STEP_FAILED, "index": current.index if current else None, "detail": error,
                        "unreachable": unreachable})
        run.event("failed", current, error)
        journal.append({"type": jr.END, "outcome": "failed", "detail": error})
        journal.close()
        record_audit(audit, info, FAILED, plan_id, error)
        return ApplyResult(journal_id, FAILED, tuple(steps), tuple(run.done), error, unreachable,
                           details=tuple(run.details))
    sync = finish_with_wait(run, adapters, wait_timeout)
    journal.append({"type": jr.END, "outcome": jr.APPLIED, "synced": sync.ok if sync else None})
    journal.close()
    record_audit(audit, info, APPLIED, plan_id, "" if sync is None or sync.ok else sync.describe())
    return ApplyResult(journal_id, APPLIED, tuple(steps), tuple(run.done), sync=sync,
                       details=tuple(run.details))


def _rollback_expectations(steps: list[Step]) -> list[SyncExpectation]:
    """After a rollback each touched SecretSync holds its ``before`` mappings again (or is gone)."""
    out: dict[str, SyncExpectation] = {}
    for step in steps:
        op = step.op
        if not isinstance(op, SyncEdit) or op.key in out:
            continue
        if not op.before:
            out[op.key] = SyncExpectation(op.namespace, op.name, present=False)
        else:
            keys = {t: None for _, t in op.before}
            out[op.key] = SyncExpectation(op.namespace, op.name, keys=keys,
                                          absent=tuple(t for _, t in op.after if t not in keys))
    return list(out.values())


def rollback_apply(journal_id: str, *, kube: Any, vault: Any, store: jr.JournalStore, audit: Any,
                   clock: Clock, progress: Progress, wait_timeout: float) -> ApplyResult:
    """Undo every started step of journal ``journal_id``, newest first, then wait for the sync."""
    journal = store.open(journal_id)
    records = journal.records
    steps = journal_steps(records)
    starts = _starts(records)
    already_undone = {r["index"] for r in records if r.get("type") == "undo-done"}
    info, plan_id = _info(records, "rollback")
    adapters = Adapters(kube, vault)
    run = StepRun(journal, steps, progress)
    touched = _may_have_written(records)
    to_undo = [s for s in reversed(steps)
               if s.index in starts and s.index in touched and s.index not in already_undone]
    journal.append({"type": "rollback", "time": clock.now().isoformat()})
    current: Step | None = None
    try:
        for step in to_undo:
            current = step
            run.event("start", step, f"undo: {describe_step(step)}")
            journal.append({"type": "undo-start", "index": step.index})
            result = undo(adapters, step, starts[step.index])
            journal.append({"type": "undo-done", "index": step.index, **result})
            run.done.append(step.index)
            run.details.append({"index": step.index, "target": step.target, **result})
            run.event("skipped" if result.get("already") else "done", step)
    except Exception as exc:  # as in resume: the journal stays pending with the reason
        error, unreachable = failure_line(exc)
        journal.append({"type": "undo-failed", "index": current.index if current else None, "detail": error})
        run.event("failed", current, error)
        journal.append({"type": jr.END, "outcome": "failed", "detail": error})
        journal.close()
        record_audit(audit, info, FAILED, plan_id, error)
        return ApplyResult(journal_id, FAILED, tuple(steps), tuple(run.done), error, unreachable,
                           details=tuple(run.details))
    sync = _wait_rollback(run, adapters, [s for s in to_undo], wait_timeout)
    journal.append({"type": jr.END, "outcome": jr.ROLLED_BACK, "synced": sync.ok if sync else None})
    journal.close()
    record_audit(audit, info, ROLLED_BACK, plan_id, "" if sync is None or sync.ok else sync.describe())
    return ApplyResult(journal_id, ROLLED_BACK, tuple(steps), tuple(run.done), sync=sync,
                       details=tuple(run.details))


def _wait_rollback(run: StepRun, adapters: Adapters, undone: list[Step], timeout: float) -> WaitResult | None:
    wanted = _rollback_expectations(undone)
    if timeout <= 0 or not wanted:
        return None
    emit: Callable[[StepEvent], None] = run.progress
    result = wait_for_sync(adapters.kube, wanted, timeout=timeout, on_check=lambda c: emit(StepEvent(
        "wait", None, len(run.steps), f"SecretSync/{c.expectation.key}", "in sync" if c.ok else c.reason)))
    emit(StepEvent("synced" if result.ok else "wait-timeout", None, len(run.steps), "",
                   f"{result.seconds:.1f}s" if result.ok else result.describe()))
    return result
