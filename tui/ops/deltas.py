"""What one SPC or SecretSync step changes, as a delta that can be re-applied to a newer object or undone.

A step stores the whole ``before`` and ``after`` of what it edits. When the object has moved on since
(someone else's edit, or our own write landed just before a crash), writing ``after`` would undo the
other change. Instead the step's *delta* — objects/mappings it adds or replaces, and the ones it drops —
is applied to the current value (:func:`spc_forward`, :func:`mappings_forward`), and undone the same way
for a rollback (:func:`spc_backward`, :func:`mappings_backward`). ``*_done`` tells whether the delta is
already in place, which makes resuming idempotent. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tui.core.changes.operations import SpcEdit, SyncEdit
from tui.core.model.spc import SpcObject, parse_objects, serialize_objects

Pairs = tuple[tuple[str, str], ...]
"""``(sourcePath, targetKey)`` pairs in spec order."""


# -- SecretProviderClass objects ---------------------------------------------------------------------


def _by_name(objects: Sequence[SpcObject]) -> dict[str, SpcObject]:
    return {o.object_name: o for o in objects}


def _spc_delta(op: SpcEdit) -> tuple[dict[str, SpcObject], set[str]]:
    """(objects the step puts in place by name, names it takes out)."""
    after = _by_name(parse_objects(op.after))
    before = _by_name(parse_objects(op.before))
    put = {name: obj for name, obj in after.items() if before.get(name) != obj}
    put.update({n: after[n] for n in op.added if n in after})
    dropped = {n for n in before if n not in after} | {n for n in op.removed if n not in after}
    return put, dropped


def _edit_objects(current: str | None, put: dict[str, SpcObject], dropped: set[str]) -> str | None:
    items = [o for o in parse_objects(current) if o.object_name not in dropped]
    for name, obj in put.items():
        for i, existing in enumerate(items):
            if existing.object_name == name:
                items[i] = obj
                break
        else:
            items.append(obj)
    return serialize_objects(items)


def spc_done(current: str | None, op: SpcEdit) -> bool:
    """The step's objects are in place and the ones it drops are gone."""
    put, dropped = _spc_delta(op)
    now = _by_name(parse_objects(current))
    return all(now.get(n) == obj for n, obj in put.items()) and not (dropped & set(now))


DONE = "done"
MISSING = "missing"
FOREIGN = "foreign"


def spc_state(current: str | None, op: SpcEdit) -> str:
    """How a step that was done looks now: :data:`DONE`, :data:`MISSING` (some of its objects are gone,
    nothing else stands in their place: redoing it restores them) or :data:`FOREIGN` (an object of the
    step's names was redefined, or one it dropped was put back: someone else's edit, not to be undone)."""
    put, dropped = _spc_delta(op)
    now = _by_name(parse_objects(current))
    if any(n in now and now[n] != obj for n, obj in put.items()) or dropped & set(now):
        return FOREIGN
    return DONE if all(n in now for n in put) else MISSING


def spc_forward(current: str | None, op: SpcEdit) -> str | None:
    """``current`` with the step's delta applied (None when no object is left)."""
    put, dropped = _spc_delta(op)
    return _edit_objects(current, put, dropped)


def spc_backward(current: str | None, op: SpcEdit) -> str | None:
    """``current`` with the step's delta undone: its objects go back to how ``before`` had them.

    Only what is still the step's own doing is touched: an object someone else has put under the same
    name since (or a dropped one someone re-added) is left alone.
    """
    put, dropped = _spc_delta(op)
    before = _by_name(parse_objects(op.before))
    now = _by_name(parse_objects(current))
    ours = {n for n, obj in put.items() if now.get(n) == obj}
    missing = {n for n in dropped if n not in now}
    restore = {n: before[n] for n in ours | missing if n in before}
    remove = {n for n in ours if n not in before}
    return _edit_objects(current, restore, remove)


def object_names(objects: str | None) -> set[str]:
    """The objectNames an ``objects`` string holds."""
    return {o.object_name for o in parse_objects(objects)}


