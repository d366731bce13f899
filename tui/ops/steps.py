"""One plan step against the adapters: done as planned, redone after an interruption, or undone.

- :func:`run_planned` performs a step exactly as planned, with the planned resourceVersion as the
  precondition (a 409 surfaces as :class:`~tui.cluster.writes.ConflictError` for the caller to re-plan).
- :func:`run_resumed` performs a step of an interrupted apply: it reads the object first, does nothing
  when the step's effect is already there (the process died after the write but before journaling it),
  and otherwise applies the step's delta to the current object (:mod:`tui.ops.deltas`).
- :func:`undo` reverses a step's delta on the current object (rollback); an undo of a step that never
  took effect changes nothing. (Writing the before-image back with the resourceVersion the step left
  as precondition would fail: on a SecretSync that version is stale as soon as the sync controller
  records its status, so the delta is undone on the current object instead.)
- :func:`before_image` is what the ``pending`` journal record keeps for that undo.

Each returns a small dict of what happened (versions written, ``already``...).
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from dataclasses import dataclass
from typing import Any

from tui.cluster.writes import WriteError
from tui.core.changes.journal import ArmBefore, Before, ClusterBefore, VaultBefore, vault_before
from tui.core.changes.operations import SpcEdit, Step, SyncEdit, VaultDelete, VaultWrite
from tui.core.model import resources as rk
from tui.core.model.arm import RESOURCE_ID_ANNOTATION
from tui.core.model.names import OPCUA_LISTS
from tui.ops import arm_steps, deltas
from tui.ops.errors import ArmUnavailable, WriteConflict, WriteRefused
from tui.ops.ports import ArmPort, ClusterPort, VaultPort
from tui.ops.vault_ops import SecretState, read_secret, restore_version, write_secret_checked
from tui.vault.errors import VaultError

Result = dict[str, Any]


@dataclass
class Adapters:
    """What steps run against: the cluster, the vault (None: no vault known) and Azure Resource Manager
    (None: no ARM access), as ports."""

    kube: ClusterPort
    vault: VaultPort | None
    arm: ArmPort | None = None

    def need_arm(self, step: Step) -> ArmPort:
        """ARM, or a one-line error when a step must be written through ARM and there is no access."""
        if self.arm is None:
            raise ArmUnavailable(
                f"{step.target}: Azure Resource Manager owns it and this run has no ARM access (no "
                "Azure credential, or the subscription and resource group are not known)"
            )
        return self.arm

    def need_vault(self, step: Step) -> VaultPort:
        """The vault, or a one-line error when the plan needs a vault and none is configured."""
        if self.vault is None:
            raise VaultError(
                f"{step.target}: no Key Vault is known (the SPC names none and "
                "AIO_CERTS_VAULT_URL/--vault-url is not set)"
            )
        return self.vault


def before_image(adapters: Adapters, step: Step, versions: MutableMapping[str, str]) -> Before:
    """What the step is about to change, for its ``pending`` journal record (and a later undo).

    A vault step reads the secret now (its value is kept only when it is a certificate or CRL); a
    cluster step records what the plan expects to find, at the resourceVersion it will write against.
    """
    op = step.op
    if isinstance(op, VaultWrite | VaultDelete):
        found = adapters.need_vault(step).read(op.secret_name)
        if found is None:
            return vault_before(op.secret_name, None)
        secret, version = found
        return vault_before(op.secret_name, secret, version=version)
    if op.arm is not None:
        return arm_steps.before_image(adapters.need_arm(step), op)
    if isinstance(op, SpcEdit):
        return ClusterBefore(
            "SecretProviderClass",
            op.namespace,
            op.name,
            True,
            op.resource_version or versions.get(op.key),
            objects=op.before,
        )
    assert isinstance(op, SyncEdit)
    return ClusterBefore(
        "SecretSync",
        op.namespace,
        op.name,
        op.action != "create",
        op.resource_version or versions.get(op.key),
        mappings=op.before,
        spc_name=op.spc_name,
        service_account=op.service_account,
        secret_type=op.secret_type,
    )


def _spc_rv(op: SpcEdit, versions: MutableMapping[str, str]) -> str:
    rv = op.resource_version or versions.get(op.key)
    if rv is None:
        raise WriteError(f"updating SecretProviderClass {op.key}: no resourceVersion to write against")
    return rv


def run_planned(
    adapters: Adapters, step: Step, versions: MutableMapping[str, str], before: Before | None = None
) -> Result:
    """Perform ``step`` as planned. ``versions`` carries the resourceVersions (and ARM ETags) earlier
    steps left; ``before`` is the step's before-image (an ARM write sends its body back)."""
    op = step.op
    if isinstance(op, VaultWrite):
        return {"version": write_secret_checked(adapters.need_vault(step), op)}
    if isinstance(op, VaultDelete):
        return {"vault": adapters.need_vault(step).delete(op.secret_name, purge=op.purge)}
    if op.arm is not None:
        image = before if isinstance(before, ArmBefore) else None
        return arm_steps.run_planned(adapters.need_arm(step), op, versions, image)
    kube = adapters.kube
    if isinstance(op, SpcEdit):
        obj = kube.patch_spc_objects(op.namespace, op.name, op.after, resource_version=_spc_rv(op, versions))
        return _remember(versions, op.key, obj)
    assert isinstance(op, SyncEdit)
    return _run_sync(kube, op, op.after, versions, planned=True)


