"""The emulated cluster's object store: one resourceVersion counter, an event log, write semantics.

Thread-safe (one lock) so that tests and seeders can ``put`` thousands of objects directly from their
own thread while the server's event loop serves HTTP. Stored dicts are never mutated in place: every
write stores a new dict, so readers may serialise what they got without copying.

Write semantics follow the real API server: optimistic concurrency on ``metadata.resourceVersion``,
server-owned metadata, ``generation`` bumped on spec changes only, the status subresource, finalizers
with ``deletionTimestamp``, background deletion of dependents and of a deleted namespace's content,
no-op writes that neither bump the resourceVersion nor emit an event, field ownership in
``metadata.managedFields`` and server-side apply (:mod:`~tui.demo.apiserver.fields`), and the 1 MiB
limit on a Secret's data (lifted with ``max_secret_bytes=None``, for benchmarks only).
"""

from __future__ import annotations

import contextlib
import copy
import random
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from tui.core.clock import Clock
from tui.core.model.resources import ResourceKind
from tui.demo.apiserver import errors, fields
from tui.demo.apiserver.objects import (
    MAX_SECRET_BYTES,
    canonical,
    check_namespace,
    check_secret_size,
    check_type,
    generate_name,
    metadata,
    normalise_secret_data,
    require,
    rfc3339,
    spec_part,
    strip_server_owned,
    uses_generation,
    validate_name,
)
from tui.demo.apiserver.patch import STRATEGIC, PatchError, apply_patch

ObjectKey = tuple[str | None, str]  # (namespace, name); namespace None for cluster-scoped kinds


@dataclass(frozen=True)
class Change:
    """One committed write, as watchers see it."""

    rv: int
    resource_key: str
    type: str  # ADDED, MODIFIED or DELETED
    obj: dict[str, Any]  # the new state; for DELETED the last state stamped with the deletion's rv
    old: dict[str, Any] | None  # the previous state (None for ADDED), for selector transitions


def _rv_of(obj: dict[str, Any]) -> str | None:
    rv = metadata(obj).get("resourceVersion")
    return str(rv) if rv not in (None, "") else None


def _without_rv(obj: dict[str, Any]) -> dict[str, Any]:
    meta = {k: v for k, v in metadata(obj).items() if k != "resourceVersion"}
    return {**obj, "metadata": meta}


