"""The demo ARM's state: list resources with ETags, and the long-running operations that write them.

Thread-safe (one re-entrant lock); the HTTP server, the emulator's seeding calls, the Arc projection and
the tests all use it. It follows the resource provider contract as docs/domain.md §9.5 describes it:

- a PUT creates (201) or replaces (200) the whole resource; a PATCH merges ``tags`` and ``properties``; a
  DELETE removes it (absent: nothing to do). Every accepted write gets a new strong ETag and starts an
  :class:`Operation` that stays ``InProgress`` (the resource's ``provisioningState`` non-terminal) until
  someone completes it: the Arc projection once the cluster copy is written, or the emulator at once when
  no projection is attached;
- ``If-Match`` and ``If-None-Match: *`` are honoured (412), a write while the resource's last operation is
  still running is refused (409 ``AnotherOperationInProgress``), and so is moving a resource to another
  location (409 ``InvalidResourceLocation``);
- the read-only fields a client sends back after a GET (``id``, ``name``, ``type``, ``etag``,
  ``systemData``, ``properties.provisioningState``, ``properties.status``, and what Resource Graph adds)
  are accepted and ignored, as the official CLI relies on; a ``provisioningState`` that differs from the
  server's is refused as the RPC says;
- ``properties`` are checked against the REST specification of the api-version used (required fields,
  patterns, enums, unknown members), with ARM's error codes.

Each write hands a :class:`Change` to the sink (the projection's queue) while the lock is held, so changes
arrive in the order they were accepted.
"""

from __future__ import annotations

import copy
import hashlib
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.core.clock import Clock
from tui.core.model.arm import ARM_PROVIDER, CLI_API_VERSION, ArmKind
from tui.demo.arm.site import ArmSite

SDK_API_VERSION = "2026-09-25-preview"
"""The default api-version of azure-mgmt-secretsstoreextension 1.0.0b2 (its ``_configuration.py``)."""
API_VERSIONS = (CLI_API_VERSION, SDK_API_VERSION)
"""Both versions in use: the official CLI's vendored client's and the SDK's (docs/domain.md §9.5)."""
CLOUD_NAME_SINCE = SDK_API_VERSION
"""``cloudName`` on the SecretProviderClass exists from this api-version on."""

IN_PROGRESS, SUCCEEDED, FAILED = "InProgress", "Succeeded", "Failed"
TERMINAL = frozenset({SUCCEEDED, FAILED, "Canceled"})
CREATING, UPDATING, DELETING = "Accepted", "Updating", "Deleting"
"""Non-terminal provisioning states while an operation runs (the RPC lets each provider choose them)."""

DEMO_CALLER = "demo-user@contoso.example"
"""Who ``systemData`` says made each change: the demo's bearer token names nobody."""

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_MAPPING_PATH = re.compile(r"^[A-Za-z0-9.]([-A-Za-z0-9]+([-._a-zA-Z0-9]?[A-Za-z0-9])*)?(\/([0-9]+))*$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$")
# The specification's forceSynchronization pattern has no end anchor: only its start is checked.
_FORCE = re.compile(r"^[A-Za-z0-9]([-A-Za-z0-9]+([-._a-zA-Z0-9]?[A-Za-z0-9])*)?")
_MAX_NAME = 253
SECRET_TYPES = ("Opaque", "kubernetes.io/tls")
CLOUD_NAMES = (
    "AzurePublicCloud",
    "AzureUSGovernmentCloud",
    "AzureChinaCloud",
    "AzureGermanCloud",
    "AzureStackCloud",
)

# Top-level fields a client may send back unchanged: the resource's read-only envelope, and what an
# Azure Resource Graph row adds (the official CLI PUTs such a row back whole).
READ_ONLY_FIELDS = frozenset(
    {
        "id",
        "name",
        "type",
        "etag",
        "systemData",
        "resourceGroup",
        "subscriptionId",
        "tenantId",
        "kind",
        "managedBy",
        "sku",
        "plan",
        "identity",
        "zones",
    }
)
_WRITABLE_FIELDS = frozenset({"location", "tags", "extendedLocation", "properties"})
_READ_ONLY_PROPERTIES = frozenset({"provisioningState", "status"})