def _remember(versions: MutableMapping[str, str], key: str, obj: dict[str, Any]) -> Result:
    rv = (obj.get("metadata") or {}).get("resourceVersion")
    if rv:
        versions[key] = str(rv)
    return {"resource_version": rv}


def _run_sync(
    kube: ClusterPort,
    op: SyncEdit,
    mappings: deltas.Pairs,
    versions: MutableMapping[str, str],
    *,
    planned: bool,
    current: dict[str, Any] | None = None,
) -> Result:
    """Make the SecretSync hold ``mappings`` (create, update or delete as they require)."""
    if planned:
        action, rv = op.action, op.resource_version or versions.get(op.key)
    else:
        meta = (current or {}).get("metadata") or {}
        rv = meta.get("resourceVersion")
        action = "create" if current is None else ("delete" if not mappings else "update")
    if action == "create":
        if not mappings:
            return {"sync": "absent"}
        obj = kube.create_secret_sync(
            op.namespace,
            op.name,
            spc_name=op.spc_name,
            service_account=op.service_account,
            mappings=mappings,
            secret_type=op.secret_type,
        )
        return {"sync": "created", **_remember(versions, op.key, obj)}
    if action == "delete":
        gone = kube.delete_secret_sync(op.namespace, op.name, resource_version=rv)
        versions.pop(op.key, None)
        return {"sync": "deleted" if gone else "absent"}
    if rv is None:
        raise WriteError(f"updating SecretSync {op.key}: no resourceVersion to write against")
    obj = kube.update_secret_sync_mappings(
        op.namespace,
        op.name,
        mappings,
        resource_version=str(rv),
        force_synchronization=op.force_synchronization,
    )
    return {"sync": "updated", **_remember(versions, op.key, obj)}


def run_resumed(adapters: Adapters, step: Step, versions: MutableMapping[str, str]) -> Result:
    """Perform ``step`` of an interrupted apply against the objects as they are now (idempotent)."""
    op = step.op
    if isinstance(op, VaultWrite):
        vault = adapters.need_vault(step)
        state = read_secret(vault, op.secret_name)
        if state.exists and state.value == op.value and state.content_type == op.content_type:
            return {"version": state.version, "already": True}
        if state.deleted:
            raise WriteRefused(
                f"vault secret {op.secret_name} is deleted but recoverable; recover it (az "
                "keyvault secret recover) or purge it, then resume"
            )
        # The same guard as a first apply: what the plan judged must still be there, nobody may get in.
        return {"version": write_secret_checked(vault, op)}
    if isinstance(op, VaultDelete):
        return {"vault": adapters.need_vault(step).delete(op.secret_name, purge=op.purge)}
    if op.arm is not None:
        return arm_steps.run_resumed(adapters.need_arm(step), op, versions)
    kube = adapters.kube
    if isinstance(op, SpcEdit):
        current = kube.get(rk.SECRET_PROVIDER_CLASSES, op.namespace, op.name)
        if current is None:
            raise WriteError(f"updating SecretProviderClass {op.key}: it no longer exists")
        objects = ((current.get("spec") or {}).get("parameters") or {}).get("objects")
        if deltas.spc_done(objects, op):
            return {"already": True, **_remember(versions, op.key, current)}
        rv = str((current.get("metadata") or {}).get("resourceVersion"))
        obj = kube.patch_spc_objects(
            op.namespace, op.name, deltas.spc_forward(objects, op), resource_version=rv
        )
        return _remember(versions, op.key, obj)
    assert isinstance(op, SyncEdit)
    current_sync = kube.get(rk.SECRET_SYNCS, op.namespace, op.name)
    pairs = deltas.pairs_of(current_sync)
    if deltas.mappings_done(pairs, op) and not op.force_synchronization:
        return {"already": True}
    return _run_sync(
        kube, op, deltas.mappings_forward(pairs, op), versions, planned=False, current=current_sync
    )