class ObjectStore:
    """In-memory objects of every served kind under one monotonically increasing resourceVersion."""

    def __init__(
        self,
        kinds: Iterable[ResourceKind],
        clock: Clock,
        *,
        history_limit: int = 10_000,
        seed: int | None = None,
        max_secret_bytes: int | None = MAX_SECRET_BYTES,
    ) -> None:
        """``max_secret_bytes`` None lets Secrets exceed what a real cluster stores (benchmarks)."""
        self._kinds: dict[str, ResourceKind] = {k.key: k for k in kinds}
        self._by_type: dict[tuple[str, str], ResourceKind] = {
            (k.group_version, k.kind): k for k in self._kinds.values()
        }
        self._objects: dict[str, dict[ObjectKey, dict[str, Any]]] = {key: {} for key in self._kinds}
        self._clock = clock
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._rv = 0
        self._log: deque[Change] = deque(maxlen=history_limit)
        self._log_floor = 0  # every change with rv > floor is still in the log
        self._compacted = 0  # resumes from an rv below this are refused as expired
        self._listeners: list[Callable[[], None]] = []
        self._dry_run = False  # set for the duration of one dryRun=All request, under the lock
        self.max_secret_bytes = max_secret_bytes

    # ---- reading -------------------------------------------------------------------------------

    @property
    def kinds(self) -> dict[str, ResourceKind]:
        """Served kinds by resource key."""
        return self._kinds

    def kind(self, resource_key: str) -> ResourceKind:
        """The kind for a resource key; ``KeyError`` if it is not served."""
        return self._kinds[resource_key]

    def kind_of(self, obj: dict[str, Any]) -> ResourceKind:
        """The served kind of an object from its ``apiVersion`` and ``kind``."""
        try:
            return self._by_type[(obj.get("apiVersion", ""), obj.get("kind", ""))]
        except KeyError:
            raise KeyError(
                f"not a served kind: apiVersion={obj.get('apiVersion')!r} kind={obj.get('kind')!r}"
            ) from None

    @property
    def resource_version(self) -> int:
        """The latest committed resourceVersion."""
        with self._lock:
            return self._rv

    def get(self, resource_key: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """The stored object (shared: do not mutate), or None."""
        kind = self._kinds[resource_key]
        with self._lock:
            return self._objects[resource_key].get((namespace if kind.namespaced else None, name))

    def snapshot(self, resource_key: str, namespace: str | None = None) -> tuple[int, list[dict[str, Any]]]:
        """``(resourceVersion, objects)`` sorted by namespace and name; all namespaces when None."""
        with self._lock:
            table = self._objects[resource_key]
            rv = self._rv
            if namespace is None:
                items = list(table.items())
            else:
                items = [(k, v) for k, v in table.items() if k[0] == namespace]
        items.sort(key=lambda kv: (kv[0][0] or "", kv[0][1]))
        return rv, [v for _, v in items]

    def changes_after(self, rv: int) -> list[Change]:
        """Changes committed after ``rv``; raises 410 Gone if some were already dropped from the log."""
        with self._lock:
            if rv < self._log_floor:
                raise errors.gone(f"too old resource version: {rv} ({self._log_floor})")
            if not self._log or self._log[-1].rv <= rv:
                return []
            # The log is ordered by rv; walk back from the end since watchers are usually close behind.
            out: list[Change] = []
            for change in reversed(self._log):
                if change.rv <= rv:
                    break
                out.append(change)
            out.reverse()
            return out

    def check_resume(self, rv: int) -> None:
        """Raise 410 Gone when a watch or list may not resume from ``rv`` (compacted or out of the log)."""
        with self._lock:
            floor = max(self._compacted, self._log_floor)
            if rv < floor:
                raise errors.gone(f"too old resource version: {rv} ({floor})")

    def compact(self) -> int:
        """Refuse resumes from any resourceVersion older than now, as after an etcd compaction."""
        with self._lock:
            self._compacted = self._rv
            return self._rv

    # ---- listeners -----------------------------------------------------------------------------

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` after every commit (under the lock: it must be quick and must not write)."""
        with self._lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: Callable[[], None]) -> None:
        """Stop calling ``listener``."""
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    # ---- writing -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _writing(self, dry_run: bool) -> Iterator[None]:
        """Hold the lock for one write; with ``dry_run`` every check runs but nothing is committed."""
        with self._lock:
            self._dry_run = dry_run
            try:
                yield
            finally:
                self._dry_run = False

    def _commit(
        self,
        kind: ResourceKind,
        key: ObjectKey,
        change_type: str,
        new: dict[str, Any],
        old: dict[str, Any] | None,
    ) -> dict[str, Any]:
        if self._dry_run:
            # The object as it would be stored, without a new resourceVersion, event or side effect.
            rv = metadata(old).get("resourceVersion", "") if old is not None else ""
            return {**new, "metadata": {**metadata(new), "resourceVersion": rv}}
        self._rv += 1
        stamped = {**new, "metadata": {**metadata(new), "resourceVersion": str(self._rv)}}
        if change_type == "DELETED":
            self._objects[kind.key].pop(key, None)
        else:
            self._objects[kind.key][key] = stamped
        if len(self._log) == self._log.maxlen:
            self._log_floor = self._log[0].rv
        self._log.append(Change(self._rv, kind.key, change_type, stamped, old))
        for listener in self._listeners:
            listener()
        return stamped

    def _namespace_exists(self, namespace: str | None) -> bool:
        namespaces = self._objects.get("v1/namespaces")
        return namespaces is None or (None, namespace) in namespaces

    def _key(self, kind: ResourceKind, namespace: str | None, name: str) -> ObjectKey:
        return (namespace if kind.namespaced else None, name)

    def create(
        self,
        resource_key: str,
        namespace: str | None,
        body: Any,
        *,
        dry_run: bool = False,
        manager: str = "",
    ) -> dict[str, Any]:
        """POST: a new object with server-owned metadata; 409 if the name is taken. ``manager`` (the
        fieldManager, else the client's user agent) owns every field it set."""
        kind = self._kinds[resource_key]
        obj = check_namespace(kind, check_type(kind, body), namespace)
        meta = metadata(obj)
        require(
            not meta.get("resourceVersion"),
            errors.invalid(
                kind,
                meta.get("name", ""),
                "metadata.resourceVersion",
                "Invalid value: resourceVersion should not be set on objects to be created",
            ),
        )
        with self._writing(dry_run):
            name = meta.get("name") or ""
            if not name and meta.get("generateName"):
                name = generate_name(meta["generateName"], self._rng)
            require(
                bool(name),
                errors.invalid(kind, "", "metadata.name", "Required value: name or generateName is required"),
            )
            validate_name(kind, name)
            if kind.namespaced and not self._namespace_exists(namespace):
                raise errors.namespace_not_found(namespace or "")
            key = self._key(kind, namespace, name)
            require(key not in self._objects[kind.key], errors.already_exists(kind, name))
            new_meta = {
                **strip_server_owned(meta),
                "name": name,
                "uid": str(uuid.uuid4()),
                "creationTimestamp": rfc3339(self._clock.now()),
            }
            if uses_generation(kind):
                new_meta["generation"] = 1
            new = {**obj, "metadata": new_meta}
            if kind.has_status and kind.group:
                # Custom resources with a status subresource ignore status on create, as upstream.
                new.pop("status", None)
            new = canonical(kind, new)
            check_secret_size(kind, new, self.max_secret_bytes)
            new = self._with_update_managers(kind, None, new, manager, None)
            return self._commit(kind, key, "ADDED", new, None)

    def _merge_update(
        self, kind: ResourceKind, existing: dict[str, Any], body: dict[str, Any], subresource: str | None
    ) -> dict[str, Any]:
        """The object a PUT/PATCH produces from ``body``, keeping what the endpoint may not change."""
        old_meta = metadata(existing)
        if subresource == "status":
            return (
                {**existing, "status": body.get("status")}
                if body.get("status") is not None
                else {k: v for k, v in existing.items() if k != "status"}
            )
        meta = {**strip_server_owned(metadata(body))}
        for field in (
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "deletionGracePeriodSeconds",
            "generation",
            "managedFields",  # a client's copy is ignored; the write recomputes the live one
        ):
            if field in old_meta:
                meta[field] = old_meta[field]
        new = {**body, "metadata": meta}
        if kind.has_status:
            # The main endpoint ignores status changes when status is a subresource.
            if "status" in existing:
                new["status"] = existing["status"]
            else:
                new.pop("status", None)
        return new

    def _with_update_managers(
        self,
        kind: ResourceKind,
        existing: dict[str, Any] | None,
        new: dict[str, Any],
        manager: str,
        subresource: str | None,
    ) -> dict[str, Any]:
        """``new`` with the managedFields an Update-style write by ``manager`` leaves (domain.md §1.3)."""
        before = fields.decode_managers(metadata(existing).get("managedFields")) if existing else []
        writer = fields.Manager(
            manager or "unknown",
            fields.UPDATE,
            subresource or "",
            kind.group_version,
            rfc3339(self._clock.now()),
        )
        after = fields.record_update(
            before, fields.leaves(existing) if existing else {}, fields.leaves(new), writer
        )
        meta = {k: v for k, v in metadata(new).items() if k != "managedFields"}
        encoded = fields.encode_managers(after)
        if encoded:
            meta["managedFields"] = encoded
        return {**new, "metadata": meta}

    def _finish_update(
        self,
        kind: ResourceKind,
        key: ObjectKey,
        existing: dict[str, Any],
        new: dict[str, Any],
        *,
        manager: str | None = "",
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """Commit ``new`` over ``existing``: canonical form, size limit, managedFields (for ``manager``;
        None keeps the live ones, for ``put``), generation, a pending deletion's end, no-op detection."""
        new = canonical(kind, new)
        if manager is not None:
            check_secret_size(kind, new, self.max_secret_bytes)
            new = self._with_update_managers(kind, existing, new, manager, subresource)
        if uses_generation(kind) and spec_part(kind, new) != spec_part(kind, existing):
            generation = int(metadata(existing).get("generation", 0)) + 1
            new["metadata"] = {**metadata(new), "generation": generation}
        new_meta = metadata(new)
        if new_meta.get("deletionTimestamp") and not new_meta.get("finalizers"):
            # The last finalizer is gone: the pending deletion completes now.
            return self._remove(kind, key, new, propagation="Background")
        if _without_rv(new) == _without_rv(existing):
            return existing  # a no-op write: same resourceVersion, no event (as upstream)
        return self._commit(kind, key, "MODIFIED", new, existing)

    def replace(
        self,
        resource_key: str,
        namespace: str | None,
        name: str,
        body: Any,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
        manager: str = "",
    ) -> dict[str, Any]:
        """PUT on the object or its ``status``: 404 if absent, 409 on a stale resourceVersion."""
        kind = self._kinds[resource_key]
        obj = check_namespace(kind, check_type(kind, body), namespace)
        given = metadata(obj).get("name")
        if given != name:
            raise errors.bad_request(
                f"the name of the object ({given}) does not match the name on the URL ({name})"
            )
        with self._writing(dry_run):
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            require(existing is not None, errors.not_found(kind, name))
            assert existing is not None  # for the type checker; require() raised otherwise
            rv = _rv_of(obj)
            if rv is None and kind.group:
                raise errors.invalid(
                    kind,
                    name,
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                )
            if rv is not None and rv != _rv_of(existing):
                raise errors.conflict(kind, name)
            new = self._merge_update(kind, existing, obj, subresource)
            return self._finish_update(kind, key, existing, new, manager=manager, subresource=subresource)

    def patch(
        self,
        resource_key: str,
        namespace: str | None,
        name: str,
        content_type: str,
        body: Any,
        subresource: str | None = None,
        *,
        dry_run: bool = False,
        manager: str = "",
    ) -> dict[str, Any]:
        """PATCH (merge, strategic as merge, JSON patch): 404 if absent, 409 on a stale resourceVersion."""
        kind = self._kinds[resource_key]
        with self._writing(dry_run):
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            require(existing is not None, errors.not_found(kind, name))
            assert existing is not None
            media = content_type.split(";")[0].strip().lower()
            if media == STRATEGIC and kind.group:
                # Upstream has no strategic merge for custom resources and answers 415.
                raise errors.unsupported_media_type(content_type, custom_resource=True)
            try:
                patched = apply_patch(content_type, existing, body)
            except LookupError:
                raise errors.unsupported_media_type(content_type, custom_resource=bool(kind.group)) from None
            except PatchError as exc:
                raise errors.invalid(kind, name, "patch", str(exc)) from None
            patched = check_namespace(kind, check_type(kind, patched), namespace)
            if metadata(patched).get("name") != name:
                raise errors.invalid(kind, name, "metadata.name", "Invalid value: field is immutable")
            rv = _rv_of(patched)
            if rv is not None and rv != _rv_of(existing):
                raise errors.conflict(kind, name)
            new = self._merge_update(kind, existing, patched, subresource)
            return self._finish_update(kind, key, existing, new, manager=manager, subresource=subresource)

    def apply(
        self,
        resource_key: str,
        namespace: str | None,
        name: str,
        body: Any,
        *,
        manager: str,
        force: bool = False,
        subresource: str | None = None,
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """Server-side apply (PATCH ``application/apply-patch+yaml``): ``(object, created)``.

        Creates the object when absent. A field the apply changes that another manager owns is a 409
        Conflict unless ``force``; fields this manager applied before and leaves out now are removed
        unless someone else owns them. A ``metadata.resourceVersion`` in the body is a precondition.
        """
        kind = self._kinds[resource_key]
        config = check_namespace(kind, check_type(kind, body), namespace)
        config_meta = metadata(config)
        if config_meta.get("managedFields") is not None:
            raise errors.bad_request("metadata.managedFields must be nil")
        given = config_meta.get("name")
        if given not in (None, "", name):
            raise errors.bad_request(
                f"the name of the object ({given}) does not match the name on the URL ({name})"
            )
        config = {**normalise_secret_data(kind, config), "metadata": {**config_meta, "name": name}}
        status: bool | None = None
        if kind.has_status:
            # The main endpoint ignores status, the status endpoint everything else (as for updates).
            status = subresource == "status"
            if status:
                config = {
                    k: v for k, v in config.items() if k in ("apiVersion", "kind", "metadata", "status")
                }
            else:
                config.pop("status", None)
        with self._writing(dry_run):
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            rv = _rv_of(config)
            if rv is not None and (existing is None or rv != _rv_of(existing)):
                raise errors.conflict(kind, name) if existing is not None else errors.not_found(kind, name)
            if existing is None and subresource is not None:
                raise errors.not_found(kind, name)
            live = existing if existing is not None else {}
            applier = fields.Manager(
                manager, fields.APPLY, subresource or "", kind.group_version, rfc3339(self._clock.now())
            )
            managers = fields.decode_managers(metadata(live).get("managedFields"))
            # Metadata the server owns is never taken from a configuration.
            config_meta = {
                k: v for k, v in strip_server_owned(metadata(config)).items() if k != "resourceVersion"
            }
            config_for_merge = {**config, "metadata": config_meta}
            try:
                merged, after = fields.apply(
                    live,
                    config_for_merge,
                    managers,
                    applier,
                    force=force,
                    status=status,
                )
            except fields.ApplyConflicts as exc:
                raise _conflict_error(exc.conflicts) from None
            merged_meta = {k: v for k, v in metadata(merged).items() if k != "managedFields"}
            encoded = fields.encode_managers(after)
            if encoded:
                merged_meta["managedFields"] = encoded
            merged = {**merged, "metadata": merged_meta}
            if existing is None:
                return self._create_applied(kind, namespace, key, merged), True
            merged = {**merged, "metadata": {**metadata(merged), "resourceVersion": _rv_of(existing)}}
            new = canonical(kind, merged)
            check_secret_size(kind, new, self.max_secret_bytes)
            return self._finish_update(kind, key, existing, new, manager=None), False

    def _create_applied(
        self, kind: ResourceKind, namespace: str | None, key: ObjectKey, obj: dict[str, Any]
    ) -> dict[str, Any]:
        """Store the object an apply creates, with the metadata the server owns (as :meth:`create`)."""
        name = key[1]
        validate_name(kind, name)
        if kind.namespaced and not self._namespace_exists(namespace):
            raise errors.namespace_not_found(namespace or "")
        meta = metadata(obj)
        new_meta = {
            **{k: v for k, v in strip_server_owned(meta).items() if k != "resourceVersion"},
            "name": name,
            "uid": str(uuid.uuid4()),
            "creationTimestamp": rfc3339(self._clock.now()),
        }
        if meta.get("managedFields"):
            new_meta["managedFields"] = meta["managedFields"]
        if uses_generation(kind):
            new_meta["generation"] = 1
        new = canonical(kind, {**obj, "metadata": new_meta})
        if kind.has_status and kind.group:
            new.pop("status", None)
        check_secret_size(kind, new, self.max_secret_bytes)
        return self._commit(kind, key, "ADDED", new, None)

    def delete(
        self,
        resource_key: str,
        namespace: str | None,
        name: str,
        *,
        preconditions: dict[str, Any] | None = None,
        propagation: str | None = None,
        dry_run: bool = False,
    ) -> tuple[dict[str, Any], bool]:
        """DELETE: ``(object, gone)``; with finalizers the object stays with a deletionTimestamp."""
        kind = self._kinds[resource_key]
        with self._writing(dry_run):
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            require(existing is not None, errors.not_found(kind, name))
            assert existing is not None
            meta = metadata(existing)
            for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
                want = (preconditions or {}).get(field)
                if want not in (None, "") and str(want) != str(meta.get(field)):
                    why = (
                        f"Precondition failed: {label} in precondition: {want}, {label} in object meta: "
                        f"{meta.get(field)}"
                    )
                    raise errors.conflict(kind, name, why)
            if meta.get("finalizers"):
                if meta.get("deletionTimestamp"):
                    return existing, False
                new_meta = {
                    **meta,
                    "deletionTimestamp": rfc3339(self._clock.now()),
                    "deletionGracePeriodSeconds": 0,
                }
                if uses_generation(kind):
                    new_meta["generation"] = int(meta.get("generation", 0)) + 1
                marked = self._commit(kind, key, "MODIFIED", {**existing, "metadata": new_meta}, existing)
                return marked, False
            return self._remove(kind, key, existing, propagation=propagation), True

    def _remove(
        self, kind: ResourceKind, key: ObjectKey, existing: dict[str, Any], *, propagation: str | None
    ) -> dict[str, Any]:
        gone = self._commit(kind, key, "DELETED", existing, existing)
        if kind.key == "v1/namespaces":
            # The namespace controller empties a deleted namespace; done at once here.
            for other in self._kinds.values():
                if other.namespaced:
                    for (ns, name), obj in list(self._objects[other.key].items()):
                        if ns == key[1]:
                            self._remove(other, (ns, name), obj, propagation="Background")
        if propagation != "Orphan":
            self._collect_dependents(metadata(existing).get("uid"))
        return gone

    def _collect_dependents(self, owner_uid: str | None) -> None:
        """Background garbage collection: delete objects whose ownerReferences name a deleted owner."""
        if not owner_uid:
            return
        for kind in self._kinds.values():
            for key, obj in list(self._objects[kind.key].items()):
                refs = metadata(obj).get("ownerReferences") or []
                owned = any(isinstance(r, dict) and r.get("uid") == owner_uid for r in refs)
                if owned and key in self._objects[kind.key]:
                    self._remove(kind, key, obj, propagation="Background")

    # ---- direct access for seeding and tests --------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or overwrite ``obj`` as given (status included), filling server-owned metadata.

        A missing namespace is created first, so the state stays one a real cluster could have.
        """
        kind = self.kind_of(obj)
        meta = metadata(obj)
        name = meta.get("name")
        if not name:
            raise ValueError(f"{kind.kind} without metadata.name cannot be put")
        namespace = meta.get("namespace") if kind.namespaced else None
        if kind.namespaced and not namespace:
            raise ValueError(f"{kind.kind} {name!r} needs metadata.namespace")
        body = copy.deepcopy(obj)
        with self._lock:
            if namespace and not self._namespace_exists(namespace):
                self.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            new_meta = {**strip_server_owned(metadata(body)), "name": name}
            new_meta.pop("resourceVersion", None)
            if namespace:
                new_meta["namespace"] = namespace
            if existing is None:
                if meta.get("managedFields") is not None:
                    new_meta["managedFields"] = meta["managedFields"]
                new_meta["uid"] = meta.get("uid") or str(uuid.uuid4())
                new_meta["creationTimestamp"] = meta.get("creationTimestamp") or rfc3339(self._clock.now())
                if uses_generation(kind):
                    new_meta["generation"] = int(meta.get("generation") or 1)
                new = canonical(kind, {**body, "metadata": new_meta})
                return copy.deepcopy(self._commit(kind, key, "ADDED", new, None))
            old_meta = metadata(existing)
            for field in ("uid", "creationTimestamp", "generation", "deletionTimestamp"):
                if field in old_meta:
                    new_meta[field] = old_meta[field]
            # Seeding states ownership as given, else leaves the live managers as they were.
            given = meta.get("managedFields")
            if given is not None:
                new_meta["managedFields"] = given
            elif "managedFields" in old_meta:
                new_meta["managedFields"] = old_meta["managedFields"]
            new = {**body, "metadata": new_meta}
            return copy.deepcopy(self._finish_update(kind, key, existing, new, manager=None))

    def remove(self, resource_key: str, namespace: str | None, name: str) -> bool:
        """Delete an object outright (finalizers ignored); False if it did not exist."""
        kind = self._kinds[resource_key]
        with self._lock:
            key = self._key(kind, namespace, name)
            existing = self._objects[kind.key].get(key)
            if existing is None:
                return False
            self._remove(kind, key, existing, propagation="Background")
            return True


def _conflict_error(conflicts: list[fields.Conflict]) -> Exception:
    """The 409 of a refused apply, worded as apimachinery ``NewConflictError`` words it."""
    causes = [
        {
            "reason": "FieldManagerConflict",
            "message": f"conflict with {c.manager.describe()}",
            "field": fields.path_text(c.path),
        }
        for c in conflicts
    ]
    if len(conflicts) == 1:
        only = conflicts[0]
        where = fields.path_text(only.path)
        message = f"Apply failed with 1 conflict: conflict with {only.manager.describe()}: {where}"
    else:
        lines: list[str] = []
        by_manager: dict[str, list[fields.Conflict]] = {}
        for c in conflicts:
            by_manager.setdefault(c.manager.describe(), []).append(c)
        for name in sorted(by_manager):
            lines.append(f"conflicts with {name}:")
            lines += [f"- {fields.path_text(c.path)}" for c in by_manager[name]]
        message = f"Apply failed with {len(conflicts)} conflicts: " + "\n".join(lines)
    return errors.apply_conflict(message, causes)
