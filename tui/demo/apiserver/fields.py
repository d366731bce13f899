"""Field ownership (``metadata.managedFields``) and server-side apply, as the API server keeps them.

The real server delegates both to ``sigs.k8s.io/structured-merge-diff`` (``merge/update.go``) through
``k8s.io/apimachinery/pkg/util/managedfields`` (docs/domain.md §1.3). This module reproduces what the
demo's writers rely on, over plain dicts and without schemas:

- A **field set** is a set of paths; each path element is spelled as in ``fieldsV1`` (``f:data``,
  ``f:ca.crt``, ``k:{"uid":"..."}`` for an item of ``metadata.ownerReferences``, a list keyed by uid,
  ``v:"name"`` for an item of ``metadata.finalizers``, a set), and ``.`` marks a list item itself.
  Maps are walked to their leaves (an empty map is a leaf); other lists are atomic leaves. That is the
  shape of every field the demo's writers use: Secret and ConfigMap ``data``, labels, annotations,
  owner references, and the specs and statuses of custom resources (whose lists the demo treats as
  atomic, the CRD default without ``x-kubernetes-list-type``).
- **Update** (create, PUT, the non-apply patches): the fields the write added or changed move to the
  writer; fields it removed leave every manager (``Updater.Update``).
- **Apply**: the applied configuration is merged into the live object; fields the manager applied last
  time and no longer applies are removed unless another manager owns them (``Updater.prune``); a field
  the merge changes that another manager owns is a conflict, refused unless ``force``, which takes it
  over (``Updater.update``); the manager then owns exactly what it applied.

Not reproduced: conversion between versions, the cap of ten Update managers, the "." member of maps a
write adds, and the last-applied annotation of client-side apply.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

Path = tuple[str, ...]
FieldSet = frozenset[Path]

APPLY, UPDATE = "Apply", "Update"
ITEM = "."  # the member element of a list item (fieldsV1 spells an item's own presence this way)

# Metadata the field manager never tracks (apimachinery managedfields/internal/stripmeta.go).
_STRIPPED_META = frozenset(
    {
        "name",
        "namespace",
        "creationTimestamp",
        "selfLink",
        "uid",
        "clusterName",
        "generation",
        "managedFields",
        "resourceVersion",
    }
)
# Lists of ObjectMeta that are not atomic (k8s.io/apimachinery ObjectMeta: ownerReferences is
# +listType=map keyed by uid, finalizers +listType=set).
_KEYED_LISTS: dict[Path, str] = {("f:metadata", "f:ownerReferences"): "uid"}
_SET_LISTS = frozenset({("f:metadata", "f:finalizers")})


@dataclass(frozen=True)
class Manager:
    """One managedFields entry: who, by which operation (and subresource), owning which fields."""

    manager: str
    operation: str
    subresource: str = ""
    api_version: str = ""
    time: str = ""
    fields: FieldSet = frozenset()

    @property
    def identity(self) -> tuple[str, str, str]:
        """What makes two entries the same manager (apimachinery ``BuildManagerIdentifier``)."""
        return (self.manager, self.operation, self.subresource)

    def describe(self) -> str:
        """The manager as a conflict message names it (apimachinery ``printManager``)."""
        text = json.dumps(self.manager)
        if self.subresource:
            text += f" with subresource {json.dumps(self.subresource)}"
        if self.operation == UPDATE:
            text += f" using {self.api_version}"
        return text


@dataclass(frozen=True)
class Conflict:
    """A field the apply would change that another manager owns."""

    manager: Manager
    path: Path


class ApplyConflicts(Exception):
    """The apply was refused: other managers own fields it would change (409 without ``force``)."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        super().__init__(f"{len(conflicts)} conflict(s)")
        self.conflicts = conflicts


# ---- paths and values --------------------------------------------------------------------------


def _item_key(key_field: str, item: Any) -> str | None:
    if isinstance(item, dict) and key_field in item:
        return "k:" + json.dumps({key_field: item[key_field]}, separators=(",", ":"))
    return None


def leaves(obj: Mapping[str, Any], *, status: bool | None = None) -> dict[Path, Any]:
    """Every tracked field of ``obj`` with its value. ``status`` True keeps only ``status``, False drops
    it (the main endpoint of a kind with a status subresource), None keeps everything."""
    out: dict[Path, Any] = {}

    def walk(value: Any, path: Path) -> None:
        if path in _KEYED_LISTS and isinstance(value, list):
            key_field = _KEYED_LISTS[path]
            for item in value:
                key = _item_key(key_field, item)
                if key is None:  # malformed item: the list is as good as atomic
                    out[path] = value
                    return
            for item in value:
                item_path = (*path, _item_key(key_field, item) or "")
                out[(*item_path, ITEM)] = True
                for name, child in item.items():
                    walk(child, (*item_path, f"f:{name}"))
            return
        if path in _SET_LISTS and isinstance(value, list):
            for item in value:
                out[(*path, "v:" + json.dumps(item))] = True
            return
        if isinstance(value, dict) and value:
            for name, child in value.items():
                walk(child, (*path, f"f:{name}"))
            return
        out[path] = value

    for name, value in obj.items():
        if name in ("apiVersion", "kind"):
            continue
        if status is True and name != "status":
            continue
        if status is False and name == "status":
            continue
        if name == "metadata" and isinstance(value, dict):
            for meta_name, meta_value in value.items():
                if meta_name not in _STRIPPED_META:
                    walk(meta_value, ("f:metadata", f"f:{meta_name}"))
            continue
        walk(value, (f"f:{name}",))
    return out


