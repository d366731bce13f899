"""Change plans: a staged change set turned into the exact vault, SPC and SecretSync operations.

:func:`make_plan` validates a :class:`~tui.core.changes.changeset.ChangeSet`
(:mod:`tui.core.changes.validation`) and computes what applying it writes, exactly as the official tool
would write it: hex values tagged ``file-encoding=hex`` with the content type by extension, ``{objectName,
objectType: secret, objectEncoding: hex}`` SPC objects serialised in the CLI's style, ``{sourcePath,
targetKey}`` mappings, the SecretSync created (Opaque, ``aio-ssc-sa``) for a list's first entry and deleted
with its last.

The executor (``tui.ops``) runs :attr:`Plan.steps` in order: vault writes, the SPC grown by the new
objects, the SecretSyncs, the SPC shrunk by the objects no longer mapped, vault deletes. So the sync
controller never sees a mapping whose SPC object is missing, and a purge happens only once nothing maps
the secret. On a 409 it re-reads and calls :func:`rebase_plan`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tui.core.certs.model import iso_utc
from tui.core.changes.changeset import LIST_NAMES, AddFile, ChangeSet, RemoveEntry
from tui.core.changes.operations import (
    Operation,
    SpcEdit,
    Step,
    SyncEdit,
    VaultDelete,
    VaultWrite,
    content_type_for,
    value_digest,
)
from tui.core.changes.render import plan_json, render_plan
from tui.core.changes.validation import Issue, Resolved, validate
from tui.core.health.stale import stale_entries, stale_reasons
from tui.core.model import resources as rk
from tui.core.model.names import (
    ARM_ANNOTATION_PREFIX,
    ARM_FIELD_MANAGERS,
    ARM_OWNER_GROUP_SUFFIX,
    OPCUA_LISTS,
    SSC_SERVICE_ACCOUNT,
)
from tui.core.model.snapshot import RawSnapshot, VaultSecret
from tui.core.model.spc import SpcObject, SpcView, serialize_objects
from tui.core.model.state import ClusterState

__all__ = ["Plan", "make_plan", "rebase_plan", "stale_entries", "stale_reasons"]


@dataclass(frozen=True)
class Plan:
    """What applying a change set will do, exactly; immutable. Applicable only without problems."""

    plan_id: str
    """16 hex digits naming this plan in the journal and the audit log (stable across rebases)."""
    changes: ChangeSet
    problems: tuple[Issue, ...]
    """Refusals: the plan must not be applied while there is any."""
    warnings: tuple[Issue, ...]
    """Worth reading before confirming; they do not stop the plan."""
    vault_writes: tuple[VaultWrite, ...]
    vault_deletes: tuple[VaultDelete, ...]
    spc_edit: SpcEdit | None
    """The SPC ``objects`` before and after the whole plan; None when unchanged."""
    sync_edits: tuple[SyncEdit, ...]
    """At most one per list, trust first."""
    arm_managed: tuple[str, ...]
    """One line per object the plan edits that looks managed from Azure Resource Manager, saying what
    Azure may do to the edit. Also among the warnings."""
    steps: tuple[Step, ...]
    """The operations in execution order (see the module docstring)."""
    resolved: tuple[Resolved, ...]
    """Each change made concrete (target key, secret, content), for rebasing and the UI."""
    created_at: datetime
    """The ``now`` the plan was judged at (expiry rules)."""
    namespace: str
    revision: int = 0
    """0 for a fresh plan, +1 for each :func:`rebase_plan`."""

    @property
    def applicable(self) -> bool:
        """No problems and at least one step to run."""
        return not self.problems and bool(self.steps)

    def render_diff(self) -> str:
        """A readable, deterministic diff: vault operations, the SPC objects, each SecretSync mapping."""
        return render_plan(self)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form of the plan (also what the journal stores)."""
        return plan_json(self)


