"""One SPC or SecretSync step written through Azure Resource Manager: as planned, resumed, or undone.

The counterpart of the cluster half of :mod:`tui.ops.steps` for objects ARM owns (docs/domain.md §9).
Each write is what the official CLI does: GET the resource, edit ``objects`` or
``objectSecretMapping``, PUT the whole resource back (:func:`~tui.core.changes.arm_write.put_body`);
the port follows the long-running operation to a terminal ``provisioningState``. Preconditions are
ETags instead of resourceVersions: a planned write sends the ETag the plan was made against
(``If-Match``; 412 is an :class:`~tui.arm.errors.ArmConflict` that the apply re-plans), a create sends
``If-None-Match: *``, and a resumed or undone write sends the ETag it has just read. The deltas are the
cluster's (:mod:`tui.ops.deltas`): ARM's ``objects`` text and mappings are the same data.

The projection (Azure Arc) then carries each change to the cluster copy, and the secret sync controller
to the synced Secret, which is what :mod:`tui.ops.sync_wait` waits for.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, MutableMapping
from typing import Any

from tui.core.changes.arm_write import create_sync_body, put_body
from tui.core.changes.journal import ArmBefore
from tui.core.changes.operations import SpcEdit, SyncEdit
from tui.core.model.arm import ArmKind, ArmResource
from tui.ops import deltas
from tui.ops.errors import ArmNotSettled, WriteConflict
from tui.ops.ports import ArmPort

Result = dict[str, Any]
ArmEdit = SpcEdit | SyncEdit

_SETTLED = (None, "Succeeded")
"""``provisioningState`` values of a write that took effect (None: the resource does not report one)."""


def version_key(op: ArmEdit) -> str:
    """Where the ETag a step left is kept between the steps of one run (beside resourceVersions)."""
    assert op.arm is not None
    return f"arm:{op.arm.resource_id.lower()}"


def before_image(arm: ArmPort, op: ArmEdit) -> ArmBefore:
    """The resource as ARM holds it now, ETag and body, for the ``pending`` record (and a later undo)."""
    assert op.arm is not None
    found = arm.get(op.arm_kind, op.name)
    if found is None:
        return ArmBefore(op.arm_kind.value, op.name, op.arm.resource_id, False)
    return ArmBefore(op.arm_kind.value, op.name, op.arm.resource_id, True, found.etag, dict(found.body))


def _settled(op: ArmEdit, found: ArmResource, versions: MutableMapping[str, str]) -> Result:
    """Check the write's terminal state and remember the ETag it left."""
    assert op.arm is not None
    if found.provisioning_state not in _SETTLED:
        raise ArmNotSettled(
            f"writing ARM resource {op.arm.resource_id}: the operation ended {found.provisioning_state}"
        )
    if found.etag:
        versions[version_key(op)] = found.etag
    return {"etag": found.etag, "arm": op.arm.resource_id}


def _planned_etag(op: ArmEdit, versions: MutableMapping[str, str]) -> str | None:
    assert op.arm is not None
    return op.arm.etag or versions.get(version_key(op))


def run_planned(
    arm: ArmPort, op: ArmEdit, versions: MutableMapping[str, str], before: ArmBefore | None
) -> Result:
    """Write ``op`` as planned: ``after`` against the planned ETag (a 412 means someone wrote since).

    ``before`` is the step's before-image, read just now: its body is what goes back with the edit.
    When its ETag is not the planned one the PUT fails with 412 anyway, so nothing of theirs is lost.
    """
    etag = _planned_etag(op, versions)
    body: Mapping[str, Any] = before.body if before is not None and before.existed else {}
    if isinstance(op, SpcEdit):
        sent = put_body(body, objects=op.after, set_objects=True)
        return _settled(op, arm.put(op.arm_kind, op.name, sent, etag=etag), versions)
    if op.action == "create":
        return {
            "sync": "created",
            **_settled(
                op, arm.put(op.arm_kind, op.name, create_sync_body(op, op.after), etag=None), versions
            ),
        }
    if op.action == "delete":
        gone = arm.delete(op.arm_kind, op.name, etag=etag)
        versions.pop(version_key(op), None)
        return {"sync": "deleted" if gone else "absent"}
    sent = put_body(body, mappings=op.after, force_synchronization=op.force_synchronization)
    return {"sync": "updated", **_settled(op, arm.put(op.arm_kind, op.name, sent, etag=etag), versions)}


