"""Typed in-memory fakes of the change engine's ports, for fast tests of apply, resume and rollback.

:class:`FakeVault` satisfies :class:`~tui.ops.ports.VaultPort`: secrets with versions, soft-delete and
purge, Key Vault's case-insensitive names. :class:`FakeCluster` satisfies
:class:`~tui.ops.ports.ClusterPort`: objects with resourceVersions, a 409 for a write against a stale one,
and a secret sync controller that rewrites a SecretSync's Secret from the vault whenever the SecretSync
changes (as the real one does on a new generation or a new ``forceSynchronization``), so a sync wait
ends at its first look.

:class:`FakeArm` satisfies :class:`~tui.ops.ports.ArmPort`: the two ``Microsoft.SecretSyncController``
resource types with ETags, ``If-Match``/``If-None-Match: *`` answered by an ``ArmConflict`` (412), and
an Arc projection that carries each change onto the :class:`FakeCluster` at once (or not at all, with
``projecting`` off: a projection that lags), annotated as the real one annotates.

All record their calls and run one-shot ``hooks`` keyed by call name, before the call (``"set"``) or
after it took effect (``"set:after"``): another writer getting in, a refusal, or :class:`Killed`.
The emulator tests (tests/integration) check the same behaviours over the wire.
"""

from __future__ import annotations

import base64
import copy
import itertools
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from tests.armobjects import IDS
from tests.plansite import NOW
from tests.rawobjects import Site
from tui.arm.errors import ArmConflict, ArmError
from tui.cluster.writes import ConflictError, NotFoundError, WriteError, mappings_to_data, with_manual_trigger
from tui.core.build.assemble import build_state
from tui.core.build.cache import DecodeCache
from tui.core.model import resources as rk
from tui.core.model.arm import RESOURCE_ID_ANNOTATION, ArmIds, ArmKind, ArmResource, ArmSnapshot
from tui.core.model.resources import ResourceKind
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSecret
from tui.core.model.state import ClusterState
from tui.demo.seed.aio import content_type_for, secret_name_for
from tui.ops.journal import Journal, JournalStore
from tui.ops.ports import ArmPort, ClusterPort, JsonObject, VaultPort, Versioned
from tui.vault.errors import VaultError

HEX_TAGS: Mapping[str, str] = MappingProxyType({"file-encoding": "hex"})
Hook = Callable[[], object]
"""What a hook returns is ignored."""


class Killed(BaseException):
    """The process died here: not an ``Exception``, so nothing in the engine catches it."""


def kill() -> None:
    """A hook that kills the process at its point."""
    raise Killed


def refuse(exc: Exception) -> Hook:
    """A hook that makes its call fail with ``exc`` (a 403, an unreachable server...)."""

    def hook() -> None:
        raise exc

    return hook


class _Hooks:
    """Call log and one-shot hooks shared by both fakes."""

    def __init__(self) -> None:
        self.hooks: dict[str, Hook] = {}
        self.calls: list[str] = []

    def _hook(self, call: str) -> None:
        if not call.endswith(":after"):
            self.calls.append(call)
        hook = self.hooks.pop(call, None)
        if hook is not None:
            hook()


class Store(JournalStore):
    """A journal store that can play a killed process: :meth:`died` drops the locks it held."""

    def __init__(self, state_dir: Path) -> None:
        super().__init__(state_dir)
        self.held: list[Journal] = []

    def create(self, journal_id: str, first: Any) -> Journal:
        """As the store does, remembering the journal."""
        journal = super().create(journal_id, first)
        self.held.append(journal)
        return journal

    def open(self, journal_id: str) -> Journal:
        """As the store does, remembering the journal."""
        journal = super().open(journal_id)
        self.held.append(journal)
        return journal

    def died(self) -> None:
        """What the OS does for a killed process: its files close and its locks go."""
        for journal in self.held:
            journal.close()


