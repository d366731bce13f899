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

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

from tui.arm.errors import ArmConflict, ArmError
from tui.cluster.writes import ConflictError, WriteError
from tui.core.changes.journal import JournalSummary, StepRecord, StepState, journal_audit_fields
from tui.core.changes.operations import Step, SyncEdit, VaultDelete, VaultWrite
from tui.core.clock import Clock
from tui.core.model import resources as rk
from tui.core.model.arm import RESOURCE_ID_ANNOTATION
from tui.core.model.names import OPCUA_LISTS
from tui.ops import arm_steps, deltas
from tui.ops import journal as jr
from tui.ops.apply import (
    APPLIED,
    CONFLICT,
    FAILED,
    MAX_CONFLICT_RETRIES,
    REFUSED,
    ApplyResult,
    AuditInfo,
    Progress,
    StepEvent,
    StepRun,
    check_still_ours,
    describe_step,
    failure_line,
    record_audit,
    wait_with_progress,
)
from tui.ops.audit import AuditLog
from tui.ops.errors import WriteConflict, WriteRefused
from tui.ops.ports import ArmPort, ClusterPort, VaultPort
from tui.ops.steps import Adapters, before_image, recheck_done, run_resumed, undo
from tui.ops.sync_wait import SyncExpectation, expectations
from tui.ops.vault_ops import read_secret

ROLLED_BACK = "rolled-back"


def _open(
    store: jr.JournalStore, journal_id: str, progress: Progress, clock: Clock, action: str
) -> tuple[StepRun, JournalSummary, AuditInfo]:
    journal = store.open(journal_id)
    summary = journal.summary()
    if summary.plan is None:
        journal.close()
        raise jr.JournalError(f"journal {journal_id}: holds no plan; nothing to {action}")
    run = StepRun(journal, summary.plan, progress, clock)
    run.executed = [Step(r.index, r.op) for r in summary.done_steps if r.op is not None]
    # The audit line names what the apply concerns, as the apply's own line did.
    fields = journal_audit_fields(summary)
    info = AuditInfo(
        f"journal {action}",
        summary.plan.context,
        fields.thumbprints,
        fields.vault_secrets,
        fields.entries,
        fields.arm_resources,
        fields.drift,
    )
    return run, summary, info


def _fail(
    run: StepRun,
    step: Step | None,
    exc: Exception,
    audit: AuditLog | None,
    info: AuditInfo,
    steps: tuple[Step, ...],
) -> ApplyResult:
    error, unreachable = failure_line(exc)
    conflict = isinstance(exc, WriteConflict)
    run.event("conflict" if conflict else "failed", step, error)
    outcome = CONFLICT if conflict else REFUSED if isinstance(exc, WriteRefused) else FAILED
    # The journal says failed for a refusal too: it stays pending, to resume once the user has acted.
    run.end(CONFLICT if conflict else FAILED, error)
    record_audit(audit, info, outcome, run.plan.plan_id, error, journal_id=run.journal.id)
    return ApplyResult(
        run.journal.id,
        outcome,
        steps,
        len(run.executed),
        error,
        unreachable,
        details=tuple(run.details),
        journal_kept=True,
    )