def recheck_done(adapters: Adapters, step: Step) -> bool:
    """Whether a step the journal says is done still has its effect (False: it must be done again).

    A resume must not build on a world that moved: a secret written by the apply and deleted by hand
    since would be mapped while missing. Effects simply gone are redone; an effect replaced by someone
    else's (another value, another mapping for the same file, the object itself deleted) is not ours to
    overwrite: :class:`~tui.ops.errors.WriteConflict` (nothing written) says so in one line. A purge whose
    secret exists again is left alone: that secret is someone else's now.
    """
    op = step.op
    if isinstance(op, VaultWrite):
        state = read_secret(adapters.need_vault(step), op.secret_name)
        if state.exists and state.value == op.value:
            return True
        if state.exists:
            raise WriteConflict(
                f"vault secret {op.secret_name} no longer holds the value this apply "
                "wrote (someone wrote it since): roll back, or plan the change again",
                written=False,
            )
        if state.deleted:
            raise WriteRefused(
                f"vault secret {op.secret_name}, written by this apply, was deleted since and "
                "is recoverable; recover it (az keyvault secret recover) or purge it, then "
                "resume"
            )
        return False
    if isinstance(op, VaultDelete):
        return True
    kube = adapters.kube
    if op.arm is not None:
        verdict = arm_steps.recheck_done(adapters.need_arm(step), op)
    elif isinstance(op, SpcEdit):
        current = kube.get(rk.SECRET_PROVIDER_CLASSES, op.namespace, op.name)
        if current is None:
            raise WriteConflict(
                f"SecretProviderClass {op.key}, changed by this apply, was deleted since: "
                "roll back, or plan the change again",
                written=False,
            )
        verdict = deltas.spc_state(((current.get("spec") or {}).get("parameters") or {}).get("objects"), op)
    else:
        assert isinstance(op, SyncEdit)
        current = kube.get(rk.SECRET_SYNCS, op.namespace, op.name)
        if current is None and op.action != "delete":
            raise WriteConflict(
                f"SecretSync {op.key}, changed by this apply, was deleted since: roll back, "
                "or plan the change again",
                written=False,
            )
        pairs = deltas.pairs_of(current)
        verdict = deltas.DONE if op.action == "delete" else deltas.mappings_state(pairs, op)
    if verdict == deltas.FOREIGN:
        kind = "SecretProviderClass" if isinstance(op, SpcEdit) else "SecretSync"
        where = f"ARM {kind} {op.name}" if op.arm is not None else f"{kind} {op.key}"
        raise WriteConflict(
            f"{where} was changed by someone else where this apply had changed it: "
            "roll back, or plan the change again",
            written=False,
        )
    return verdict == deltas.DONE


def users_of(kube: ClusterPort, namespace: str, secret: str, *, spc_name: str | None = None) -> list[str]:
    """``SecretSync/targetKey`` of every mapping in ``namespace`` whose source is ``secret`` (only the
    SecretSyncs reading ``spc_name`` when it is given): who would lose a file if the secret, or the SPC
    object naming it, went away."""
    out = []
    for sync in kube.list(rk.SECRET_SYNCS, namespace):
        spec = sync.get("spec") or {}
        if spc_name is not None and spec.get("secretProviderClassName") != spc_name:
            continue
        name = (sync.get("metadata") or {}).get("name")
        out += [
            f"{name}/{target}"
            for source, target in deltas.pairs_of(sync) or ()
            if source.lower() == secret.lower()
        ]
    return out