class FakeVault(_Hooks):
    """An in-memory Key Vault: versions oldest first, a deleted list, version ids ``v1``, ``v2``..."""

    def __init__(self) -> None:
        super().__init__()
        self.live: dict[str, list[tuple[str, VaultSecret]]] = {}
        self.deleted: dict[str, list[tuple[str, VaultSecret]]] = {}
        self._ids = (f"v{n}" for n in itertools.count(1))

    @classmethod
    def of(cls, site: Site) -> FakeVault:
        """The vault of a test site: each file as hex, with the content type and tag the CLI writes."""
        vault = cls()
        for file_name, data in site.vault_files.items():
            vault.put(secret_name_for(file_name), data.hex(), content_type_for(file_name))
        return vault

    # -- what other writers (and the tests) do --------------------------------------------------------

    def put(
        self,
        name: str,
        value: str,
        content_type: str | None = "application/pkix-cert",
        *,
        tags: Mapping[str, str] = HEX_TAGS,
        expires_on: datetime | None = None,
    ) -> str:
        """Write a new version directly (another writer, or the site's seed); returns its id."""
        if name.lower() in self.deleted:
            raise VaultError(
                f"writing secret {name}: vault error (409 Conflict: secret {name} is currently "
                "in a deleted but recoverable state)"
            )
        version = next(self._ids)
        secret = VaultSecret(name, value, content_type, MappingProxyType(dict(tags)), expires_on=expires_on)
        self.live.setdefault(name.lower(), []).append((version, secret))
        return version

    def value(self, name: str) -> str | None:
        """The current value of ``name`` (None when it does not exist)."""
        history = self.live.get(name.lower())
        return history[-1][1].value if history else None

    def soft_delete(self, name: str) -> None:
        """Delete ``name`` by hand (recoverable), as in the portal."""
        self.deleted[name.lower()] = self.live.pop(name.lower())

    def purge(self, name: str) -> None:
        """Purge a soft-deleted ``name`` by hand."""
        del self.deleted[name.lower()]

    def state(self) -> Any:
        """Everything the vault holds, for before/after comparisons (secrets are immutable)."""
        return ({k: list(v) for k, v in self.live.items()}, {k: list(v) for k, v in self.deleted.items()})

    # -- VaultPort ------------------------------------------------------------------------------------

    def read(self, name: str) -> Versioned | None:
        """The current version and its id; None when absent."""
        self._hook("get")
        history = self.live.get(name.lower())
        return (history[-1][1], history[-1][0]) if history else None

    def read_after_write(self, name: str) -> Versioned:
        """The current version; absent is a failure."""
        found = self.read(name)
        if found is None:
            raise VaultError(f"reading back secret {name}: vault error (404 SecretNotFound)")
        return found

    def read_version(self, name: str, version: str) -> VaultSecret:
        """One version by id."""
        self._hook("get-version")
        for vid, secret in self.live.get(name.lower(), []):
            if vid == version:
                return secret
        raise VaultError(f"reading secret {name} version {version}: vault error (404 SecretNotFound)")

    def version_ids(self, name: str) -> set[str]:
        """Every version id of ``name``."""
        self._hook("list")
        return {vid for vid, _ in self.live.get(name.lower(), [])}

    def is_soft_deleted(self, name: str) -> bool:
        """Whether ``name`` is in the deleted list."""
        self._hook("get-deleted")
        return name.lower() in self.deleted

    def write(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """A new version; a 409, as Key Vault answers, while the name is deleted but recoverable."""
        self._hook("set")
        if name.lower() in self.deleted:
            raise VaultError(
                f"writing secret {name}: vault error (409 Conflict: Secret {name} is currently in a deleted "
                "but recoverable state)",
                status=409,
            )
        version = self.put(name, value, content_type, tags=tags, expires_on=expires_on)
        self._hook("set:after")
        return version

    def restore(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """A new version holding an earlier value."""
        return self.write(name, value, content_type=content_type, tags=tags, expires_on=expires_on)

    def delete(self, name: str, *, purge: bool) -> str:
        """Delete (and purge): ``gone``, ``deleted`` or ``purged``."""
        self._hook("delete")
        key = name.lower()
        if key not in self.live:
            if purge and key in self.deleted:
                del self.deleted[key]
                return "purged"
            return "gone"
        self.deleted[key] = self.live.pop(key)
        if purge:
            del self.deleted[key]
        self._hook("delete:after")
        return "purged" if purge else "deleted"

    def recover(self, name: str) -> None:
        """Bring a soft-deleted secret back."""
        self._hook("recover")
        if name.lower() not in self.deleted:
            raise VaultError(f"recovering secret {name}: vault error (404 DeletedSecretNotFound)")
        self.live[name.lower()] = self.deleted.pop(name.lower())


class FakeCluster(_Hooks):
    """An in-memory API server for the objects an apply reads and writes, with a sync controller.

    ``controller`` False stands for a sync controller that does not react (the synced Secret stays as
    it is).
    """

    def __init__(
        self,
        objects: Mapping[str, Mapping[tuple[str, str], JsonObject]],
        vault: FakeVault | None,
    ) -> None:
        super().__init__()
        self.objects: dict[tuple[str, str, str], JsonObject] = {
            (kind, ns, name): copy.deepcopy(obj)
            for kind, by_key in objects.items()
            for (ns, name), obj in by_key.items()
        }
        self.vault = vault
        self.controller = True
        self._versions = itertools.count(1000)

    @classmethod
    def of(cls, site: Site, vault: FakeVault | None) -> FakeCluster:
        """The objects of a test site (the plan's resourceVersions included)."""
        return cls(site.objects, vault)

    # -- what other writers (and the tests) do --------------------------------------------------------

    def edit(
        self, kind: ResourceKind, namespace: str, name: str, change: Callable[[JsonObject], object]
    ) -> None:
        """Someone else's write: ``change`` edits the object in place, its resourceVersion moves on."""
        obj = self.objects[(kind.key, namespace, name)]
        change(obj)
        self._bump(obj)

    def read_site(self) -> tuple[ClusterState, RawSnapshot | None]:
        """A fresh read of every object, as the session's ``reread`` gives it after a 409."""
        raw = RawSnapshot(
            objects={
                k.key: MappingProxyType(
                    {
                        (ns, name): copy.deepcopy(obj)
                        for (kind, ns, name), obj in self.objects.items()
                        if kind == k.key
                    }
                )
                for k in rk.ALL_KINDS
            },
            status={k.key: ResourceStatus(AreaState.OK) for k in rk.ALL_KINDS},
            taken_at=NOW,
        )
        return build_state(raw, settings=ModelSettings(), now=NOW, cache=DecodeCache()), raw

    def synced(self, namespace: str, name: str) -> dict[str, bytes]:
        """The synced Secret's files (empty when it does not exist)."""
        secret = self.objects.get((rk.SECRETS.key, namespace, name)) or {}
        return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}

    def state(self) -> Any:
        """Every object, for before/after comparisons."""
        return copy.deepcopy(self.objects)

    def project(
        self, kind: ArmKind, namespace: str, name: str, body: Mapping[str, Any] | None, resource_id: str
    ) -> None:
        """What the Arc projection does with an ARM change: the cluster copy follows ARM's body
        (created, replaced, or deleted with its Secret), annotated with the resource id."""
        key = rk.SECRET_PROVIDER_CLASSES if kind is ArmKind.SPC else rk.SECRET_SYNCS
        where = (key.key, namespace, name)
        if body is None:
            if self.objects.pop(where, None) is not None and kind is ArmKind.SECRET_SYNC:
                self.objects.pop((rk.SECRETS.key, namespace, name), None)
            return
        props = dict(body.get("properties") or {})
        obj = self.objects.get(where)
        if obj is None:
            obj = self.objects[where] = {
                "apiVersion": key.group_version,
                "kind": key.kind,
                "metadata": {"name": name, "namespace": namespace, "generation": 0},
                "spec": {"provider": "azure", "parameters": {}} if kind is ArmKind.SPC else {},
            }
        obj["metadata"].setdefault("annotations", {})[RESOURCE_ID_ANNOTATION] = resource_id
        if kind is ArmKind.SPC:
            params = obj["spec"].setdefault("parameters", {})
            if props.get("objects") is None:
                params.pop("objects", None)
            else:
                params["objects"] = props["objects"]
            self._bump(obj)
            return
        spec = obj["spec"]
        spec["secretProviderClassName"] = props.get("secretProviderClassName")
        spec["serviceAccountName"] = props.get("serviceAccountName")
        spec["secretObject"] = {
            "type": props.get("kubernetesSecretType") or "Opaque",
            "data": [dict(m) for m in props.get("objectSecretMapping") or []],
        }
        if props.get("forceSynchronization"):
            spec["forceSynchronization"] = props["forceSynchronization"]
        self._written(rk.SECRET_SYNCS, obj, "project SecretSync")

    # -- ClusterPort ----------------------------------------------------------------------------------

    def list(self, kind: ResourceKind, namespace: str) -> list[JsonObject]:
        """Copies of every object of ``kind`` in ``namespace``."""
        self._hook(f"list {kind.kind}")
        return [
            copy.deepcopy(obj)
            for (key, ns, _), obj in sorted(self.objects.items())
            if key == kind.key and ns == namespace
        ]

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        """A copy of the object, or None."""
        self._hook(f"get {kind.kind}")
        obj = self.objects.get((kind.key, namespace, name))
        return copy.deepcopy(obj) if obj is not None else None

    def patch_spc_objects(
        self, namespace: str, name: str, objects: str | None, *, resource_version: str
    ) -> JsonObject:
        """Set or drop ``spec.parameters.objects`` at ``resource_version``."""
        self._hook("patch SecretProviderClass")
        obj = self._current(rk.SECRET_PROVIDER_CLASSES, namespace, name, "updating", resource_version)
        params = obj.setdefault("spec", {}).setdefault("parameters", {})
        if objects is None:
            params.pop("objects", None)
        else:
            params["objects"] = objects
        return self._written(rk.SECRET_PROVIDER_CLASSES, obj, "patch SecretProviderClass")

    def create_secret_sync(
        self,
        namespace: str,
        name: str,
        *,
        spc_name: str,
        service_account: str,
        mappings: Sequence[tuple[str, str]],
        secret_type: str = "Opaque",
        labels: Mapping[str, str] | None = None,
    ) -> JsonObject:
        """A new SecretSync; a conflict when one exists."""
        self._hook("create SecretSync")
        key = (rk.SECRET_SYNCS.key, namespace, name)
        if key in self.objects:
            raise ConflictError(
                f"creating SecretSync {namespace}/{name}: changed by someone else since it "
                "was read (409 Conflict)",
                status=409,
            )
        self.objects[key] = {
            "apiVersion": rk.SECRET_SYNCS.group_version,
            "kind": "SecretSync",
            "metadata": {"name": name, "namespace": namespace, "labels": dict(labels or {}), "generation": 0},
            "spec": {
                "secretProviderClassName": spc_name,
                "serviceAccountName": service_account,
                "secretObject": {"type": secret_type, "data": mappings_to_data(mappings)},
            },
        }
        return self._written(rk.SECRET_SYNCS, self.objects[key], "create SecretSync")

    def update_secret_sync_mappings(
        self,
        namespace: str,
        name: str,
        mappings: Sequence[tuple[str, str]],
        *,
        resource_version: str,
        force_synchronization: str | None = None,
    ) -> JsonObject:
        """Replace the mappings at ``resource_version`` (and set a new sync token)."""
        self._hook("patch SecretSync")
        if not mappings:
            raise WriteError(f"updating SecretSync {namespace}/{name}: an empty mapping is not allowed")
        obj = self._current(rk.SECRET_SYNCS, namespace, name, "updating", resource_version)
        obj["spec"]["secretObject"]["data"] = mappings_to_data(mappings)
        if force_synchronization is not None:
            obj["spec"]["forceSynchronization"] = force_synchronization
        return self._written(rk.SECRET_SYNCS, obj, "patch SecretSync")

    def delete_secret_sync(
        self, namespace: str, name: str, *, resource_version: str | None = None, uid: str | None = None
    ) -> bool:
        """Delete a SecretSync (and its Secret, which it owns); False when already gone."""
        self._hook("delete SecretSync")
        if (rk.SECRET_SYNCS.key, namespace, name) not in self.objects:
            return False
        self._current(rk.SECRET_SYNCS, namespace, name, "deleting", resource_version)
        del self.objects[(rk.SECRET_SYNCS.key, namespace, name)]
        self.objects.pop((rk.SECRETS.key, namespace, name), None)
        self._hook("delete SecretSync:after")
        return True

    def force_synchronization(self, namespace: str, name: str, token: str) -> JsonObject:
        """Set ``spec.forceSynchronization`` (no precondition)."""
        self._hook("force SecretSync")
        obj = self._current(rk.SECRET_SYNCS, namespace, name, "forcing a sync of", None)
        obj["spec"]["forceSynchronization"] = token
        return self._written(rk.SECRET_SYNCS, obj, "force SecretSync")

    def renew_certificate(
        self,
        namespace: str,
        name: str,
        *,
        now: datetime,
        precondition: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> JsonObject:
        """``cmctl renew``: the manual Issuing condition, after ``precondition`` saw the object."""
        self._hook("renew Certificate")
        obj = self._current(rk.CERTIFICATES, namespace, name, "renewing", None)
        if precondition is not None:
            precondition(obj)
        obj.update(with_manual_trigger(obj, now))
        return self._written(rk.CERTIFICATES, obj, "renew Certificate")

    # -- plumbing -------------------------------------------------------------------------------------

    def _current(
        self, kind: ResourceKind, namespace: str, name: str, action: str, resource_version: str | None
    ) -> JsonObject:
        what = f"{action} {kind.kind} {namespace}/{name}"
        obj = self.objects.get((kind.key, namespace, name))
        if obj is None:
            raise NotFoundError(f"{what}: not found (404)", status=404)
        if resource_version is not None and obj["metadata"].get("resourceVersion") != resource_version:
            raise ConflictError(
                f"{what}: changed by someone else since it was read (409 Conflict)", status=409
            )
        return obj

    def _bump(self, obj: JsonObject) -> None:
        meta = obj["metadata"]
        meta["resourceVersion"] = str(next(self._versions))
        meta["generation"] = int(meta.get("generation") or 0) + 1

    def _written(self, kind: ResourceKind, obj: JsonObject, call: str) -> JsonObject:
        self._bump(obj)
        if kind is rk.SECRET_SYNCS and self.controller:
            self._sync(obj)
        self._hook(f"{call}:after")
        return copy.deepcopy(obj)

    def _sync(self, sync: JsonObject) -> None:
        """What the secret sync controller does on a new generation: the Secret from the vault's values."""
        meta = sync["metadata"]
        data = {}
        for item in sync["spec"]["secretObject"]["data"]:
            value = self.vault.value(item["sourcePath"]) if self.vault is not None else None
            if value is not None:
                data[item["targetKey"]] = base64.b64encode(bytes.fromhex(value)).decode()
        self.objects[(rk.SECRETS.key, meta["namespace"], meta["name"])] = {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "data": data,
            "metadata": {
                "name": meta["name"],
                "namespace": meta["namespace"],
                "resourceVersion": str(next(self._versions)),
            },
        }


class FakeArm(_Hooks):
    """An in-memory Azure Resource Manager for the list resources of one resource group, projecting each
    change onto ``cluster`` in ``namespace`` as Azure Arc does (docs/domain.md §9.2).

    ``projecting`` False stands for a projection that has not caught up: ARM changes, the cluster does
    not. ``refusal`` (an :class:`~tui.arm.errors.ArmError`) makes every call fail, as ARM does for a
    credential it refuses or an endpoint it cannot reach.
    """

    def __init__(self, cluster: FakeCluster | None, namespace: str, ids: ArmIds = IDS) -> None:
        super().__init__()
        self.cluster = cluster
        self.namespace = namespace
        self.ids = ids
        self.bodies: dict[tuple[ArmKind, str], JsonObject] = {}
        self.etags: dict[tuple[ArmKind, str], str] = {}
        self.projecting = True
        self.refusal: ArmError | None = None
        self._etags = itertools.count(1)

    @classmethod
    def of(cls, site: Site, *, namespace: str = "azure-iot-operations", ids: ArmIds = IDS) -> FakeArm:
        """ARM holding the site's SPC and SecretSyncs, whose cluster copies get the projection's
        annotations (call before building the :class:`FakeCluster`, then set :attr:`cluster`)."""
        arm = cls(None, namespace, ids)
        for key, kind in (
            (rk.SECRET_PROVIDER_CLASSES.key, ArmKind.SPC),
            (rk.SECRET_SYNCS.key, ArmKind.SECRET_SYNC),
        ):
            for (ns, name), obj in site.objects[key].items():
                if ns != namespace:
                    continue
                meta = obj["metadata"]
                meta.setdefault("annotations", {})[RESOURCE_ID_ANNOTATION] = ids.resource_id(kind, name)
                arm._store(kind, name, arm._body_of(kind, obj))
        return arm

    def _body_of(self, kind: ArmKind, obj: JsonObject) -> JsonObject:
        spec = obj.get("spec") or {}
        if kind is ArmKind.SPC:
            params = spec.get("parameters") or {}
            props = {k: params[k] for k in ("keyvaultName", "clientID", "tenantID", "objects") if k in params}
        else:
            props = {
                "secretProviderClassName": spec.get("secretProviderClassName"),
                "serviceAccountName": spec.get("serviceAccountName"),
                "kubernetesSecretType": (spec.get("secretObject") or {}).get("type", "Opaque"),
                "objectSecretMapping": copy.deepcopy((spec.get("secretObject") or {}).get("data") or []),
            }
        return {
            "location": "westeurope",
            "extendedLocation": {"name": self.ids.custom_location, "type": "CustomLocation"},
            "properties": props,
        }

    # -- what other writers (and the tests) do --------------------------------------------------------

    def snapshot(self) -> ArmSnapshot:
        """What the ARM adapter's reader would hand the session (a listing with ETags)."""
        return ArmSnapshot(
            ResourceStatus(AreaState.OK),
            self.ids,
            MappingProxyType({(kind, name): self._resource(kind, name) for kind, name in self.bodies}),
            taken_at=NOW,
        )

    def edit(self, kind: ArmKind, name: str, change: Callable[[JsonObject], object]) -> None:
        """Someone else's write through ARM (the portal, the official CLI): a new ETag, projected."""
        key = (kind, name.lower())
        change(self.bodies[key])
        self._store(kind, name, self.bodies[key])

    def mappings(self, name: str) -> list[tuple[str, str]]:
        """ARM's ``objectSecretMapping`` of SecretSync ``name`` as pairs."""
        body = self.bodies[(ArmKind.SECRET_SYNC, name.lower())]
        return [(m["sourcePath"], m["targetKey"]) for m in body["properties"]["objectSecretMapping"]]

    def state(self) -> Any:
        """Every resource and ETag, for before/after comparisons."""
        return copy.deepcopy(self.bodies), dict(self.etags)

    # -- ArmPort --------------------------------------------------------------------------------------

    def get(self, kind: ArmKind, name: str) -> ArmResource | None:
        """The resource with its ETag, or None."""
        self._call(f"get {kind.value}")
        return self._resource(kind, name) if (kind, name.lower()) in self.bodies else None

    def put(self, kind: ArmKind, name: str, body: Mapping[str, Any], *, etag: str | None) -> ArmResource:
        """Create or replace, with ARM's preconditions; the long-running operation ends Succeeded."""
        self._call(f"put {kind.value}")
        self._precondition(kind, name, etag, "put")
        sent = copy.deepcopy(dict(body))
        for field in ("id", "name", "type", "systemData", "etag"):  # read-only: ARM ignores them
            sent.pop(field, None)
        sent.get("properties", {}).pop("provisioningState", None)
        self._store(kind, name, sent)
        self._hook(f"put {kind.value}:after")
        return self._resource(kind, name)

    def delete(self, kind: ArmKind, name: str, *, etag: str | None) -> bool:
        """Delete (with ``If-Match`` when given); False when already gone."""
        self._call(f"delete {kind.value}")
        key = (kind, name.lower())
        if key not in self.bodies:
            return False
        self._precondition(kind, name, etag, "delete")
        del self.bodies[key]
        del self.etags[key]
        self._project(kind, name, None)
        self._hook(f"delete {kind.value}:after")
        return True

    # -- plumbing -------------------------------------------------------------------------------------

    def _call(self, call: str) -> None:
        if self.refusal is not None:
            self.calls.append(call)
            raise self.refusal
        self._hook(call)

    def _precondition(self, kind: ArmKind, name: str, etag: str | None, verb: str) -> None:
        key = (kind, name.lower())
        what = f"{verb} {kind.value}/{name}"
        if etag is None and verb == "put" and key in self.bodies:
            raise ArmConflict(f"{what}: ARM error (412 PreconditionFailed: the resource exists)")
        if etag is not None and self.etags.get(key) != etag:
            raise ArmConflict(f"{what}: ARM error (412 PreconditionFailed: the ETag does not match)")

    def _resource(self, kind: ArmKind, name: str) -> ArmResource:
        key = (kind, name.lower())
        body = copy.deepcopy(self.bodies[key])
        rid = self.ids.resource_id(kind, name)
        body.update({"id": rid, "name": name, "type": kind.resource_type})
        body.setdefault("properties", {})["provisioningState"] = "Succeeded"
        return ArmResource(kind, name, rid, self.etags[key], MappingProxyType(body))

    def _store(self, kind: ArmKind, name: str, body: JsonObject) -> None:
        key = (kind, name.lower())
        self.bodies[key] = body
        self.etags[key] = f'"{next(self._etags)}"'
        self._project(kind, name, body)

    def _project(self, kind: ArmKind, name: str, body: JsonObject | None) -> None:
        if self.cluster is not None and self.projecting:
            self.cluster.project(kind, self.namespace, name, body, self.ids.resource_id(kind, name))


def _typed(cluster: FakeCluster, vault: FakeVault, arm: FakeArm) -> tuple[ClusterPort, VaultPort, ArmPort]:
    """The fakes satisfy the ports (checked by a type checker; a mismatch is an error here)."""
    return cluster, vault, arm