def _plan_id(changes: ChangeSet, state: ClusterState, now: datetime) -> str:
    parts: list[Any] = [iso_utc(now), state.namespace]
    for change in changes:
        if isinstance(change, AddFile):
            parts.append(
                [
                    "file",
                    change.list_name,
                    change.file_name,
                    change.effective_secret_name,
                    change.overwrite,
                    hashlib.sha256(change.data).hexdigest(),
                ]
            )
        elif isinstance(change, RemoveEntry):
            parts.append(["remove", change.list_name, change.target_key, change.purge])
        else:
            parts.append(["vault", change.list_name, change.secret_name, change.target_key])
    parts.append([(s.name, s.resource_version) for s in state.syncs])
    parts.append([(s.name, s.resource_version) for s in state.spcs])
    text = json.dumps(parts, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _arm_reason(obj: Mapping[str, Any]) -> str | None:
    """Why an object looks managed from ARM (see ``tui.core.model.names``), or None."""
    meta = obj.get("metadata") or {}
    for source in ("annotations", "labels"):
        keys = sorted(str(k) for k in (meta.get(source) or {}) if str(k).startswith(ARM_ANNOTATION_PREFIX))
        if keys:
            return f"{source[:-1]} {keys[0]}"
    for entry in meta.get("managedFields") or ():
        manager = str((entry or {}).get("manager") or "")
        if manager in ARM_FIELD_MANAGERS:
            return f"fields managed by {manager}"
    for owner in meta.get("ownerReferences") or ():
        group = str((owner or {}).get("apiVersion") or "").split("/")[0]
        if group.endswith(ARM_OWNER_GROUP_SUFFIX):
            return f"owned by {owner.get('kind')} {owner.get('name')} ({group})"
    return None


def _arm_managed(
    raw: RawSnapshot | None, namespace: str, spc: SpcEdit | None, syncs: Sequence[SyncEdit]
) -> tuple[str, ...]:
    if raw is None:
        return ()
    out = []
    targets: list[tuple[str, str, str]] = []
    if spc is not None:
        targets.append((rk.SECRET_PROVIDER_CLASSES.key, "SecretProviderClass", spc.name))
    targets += [(rk.SECRET_SYNCS.key, "SecretSync", s.name) for s in syncs if s.action != "create"]
    for key, kind, name in targets:
        obj = raw.get(key, namespace, name)
        reason = _arm_reason(obj) if obj is not None else None
        if reason is not None:
            out.append(
                f"{kind} {namespace}/{name} looks managed from Azure Resource Manager ({reason}): "
                "Azure may put its own version back at its next reconciliation and undo this edit; "
                "make the change through Azure (az iot ops connector opcua) or check it again "
                "after applying"
            )
    return tuple(out)


def _other_sources(raw: RawSnapshot | None, namespace: str, spc_name: str | None) -> dict[str, str]:
    """Secret names mapped by SecretSyncs other than the two lists that read the same SPC."""
    out: dict[str, str] = {}
    if raw is None or spc_name is None:
        return out
    lists = set(OPCUA_LISTS.values())
    for obj in raw.items(rk.SECRET_SYNCS.key):
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if meta.get("namespace") != namespace or meta.get("name") in lists:
            continue
        if spec.get("secretProviderClassName") != spc_name:
            continue
        for item in (spec.get("secretObject") or {}).get("data") or ():
            source = str((item or {}).get("sourcePath") or "")
            if source:
                out.setdefault(source, f"SecretSync {namespace}/{meta.get('name')}")
    return out


def _vault_writes(
    resolved: Sequence[Resolved], vault_secrets: Mapping[str, VaultSecret] | None
) -> tuple[VaultWrite, ...]:
    held = {name.lower(): secret for name, secret in (vault_secrets or {}).items()}
    out = []
    for r in resolved:
        if not r.ok or not isinstance(r.change, AddFile) or r.data is None or r.content is None:
            continue
        assert r.secret_name is not None and r.target_key is not None
        cert = r.content.certificate
        existing = held.get(r.secret_name.lower()) if r.vault_exists else None
        held_value = existing.value if existing is not None else None
        previous = value_digest(held_value) if held_value is not None else None
        out.append(
            VaultWrite(
                secret_name=r.secret_name,
                value=r.data.hex(),
                content_type=content_type_for(r.target_key),
                expires_on=cert.not_after if cert is not None else None,
                replaces=bool(r.vault_exists),
                list_name=r.list_name,
                target_key=r.target_key,
                sha1=r.content.sha1,
                sha256=r.content.sha256,
                previous_digest=previous,
            )
        )
    return tuple(out)


def _vault_deletes(resolved: Sequence[Resolved]) -> tuple[VaultDelete, ...]:
    return tuple(
        VaultDelete(r.secret_name, True, r.list_name, r.target_key or "")
        for r in resolved
        if r.ok
        and isinstance(r.change, RemoveEntry)
        and r.change.purge
        and r.vault_exists
        and r.secret_name is not None
    )


def _new_mappings(
    before: tuple[tuple[str, str], ...], list_name: str, resolved: Sequence[Resolved]
) -> tuple[tuple[str, str], ...]:
    """The list's mappings after the changes: removed targets dropped, overwritten ones replaced in place."""
    gone = {r.target_key for r in resolved if r.ok and r.list_name == list_name and not r.is_add}
    pairs = [p for p in before if p[1] not in gone]
    for r in resolved:
        if not r.ok or not r.is_add or r.list_name != list_name:
            continue
        assert r.secret_name is not None and r.target_key is not None
        pair = (r.secret_name, r.target_key)
        at = next((i for i, p in enumerate(pairs) if p[1] == r.target_key), None)
        if at is None:
            pairs.append(pair)
        else:
            pairs[at] = pair
    return tuple(pairs)


def _sync_edits(
    state: ClusterState, spc_name: str, resolved: Sequence[Resolved], writes: Sequence[VaultWrite], token: str
) -> tuple[SyncEdit, ...]:
    out = []
    rewritten = {w.secret_name.lower() for w in writes if w.replaces}
    for list_name in LIST_NAMES:
        sync = state.sync(list_name)
        if sync is None:
            continue
        before = sync.mappings if sync.present else ()
        after = _new_mappings(before, list_name, resolved)
        base = dict(
            namespace=sync.namespace,
            name=sync.name,
            list_name=list_name,
            resource_version=sync.resource_version if sync.present else None,
            before=before,
            after=after,
            spc_name=sync.spc_name or spc_name,
            service_account=sync.service_account or SSC_SERVICE_ACCOUNT,
        )
        if after == before:
            # Same mappings, new secret version: without a new token the controller waits for its poll.
            if sync.present and any(s.lower() in rewritten for s, _ in after):
                out.append(SyncEdit(action="update", force_synchronization=token, **base))  # type: ignore[arg-type]
            continue
        if not sync.present:
            action = "create"
        elif not after:
            action = "delete"
        else:
            action = "update"
        out.append(SyncEdit(action=action, **base))  # type: ignore[arg-type]
    return tuple(out)


def _spc_objects(
    spc: SpcView,
    resolved: Sequence[Resolved],
    syncs: Sequence[SyncEdit],
    state: ClusterState,
    other: Mapping[str, str],
) -> tuple[list[SpcObject], list[SpcObject]]:
    """``(grown, final)`` object lists: with the new objects added, then without the unused ones."""
    grown = list(spc.objects)
    for r in resolved:
        if not r.ok or not r.is_add:
            continue
        assert r.secret_name is not None
        want = SpcObject(object_name=r.secret_name, object_type="secret", object_encoding=r.object_encoding)
        at = next((i for i, o in enumerate(grown) if o.object_name == r.secret_name), None)
        if at is None:
            grown.append(want)
        elif (grown[at].object_type, grown[at].object_encoding, grown[at].object_alias) != (
            "secret",
            r.object_encoding,
            None,
        ):
            grown[at] = want  # same secret read another way: the provider must decode it as stored
    # Sources still mapped once every edit is made, in either list or another SecretSync of this SPC.
    edited = {e.list_name: e.after for e in syncs}
    in_use = {s for name in LIST_NAMES for s, _ in edited.get(name, _mappings_of(state, name))}
    in_use |= set(other)
    dropped = {r.secret_name for r in resolved if r.ok and not r.is_add and r.secret_name}
    dropped |= {r.replaces_source for r in resolved if r.ok and r.replaces_source}
    dropped -= in_use
    final = [o for o in grown if o.file_name not in dropped]
    return grown, final


def _mappings_of(state: ClusterState, list_name: str) -> tuple[tuple[str, str], ...]:
    sync = state.sync(list_name)
    return sync.mappings if sync is not None and sync.present else ()


def _text(objects: Sequence[SpcObject], original: tuple[SpcObject, ...], raw_text: str | None) -> str | None:
    if tuple(objects) == original:
        return raw_text
    return serialize_objects(objects, style="cli")


def _names(objects: Sequence[SpcObject]) -> list[str]:
    return [o.object_name for o in objects]


def _build(
    plan_id: str,
    changes: ChangeSet,
    state: ClusterState,
    resolved: tuple[Resolved, ...],
    problems: tuple[Issue, ...],
    warnings: tuple[Issue, ...],
    raw: RawSnapshot | None,
    now: datetime,
    *,
    revision: int,
    writes: tuple[VaultWrite, ...] | None = None,
    deletes: tuple[VaultDelete, ...] | None = None,
    vault_secrets: Mapping[str, VaultSecret] | None = None,
) -> Plan:
    ns = state.namespace
    spc = next((s for s in state.spcs if s.name == state.opcua_spc), None)
    fresh = writes is None
    writes = _vault_writes(resolved, vault_secrets) if writes is None else writes
    deletes = _vault_deletes(resolved) if deletes is None else deletes
    spc_edit: SpcEdit | None = None
    sync_edits: tuple[SyncEdit, ...] = ()
    steps: list[Operation] = list(writes) if fresh else []
    if spc is not None:
        token = f"aio-certs-{plan_id}-{revision}"
        sync_edits = _sync_edits(state, spc.name, resolved, writes, token)
        other = _other_sources(raw, ns, spc.name)
        grown, final = _spc_objects(spc, resolved, sync_edits, state, other)
        original = spc.objects
        before_text = spc.raw_objects
        grown_text = _text(grown, original, before_text)
        # Serialising thousands of objects is the costliest part of planning: do it once when it can.
        final_text = grown_text if final == grown else _text(final, original, before_text)
        was = {o.object_name: o for o in original}
        added = tuple(o.object_name for o in grown if was.get(o.object_name) != o)
        kept = set(_names(final))
        removed = tuple(n for n in _names(grown) if n not in kept)
        if tuple(final) != original:
            spc_edit = SpcEdit(ns, spc.name, spc.resource_version, before_text, final_text, added, removed)
        if added:
            steps.append(SpcEdit(ns, spc.name, spc.resource_version, before_text, grown_text, added, ()))
        steps.extend(sync_edits)
        if removed:
            # After a grow step the precondition is the version that step left (None, see SpcEdit).
            version = None if added else spc.resource_version
            steps.append(SpcEdit(ns, spc.name, version, grown_text, final_text, (), removed))
    steps.extend(deletes)
    arm = _arm_managed(raw, ns, spc_edit, sync_edits)
    arm_issues = tuple(Issue("arm-managed", line.split(" looks ")[0], line) for line in arm)
    return Plan(
        plan_id=plan_id,
        changes=changes,
        problems=problems,
        warnings=warnings + arm_issues,
        vault_writes=writes,
        vault_deletes=deletes,
        spc_edit=spc_edit,
        sync_edits=sync_edits,
        arm_managed=arm,
        steps=tuple(Step(i, op) for i, op in enumerate(steps)),
        resolved=resolved,
        created_at=now,
        namespace=ns,
        revision=revision,
    )


def vault_names_to_check(changes: ChangeSet, vault_secrets: Mapping[str, VaultSecret] | None) -> list[str]:
    """Secret names the change set would create that the vault listing does not hold: the ones to look
    up among the vault's soft-deleted secrets (which a listing does not show) before planning."""
    listed = {name.lower() for name in vault_secrets} if vault_secrets is not None else set()
    names: dict[str, str] = {}
    for change in changes:
        if isinstance(change, AddFile):
            name = change.effective_secret_name
            if name and name.lower() not in listed:
                names.setdefault(name.lower(), name)
    return list(names.values())


def make_plan(
    changes: ChangeSet,
    state: ClusterState,
    *,
    vault_secrets: Mapping[str, VaultSecret] | None,
    now: datetime,
    read_only: bool = False,
    raw: RawSnapshot | None = None,
    deleted_secrets: Iterable[str] = (),
) -> Plan:
    """Validate ``changes`` against ``state`` and compute the exact operations.

    ``vault_secrets`` is the vault as read, with the values of the secrets an "add from Key Vault" maps
    and of every secret an add would overwrite (an overwrite whose current value is not there is
    refused: what it replaces must be checked first); None means it could not be read, a problem for
    every change that needs it. ``now`` comes from the injected clock.
    ``read_only`` makes every plan refused (it is still computed, for display). ``raw`` (the snapshot the
    state was built from) lets the plan see object metadata: the Azure-managed markers and the
    SecretSyncs other than the two lists (the client certificate's) that share the SPC; without it
    neither is checked. ``deleted_secrets``: names soft-deleted in the vault (see
    :func:`vault_names_to_check`).
    """
    spc_name = state.opcua_spc
    other = _other_sources(raw, state.namespace, spc_name)
    checked = validate(
        changes,
        state,
        vault_secrets=vault_secrets,
        now=now,
        read_only=read_only,
        other_sources=other,
        deleted_secrets=deleted_secrets,
        overwrite_values=True,
    )
    plan_id = _plan_id(changes, state, now)
    return _build(
        plan_id,
        changes,
        state,
        checked.resolved,
        checked.problems,
        checked.warnings,
        raw,
        now,
        revision=0,
        vault_secrets=vault_secrets,
    )


def rebase_plan(
    plan: Plan, new_state: ClusterState, *, raw: RawSnapshot | None = None, read_only: bool = False
) -> Plan:
    """Recompute the SPC and SecretSync edits of ``plan`` against fresh objects, after a 409.

    The vault writes come first in every plan, so by the time a cluster write conflicts they are done:
    the rebased plan keeps them (and the deletes) in its fields but its steps start at the cluster
    edits, judged against ``new_state`` with their new resource versions, and end with the vault
    deletes. Edits of this plan already in place (a mapping added before the conflict) are not redone.
    If the changes no longer apply (someone else took the target key, removed the CA a CRL needs...)
    the rebased plan carries the problems and is not applicable. When every edit has landed already the
    rebased plan has no cluster steps and no problems: only its vault deletes (if any) remain to run.
    """
    other = _other_sources(raw, new_state.namespace, new_state.opcua_spc)
    checked = validate(
        plan.changes,
        new_state,
        vault_secrets=None,
        now=plan.created_at,
        read_only=read_only,
        other_sources=other,
        previous=plan.resolved,
    )
    return _build(
        plan.plan_id,
        plan.changes,
        new_state,
        checked.resolved,
        checked.problems,
        checked.warnings,
        raw,
        plan.created_at,
        revision=plan.revision + 1,
        writes=plan.vault_writes,
        deletes=plan.vault_deletes,
    )