def compare(old: Mapping[Path, Any], new: Mapping[Path, Any]) -> tuple[FieldSet, FieldSet, FieldSet]:
    """``(added, modified, removed)`` between two leaf maps (structured-merge-diff ``Compare``)."""
    added = frozenset(p for p in new if p not in old)
    removed = frozenset(p for p in old if p not in new)
    modified = frozenset(p for p, v in new.items() if p in old and old[p] != v)
    return added, modified, removed


def path_text(path: Path) -> str:
    """``.data.ca.crt``, ``.metadata.ownerReferences[uid="..."]``: a path as conflict messages print it
    (structured-merge-diff ``fieldpath.Path.String``)."""
    out = []
    for element in path:
        if element == ITEM:
            continue
        prefix, _, rest = element.partition(":")
        if prefix == "f":
            out.append("." + rest)
        elif prefix == "k":
            parts = json.loads(rest)
            out.append("[" + ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(parts.items())) + "]")
        elif prefix == "v":
            out.append(f"[={rest}]")
    return "".join(out)


# ---- the managedFields wire form ------------------------------------------------------------------


def encode_fields(fields: Iterable[Path]) -> dict[str, Any]:
    """A field set as ``fieldsV1``: nested maps, ``{}`` at each leaf."""
    root: dict[str, Any] = {}
    for path in sorted(fields):
        node = root
        for element in path:
            node = node.setdefault(element, {})
    return root


def decode_fields(tree: Any, prefix: Path = ()) -> FieldSet:
    """The field set of a ``fieldsV1`` tree."""
    if not isinstance(tree, dict):
        return frozenset()
    out: set[Path] = set()
    for element, child in tree.items():
        path = (*prefix, str(element))
        if isinstance(child, dict) and child:
            out |= decode_fields(child, path)
        else:
            out.add(path)
    return frozenset(out)


def decode_managers(entries: Any) -> list[Manager]:
    """The managers of a stored object's ``metadata.managedFields`` (malformed entries are dropped)."""
    out: list[Manager] = []
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or not entry.get("manager"):
            continue
        out.append(
            Manager(
                manager=str(entry["manager"]),
                operation=str(entry.get("operation") or UPDATE),
                subresource=str(entry.get("subresource") or ""),
                api_version=str(entry.get("apiVersion") or ""),
                time=str(entry.get("time") or ""),
                fields=decode_fields(entry.get("fieldsV1")),
            )
        )
    return out


def encode_managers(managers: Iterable[Manager]) -> list[dict[str, Any]]:
    """``metadata.managedFields``, sorted as the server sorts them (operation, time, manager,
    subresource: apimachinery ``sortEncodedManagedFields``); managers that own nothing are left out."""
    kept = [m for m in managers if m.fields]
    kept.sort(key=lambda m: (m.operation, m.time, m.manager, m.subresource))
    out = []
    for m in kept:
        entry: dict[str, Any] = {
            "manager": m.manager,
            "operation": m.operation,
            "apiVersion": m.api_version,
            "time": m.time,
            "fieldsType": "FieldsV1",
            "fieldsV1": encode_fields(m.fields),
        }
        if m.subresource:
            entry["subresource"] = m.subresource
        out.append(entry)
    return out


# ---- the two operations ---------------------------------------------------------------------------


def _replace(managers: list[Manager], index: int, fields: FieldSet) -> None:
    m = managers[index]
    managers[index] = Manager(m.manager, m.operation, m.subresource, m.api_version, m.time, fields)


def record_update(
    managers: list[Manager],
    old: Mapping[Path, Any],
    new: Mapping[Path, Any],
    writer: Manager,
) -> list[Manager]:
    """The managers after an Update-style write by ``writer`` (``writer.fields`` is ignored)."""
    added, modified, removed = compare(old, new)
    changed = added | modified
    out = list(managers)
    for i, m in enumerate(out):
        if m.identity != writer.identity:
            _replace(out, i, m.fields - changed - removed)
    mine = next((i for i, m in enumerate(out) if m.identity == writer.identity), None)
    if not changed:
        # Nothing taken: the writer's entry (and its time) stays as it was (managedFieldsUpdater).
        if mine is not None:
            _replace(out, mine, out[mine].fields - removed)
        return out
    previous = out[mine].fields - removed if mine is not None else frozenset()
    entry = Manager(
        writer.manager, UPDATE, writer.subresource, writer.api_version, writer.time, previous | changed
    )
    if mine is None:
        out.append(entry)
    else:
        out[mine] = entry
    return out


