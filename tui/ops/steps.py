"""One plan step against the adapters: done as planned, redone after an interruption, or undone.

- :func:`run_planned` performs a step exactly as planned, with the planned resourceVersion as the
  precondition (a 409 surfaces as :class:`~tui.cluster.writes.ConflictError` for the caller to re-plan).
- :func:`run_resumed` performs a step of an interrupted apply: it reads the object first, does nothing
  when the step's effect is already there (the process died after the write but before journaling it),
  and otherwise applies the step's delta to the current object (:mod:`tui.ops.deltas`).
- :func:`undo` reverses a step's delta on the current object (rollback); an undo of a step that never
  took effect changes nothing.

Each returns a small JSON-able dict for the journal (versions written, what happened).
"""

from __future__ import annotations

from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from azure.keyvault.secrets import SecretClient

from tui.cluster.writes import ClusterWriter, WriteError
from tui.core import resources as rk
from tui.core.plan_ops import SpcEdit, Step, SyncEdit, VaultDelete, VaultWrite
from tui.ops import deltas
from tui.ops.vault_ops import (
    SecretState,
    delete_secret,
    read_secret,
    recover_secret,
    restore_version,
    write_secret,
)
from tui.vault.errors import VaultError

Result = dict[str, Any]


@dataclass
class Adapters:
    """What steps run against: the guarded cluster writer and the vault client (None: no vault known)."""

    kube: ClusterWriter
    vault: SecretClient | None

    def need_vault(self, step: Step) -> SecretClient:
        """The vault client, or a one-line error when the plan needs a vault and none is configured."""
        if self.vault is None:
            raise VaultError(f"{step.target}: no Key Vault is known (the SPC names none and "
                             "AIO_CERTS_VAULT_URL/--vault-url is not set)")
        return self.vault


def before_write(adapters: Adapters, step: Step) -> Result:
    """What to journal in ``step-start`` so the step can be undone even if the process dies mid-write.

    For a vault write: whether the secret existed and its current version (the one to restore).
    """
    if isinstance(step.op, VaultWrite):
        state = read_secret(adapters.need_vault(step), step.op.secret_name)
        return {"existed": state.exists, "previous_version": state.version,
                "previous_same": state.exists and state.value == step.op.value, "soft_deleted": state.deleted}
    return {}


def _spc_rv(op: SpcEdit, versions: MutableMapping[str, str]) -> str:
    rv = op.resource_version or versions.get(op.key)
    if rv is None:
        raise WriteError(f"updating SecretProviderClass {op.key}: no resourceVersion to write against")
    return rv


def run_planned(adapters: Adapters, step: Step, versions: MutableMapping[str, str]) -> Result:
    """Perform ``step`` as planned. ``versions`` carries the resourceVersions earlier steps left."""
    op = step.op
    if isinstance(op, VaultWrite):
        return {"version": write_secret(adapters.need_vault(step), op)}
    if isinstance(op, VaultDelete):
        return {"vault": delete_secret(adapters.need_vault(step), op)}
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


def _run_sync(kube: ClusterWriter, op: SyncEdit, mappings: deltas.Pairs, versions: MutableMapping[str, str],
              *, planned: bool, current: dict[str, Any] | None = None) -> Result:
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
        obj = kube.create_secret_sync(op.namespace, op.name, spc_name=op.spc_name,
                                      service_account=op.service_account, mappings=mappings,
                                      secret_type=op.secret_type)
        return {"sync": "created", **_remember(versions, op.key, obj)}
    if action == "delete":
        gone = kube.delete_secret_sync(op.namespace, op.name, resource_version=rv)
        versions.pop(op.key, None)
        return {"sync": "deleted" if gone else "absent"}
    if rv is None:
        raise WriteError(f"updating SecretSync {op.key}: no resourceVersion to write against")
    obj = kube.update_secret_sync_mappings(op.namespace, op.name, mappings, resource_version=str(rv),
                                           force_synchronization=op.force_synchronization)
    return {"sync": "updated", **_remember(versions, op.key, obj)}