class ArmError(Exception):
    """A request ARM refuses: the HTTP status and the ``{"error": {"code", "message"}}`` it answers."""

    def __init__(
        self, status: int, code: str, message: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class Operation:
    """One long-running operation (a PUT, PATCH or DELETE) and its status resource."""

    id: str
    kind: ArmKind
    name: str
    resource_id: str
    method: str
    start_time: str
    status: str = IN_PROGRESS
    end_time: str | None = None
    error: dict[str, str] | None = None
    previous: dict[str, Any] | None = field(default=None, repr=False)
    """The resource before the write (None for a create), put back if the operation fails."""

    @property
    def done(self) -> bool:
        """Whether the operation reached a terminal status."""
        return self.status in TERMINAL


@dataclass(frozen=True)
class Change:
    """What an accepted write asks the Arc projection to do on the cluster."""

    operation_id: str
    kind: ArmKind
    name: str
    properties: Mapping[str, Any] | None
    """The resource's properties after the write; None when the resource is being deleted."""
    location: str | None = None
    system_data: Mapping[str, Any] | None = None


Sink = Callable[[Change], None]


@dataclass
class _Record:
    body: dict[str, Any]
    etag: str
    operation_id: str | None = None


def _key(kind: ArmKind, name: str) -> tuple[ArmKind, str]:
    # ARM resource names compare case-insensitively.
    return kind, name.lower()


def _timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_etags(header: str) -> list[str]:
    """The entity tags of an ``If-Match``/``If-None-Match`` header, quotes kept (``*`` stays ``*``)."""
    return [part.strip() for part in header.split(",") if part.strip()]


class ArmStore:
    """Resources of both list kinds in one resource group of one subscription, and their operations."""

    def __init__(self, site: ArmSite, clock: Clock) -> None:
        self.site = site
        self.clock = clock
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self._records: dict[tuple[ArmKind, str], _Record] = {}
        self._operations: dict[str, Operation] = {}
        self._sequence = 0
        self._sink: Sink | None = None
        self._listeners: list[Callable[[], None]] = []

    # -- wiring --------------------------------------------------------------------------------

    def set_sink(self, sink: Sink | None) -> None:
        """Where each accepted write's :class:`Change` goes (None: nowhere; operations then stay open)."""
        with self._lock:
            self._sink = sink

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from the completing thread, lock released) whenever an operation ends."""
        with self._lock:
            self._listeners.append(listener)

    # -- reads ---------------------------------------------------------------------------------

    def find(self, kind: ArmKind, name: str) -> tuple[dict[str, Any], str] | None:
        """A copy of the resource and its ETag, or None."""
        with self._lock:
            record = self._records.get(_key(kind, name))
            return (copy.deepcopy(record.body), record.etag) if record is not None else None

    def get(self, kind: ArmKind, name: str) -> tuple[dict[str, Any], str]:
        """Like :meth:`find`, but a missing resource is ARM's 404."""
        found = self.find(kind, name)
        if found is None:
            raise self._not_found(kind, name)
        return found

    def of_kind(self, kind: ArmKind) -> list[dict[str, Any]]:
        """Copies of every resource of ``kind``, by name."""
        with self._lock:
            records = [r for (k, _), r in sorted(self._records.items(), key=lambda i: i[0][1]) if k is kind]
            return [copy.deepcopy(r.body) for r in records]

    def operation(self, operation_id: str) -> Operation | None:
        """A copy of one operation, or None."""
        with self._lock:
            found = self._operations.get(operation_id)
            return copy.copy(found) if found is not None else None

    def operations(self) -> list[Operation]:
        """Copies of every operation, oldest first."""
        with self._lock:
            return [copy.copy(o) for o in self._operations.values()]

    def pending(self) -> int:
        """How many operations are still running."""
        with self._lock:
            return sum(1 for o in self._operations.values() if not o.done)

    # -- writes --------------------------------------------------------------------------------

    def put(
        self,
        kind: ArmKind,
        name: str,
        body: Any,
        *,
        api_version: str = SDK_API_VERSION,
        if_match: str | None = None,
        if_none_match: str | None = None,
    ) -> tuple[dict[str, Any], str, bool, Operation]:
        """Create or replace ``name``: the new body, its ETag, whether it was created, the operation."""
        _check_name(kind, name)
        document = _object(body, "The request content")
        with self._lock:
            record = self._records.get(_key(kind, name))
            existing = record.body if record is not None else None
            self._check_busy(record, kind, name)
            self._check_preconditions(record, if_match, if_none_match)
            unknown = sorted(set(document) - _WRITABLE_FIELDS - READ_ONLY_FIELDS)
            if unknown:
                raise _invalid(f"Could not find member '{unknown[0]}' on the {kind.value} resource.")
            location = self._location(document, existing, name)
            extended = self._extended_location(document, existing)
            tags = _tags(document.get("tags"))
            raw = _object(document.get("properties"), "properties")
            self._check_provisioning_state(raw, existing)
            properties = _properties(kind, raw, api_version)
            if existing is not None:
                _check_immutable(kind, existing["properties"], properties)
                if not _knows_cloud_name(api_version) and "cloudName" in existing["properties"]:
                    # A client of an older api-version does not know the field: ARM keeps it.
                    properties["cloudName"] = existing["properties"]["cloudName"]
            now = _timestamp(self.clock.now())
            system_data = _system_data(existing, now)
            properties["provisioningState"] = UPDATING if existing is not None else CREATING
            new_body: dict[str, Any] = {
                "id": self.site.resource_id(kind, name),
                "name": name,
                "type": kind.resource_type,
                "location": location,
                "extendedLocation": extended,
                "systemData": system_data,
                "properties": properties,
            }
            if tags is not None:
                new_body["tags"] = tags
            operation = self._write(kind, name, "PUT", new_body, existing, now)
            stored = self._records[_key(kind, name)]
            return copy.deepcopy(stored.body), stored.etag, existing is None, copy.copy(operation)

    def patch(
        self,
        kind: ArmKind,
        name: str,
        body: Any,
        *,
        api_version: str = SDK_API_VERSION,
        if_match: str | None = None,
    ) -> tuple[dict[str, Any], str, Operation]:
        """Merge ``tags`` and ``properties`` into ``name`` (a null property removes an optional one)."""
        _check_name(kind, name)
        document = _object(body, "The request content")
        with self._lock:
            record = self._records.get(_key(kind, name))
            if record is None:
                if if_match is not None:
                    raise _precondition_failed()
                raise self._not_found(kind, name)
            self._check_busy(record, kind, name)
            self._check_preconditions(record, if_match, None)
            unknown = sorted(set(document) - {"tags", "properties"} - READ_ONLY_FIELDS)
            if unknown:
                raise _invalid(f"Could not find member '{unknown[0]}' on the {kind.value} update.")
            existing = record.body
            changes = _object(document.get("properties") or {}, "properties")
            allowed = _updatable(kind, api_version)
            for member in changes:
                if member not in allowed and member not in _READ_ONLY_PROPERTIES:
                    raise _invalid(f"Could not find member '{member}' on the {kind.value} update properties.")
            merged = {k: v for k, v in existing["properties"].items() if k not in _READ_ONLY_PROPERTIES}
            for member, value in changes.items():
                if member in _READ_ONLY_PROPERTIES:
                    continue
                if value is None:
                    merged.pop(member, None)
                else:
                    merged[member] = value
            properties = _properties(kind, merged, SDK_API_VERSION)
            now = _timestamp(self.clock.now())
            new_body = copy.deepcopy(existing)
            new_body["properties"] = {**properties, "provisioningState": UPDATING}
            new_body["systemData"] = _system_data(existing, now)
            if "tags" in document:
                tags = _tags(document["tags"])
                if tags is None:
                    new_body.pop("tags", None)
                else:
                    new_body["tags"] = tags
            operation = self._write(kind, name, "PATCH", new_body, existing, now)
            stored = self._records[_key(kind, name)]
            return copy.deepcopy(stored.body), stored.etag, copy.copy(operation)

    def delete(self, kind: ArmKind, name: str, *, if_match: str | None = None) -> Operation | None:
        """Start deleting ``name``; None when there is nothing to delete (ARM's 204)."""
        _check_name(kind, name)
        with self._lock:
            record = self._records.get(_key(kind, name))
            if record is None:
                if if_match is not None:
                    raise _precondition_failed()
                return None
            self._check_busy(record, kind, name)
            self._check_preconditions(record, if_match, None)
            now = _timestamp(self.clock.now())
            new_body = copy.deepcopy(record.body)
            new_body["properties"]["provisioningState"] = DELETING
            return copy.copy(self._write(kind, name, "DELETE", new_body, record.body, now))

    def complete(self, operation_id: str, error: Mapping[str, str] | None = None) -> None:
        """End an operation: ``Succeeded``, or ``Failed`` with ``error`` (``code``, ``message``).

        Success settles the resource's provisioningState (or removes a deleted resource); failure puts the
        resource back as it was before the write, marked ``Failed`` (a failed create stays, ``Failed``).
        """
        with self._lock:
            operation = self._operations.get(operation_id)
            if operation is None or operation.done:
                return
            operation.status = FAILED if error else SUCCEEDED
            operation.end_time = _timestamp(self.clock.now())
            operation.error = dict(error) if error else None
            key = _key(operation.kind, operation.name)
            record = self._records.get(key)
            if record is not None and record.operation_id == operation_id:
                self._settle(key, record, operation)
            self._changed.notify_all()
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    def _settle(self, key: tuple[ArmKind, str], record: _Record, operation: Operation) -> None:
        if operation.status == SUCCEEDED:
            if operation.method == "DELETE":
                del self._records[key]
            else:
                record.body["properties"]["provisioningState"] = SUCCEEDED
            return
        if operation.previous is None:
            record.body["properties"]["provisioningState"] = FAILED
            return
        # A failed update leaves the resource as it was before (the RPC's rule), now marked Failed.
        record.body = copy.deepcopy(operation.previous)
        record.body["properties"]["provisioningState"] = FAILED
        record.etag = self._next_etag()

    # -- waiting -------------------------------------------------------------------------------

    def wait_idle(self, timeout: float) -> bool:
        """Block until no operation is running (True), or ``timeout`` seconds pass (False)."""
        with self._changed:
            return self._changed.wait_for(lambda: self.pending() == 0, timeout)

    def wait_operation(self, operation_id: str, timeout: float) -> Operation | None:
        """Block until the operation ends (or ``timeout`` passes); a copy of it, None when unknown."""
        with self._changed:

            def ended() -> bool:
                found = self._operations.get(operation_id)
                return found is None or found.done

            self._changed.wait_for(ended, timeout)
            return self.operation(operation_id)

    # -- internals -----------------------------------------------------------------------------

    def _write(
        self,
        kind: ArmKind,
        name: str,
        method: str,
        new_body: dict[str, Any],
        previous: dict[str, Any] | None,
        now: str,
    ) -> Operation:
        etag = self._next_etag()
        new_body["etag"] = etag
        operation = Operation(
            id=self._next_id("operation"),
            kind=kind,
            name=new_body["name"],
            resource_id=new_body["id"],
            method=method,
            start_time=now,
            previous=copy.deepcopy(previous),
        )
        self._operations[operation.id] = operation
        self._records[_key(kind, name)] = _Record(new_body, etag, operation.id)
        change = Change(
            operation.id,
            kind,
            new_body["name"],
            None if method == "DELETE" else copy.deepcopy(new_body["properties"]),
            new_body.get("location"),
            copy.deepcopy(new_body.get("systemData")),
        )
        if self._sink is not None:
            # Under the lock: the projection sees changes in the order ARM accepted them.
            self._sink(change)
        return operation

    def _next_id(self, purpose: str) -> str:
        # Deterministic ids (a digest of a counter): two demo runs give the same ids in the same order.
        self._sequence += 1
        digest = hashlib.sha256(f"{purpose}:{self._sequence}".encode()).digest()
        return str(uuid.UUID(bytes=digest[:16], version=4))

    def _next_etag(self) -> str:
        return f'"{self._next_id("etag")}"'

    def _not_found(self, kind: ArmKind, name: str) -> ArmError:
        return ArmError(
            404,
            "ResourceNotFound",
            f"The Resource '{kind.resource_type}/{name}' under resource group "
            f"'{self.site.resource_group}' was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix",
        )

    def _check_busy(self, record: _Record | None, kind: ArmKind, name: str) -> None:
        if record is None or record.operation_id is None:
            return
        running = self._operations.get(record.operation_id)
        if running is not None and not running.done:
            raise ArmError(
                409,
                "AnotherOperationInProgress",
                f"Another operation on this or a dependent resource is in progress. To retrieve status "
                f"of the operation use uri: {running.id}. Resource '{kind.resource_type}/{name}'.",
            )

    @staticmethod
    def _check_preconditions(record: _Record | None, if_match: str | None, if_none_match: str | None) -> None:
        if if_none_match is not None:
            tags = parse_etags(if_none_match)
            if record is not None and ("*" in tags or record.etag in tags):
                raise _precondition_failed()
        if if_match is not None:
            tags = parse_etags(if_match)
            if record is None or ("*" not in tags and record.etag not in tags):
                raise _precondition_failed()

    def _location(self, document: Mapping[str, Any], existing: Mapping[str, Any] | None, name: str) -> str:
        location = document.get("location")
        if not isinstance(location, str) or not location.strip():
            raise ArmError(400, "LocationRequired", "The location property is required for this definition.")
        if existing is not None and _region(location) != _region(existing["location"]):
            raise ArmError(
                409,
                "InvalidResourceLocation",
                f"The resource '{name}' already exists in location '{existing['location']}' in resource "
                f"group '{self.site.resource_group}'. A resource with the same name cannot be created in "
                f"location '{location}'. Please select a new resource name.",
            )
        return existing["location"] if existing is not None else location

    def _extended_location(
        self, document: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> dict[str, str]:
        given = document.get("extendedLocation")
        if given is None and existing is not None:
            # Create-only: a replacement may leave it out and keeps the one the resource has.
            return dict(existing["extendedLocation"])
        extended = _object(given, "extendedLocation")
        name, kind = extended.get("name"), extended.get("type")
        if not isinstance(name, str) or kind != "CustomLocation":
            raise _invalid("extendedLocation must have a name and the type 'CustomLocation'.")
        if existing is not None:
            if name.lower() != existing["extendedLocation"]["name"].lower():
                raise ArmError(
                    400,
                    "PropertyChangeNotAllowed",
                    "Changing property 'extendedLocation' is not allowed.",
                )
            return dict(existing["extendedLocation"])
        if name.lower() != self.site.custom_location_id.lower():
            raise ArmError(
                400,
                "InvalidExtendedLocation",
                f"The custom location '{name}' does not exist or is not usable.",
            )
        return {"name": self.site.custom_location_id, "type": "CustomLocation"}

    @staticmethod
    def _check_provisioning_state(raw: Mapping[str, Any], existing: Mapping[str, Any] | None) -> None:
        given = raw.get("provisioningState")
        if given is None or existing is None:
            return
        current = existing["properties"].get("provisioningState")
        if str(given).lower() != str(current).lower():
            raise _invalid(
                f"The provisioningState '{given}' sent does not match the resource's current state "
                f"'{current}'; it is read-only."
            )


def _region(location: str) -> str:
    # ARM accepts "West Europe" for "westeurope".
    return location.replace(" ", "").lower()


def _invalid(message: str) -> ArmError:
    return ArmError(400, "InvalidRequestContent", f"The request content was invalid: {message}")


def _precondition_failed() -> ArmError:
    return ArmError(
        412, "PreconditionFailed", "The condition specified using HTTP conditional header(s) is not met."
    )


def _object(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _invalid(f"{what} must be a JSON object.")
    return value


def _check_name(kind: ArmKind, name: str) -> None:
    if len(name) > _MAX_NAME or not _NAME.match(name):
        raise ArmError(
            400,
            "InvalidResourceName",
            f"The resource name '{name}' is invalid for {kind.resource_type}: lower-case letters, digits, "
            f"'-' and '.', starting and ending with a letter or digit, at most {_MAX_NAME} characters.",
        )


def _tags(value: Any) -> dict[str, str] | None:
    if value is None:
        return None
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        raise _invalid("tags must be an object of string values.")
    return dict(value)


def _knows_cloud_name(api_version: str) -> bool:
    return api_version >= CLOUD_NAME_SINCE


def _updatable(kind: ArmKind, api_version: str) -> frozenset[str]:
    if kind is ArmKind.SPC:
        members = {"keyvaultName", "clientId", "tenantId", "objects"}
        if _knows_cloud_name(api_version):
            members.add("cloudName")
        return frozenset(members)
    return frozenset(
        {"secretProviderClassName", "serviceAccountName", "forceSynchronization", "objectSecretMapping"}
    )


def _properties(kind: ArmKind, raw: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """``raw`` checked against the specification of ``api_version``, read-only members dropped."""
    allowed = _updatable(kind, api_version) | (
        {"kubernetesSecretType"} if kind is ArmKind.SECRET_SYNC else set()
    )
    out: dict[str, Any] = {}
    for member, value in raw.items():
        if member in _READ_ONLY_PROPERTIES:
            continue
        if member not in allowed:
            raise _invalid(f"Could not find member '{member}' on object of type '{kind.value}' properties.")
        if value is not None:
            out[member] = value
    if kind is ArmKind.SPC:
        _check_spc(out)
    else:
        _check_secret_sync(out)
    return out


def _string(properties: Mapping[str, Any], member: str, *, required: bool) -> str | None:
    value = properties.get(member)
    if value is None:
        if required:
            raise _invalid(f"The property '{member}' is required.")
        return None
    if not isinstance(value, str):
        raise _invalid(f"The property '{member}' must be a string.")
    return value


def _check_spc(properties: Mapping[str, Any]) -> None:
    _string(properties, "keyvaultName", required=True)
    for member in ("clientId", "tenantId"):
        value = _string(properties, member, required=True)
        if value is not None and not _GUID.match(value):
            raise _invalid(f"The property '{member}' must be a GUID, got '{value}'.")
    _string(properties, "objects", required=False)
    cloud = _string(properties, "cloudName", required=False)
    if cloud is not None and cloud not in CLOUD_NAMES:
        raise _invalid(f"The property 'cloudName' must be one of {', '.join(CLOUD_NAMES)}.")


def _check_secret_sync(properties: Mapping[str, Any]) -> None:
    for member in ("secretProviderClassName", "serviceAccountName"):
        value = _string(properties, member, required=True)
        if value is not None and (len(value) > _MAX_NAME or not _NAME.match(value)):
            raise _invalid(f"The property '{member}' is not a valid Kubernetes name: '{value}'.")
    secret_type = _string(properties, "kubernetesSecretType", required=True)
    if secret_type is not None and secret_type not in SECRET_TYPES:
        raise _invalid(f"The property 'kubernetesSecretType' must be one of {', '.join(SECRET_TYPES)}.")
    force = _string(properties, "forceSynchronization", required=False)
    if force is not None and (len(force) > _MAX_NAME or not _FORCE.match(force)):
        raise _invalid(f"The property 'forceSynchronization' is invalid: '{force}'.")
    mapping = properties.get("objectSecretMapping")
    if not isinstance(mapping, list) or not mapping:
        raise _invalid("The property 'objectSecretMapping' must be an array of at least one item.")
    seen: set[str] = set()
    for item in mapping:
        if not isinstance(item, dict) or set(item) - {"sourcePath", "targetKey"}:
            raise _invalid("Each objectSecretMapping item has exactly 'sourcePath' and 'targetKey'.")
        for member in ("sourcePath", "targetKey"):
            value = item.get(member)
            if (
                not isinstance(value, str)
                or not 1 <= len(value) <= _MAX_NAME
                or not _MAPPING_PATH.match(value)
            ):
                raise _invalid(f"objectSecretMapping {member} '{value}' is invalid.")
        # The SecretSync CRD keys its data by targetKey: two items with one key cannot be projected.
        if item["targetKey"] in seen:
            raise _invalid(f"objectSecretMapping has targetKey '{item['targetKey']}' twice.")
        seen.add(item["targetKey"])


def _check_immutable(kind: ArmKind, before: Mapping[str, Any], after: Mapping[str, Any]) -> None:
    if kind is ArmKind.SECRET_SYNC and before.get("kubernetesSecretType") != after.get(
        "kubernetesSecretType"
    ):
        raise ArmError(
            400, "PropertyChangeNotAllowed", "Changing property 'kubernetesSecretType' is not allowed."
        )


def _system_data(existing: Mapping[str, Any] | None, now: str) -> dict[str, str]:
    created = (existing or {}).get("systemData") or {}
    return {
        "createdBy": created.get("createdBy", DEMO_CALLER),
        "createdByType": created.get("createdByType", "User"),
        "createdAt": created.get("createdAt", now),
        "lastModifiedBy": DEMO_CALLER,
        "lastModifiedByType": "User",
        "lastModifiedAt": now,
    }


def provider_path(site: ArmSite) -> str:
    """``/subscriptions/<sub>/providers/Microsoft.SecretSyncController``: where operations live."""
    return f"/subscriptions/{site.subscription}/providers/{ARM_PROVIDER}"


def operation_document(site: ArmSite, operation: Operation) -> dict[str, Any]:
    """The Azure-AsyncOperation status resource of ``operation``."""
    document: dict[str, Any] = {
        "id": f"{provider_path(site)}/locations/{site.location}/operationStatuses/{operation.id}",
        "name": operation.id,
        "resourceId": operation.resource_id,
        "status": operation.status,
        "startTime": operation.start_time,
    }
    if operation.end_time is not None:
        document["endTime"] = operation.end_time
        document["percentComplete"] = 100.0
    if operation.error:
        document["error"] = dict(operation.error)
    return document


def render(kind: ArmKind, body: Mapping[str, Any], api_version: str) -> dict[str, Any]:
    """A resource as a client of ``api_version`` sees it (``cloudName`` only from the version that has it)."""
    out = copy.deepcopy(dict(body))
    if kind is ArmKind.SPC and not _knows_cloud_name(api_version):
        out["properties"].pop("cloudName", None)
    return out