def mapping_users(
    adapters: Adapters, namespace: str, secret: str, *, spc_name: str | None = None
) -> list[str]:
    """As :func:`users_of`, reading each ARM-owned SecretSync's mappings from ARM when there is access.

    The cluster copy of an ARM-owned SecretSync follows ARM only once the projection has carried the
    change over: a rollback that has just taken this apply's mapping out of ARM must not find it on a
    cluster copy that still lags and keep the object or secret for it."""
    if adapters.arm is None:
        return users_of(adapters.kube, namespace, secret, spc_name=spc_name)
    out = []
    seen: set[str] = set()
    for sync in adapters.kube.list(rk.SECRET_SYNCS, namespace):
        meta, spec = sync.get("metadata") or {}, sync.get("spec") or {}
        name = str(meta.get("name") or "")
        seen.add(name.lower())
        annotations = meta.get("annotations") or {}
        pairs = deltas.pairs_of(sync) or ()
        reads = spec.get("secretProviderClassName")
        if isinstance(annotations, dict) and annotations.get(RESOURCE_ID_ANNOTATION):
            found = adapters.arm.get(arm_steps.ArmKind.SECRET_SYNC, name)
            pairs = found.mappings if found is not None else ()
            reads = found.properties.get("secretProviderClassName") if found is not None else reads
        if spc_name is not None and reads != spc_name:
            continue
        out += [f"{name}/{t}" for s, t in pairs if s.lower() == secret.lower()]
    for name in OPCUA_LISTS.values():  # made in ARM and not projected yet
        if name.lower() in seen:
            continue
        found = adapters.arm.get(arm_steps.ArmKind.SECRET_SYNC, name)
        if found is None or (
            spc_name is not None and found.properties.get("secretProviderClassName") != spc_name
        ):
            continue
        out += [f"{name}/{t}" for s, t in found.mappings if s.lower() == secret.lower()]
    return out


def undo(
    adapters: Adapters,
    step: Step,
    before: Before | None,
    *,
    namespace: str,
    taken: frozenset[str] = frozenset(),
) -> Result:
    """Reverse ``step`` (which may or may not have taken effect); ``before`` is its before-image.

    Only what is still the step's own doing is put back: a value, object or mapping someone else has
    written since is left alone. Rollbacks run newest first, so by the time an SPC object or a secret
    this apply created is undone, the apply's own mappings are gone: one that something still maps is
    someone else's now and is kept. ``taken`` names secrets whose value another writer has replaced
    since (lower case): a mapping or object of ours that reads one serves their entry now, and stays.
    """
    op = step.op
    if isinstance(op, VaultWrite):
        vault_image = before if isinstance(before, VaultBefore) else None
        users = [] if op.secret_name.lower() in taken else mapping_users(adapters, namespace, op.secret_name)
        if users and not (vault_image is not None and vault_image.existed):
            # Created by this apply, mapped by another entry since: purging it would break that entry.
            return {"vault": "kept", "mapped_by": users}
        return _undo_vault_write(adapters.need_vault(step), op, vault_image)
    if isinstance(op, VaultDelete):
        return _undo_vault_delete(
            adapters.need_vault(step), op, before if isinstance(before, VaultBefore) else None
        )
    kube = adapters.kube
    if isinstance(op, SpcEdit):
        objects, write = _spc_now(adapters, step, op)
        restored = deltas.spc_backward(objects, op)
        leaving = deltas.object_names(objects) - deltas.object_names(restored)
        needed = {n for n in leaving if mapping_users(adapters, op.namespace, n, spc_name=op.name)}
        if needed:
            restored = deltas.keep_objects(restored, objects, needed)
        if deltas.same_objects(objects, restored):
            return {"already": True, **({"kept": sorted(needed)} if needed else {})}
        result = write(restored)
        return {**result, "kept": sorted(needed)} if needed else result
    assert isinstance(op, SyncEdit)
    if op.arm is not None:
        image = before if isinstance(before, ArmBefore) else None
        return arm_steps.undo_sync(adapters.need_arm(step), op, image, keep_sources=taken)
    current_sync = kube.get(rk.SECRET_SYNCS, op.namespace, op.name)
    pairs = deltas.pairs_of(current_sync)
    restored_pairs = deltas.mappings_backward(pairs, op, keep_sources=taken)
    if current_sync is not None and pairs == restored_pairs:
        return {"already": True}
    if current_sync is None and not restored_pairs:
        return {"already": True}
    plain = SyncEdit(
        op.namespace,
        op.name,
        op.list_name,
        None,
        op.after,
        restored_pairs,
        "update",
        op.spc_name,
        op.service_account,
        op.secret_type,
    )
    return _run_sync(kube, plain, restored_pairs, {}, planned=False, current=current_sync)