def run_resumed(adapters: Adapters, step: Step, versions: MutableMapping[str, str]) -> Result:
    """Perform ``step`` of an interrupted apply against the objects as they are now (idempotent)."""
    op = step.op
    if isinstance(op, VaultWrite):
        client = adapters.need_vault(step)
        state = read_secret(client, op.secret_name)
        if state.exists and state.value == op.value and state.content_type == op.content_type:
            return {"version": state.version, "already": True}
        return {"version": write_secret(client, op)}
    if isinstance(op, VaultDelete):
        return {"vault": delete_secret(adapters.need_vault(step), op)}
    kube = adapters.kube
    if isinstance(op, SpcEdit):
        current = kube.get(rk.SECRET_PROVIDER_CLASSES, op.namespace, op.name)
        if current is None:
            raise WriteError(f"updating SecretProviderClass {op.key}: it no longer exists")
        objects = ((current.get("spec") or {}).get("parameters") or {}).get("objects")
        if deltas.spc_done(objects, op):
            return {"already": True, **_remember(versions, op.key, current)}
        rv = str((current.get("metadata") or {}).get("resourceVersion"))
        obj = kube.patch_spc_objects(op.namespace, op.name, deltas.spc_forward(objects, op),
                                     resource_version=rv)
        return _remember(versions, op.key, obj)
    assert isinstance(op, SyncEdit)
    current_sync = kube.get(rk.SECRET_SYNCS, op.namespace, op.name)
    pairs = deltas.pairs_of(current_sync)
    if deltas.mappings_done(pairs, op) and not op.force_synchronization:
        return {"already": True}
    return _run_sync(kube, op, deltas.mappings_forward(pairs, op), versions, planned=False,
                     current=current_sync)


def undo(adapters: Adapters, step: Step, started: Result) -> Result:
    """Reverse ``step`` (which may or may not have taken effect). ``started`` is its step-start record."""
    op = step.op
    if isinstance(op, VaultWrite):
        return _undo_vault_write(adapters.need_vault(step), op, started)
    if isinstance(op, VaultDelete):
        client = adapters.need_vault(step)
        state = read_secret(client, op.secret_name)
        if state.exists:
            return {"vault": "present"}
        if state.deleted:
            recover_secret(client, op.secret_name)
            return {"vault": "recovered"}
        raise VaultError(f"undoing the delete of secret {op.secret_name}: it was purged and cannot be "
                         "recovered; upload the file again")
    kube = adapters.kube
    if isinstance(op, SpcEdit):
        current = kube.get(rk.SECRET_PROVIDER_CLASSES, op.namespace, op.name)
        if current is None:
            raise WriteError(f"restoring SecretProviderClass {op.key}: it no longer exists")
        objects = ((current.get("spec") or {}).get("parameters") or {}).get("objects")
        restored = deltas.spc_backward(objects, op)
        if deltas.same_objects(objects, restored):
            return {"already": True}
        rv = str((current.get("metadata") or {}).get("resourceVersion"))
        obj = kube.patch_spc_objects(op.namespace, op.name, restored, resource_version=rv)
        return {"resource_version": (obj.get("metadata") or {}).get("resourceVersion")}
    assert isinstance(op, SyncEdit)
    current_sync = kube.get(rk.SECRET_SYNCS, op.namespace, op.name)
    pairs = deltas.pairs_of(current_sync)
    restored_pairs = deltas.mappings_backward(pairs, op)
    if current_sync is not None and pairs == restored_pairs:
        return {"already": True}
    if current_sync is None and not restored_pairs:
        return {"already": True}
    plain = SyncEdit(op.namespace, op.name, op.list_name, None, op.after, restored_pairs, "update",
                     op.spc_name, op.service_account, op.secret_type)
    return _run_sync(kube, plain, restored_pairs, {}, planned=False, current=current_sync)


def _undo_vault_write(client: SecretClient, op: VaultWrite, started: Result) -> Result:
    existed = bool(started.get("existed", op.replaces))
    previous = started.get("previous_version")
    if started.get("previous_same"):
        return {"vault": "unchanged"}  # the write stored the value that was already there
    state: SecretState = read_secret(client, op.secret_name)
    if state.exists and state.value != op.value:
        # Not (or no longer) our value: the write never landed, or someone wrote since. Leave it.
        return {"vault": "unchanged"}
    if existed and previous:
        return {"vault": "restored", "version": restore_version(client, op.secret_name, str(previous))}
    if not state.exists and not state.deleted:
        return {"vault": "absent"}
    # Created by this plan: delete and purge, so the name can be used again at once.
    outcome = delete_secret(client, VaultDelete(op.secret_name, True, op.list_name, op.target_key))
    return {"vault": outcome}