def _retrying_conflicts(run: StepRun, step: Step, write: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Run ``write`` (a step that reads its object and applies its delta to it), again after a 409 or
    ARM's 412, at most :data:`~tui.ops.apply.MAX_CONFLICT_RETRIES` times.

    A conflict means the object moved between the read and the write (another writer, or a controller
    writing status): the delta is simply applied again to the object as it is now, as an apply does
    after re-planning. What keeps coming raises on, and the run fails with the journal kept.
    """
    attempt = 0
    while True:
        try:
            return write()
        except (ConflictError, ArmConflict) as exc:
            attempt += 1
            if attempt > MAX_CONFLICT_RETRIES:
                raise
            run.event("conflict", step, f"{exc}; applying the change again to the object as it is now")


def _own_part(steps: Iterable[Step]) -> list[Step]:
    """The steps with each SecretSync edit cut down to the mappings it changes itself, for the wait.

    A resume applies its delta to the SecretSync as it is now: a mapping someone else dropped or
    re-pointed since the plan stays as they left it, so the wait must not expect the plan's whole
    ``after``, only the targets this step adds, re-points or drops, and those that read a secret the
    run wrote (a new value that the same mapping must carry to the edge).
    """
    written = {s.op.secret_name.lower() for s in steps if isinstance(s.op, VaultWrite)}
    out = []
    for step in steps:
        op = step.op
        if isinstance(op, SyncEdit) and op.action != "delete":
            before, after = dict((t, src) for src, t in op.before), dict((t, src) for src, t in op.after)
            changed = {t for t in (*before, *after) if before.get(t) != after.get(t)}
            mine = changed | {t for t, src in after.items() if src.lower() in written}
            op = dataclasses.replace(
                op,
                before=tuple((src, t) for src, t in op.before if t in mine),
                after=tuple((src, t) for src, t in op.after if t in mine),
            )
        out.append(Step(step.index, op))
    return out


def _to_redo(adapters: Adapters, summary: JournalSummary) -> list[StepRecord]:
    """Done steps whose effect is gone, in execution order (raises when one was replaced by another's)."""
    return [
        rec
        for rec in summary.done_steps
        if rec.op is not None and not recheck_done(adapters, Step(rec.index, rec.op))
    ]


def resume_apply(
    journal_id: str,
    *,
    kube: ClusterPort,
    vault: VaultPort | None,
    store: jr.JournalStore,
    audit: AuditLog | None,
    clock: Clock,
    progress: Progress,
    wait_timeout: float,
    arm: ArmPort | None = None,
) -> ApplyResult:
    """Run the remaining steps of journal ``journal_id``; raises :class:`~tui.ops.journal.JournalError`
    (including ``JournalBusy``) when the journal cannot be taken. ``arm`` is needed when a step is
    written through Azure Resource Manager (without it that step fails with one line).

    Before writing anything, every step the journal calls done is looked at again
    (:func:`~tui.ops.steps.recheck_done`): an effect that is gone is redone first (in its original
    order), one replaced by someone else's stops the resume with one line and nothing written.
    """
    run, summary, info = _open(store, journal_id, progress, clock, "resume")
    run.audit_to(audit, info)
    adapters = Adapters(kube, vault, arm)
    try:
        redo = _to_redo(adapters, summary)
    except Exception as exc:  # the re-check read or judged: nothing is written, the journal stays pending
        return _fail(run, None, exc, audit, info, tuple(run.executed))
    again = {(r.revision, r.index) for r in redo}
    run.executed = [
        Step(r.index, r.op)
        for r in summary.done_steps
        if r.op is not None and (r.revision, r.index) not in again
    ]
    # (revision, step): redone steps keep the revision they were journaled under.
    todo: list[tuple[int | None, Step]] = [
        (r.revision, Step(r.index, r.op)) for r in redo if r.op is not None
    ]
    todo += [(None, step) for step in summary.remaining()]
    current: Step | None = None
    position = 0
    try:
        for position, (revision, step) in enumerate(todo):
            current = step
            run.left = len(todo) - position
            run.event("start", step, ("redo: " if revision is not None else "") + describe_step(step))
            # A step that got a pending record before (the write may have landed) keeps that record's
            # before-image: one read now could be this apply's own write, and a rollback would then
            # "restore" our value, or keep a secret the apply created.
            key = (run.plan.revision if revision is None else revision, step.index)
            earlier = summary.pending.get(key)
            before = earlier.before if earlier is not None and earlier.before is not None else None
            if before is None:
                before = before_image(adapters, step, run.versions)
            run.record(step, StepState.PENDING, before=before, op=step.op, revision=revision)
            run.about_to_write()
            result = _retrying_conflicts(run, step, partial(run_resumed, adapters, step, run.versions))
            run.record(
                step,
                StepState.DONE,
                resource_version=result.get("resource_version") or result.get("etag"),
                revision=revision,
            )
            run.details.append({"target": step.target, **result})
            run.executed.append(step)
            run.left -= 1
            run.event("skipped" if result.get("already") else "done", step)
        check_still_ours(run, adapters)
    except Exception as exc:  # adapter failures: journaled, audited, one line; the journal stays pending
        error, unreachable = failure_line(exc)
        written = isinstance(exc, WriteConflict) and exc.written
        if current is not None and not unreachable and not written:
            run.record(current, StepState.FAILED, message=error, revision=todo[position][0] if todo else None)
        left = tuple(step for _, step in todo[position:]) if current is not None else ()
        return _fail(run, current, exc, audit, info, (*run.executed, *left))
    sync = wait_with_progress(run, adapters, expectations(_own_part(run.executed)), wait_timeout)
    run.end(jr.APPLIED, "" if sync is None or sync.ok else f"not synced: {sync.describe()}")
    detail = "" if sync is None or sync.ok else sync.describe()
    record_audit(audit, info, APPLIED, run.plan.plan_id, detail, journal_id=journal_id)
    return ApplyResult(
        journal_id, APPLIED, tuple(run.executed), len(run.executed), sync=sync, details=tuple(run.details)
    )


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
            out.append(
                SyncExpectation(
                    op.namespace, op.name, keys=keys, absent=tuple(t for _, t in op.after if t not in keys)
                )
            )
    return out


_RESTORED = ("restored", "rewritten", "recovered")


def _merge(expected: list[SyncExpectation], more: list[SyncExpectation]) -> list[SyncExpectation]:
    """One expectation per SecretSync: exact bytes win over "any bytes" for the same key."""
    by_key = {e.key: e for e in expected}
    for extra in more:
        known = by_key.get(extra.key)
        if known is None:
            by_key[extra.key] = extra
        elif known.present:
            keys = dict(known.keys)
            keys.update({t: b for t, b in extra.keys.items() if b is not None or t not in keys})
            by_key[extra.key] = SyncExpectation(known.namespace, known.name, keys=keys, absent=known.absent)
    return list(by_key.values())


def _resync_restored(
    run: StepRun, adapters: Adapters, summary: JournalSummary, results: list[tuple[Step, dict[str, Any]]]
) -> list[SyncExpectation]:
    """Force a sync of every SecretSync that maps a secret the rollback put back; expect its bytes.

    Writing the old value back changes nothing on the edge by itself: the controller reads the vault
    again only at its poll or on a new ``forceSynchronization``, so the synced Secret would go on serving
    the apply's file while the rollback reported success.
    """
    restored = {
        step.op.secret_name.lower()
        for step, result in results
        if isinstance(step.op, VaultWrite | VaultDelete) and result.get("vault") in _RESTORED
    }
    if not restored or adapters.vault is None:
        return []
    values: dict[str, bytes | None] = {}
    for name in restored:
        state = read_secret(adapters.vault, name)
        try:
            values[name] = bytes.fromhex(state.value) if state.exists and state.value else None
        except ValueError:  # not hex: the provider decodes it another way; any bytes will do
            values[name] = None
    syncs = {
        (s.op.namespace, s.op.name)
        for plan in summary.plans
        for s in plan.steps
        if isinstance(s.op, SyncEdit)
    }
    syncs |= {
        (run.plan.namespace, OPCUA_LISTS[step.op.list_name])
        for step, _ in results
        if isinstance(step.op, VaultWrite | VaultDelete) and step.op.list_name in OPCUA_LISTS
    }
    # A SecretSync this apply wrote through ARM is forced through ARM: the projection would put ARM's
    # token back over one set on the cluster copy alone.
    through_arm = {
        s.op.name.lower()
        for plan in summary.plans
        for s in plan.steps
        if isinstance(s.op, SyncEdit) and s.op.arm
    }
    token = f"aio-certs-{run.plan.plan_id}-rollback-{run.clock.now():%Y%m%dT%H%M%S}"
    out = []
    for namespace, name in sorted(syncs):
        cluster_copy = adapters.kube.get(rk.SECRET_SYNCS, namespace, name)
        arm = adapters.arm if name.lower() in through_arm or _annotated(cluster_copy) else None
        pairs = (
            arm_steps.sync_mappings(arm, name) if arm is not None else deltas.pairs_of(cluster_copy)
        ) or ()
        keys = {target: values.get(source.lower()) for source, target in pairs if source.lower() in restored}
        if not keys:
            continue
        try:
            if arm is not None:
                arm_steps.force_sync(arm, name, token)
            else:
                adapters.kube.force_synchronization(namespace, name, token)
        except (WriteError, ArmError) as exc:  # the wait below then says the edge did not follow, and why
            run.progress(
                StepEvent(
                    "wait",
                    None,
                    len(run.executed),
                    f"SecretSync/{namespace}/{name}",
                    f"could not force a sync: {exc}",
                )
            )
        out.append(SyncExpectation(namespace, name, keys=keys))
    return out


def _annotated(obj: Mapping[str, Any] | None) -> bool:
    """The cluster copy names its ARM resource (the projection's annotation)."""
    annotations = ((obj or {}).get("metadata") or {}).get("annotations") or {}
    return isinstance(annotations, Mapping) and bool(annotations.get(RESOURCE_ID_ANNOTATION))


def _taken_secrets(adapters: Adapters, candidates: list[StepRecord]) -> frozenset[str]:
    """Lower-case names of the secrets this apply wrote that hold another writer's value now.

    A mapping or SPC object of this apply that reads such a secret serves the other writer's entry
    (say, an ``--overwrite`` of the same file name after this apply was killed): undoing it would take
    their entry away, so the rollback leaves it.
    """
    taken = set()
    for rec in candidates:
        if isinstance(rec.op, VaultWrite) and adapters.vault is not None:
            state = read_secret(adapters.vault, rec.op.secret_name)
            if state.exists and (state.value or "").lower() != rec.op.value.lower():
                taken.add(rec.op.secret_name.lower())
    return frozenset(taken)


def rollback_apply(
    journal_id: str,
    *,
    kube: ClusterPort,
    vault: VaultPort | None,
    store: jr.JournalStore,
    audit: AuditLog | None,
    clock: Clock,
    progress: Progress,
    wait_timeout: float,
    arm: ArmPort | None = None,
) -> ApplyResult:
    """Undo every done (or possibly done) step of journal ``journal_id``, newest first, then wait.

    Steps written through Azure Resource Manager are undone there (``arm``), on ARM's current copy."""
    run, summary, info = _open(store, journal_id, progress, clock, "rollback")
    run.audit_to(audit, info)
    adapters = Adapters(kube, vault, arm)
    # Done steps carry their op and before-image; a step left pending carries them on that very record.
    candidates: list[StepRecord] = [*summary.done_steps, *summary.uncertain]
    candidates.sort(key=lambda r: r.key, reverse=True)
    undone: list[Step] = []
    results: list[tuple[Step, dict[str, Any]]] = []
    current: StepRecord | None = None
    # Progress counts the rollback's own steps (1/N..N/N): ``executed`` holds those undone so far.
    run.executed = []
    try:
        taken = _taken_secrets(adapters, candidates)
        for position, rec in enumerate(candidates):
            if rec.op is None:
                raise jr.JournalError(f"step {rec.index} ({rec.target}): the journal lacks its operation")
            current = rec
            step = Step(rec.index, rec.op)
            run.left = len(candidates) - position
            run.event("start", step, f"undo: {describe_step(step)}")
            run.about_to_write()
            result = _retrying_conflicts(
                run,
                step,
                partial(undo, adapters, step, rec.before, namespace=run.plan.namespace, taken=taken),
            )
            run.journal.append(
                StepRecord(
                    rec.plan_id,
                    rec.revision,
                    rec.index,
                    rec.kind,
                    rec.target,
                    StepState.ROLLED_BACK,
                    clock.now(),
                    message=str(result),
                )
            )
            run.details.append({"target": step.target, **result})
            undone.append(step)
            results.append((step, result))
            run.executed.append(step)
            run.left -= 1
            run.event("skipped" if result.get("already") else "done", step)
    except Exception as exc:  # as in resume: the journal stays pending with the reason
        failed = Step(current.index, current.op) if current is not None and current.op is not None else None
        return _fail(run, failed, exc, audit, info, tuple(undone))
    syncs = [s.op for s in undone if isinstance(s.op, SyncEdit)]
    try:
        forced = _resync_restored(run, adapters, summary, results)
    except Exception as exc:  # reading the restored values failed: the undo stands, the wait cannot judge
        run.progress(
            StepEvent(
                "wait", None, len(undone), "", f"could not check the restored values: {failure_line(exc)[0]}"
            )
        )
        forced = []
    sync = wait_with_progress(run, adapters, _merge(_rollback_expectations(syncs), forced), wait_timeout)
    run.end(jr.ROLLED_BACK, "" if sync is None or sync.ok else f"not synced: {sync.describe()}")
    detail = "" if sync is None or sync.ok else sync.describe()
    record_audit(audit, info, ROLLED_BACK, run.plan.plan_id, detail, journal_id=journal_id)
    return ApplyResult(
        journal_id, ROLLED_BACK, tuple(undone), len(undone), sync=sync, details=tuple(run.details)
    )
