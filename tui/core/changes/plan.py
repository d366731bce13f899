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

An SPC or SecretSync that Azure Resource Manager owns is edited through ARM instead, from ARM's copy
and against its ETag (a 412 is re-planned like a 409), as the official CLI does (docs/domain.md §9); the
steps keep the same order.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from tui.core.certs.model import iso_utc
from tui.core.changes.arm_write import official_commands
from tui.core.changes.changeset import LIST_NAMES, AddFile, AddVaultSecret, ChangeSet, RemoveEntry
from tui.core.changes.file_rules import FileContent
from tui.core.changes.operations import (
    CRL_SECRET_LIFETIME,
    SECRET_TYPE,
    ArmTarget,
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
from tui.core.changes.sync_timing import SyncTiming, sync_timings
from tui.core.changes.validation import Issue, Resolved, reads_as, validate
from tui.core.health.stale import stale_entries, stale_reasons
from tui.core.model import resources as rk
from tui.core.model.arm import (
    RESOURCE_ID_ANNOTATION,
    ArmIds,
    ArmKind,
    ArmResource,
    ArmSnapshot,
    Owner,
    owner_of,
    parse_resource_id,
)
from tui.core.model.names import (
    ARM_ANNOTATION_PREFIX,
    ARM_FIELD_MANAGERS,
    ARM_OWNER_GROUP_SUFFIX,
    OPCUA_LISTS,
    SSC_SERVICE_ACCOUNT,
    is_default_spc_name,
)
from tui.core.model.snapshot import RawSnapshot, VaultSecret
from tui.core.model.spc import SpcFormatError, SpcObject, SpcView, parse_objects, serialize_objects
from tui.core.model.state import ClusterState, SyncView
from tui.core.text import printable

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
    spc_notes: tuple[str, ...]
    """Lines the diff shows under the SPC: on an SPC other components read too (the instance's default
    ``spc-ops-*`` one, or any another SecretSync reads), that only the lists' own objects change, and
    which objects stay because another SecretSync uses them. Empty on an SPC only the lists read."""
    arm_managed: tuple[str, ...]
    """One line per object the plan edits on the cluster while Azure Resource Manager manages it (a
    ``--local-only`` write, or an object carrying ARM's markers), saying what Azure may do to the edit.
    Also among the warnings. Objects written through ARM are not here: ARM has the edit."""
    steps: tuple[Step, ...]
    """The operations in execution order (see the module docstring)."""
    resolved: tuple[Resolved, ...]
    """Each change made concrete (target key, secret, content), for rebasing and the UI."""
    created_at: datetime
    """The ``now`` the plan was judged at (expiry rules)."""
    namespace: str
    revision: int = 0
    """0 for a fresh plan, +1 for each :func:`rebase_plan`."""
    local_only: bool = False
    """``--local-only``: ARM-owned objects are written on the cluster only (drift), not through ARM."""

    @property
    def applicable(self) -> bool:
        """No problems and at least one step to run."""
        return not self.problems and bool(self.steps)

    @property
    def arm_resources(self) -> tuple[str, ...]:
        """The ARM resource ids the steps write, in order (for the audit log)."""
        return tuple(dict.fromkeys(t.resource_id for s in self.steps if (t := _arm_of(s.op)) is not None))

    @property
    def drift(self) -> tuple[str, ...]:
        """``Kind namespace/name`` of each ARM-owned object the steps write on the cluster only."""
        return tuple(
            dict.fromkeys(
                f"{'SecretProviderClass' if isinstance(s.op, SpcEdit) else 'SecretSync'} {s.op.key}"
                for s in self.steps
                if isinstance(s.op, SpcEdit | SyncEdit) and s.op.drift
            )
        )

    @property
    def sync_timings(self) -> tuple[SyncTiming, ...]:
        """When the controller carries each edited SecretSync into its synced Secret: at once, or at its
        next poll (:mod:`tui.core.changes.sync_timing`)."""
        return sync_timings(self.steps)

    def render_diff(self) -> str:
        """A readable, deterministic diff: vault operations, the SPC objects, each SecretSync mapping."""
        return render_plan(self)

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form of the plan (also what the journal stores)."""
        return plan_json(self)


def _arm_of(op: Operation) -> ArmTarget | None:
    return op.arm if isinstance(op, SpcEdit | SyncEdit) else None


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
) -> tuple[tuple[str, str], ...]:
    """``(subject, line)`` per object the plan edits on the cluster while ARM manages it: written only
    there with ``--local-only`` (drift), or carrying ARM's markers without being known to ARM."""
    out = []
    edits: list[tuple[str, str, SpcEdit | SyncEdit]] = []
    if spc is not None and spc.arm is None:
        edits.append((rk.SECRET_PROVIDER_CLASSES.key, "SecretProviderClass", spc))
    edits += [
        (rk.SECRET_SYNCS.key, "SecretSync", s)
        for s in syncs
        if s.arm is None and (s.action != "create" or s.drift)
    ]
    for key, kind, edit in edits:
        subject = f"{kind} {namespace}/{edit.name}"
        if edit.drift:
            out.append(
                (
                    subject,
                    f"{subject} is managed from Azure Resource Manager and only its cluster copy is "
                    "written (--local-only): ARM keeps its own copy, so the next change made with the "
                    "portal or az iot ops connector opcua will undo this edit",
                )
            )
            continue
        obj = raw.get(key, namespace, edit.name) if raw is not None else None
        reason = _arm_reason(obj) if obj is not None else None
        if reason is not None:
            out.append(
                (
                    subject,
                    f"{subject} looks managed from Azure Resource Manager ({reason}): "
                    "Azure may put its own version back at its next reconciliation and undo this edit; "
                    "make the change through Azure (az iot ops connector opcua) or check it again "
                    "after applying",
                )
            )
    return tuple(out)


def _other_sources(
    raw: RawSnapshot | None, namespace: str, spc_name: str | None, arm: ArmSnapshot | None = None
) -> dict[str, str]:
    """Secret names (SPC file names) mapped by SecretSyncs other than the two lists that read the same
    SPC: the client certificate's, and on the instance's default SPC other components' (docs/domain.md
    §2.5). Their SPC objects and vault secrets are never removed, replaced or overwritten by a plan.

    The cluster's copies are read from ``raw``; ARM's SecretSyncs count too (``arm``), so one ARM holds
    and the projection has not put on the cluster yet is not missed."""
    out: dict[str, str] = {}
    if spc_name is None:
        return out
    lists = set(OPCUA_LISTS.values())
    for obj in raw.items(rk.SECRET_SYNCS.key) if raw is not None else ():
        meta, spec = obj.get("metadata") or {}, obj.get("spec") or {}
        if meta.get("namespace") != namespace or meta.get("name") in lists:
            continue
        if spec.get("secretProviderClassName") != spc_name:
            continue
        for item in (spec.get("secretObject") or {}).get("data") or ():
            source = str((item or {}).get("sourcePath") or "")
            if source:
                out.setdefault(source, f"SecretSync {namespace}/{meta.get('name')}")
    if arm is not None and arm.readable:
        wanted = {name.lower() for name in lists}
        for (kind, name), resource in sorted(arm.resources.items()):
            if kind is not ArmKind.SECRET_SYNC or name.lower() in wanted:
                continue
            if str(resource.properties.get("secretProviderClassName") or "").lower() != spc_name.lower():
                continue
            for source, _ in resource.mappings:
                out.setdefault(source, f"ARM SecretSync {resource.name}")
    return out


def _spc_notes(
    spc: SpcView,
    final: Sequence[SpcObject],
    mappings_after: Mapping[str, tuple[tuple[str, str], ...]],
    other: Mapping[str, str],
    kept: Sequence[str],
    *,
    edited: bool,
) -> tuple[str, ...]:
    """Lines the diff shows about an SPC others read too: that only the lists' own objects change (when
    the plan ``edited`` it), and which objects a removal keeps because another SecretSync uses them
    (docs/domain.md §2.5)."""
    notes = []
    ours = {s for pairs in mappings_after.values() for s, _ in pairs}
    theirs = sum(1 for o in final if o.file_name not in ours)
    if edited and (is_default_spc_name(spc.name) or other):
        what = "the instance's default SPC, " if is_default_spc_name(spc.name) else ""
        notes.append(
            f"{spc.name} is {what}shared with other components: this plan adds and removes only the "
            f"OPC UA list objects it names; the {theirs} other object(s) stay as they are"
        )
    for name in kept:
        notes.append(f"{name} stays: {other[name]} uses it too")
    return tuple(notes)


def _expiry(content: FileContent, now: datetime) -> datetime | None:
    """Key Vault ``exp`` of a list file's secret, as the newer official CLI sets it (docs/domain.md §6.3):
    a certificate's notAfter; a CRL has none of its own, so ``now`` plus :data:`CRL_SECRET_LIFETIME`
    (Key Vault expiry policies can refuse a secret without one)."""
    if content.certificate is not None:
        return content.certificate.not_after
    if content.crl is not None:
        return now + CRL_SECRET_LIFETIME
    return None


def _vault_writes(
    resolved: Sequence[Resolved], vault_secrets: Mapping[str, VaultSecret] | None, now: datetime
) -> tuple[VaultWrite, ...]:
    held = {name.lower(): secret for name, secret in (vault_secrets or {}).items()}
    out = []
    for r in resolved:
        if not r.ok or not isinstance(r.change, AddFile) or r.data is None or r.content is None:
            continue
        assert r.secret_name is not None and r.target_key is not None
        existing = held.get(r.secret_name.lower()) if r.vault_exists else None
        held_value = existing.value if existing is not None else None
        previous = value_digest(held_value) if held_value is not None else None
        out.append(
            VaultWrite(
                secret_name=r.secret_name,
                value=r.data.hex(),
                content_type=content_type_for(r.target_key),
                expires_on=_expiry(r.content, now),
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
    state: ClusterState,
    spc_name: str,
    resolved: Sequence[Resolved],
    writes: Sequence[VaultWrite],
    token: str,
    wheres: Mapping[str, _Where],
) -> tuple[SyncEdit, ...]:
    out = []
    rewritten = {w.secret_name.lower() for w in writes if w.replaces}
    for list_name in LIST_NAMES:
        sync = state.sync(list_name)
        if sync is None:
            continue
        where = wheres[list_name]
        base = _sync_base(sync, spc_name, where)
        before = base.mappings
        after = _new_mappings(before, list_name, resolved)
        fields = dict(
            namespace=sync.namespace,
            name=sync.name,
            list_name=list_name,
            resource_version=sync.resource_version if sync.present else None,
            before=before,
            after=after,
            spc_name=base.spc_name,
            service_account=base.service_account,
            secret_type=base.secret_type,
            owner=where.owner,
            arm=where.target(),
        )
        if after == before:
            # Same mappings, new secret version: without a new token the controller waits for its poll.
            if base.present and any(s.lower() in rewritten for s, _ in after):
                out.append(SyncEdit(action="update", force_synchronization=token, **fields))  # type: ignore[arg-type]
            continue
        if not base.present:
            action = "create"
        elif not after:
            action = "delete"
        else:
            action = "update"
        out.append(SyncEdit(action=action, **fields))  # type: ignore[arg-type]
    return tuple(out)


@dataclass(frozen=True)
class _SyncBase:
    """What a list's SecretSync edit is computed from: ARM's copy when written through ARM."""

    present: bool
    mappings: tuple[tuple[str, str], ...]
    spc_name: str
    service_account: str
    secret_type: str


def _sync_base(sync: SyncView, spc_name: str, where: _Where) -> _SyncBase:
    if where.resource is not None:
        props = where.resource.properties
        return _SyncBase(
            True,
            where.resource.mappings,
            str(props.get("secretProviderClassName") or sync.spc_name or spc_name),
            str(props.get("serviceAccountName") or sync.service_account or SSC_SERVICE_ACCOUNT),
            str(props.get("kubernetesSecretType") or SECRET_TYPE),
        )
    if where.via_arm:  # created in ARM: nothing there yet, whatever the cluster copy says
        return _SyncBase(False, (), sync.spc_name or spc_name, SSC_SERVICE_ACCOUNT, SECRET_TYPE)
    return _SyncBase(
        sync.present,
        sync.mappings if sync.present else (),
        sync.spc_name or spc_name,
        sync.service_account or SSC_SERVICE_ACCOUNT,
        SECRET_TYPE,
    )


def _spc_objects(
    original: tuple[SpcObject, ...],
    resolved: Sequence[Resolved],
    syncs: Sequence[SyncEdit],
    mappings: Mapping[str, tuple[tuple[str, str], ...]],
    other: Mapping[str, str],
) -> tuple[list[SpcObject], list[SpcObject]]:
    """``(grown, final)`` object lists: with the new objects added, then without the unused ones.

    ``original`` is the SPC's objects and ``mappings`` each list's, both as the edits are computed from
    (ARM's copy for what is written through ARM)."""
    grown = list(original)
    for r in resolved:
        if not r.ok or not r.is_add:
            continue
        assert r.secret_name is not None
        want = SpcObject(object_name=r.secret_name, object_type="secret", object_encoding=r.object_encoding)
        at = next((i for i, o in enumerate(grown) if o.object_name == r.secret_name), None)
        if at is None:
            grown.append(want)
        elif r.secret_name in other:
            # Another SecretSync reads this object: it is never changed (validation refuses an add that
            # would need it read another way, docs/domain.md §2.5).
            continue
        elif not reads_as(grown[at], r.object_encoding):
            grown[at] = want  # same secret read another way: the provider must decode it as stored
    # Sources still mapped once every edit is made, in either list or another SecretSync of this SPC.
    edited = {e.list_name: e.after for e in syncs}
    in_use = {s for name in LIST_NAMES for s, _ in edited.get(name, mappings.get(name, ()))}
    in_use |= set(other)
    dropped = {r.secret_name for r in resolved if r.ok and not r.is_add and r.secret_name}
    dropped |= {r.replaces_source for r in resolved if r.ok and r.replaces_source}
    dropped -= in_use
    final = [o for o in grown if o.file_name not in dropped]
    return grown, final


def _kept_for_others(resolved: Sequence[Resolved], other: Mapping[str, str]) -> list[str]:
    """Objects a removal (or an overwrite's swap) would drop were another SecretSync not using them."""
    names = [r.secret_name for r in resolved if r.ok and not r.is_add and r.secret_name]
    names += [r.replaces_source for r in resolved if r.ok and r.replaces_source]
    return sorted({n for n in names if n in other})


def _text(objects: Sequence[SpcObject], original: tuple[SpcObject, ...], raw_text: str | None) -> str | None:
    if tuple(objects) == original:
        return raw_text
    return serialize_objects(objects, style="cli")


def _names(objects: Sequence[SpcObject]) -> list[str]:
    return [o.object_name for o in objects]


# -- where each list object is written: the cluster, or Azure Resource Manager --------------------------


@dataclass(frozen=True)
class _Where:
    """Where one list object's edit is computed from and written to (docs/domain.md §9)."""

    owner: Owner
    resource: ArmResource | None = None
    """ARM's copy, when the edit goes through ARM: the plan's base, with the ETag to write against."""
    resource_id: str | None = None
    """The ARM resource id (also of a SecretSync the plan creates in ARM)."""
    location: str | None = None
    extended_location: str | None = None
    """Where a SecretSync the plan creates in ARM is placed (those of the SPC it reads)."""
    why_not: str | None = None
    """ARM owns the object and cannot be written now: why (the plan is refused)."""
    local: bool = False
    """ARM owns the object and the user chose to write only its cluster copy (``--local-only``)."""

    @property
    def via_arm(self) -> bool:
        """The edit is written through ARM."""
        return self.owner is Owner.ARM and self.why_not is None and not self.local

    def target(self) -> ArmTarget | None:
        """The operation's ARM target (None: a cluster write)."""
        if not self.via_arm:
            return None
        assert self.resource_id is not None
        etag = self.resource.etag if self.resource is not None else None
        return ArmTarget(self.resource_id, etag, self.location, self.extended_location)


def _arm_unusable(arm: ArmSnapshot | None) -> str | None:
    """Why ARM cannot be written from this plan (None: it was read and answered)."""
    if arm is None:
        return "ARM was not read (no ARM access is configured)"
    if not arm.readable:
        message = " ".join(arm.status.message.split())
        return f"ARM {arm.status.state.value}" + (f": {message}" if message else "")
    return None


def _cluster_object(
    raw: RawSnapshot | None, kind: ArmKind, namespace: str, name: str
) -> Mapping[str, Any] | None:
    if raw is None:
        return None
    key = rk.SECRET_PROVIDER_CLASSES.key if kind is ArmKind.SPC else rk.SECRET_SYNCS.key
    return raw.get(key, namespace, name)


def _annotated_id(obj: Mapping[str, Any] | None) -> str | None:
    # A hand-edited object may hold anything under metadata: only mappings are looked into.
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    annotations = meta.get("annotations") if isinstance(meta, Mapping) else None
    value = annotations.get(RESOURCE_ID_ANNOTATION) if isinstance(annotations, Mapping) else None
    return str(value) if value else None


def _where(
    kind: ArmKind, obj: Mapping[str, Any] | None, name: str, arm: ArmSnapshot | None, local_only: bool
) -> _Where:
    """Owner by :func:`owner_of`; for ARM, its copy (the base and ETag) or why it cannot be written."""
    owner = owner_of(kind, obj, name, arm)
    if owner is Owner.CLUSTER:
        return _Where(Owner.CLUSTER)
    if local_only:
        return _Where(Owner.ARM, local=True)
    why = _arm_unusable(arm)
    if why is not None:
        return _Where(Owner.ARM, why_not=why)
    assert arm is not None
    resource = arm.get(kind, name)
    if resource is None:
        named = _annotated_id(obj) or f"{kind.value}/{name}"
        return _Where(Owner.ARM, why_not=f"ARM holds no resource {named} although the cluster copy names it")
    return _Where(Owner.ARM, resource=resource, resource_id=resource.resource_id)


def _sync_where(
    sync: SyncView,
    raw: RawSnapshot | None,
    arm: ArmSnapshot | None,
    local_only: bool,
    spc_where: _Where,
) -> _Where:
    """As :func:`_where`; a SecretSync neither side holds yet belongs where its SPC does, and is created
    in ARM beside it (on the same custom location and in the same location, as the official CLI does)."""
    obj = _cluster_object(raw, ArmKind.SECRET_SYNC, sync.namespace, sync.name)
    where = _where(ArmKind.SECRET_SYNC, obj, sync.name, arm, local_only)
    if obj is not None or where.owner is Owner.ARM or spc_where.owner is Owner.CLUSTER:
        return where
    if not spc_where.via_arm:
        return _Where(Owner.ARM, why_not=spc_where.why_not, local=spc_where.local)
    spc = spc_where.resource
    assert spc is not None
    ref = parse_resource_id(spc.resource_id)
    ids = ref.ids if ref is not None else (arm.ids if arm is not None else None)
    if ids is None:
        return _Where(Owner.ARM, why_not=f"the resource group of {spc.resource_id} is not known")
    location = spc.body.get("location")
    return _Where(
        Owner.ARM,
        resource_id=ids.resource_id(ArmKind.SECRET_SYNC, sync.name),
        location=str(location) if location else None,
        extended_location=spc.extended_location or (arm.ids.custom_location if arm and arm.ids else None),
    )


def _arm_objects(where: _Where) -> tuple[tuple[SpcObject, ...], str | None] | str:
    """ARM's SPC objects and their text; a one-line reason when ARM's text cannot be read."""
    assert where.resource is not None
    text = where.resource.objects
    try:
        return parse_objects(text), text
    except SpcFormatError as exc:
        return f"ARM resource {where.resource.resource_id}: {exc}"


def _unavailable_problem(
    changes: ChangeSet, blocked: Sequence[str], reason: str, ids: ArmIds | None
) -> Issue:
    """The one line refusing a change ARM must make when ARM cannot be written, with the CLI commands."""
    commands = official_commands(changes, resource_group=ids.resource_group if ids is not None else None)
    verb = "is" if len(blocked) == 1 else "are"
    message = (
        f"{' and '.join(blocked)} {verb} managed from Azure Resource Manager, which cannot be written now "
        f"({reason}); nothing was written. Make the change through Azure: {'; '.join(commands)}. Or write "
        "the cluster copy only with --local-only (the next portal or CLI change undoes it)"
    )
    return Issue("arm-unavailable", "Azure Resource Manager", message)


def _site_ids(
    arm: ArmSnapshot | None, raw: RawSnapshot | None, namespace: str, spc: str | None
) -> ArmIds | None:
    """Subscription and resource group for the CLI commands: ARM's ids, else the SPC's annotation."""
    if arm is not None and arm.ids is not None:
        return arm.ids
    for kind, name in ((ArmKind.SPC, spc), *((ArmKind.SECRET_SYNC, n) for n in OPCUA_LISTS.values())):
        ref = parse_resource_id(_annotated_id(_cluster_object(raw, kind, namespace, name or "")) or "")
        if ref is not None:
            return ref.ids
    return None


def _drift_problems(
    state: ClusterState, resolved: Sequence[Resolved], wheres: Mapping[str, _Where], *, rebasing: bool
) -> list[Issue]:
    """Changes the cluster copy and ARM's copy judge differently (drift, or a projection still behind).

    Validation judges the lists as the cluster shows them; a list written through ARM is edited from
    ARM's copy. An add whose file name ARM maps to another secret would silently replace that entry;
    a removal of an entry only the cluster copy holds (a ``--local-only`` add) would write nothing. Both
    are refused with the reason. A rebase skips the second check: the entry may be gone from ARM
    because this very apply removed it before the conflict.
    """
    out = []
    for r in resolved:
        where = wheres.get(r.list_name)
        if not r.ok or r.target_key is None or where is None or where.resource is None:
            continue
        arm_map = {t: s for s, t in where.resource.mappings}
        sync = state.sync(r.list_name)
        cluster_map = {t: s for s, t in (sync.mappings if sync is not None and sync.present else ())}
        subject = f"{r.list_name}/{r.target_key}"
        held = arm_map.get(r.target_key)
        if r.is_add and held is not None and held != r.secret_name and r.target_key not in cluster_map:
            out.append(
                Issue(
                    "arm-drift",
                    subject,
                    f"{printable(subject)}: ARM's SecretSync maps it to {printable(held)}, which the "
                    "cluster copy does not show yet; plan again once the cluster follows ARM",
                    r.index,
                )
            )
        if not r.is_add and not rebasing and held is None and r.target_key in cluster_map:
            out.append(
                Issue(
                    "arm-drift",
                    subject,
                    f"{printable(subject)} is only in the cluster copy, not in ARM's SecretSync (a "
                    "--local-only change): remove it with --local-only",
                    r.index,
                )
            )
    return out


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
    arm: ArmSnapshot | None = None,
    local_only: bool = False,
) -> Plan:
    ns = state.namespace
    spc = next((s for s in state.spcs if s.name == state.opcua_spc), None)
    fresh = writes is None
    writes = _vault_writes(resolved, vault_secrets, now) if writes is None else writes
    deletes = _vault_deletes(resolved) if deletes is None else deletes
    spc_edit: SpcEdit | None = None
    sync_edits: tuple[SyncEdit, ...] = ()
    spc_notes: tuple[str, ...] = ()
    steps: list[Operation] = list(writes) if fresh else []
    extra: list[Issue] = []
    unguarded: list[Issue] = []
    blocked: list[str] = []
    reasons: list[str] = []
    if spc is not None:
        spc_where = _where(
            ArmKind.SPC, _cluster_object(raw, ArmKind.SPC, ns, spc.name), spc.name, arm, local_only
        )
        wheres: dict[str, _Where] = {}
        for list_name in LIST_NAMES:
            sync = state.sync(list_name)
            if sync is not None:
                wheres[list_name] = _sync_where(sync, raw, arm, local_only, spc_where)
        original, before_text = spc.objects, spc.raw_objects
        if spc_where.resource is not None:
            found = _arm_objects(spc_where)
            if isinstance(found, str):
                extra.append(Issue("arm-format", f"SecretProviderClass {spc.name}", found))
            else:
                original, before_text = found
        bases = {name: _sync_base(s, spc.name, wheres[name]) for name in wheres if (s := state.sync(name))}
        token = f"aio-certs-{plan_id}-{revision}"
        sync_edits = _sync_edits(state, spc.name, resolved, writes, token, wheres)
        other = _other_sources(raw, ns, spc.name, arm)
        mappings = {name: b.mappings for name, b in bases.items()}
        grown, final = _spc_objects(original, resolved, sync_edits, mappings, other)
        after = dict(mappings) | {e.list_name: e.after for e in sync_edits}
        kept_for_others = _kept_for_others(resolved, other)
        grown_text = _text(grown, original, before_text)
        # Serialising thousands of objects is the costliest part of planning: do it once when it can.
        final_text = grown_text if final == grown else _text(final, original, before_text)
        was = {o.object_name: o for o in original}
        added = tuple(o.object_name for o in grown if was.get(o.object_name) != o)
        kept = set(_names(final))
        removed = tuple(n for n in _names(grown) if n not in kept)
        owner, target = spc_where.owner, spc_where.target()
        if tuple(final) != original:
            spc_edit = SpcEdit(
                ns, spc.name, spc.resource_version, before_text, final_text, added, removed, owner, target
            )
        spc_notes = _spc_notes(spc, final, after, other, kept_for_others, edited=spc_edit is not None)
        if added:
            steps.append(
                SpcEdit(ns, spc.name, spc.resource_version, before_text, grown_text, added, (), owner, target)
            )
        steps.extend(sync_edits)
        if removed:
            # After a grow step the precondition is the version (or ETag) that step left (see SpcEdit).
            version = None if added else spc.resource_version
            second = target if not added or target is None else ArmTarget(target.resource_id, None)
            steps.append(SpcEdit(ns, spc.name, version, grown_text, final_text, (), removed, owner, second))
        edited = [("SecretProviderClass", spc.name, spc_where)] if spc_edit is not None else []
        edited += [("SecretSync", e.name, wheres[e.list_name]) for e in sync_edits]
        for kind, name, where in edited:
            if where.why_not is not None:
                blocked.append(f"{kind} {ns}/{name}")
                reasons.append(where.why_not)
            elif where.resource is not None and where.resource.etag is None:
                # Whether the provider returns ETags is unconfirmed (docs/domain.md §9.4): say so.
                unguarded.append(
                    Issue(
                        "arm-no-etag",
                        f"{kind} {ns}/{name}",
                        f"ARM gave no ETag for {kind} {name}: the write through ARM cannot be guarded "
                        "against a change made in between (the official CLI's writes are not either)",
                    )
                )
        extra += _drift_problems(state, resolved, wheres, rebasing=not fresh)
    if blocked:
        ids = _site_ids(arm, raw, ns, spc.name if spc is not None else None)
        extra.insert(0, _unavailable_problem(changes, blocked, "; ".join(dict.fromkeys(reasons)), ids))
    steps.extend(deletes)
    arm_lines = _arm_managed(raw, ns, spc_edit, sync_edits)
    arm_issues = tuple(Issue("arm-managed", subject, line) for subject, line in arm_lines)
    return Plan(
        plan_id=plan_id,
        changes=changes,
        problems=problems + tuple(extra),
        warnings=warnings + arm_issues + tuple(unguarded),
        vault_writes=writes,
        vault_deletes=deletes,
        spc_edit=spc_edit,
        sync_edits=sync_edits,
        spc_notes=spc_notes,
        arm_managed=tuple(line for _, line in arm_lines),
        steps=tuple(Step(i, op) for i, op in enumerate(steps)),
        resolved=resolved,
        created_at=now,
        namespace=ns,
        revision=revision,
        local_only=local_only,
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
    arm: ArmSnapshot | None = None,
    local_only: bool = False,
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

    ``arm`` is what Azure Resource Manager held when the site was read. Each SPC and SecretSync the plan
    edits is written where :func:`~tui.core.model.arm.owner_of` says its truth lives: an ARM-owned one
    through ARM, its edit computed from ARM's copy and guarded by that copy's ETag (docs/domain.md
    §9.1); when ARM cannot be written (not read, refused, unreachable) the plan is refused with the
    equivalent ``az iot ops`` commands, unless ``local_only`` asks to write the cluster copy anyway
    (each such edit is :attr:`SpcEdit.drift` and warned about).
    """
    spc_name = state.opcua_spc
    other = _other_sources(raw, state.namespace, spc_name, arm)
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
    named, resolved = _named(changes, checked.resolved)
    return _build(
        plan_id,
        named,
        state,
        resolved,
        checked.problems,
        checked.warnings,
        raw,
        now,
        revision=0,
        vault_secrets=vault_secrets,
        arm=arm,
        local_only=local_only,
    )


def _named(changes: ChangeSet, resolved: Sequence[Resolved]) -> tuple[ChangeSet, tuple[Resolved, ...]]:
    """The changes with the file name of each "add from Key Vault" that left it to the content filled in
    as validation derived it, so the plan's lines, its ``--json`` and the journal name the real entry
    (``add issuer/myca.crt``), never a placeholder; a rebase then keeps that name."""
    out = list(changes.changes)
    fixed = list(resolved)
    for i, r in enumerate(resolved):
        change = r.change
        if isinstance(change, AddVaultSecret) and change.target_key is None and r.target_key is not None:
            named = replace(change, target_key=r.target_key)
            out[r.index] = named
            fixed[i] = replace(r, change=named)
    if fixed == list(resolved):
        return changes, tuple(resolved)
    return replace(changes, changes=tuple(out)), tuple(fixed)


def rebase_plan(
    plan: Plan,
    new_state: ClusterState,
    *,
    raw: RawSnapshot | None = None,
    read_only: bool = False,
    arm: ArmSnapshot | None = None,
) -> Plan:
    """Recompute the SPC and SecretSync edits of ``plan`` against fresh objects, after a 409 (or ARM's
    412: ``arm`` is then ARM read again, and the edits written through ARM carry its new ETags).

    The vault writes come first in every plan, so by the time a cluster write conflicts they are done:
    the rebased plan keeps them (and the deletes) in its fields but its steps start at the cluster
    edits, judged against ``new_state`` with their new resource versions, and end with the vault
    deletes. Edits of this plan already in place (a mapping added before the conflict) are not redone.
    If the changes no longer apply (someone else took the target key, removed the CA a CRL needs...)
    the rebased plan carries the problems and is not applicable. When every edit has landed already the
    rebased plan has no cluster steps and no problems: only its vault deletes (if any) remain to run.
    """
    other = _other_sources(raw, new_state.namespace, new_state.opcua_spc, arm)
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
        arm=arm,
        local_only=plan.local_only,
    )
