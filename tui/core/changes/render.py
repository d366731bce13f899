"""How a plan reads: the text diff shown before confirming, and the ``--json`` object.

The diff is deterministic (same plan, same text) so it can be snapshot-tested, and shows only what
changes: ``+`` added, ``-`` removed, ``~`` replaced, with a count of what stays.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from tui.core.certs.model import iso_utc
from tui.core.changes.changeset import ChangeSet
from tui.core.changes.operations import (
    CRL_CONTENT_TYPE,
    CRL_SECRET_LIFETIME,
    SpcEdit,
    Step,
    SyncEdit,
    VaultDelete,
    VaultWrite,
)
from tui.core.changes.sync_timing import SyncTiming, SyncTrigger
from tui.core.changes.validation import Issue, Resolved
from tui.core.durations import screen_time
from tui.core.model.spc import SpcFormatError, SpcObject, parse_objects


class Plan(Protocol):
    """What rendering reads of a plan (:class:`tui.core.changes.plan.Plan` has it), so that this module
    does not import the planner that uses it."""

    @property
    def plan_id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def namespace(self) -> str: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def applicable(self) -> bool: ...
    @property
    def changes(self) -> ChangeSet: ...
    @property
    def problems(self) -> tuple[Issue, ...]: ...
    @property
    def warnings(self) -> tuple[Issue, ...]: ...
    @property
    def arm_managed(self) -> tuple[str, ...]: ...
    @property
    def vault_writes(self) -> tuple[VaultWrite, ...]: ...
    @property
    def vault_deletes(self) -> tuple[VaultDelete, ...]: ...
    @property
    def spc_edit(self) -> SpcEdit | None: ...
    @property
    def spc_notes(self) -> tuple[str, ...]: ...
    @property
    def sync_edits(self) -> tuple[SyncEdit, ...]: ...
    @property
    def sync_timings(self) -> tuple[SyncTiming, ...]: ...
    @property
    def steps(self) -> tuple[Step, ...]: ...
    @property
    def resolved(self) -> tuple[Resolved, ...]: ...
    @property
    def local_only(self) -> bool: ...
    @property
    def arm_resources(self) -> tuple[str, ...]: ...
    @property
    def drift(self) -> tuple[str, ...]: ...


def _vault_lines(writes: Sequence[VaultWrite], deletes: Sequence[VaultDelete]) -> list[str]:
    lines = []
    for w in writes:
        tags = ", ".join(f"{k}={v}" for k, v in sorted(w.tags.items()))
        expiry = f", expires {screen_time(w.expires_on)}" if w.expires_on else ""
        if w.expires_on and w.content_type == CRL_CONTENT_TYPE:
            # A CRL carries no date Key Vault could use: say where this one comes from.
            expiry += f" ({CRL_SECRET_LIFETIME.days} days from now, as the official CLI sets for CRLs)"
        mark, verb = ("~", "new version of") if w.replaces else ("+", "set")
        lines.append(
            f"{mark} {verb} {w.secret_name} <- {w.list_name}/{w.target_key} "
            f"({w.content_type}, {tags}, {len(w.value) // 2} bytes{expiry})"
        )
    for d in deletes:
        verb = "delete and purge" if d.purge else "delete"
        lines.append(f"- {verb} {d.secret_name} (was {d.list_name}/{d.target_key})")
    return lines


def _objects(text: str | None) -> list[SpcObject]:
    try:
        return list(parse_objects(text))
    except SpcFormatError:
        return []


def _describe_object(obj: SpcObject) -> str:
    fields = [obj.object_type]
    if obj.object_encoding:
        fields.append(f"encoding {obj.object_encoding}")
    if obj.object_alias:
        fields.append(f"alias {obj.object_alias}")
    return f"{obj.object_name} ({', '.join(fields)})"


def _spc_lines(edit: SpcEdit) -> list[str]:
    before, after = _objects(edit.before), _objects(edit.after)
    old = {o.object_name: o for o in before}
    new = {o.object_name: o for o in after}
    lines = [f"- {_describe_object(o)}" for o in before if o.object_name not in new]
    for obj in after:
        if obj.object_name not in old:
            lines.append(f"+ {_describe_object(obj)}")
        elif old[obj.object_name] != obj:
            lines.append(f"~ {_describe_object(old[obj.object_name])} -> {_describe_object(obj)}")
    same = sum(1 for o in after if old.get(o.object_name) == o)
    if edit.after is None:
        lines.append("  (parameters.objects is dropped: no object left; the SPC itself is kept)")
    lines.append(f"  ({same} object(s) unchanged)")
    return lines


def _sync_lines(edit: SyncEdit) -> list[str]:
    old = dict((t, s) for s, t in edit.before)
    new = dict((t, s) for s, t in edit.after)
    lines = [f"- {s} -> {t}" for s, t in edit.before if t not in new]
    for s, t in edit.after:
        if t not in old:
            lines.append(f"+ {s} -> {t}")
        elif old[t] != s:
            lines.append(f"~ {old[t]} -> {t} becomes {s} -> {t}")
    if edit.force_synchronization:
        lines.append(
            f"~ forceSynchronization: {edit.force_synchronization} (re-fetch the overwritten secret now)"
        )
    same = sum(1 for s, t in edit.after if old.get(t) == s)
    lines.append(f"  ({same} mapping(s) unchanged)")
    return lines


def _rv(value: str | None) -> str:
    return f"resourceVersion {value}" if value else "new"


def _where(edit: SpcEdit | SyncEdit) -> tuple[str, list[str]]:
    """Where an edit is written, for its heading, and the lines that say more (the ARM resource id)."""
    if edit.arm is not None:
        etag = f"ETag {edit.arm.etag}" if edit.arm.etag else "new"
        lines = [f"  ARM resource {edit.arm.resource_id}"]
        if edit.arm.etag is None and edit.arm.extended_location:
            lines.append(f"  on custom location {edit.arm.extended_location}")
        return f" through Azure Resource Manager ({etag})", lines
    suffix = f" ({_rv(edit.resource_version)})"
    if edit.drift:
        suffix += ", cluster copy only (--local-only)"
    return suffix, []


def render_plan(plan: Plan) -> str:
    """The text diff of a plan (see :meth:`tui.core.changes.plan.Plan.render_diff`)."""
    out = [
        f"Plan {plan.plan_id} (namespace {plan.namespace}): {len(plan.changes)} change(s)"
        + (f", rebased {plan.revision}x" if plan.revision else "")
    ]
    out += [f"  {i}. {line}" for i, line in enumerate(plan.changes.describe(), start=1)]
    vault = _vault_lines(plan.vault_writes, plan.vault_deletes)
    if vault:
        out += ["", "Key Vault", *vault]
    notes = [f"  note: {n}" for n in plan.spc_notes]
    if plan.spc_edit is not None:
        edit = plan.spc_edit
        where, more = _where(edit)
        out += ["", f"SecretProviderClass {edit.key}{where}", *more, *_spc_lines(edit), *notes]
    elif notes:
        out += ["", "SecretProviderClass: unchanged", *notes]
    # Only a wait for the poll is worth a line: a spec change syncing at once is what a reader expects.
    waits = {t.key: t for t in plan.sync_timings if t.trigger is SyncTrigger.POLL}
    for sync in plan.sync_edits:
        where, more = _where(sync)
        head = f"SecretSync {sync.key}: {sync.action}{where}"
        if sync.action == "create":
            head += (
                f", type {sync.secret_type}, serviceAccountName {sync.service_account}, SPC {sync.spc_name}"
            )
        if sync.action == "delete":
            head += " (its last entry goes; the synced Secret goes with it)"
        out += ["", head, *more, *_sync_lines(sync)]
        if sync.key in waits:
            out.append(f"  note: the synced Secret {waits[sync.key].describe()}")
    if not plan.steps and not plan.problems:
        out += ["", "Nothing to do."]
    if plan.warnings:
        out += ["", "Warnings", *(f"! {w.message}" for w in plan.warnings)]
    if plan.problems:
        out += ["", "Problems (nothing will be written)", *(f"x {p.message}" for p in plan.problems)]
    return "\n".join(out) + "\n"


def _entry_json(plan: Plan) -> list[dict[str, Any]]:
    out = []
    for r in plan.resolved:
        content = r.content
        cert = content.certificate if content is not None else None
        out.append(
            {
                "index": r.index,
                "change": r.change.describe(),
                "list": r.list_name,
                "target_key": r.target_key,
                "secret_name": r.secret_name,
                "ok": r.ok,
                "content": content.kind if content is not None else None,
                "subject": cert.subject if cert is not None else None,
                "not_after": iso_utc(cert.not_after) if cert is not None else None,
                "sha1": content.sha1 if content is not None else None,
                "sha256": content.sha256 if content is not None else None,
            }
        )
    return out


def plan_json(plan: Plan) -> dict[str, Any]:
    """The ``--json`` object of a plan (see :meth:`tui.core.changes.plan.Plan.to_json`)."""
    return {
        "plan_id": plan.plan_id,
        "revision": plan.revision,
        "namespace": plan.namespace,
        "created_at": iso_utc(plan.created_at),
        "applicable": plan.applicable,
        "changes": list(plan.changes.describe()),
        "entries": _entry_json(plan),
        "problems": [p.to_json() for p in plan.problems],
        "warnings": [w.to_json() for w in plan.warnings],
        "arm_managed": list(plan.arm_managed),
        "local_only": plan.local_only,
        "arm_resources": list(plan.arm_resources),
        "drift": list(plan.drift),
        "vault_writes": [w.to_json() for w in plan.vault_writes],
        "vault_deletes": [d.to_json() for d in plan.vault_deletes],
        "spc_edit": plan.spc_edit.to_json() if plan.spc_edit is not None else None,
        "spc_notes": list(plan.spc_notes),
        "sync_edits": [s.to_json() for s in plan.sync_edits],
        "sync_timing": [t.to_json() for t in plan.sync_timings],
        "steps": [s.to_json() for s in plan.steps],
    }