def _spc_now(
    adapters: Adapters, step: Step, op: SpcEdit
) -> tuple[str | None, Callable[[str | None], Result]]:
    """The SPC's ``objects`` now, on the side the step wrote, and how to write them there against the
    version (resourceVersion or ETag) just read."""
    if op.arm is not None:
        arm = adapters.need_arm(step)
        resource, objects = arm_steps.current_objects(arm, op)
        return objects, lambda text: arm_steps.write_objects(arm, op, resource, text)
    kube = adapters.kube
    current = kube.get(rk.SECRET_PROVIDER_CLASSES, op.namespace, op.name)
    if current is None:
        raise WriteError(f"restoring SecretProviderClass {op.key}: it no longer exists")
    rv = str((current.get("metadata") or {}).get("resourceVersion"))

    def write(text: str | None) -> Result:
        obj = kube.patch_spc_objects(op.namespace, op.name, text, resource_version=rv)
        return {"resource_version": (obj.get("metadata") or {}).get("resourceVersion")}

    return ((current.get("spec") or {}).get("parameters") or {}).get("objects"), write


def _write_back(vault: VaultPort, name: str, before: VaultBefore) -> str:
    """Write the recorded previous value again (a new version), with its content type, tags and expiry."""
    assert before.value is not None
    return vault.restore(
        name, before.value, content_type=before.content_type, tags=before.tags, expires_on=before.expires_on
    )


def _undo_vault_write(vault: VaultPort, op: VaultWrite, before: VaultBefore | None) -> Result:
    existed = before.existed if before is not None else op.replaces
    if before is not None and before.value is not None and before.value.lower() == op.value.lower():
        return {"vault": "unchanged"}  # the write stored the value that was already there
    state: SecretState = read_secret(vault, op.secret_name)
    if state.exists and (state.value or "").lower() != op.value.lower():
        # Not (or no longer) our value: the write never landed, or someone wrote since. Leave it.
        return {"vault": "unchanged"}
    if existed:
        if before is not None and before.value is not None:
            return {"vault": "restored", "version": _write_back(vault, op.secret_name, before)}
        if before is not None and before.version:
            return {"vault": "restored", "version": restore_version(vault, op.secret_name, before.version)}
        raise VaultError(
            f"undoing the write of secret {op.secret_name}: its previous value is not known; "
            "restore it from the secret's versions in Key Vault"
        )
    if not state.exists and not state.deleted:
        return {"vault": "absent"}
    # Created by this plan: delete and purge, so the name can be used again at once.
    return {"vault": vault.delete(op.secret_name, purge=True)}


def _undo_vault_delete(vault: VaultPort, op: VaultDelete, before: VaultBefore | None) -> Result:
    state = read_secret(vault, op.secret_name)
    if state.exists:
        return {"vault": "present"}
    if state.deleted:
        vault.recover(op.secret_name)
        return {"vault": "recovered"}
    if before is not None and before.existed and before.value is not None:
        return {"vault": "rewritten", "version": _write_back(vault, op.secret_name, before)}
    if before is not None and not before.existed:
        return {"vault": "absent"}
    raise VaultError(
        f"undoing the delete of secret {op.secret_name}: it was purged and its value was not "
        "recorded; upload the file again"
    )