def _sync_to(
    arm: ArmPort,
    op: SyncEdit,
    current: ArmResource | None,
    mappings: deltas.Pairs,
    versions: MutableMapping[str, str],
    *,
    recreate_from: Mapping[str, Any] | None = None,
) -> Result:
    """Make ARM's SecretSync hold ``mappings`` against its current ETag (create, update or delete)."""
    if current is None:
        if not mappings:
            return {"sync": "absent"}
        # A SecretSync this apply deleted comes back as it was (location, placement, every property).
        body = put_body(recreate_from, mappings=mappings) if recreate_from else create_sync_body(op, mappings)
        return {"sync": "created", **_settled(op, arm.put(op.arm_kind, op.name, body, etag=None), versions)}
    if not mappings:
        gone = arm.delete(op.arm_kind, op.name, etag=current.etag)
        versions.pop(version_key(op), None)
        return {"sync": "deleted" if gone else "absent"}
    sent = put_body(current.body, mappings=mappings, force_synchronization=op.force_synchronization)
    return {
        "sync": "updated",
        **_settled(op, arm.put(op.arm_kind, op.name, sent, etag=current.etag), versions),
    }


def _missing(op: ArmEdit, doing: str) -> WriteConflict:
    assert op.arm is not None
    return WriteConflict(
        f"{doing} ARM resource {op.arm.resource_id}: it no longer exists (deleted through Azure since): "
        "roll back, or plan the change again",
        written=False,
    )


def run_resumed(arm: ArmPort, op: ArmEdit, versions: MutableMapping[str, str]) -> Result:
    """Write ``op`` of an interrupted apply against ARM's current copy (nothing when already there)."""
    current = arm.get(op.arm_kind, op.name)
    if isinstance(op, SpcEdit):
        if current is None:
            raise _missing(op, "updating")
        if deltas.spc_done(current.objects, op):
            if current.etag:
                versions[version_key(op)] = current.etag
            return {"already": True, "etag": current.etag}
        sent = put_body(current.body, objects=deltas.spc_forward(current.objects, op), set_objects=True)
        return _settled(op, arm.put(op.arm_kind, op.name, sent, etag=current.etag), versions)
    pairs = current.mappings if current is not None else None
    if deltas.mappings_done(pairs, op) and not op.force_synchronization:
        return {"already": True}
    return _sync_to(arm, op, current, deltas.mappings_forward(pairs, op), versions)


def recheck_done(arm: ArmPort, op: ArmEdit) -> str:
    """How a step the journal calls done looks in ARM now: ``deltas.DONE``, ``MISSING`` or ``FOREIGN``.

    Raises :class:`~tui.ops.errors.WriteConflict` when the resource the step edited is gone."""
    current = arm.get(op.arm_kind, op.name)
    if isinstance(op, SpcEdit):
        if current is None:
            raise _missing(op, "checking")
        return deltas.spc_state(current.objects, op)
    if op.action == "delete":
        # Gone, or made again by someone else since: either way not this apply's to delete again.
        return deltas.DONE
    if current is None:
        raise _missing(op, "checking")
    return deltas.mappings_state(current.mappings, op)


def current_objects(arm: ArmPort, op: SpcEdit) -> tuple[ArmResource, str | None]:
    """ARM's SPC now and its ``objects`` text (a rollback needs both)."""
    current = arm.get(op.arm_kind, op.name)
    if current is None:
        raise _missing(op, "restoring")
    return current, current.objects


def write_objects(arm: ArmPort, op: SpcEdit, current: ArmResource, objects: str | None) -> Result:
    """Put ``objects`` in ARM's SPC against the ETag just read (a rollback's write)."""
    sent = put_body(current.body, objects=objects, set_objects=True)
    return _settled(op, arm.put(op.arm_kind, op.name, sent, etag=current.etag), {})


def undo_sync(
    arm: ArmPort, op: SyncEdit, before: ArmBefore | None, *, keep_sources: frozenset[str]
) -> Result:
    """Reverse a SecretSync step in ARM: its delta undone on ARM's current copy (see ``steps.undo``)."""
    current = arm.get(op.arm_kind, op.name)
    pairs = current.mappings if current is not None else None
    restored = deltas.mappings_backward(pairs, op, keep_sources=keep_sources)
    if current is not None and pairs == restored:
        return {"already": True}
    if current is None and not restored:
        return {"already": True}
    # The rollback's own write carries no sync token: the restored mapping is a new generation anyway.
    plain = dataclasses.replace(op, force_synchronization=None)
    recreate = before.body if before is not None and before.existed else None
    return _sync_to(arm, plain, current, restored, {}, recreate_from=recreate)


def sync_mappings(arm: ArmPort, name: str) -> deltas.Pairs | None:
    """ARM's mappings of SecretSync ``name`` (None when ARM holds none)."""
    current = arm.get(ArmKind.SECRET_SYNC, name)
    return current.mappings if current is not None else None


def force_sync(arm: ArmPort, name: str, token: str) -> Result:
    """Set a new ``forceSynchronization`` on ARM's SecretSync ``name``: the controller re-reads now.

    Through ARM, not on the cluster copy: the projection would put ARM's value back."""
    current = arm.get(ArmKind.SECRET_SYNC, name)
    if current is None:
        return {"sync": "absent"}
    found = arm.put(
        ArmKind.SECRET_SYNC, name, put_body(current.body, force_synchronization=token), etag=current.etag
    )
    return {"sync": "forced", "etag": found.etag}