def merge_applied(live: Any, config: Any, path: Path = ()) -> Any:
    """``config`` merged into ``live``: maps merge, keyed lists merge by key, sets unite, the rest is
    replaced (structured-merge-diff ``TypedValue.Merge``)."""
    if path in _KEYED_LISTS and isinstance(live, list) and isinstance(config, list):
        key_field = _KEYED_LISTS[path]
        merged = list(live)
        for item in config:
            key = _item_key(key_field, item)
            at = next((i for i, x in enumerate(merged) if key and _item_key(key_field, x) == key), None)
            if at is None:
                merged.append(item)
            else:
                merged[at] = merge_applied(merged[at], item, (*path, key or ""))
        return merged
    if path in _SET_LISTS and isinstance(live, list) and isinstance(config, list):
        return list(live) + [x for x in config if x not in live]
    if isinstance(live, dict) and isinstance(config, dict):
        out = dict(live)
        for name, value in config.items():
            child = (*path, f"f:{name}")
            out[name] = merge_applied(live[name], value, child) if name in live else value
        return out
    return config


def remove_paths(obj: dict[str, Any], paths: Iterable[Path]) -> dict[str, Any]:
    """``obj`` without the fields at ``paths`` (maps emptied by the removal go too)."""
    result: dict[str, Any] = json.loads(json.dumps(obj))  # a deep copy of plain JSON
    for path in sorted(paths, key=len, reverse=True):
        _remove_one(result, path)
    return result


def _remove_one(node: Any, path: Path) -> bool:
    """Remove ``path`` under ``node``; True when ``node`` is left empty (so its parent drops it)."""
    if not path:
        return False
    head, rest = path[0], path[1:]
    if isinstance(node, dict) and head.startswith("f:"):
        name = head[2:]
        if name not in node:
            return False
        if not rest or _remove_one(node[name], rest):
            del node[name]
        return not node
    if isinstance(node, list) and head.startswith(("k:", "v:")):
        for i, item in enumerate(node):
            if head.startswith("v:") and "v:" + json.dumps(item) == head:
                del node[i]
                break
            if head.startswith("k:") and isinstance(item, dict):
                key = json.loads(head[2:])
                if all(item.get(k) == v for k, v in key.items()):
                    # The item goes with its member element, or once its last field is gone.
                    if not rest or rest == (ITEM,) or (_remove_one(item, rest) and not item):
                        del node[i]
                    break
        return not node
    return False


def apply(
    live: dict[str, Any],
    config: dict[str, Any],
    managers: list[Manager],
    applier: Manager,
    *,
    force: bool,
    status: bool | None = None,
) -> tuple[dict[str, Any], list[Manager]]:
    """Server-side apply of ``config`` onto ``live`` (``{}`` to create) by ``applier``.

    Returns the new object and managers; raises :class:`ApplyConflicts` when other managers own fields
    the apply changes and ``force`` is not set. ``status`` scopes the tracked fields as in
    :func:`leaves`. Metadata the server owns is left to the caller.
    """
    config_leaves = leaves(config, status=status)
    config_set = frozenset(config_leaves)
    mine = next((m for m in managers if m.identity == applier.identity), None)
    last = mine.fields if mine is not None else frozenset()
    merged = merge_applied(live, config)
    others = [m for m in managers if m.identity != applier.identity]
    owned_elsewhere: set[Path] = set()
    for m in others:
        owned_elsewhere |= m.fields
    # Prune what this manager applied last time and dropped now, unless someone else owns it.
    prune = {p for p in last - config_set if p not in owned_elsewhere}
    if prune:
        merged = remove_paths(merged, prune)
    live_leaves = leaves(live, status=status)
    merged_leaves = leaves(merged, status=status)
    added, modified, removed = compare(live_leaves, merged_leaves)
    changed = added | modified
    conflicts = [Conflict(m, p) for m in others for p in sorted(m.fields & changed)]
    if conflicts and not force:
        raise ApplyConflicts(conflicts)
    out: list[Manager] = []
    for m in others:
        kept = m.fields - changed - removed
        out.append(Manager(m.manager, m.operation, m.subresource, m.api_version, m.time, kept))
    time = applier.time if (changed or removed or mine is None or last != config_set) else mine.time
    out.append(Manager(applier.manager, APPLY, applier.subresource, applier.api_version, time, config_set))
    return merged, out