def keep_objects(restored: str | None, current: str | None, keep: set[str]) -> str | None:
    """``restored`` with the objects named in ``keep`` put back as ``current`` has them (in place when the
    order allows): objects an undo must not take away because something else maps them now."""
    items = list(parse_objects(restored))
    names = {o.object_name for o in items}
    for obj in parse_objects(current):
        if obj.object_name in keep and obj.object_name not in names:
            items.append(obj)
    return serialize_objects(items)


def same_objects(a: str | None, b: str | None) -> bool:
    """Whether two ``objects`` strings hold the same items in the same order (layout aside)."""
    return parse_objects(a) == parse_objects(b)


# -- SecretSync mappings -----------------------------------------------------------------------------


def _map_delta(op: SyncEdit) -> tuple[dict[str, str], set[str]]:
    """(targetKey -> sourcePath the step sets, targetKeys it drops)."""
    before = {t: s for s, t in op.before}
    after = {t: s for s, t in op.after}
    put = {t: s for t, s in after.items() if before.get(t) != s}
    dropped = {t for t in before if t not in after}
    return put, dropped


def _edit_pairs(current: Pairs, put: dict[str, str], dropped: set[str]) -> Pairs:
    out = [(s, t) for s, t in current if t not in dropped]
    for target, source in put.items():
        for i, (_, t) in enumerate(out):
            if t == target:
                out[i] = (source, target)
                break
        else:
            out.append((source, target))
    return tuple(out)


def mappings_done(current: Pairs | None, op: SyncEdit) -> bool:
    """The step's effect is in place: for a delete the SecretSync is gone (``current`` None)."""
    if op.action == "delete":
        return current is None
    if current is None:
        return False
    put, dropped = _map_delta(op)
    now = {t: s for s, t in current}
    return all(now.get(t) == s for t, s in put.items()) and not (dropped & set(now))


def mappings_state(current: Pairs | None, op: SyncEdit) -> str:
    """As :func:`spc_state` for a SecretSync step: a target key of the step mapped to another source, or
    one it dropped mapped again, is :data:`FOREIGN`; target keys simply gone are :data:`MISSING`."""
    if op.action == "delete":
        return DONE if current is None else FOREIGN
    if current is None:
        return MISSING
    put, dropped = _map_delta(op)
    now = {t: s for s, t in current}
    if any(t in now and now[t] != s for t, s in put.items()) or dropped & set(now):
        return FOREIGN
    return DONE if all(t in now for t in put) else MISSING


def mappings_forward(current: Pairs | None, op: SyncEdit) -> Pairs:
    """The mappings after applying the step's delta to ``current`` (None: the SecretSync is absent)."""
    put, dropped = _map_delta(op)
    return _edit_pairs(current or (), put, dropped)


def mappings_backward(
    current: Pairs | None, op: SyncEdit, *, keep_sources: frozenset[str] = frozenset()
) -> Pairs:
    """The mappings with the step's delta undone (empty means: delete the SecretSync).

    As for the SPC, a targetKey someone else has mapped since (or re-added) is left alone, and so is one
    whose source is in ``keep_sources`` (lower case: secrets another writer has given their own value
    since, so the mapping serves their entry now).
    """
    put, dropped = _map_delta(op)
    before = {t: s for s, t in op.before}
    now = {t: s for s, t in current or ()}
    ours = {t for t, s in put.items() if now.get(t) == s and s.lower() not in keep_sources}
    missing = {t for t in dropped if t not in now}
    restore = {t: before[t] for t in ours | missing if t in before}
    remove = {t for t in ours if t not in before}
    return _edit_pairs(current or (), restore, remove)


def pairs_of(obj: Mapping[str, Any] | None) -> Pairs | None:
    """``spec.secretObject.data`` of a SecretSync object as pairs; None when there is no object."""
    if obj is None:
        return None
    spec = obj.get("spec")
    secret_object = spec.get("secretObject") if isinstance(spec, Mapping) else None
    data = secret_object.get("data") if isinstance(secret_object, Mapping) else None
    return tuple(
        (str(item.get("sourcePath") or ""), str(item.get("targetKey") or ""))
        for item in data or []
        if isinstance(item, Mapping)
    )
