"""The exact operations of a change plan, and the ordered steps the executor runs.

Each operation is a frozen value with ``to_json``/``from_json`` so the write-ahead journal can store
the steps of a plan and a later process can resume or roll them back without re-planning. Nothing here
performs I/O: ``tui.ops`` maps each :class:`StepKind` to one adapter call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any, ClassVar

from tui.core.certs.model import iso_utc
from tui.core.model.arm import ArmKind, Owner

FILE_ENCODING_TAG = "file-encoding"
"""Tag the official CLI puts on every certificate secret; its value says how the value is encoded."""

SECRET_TYPE = "Opaque"
"""``secretObject.type`` of the OPC UA list SecretSyncs (what the official tool creates)."""

CRL_SECRET_LIFETIME = timedelta(days=180)
"""Key Vault expiry (``exp``) of a CRL secret, counted from when the plan is made: the newer official CLI
gives secrets that hold no certificate now + 180 days, because Key Vault governance policies can refuse
a secret without an expiry (docs/domain.md §6.3)."""


CRL_CONTENT_TYPE = "application/pkix-crl"
"""contentType of a ``.crl`` file's secret (docs/domain.md §6.3)."""


def content_type_for(file_name: str) -> str:
    """The contentType the official CLI writes for a file, by extension (docs/domain.md §6.3)."""
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    return {"crl": CRL_CONTENT_TYPE, "der": "application/pkix-cert"}.get(ext, "application/x-pem-file")


def value_digest(value: str) -> str:
    """SHA-256 (hex) of a vault secret's value as stored: compares values without keeping them."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def _time(value: Any) -> datetime | None:
    if value is None:
        return None
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


@dataclass(frozen=True)
class VaultWrite:
    """Set one Key Vault secret (a new version when it exists), as the official CLI uploads a file."""

    secret_name: str
    value: str = field(repr=False)
    """Lower-case hex of the file bytes (certificates and CRLs are public; never a private key)."""
    content_type: str
    """``application/pkix-cert`` (.der), ``application/pkix-crl`` (.crl), else ``application/x-pem-file``."""
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({FILE_ENCODING_TAG: "hex"}))
    expires_on: datetime | None = None
    """Key Vault ``exp``: the certificate's notAfter, or for a CRL the plan's time plus
    :data:`CRL_SECRET_LIFETIME` (as the newer official CLI sets). None only in older journals."""
    replaces: bool = False
    """The secret exists already: this write makes a new version (the user allowed overwrite)."""
    list_name: str = ""
    target_key: str = ""
    """The entry the secret backs, for messages and the audit log."""
    sha1: str | None = None
    sha256: str | None = None
    """Thumbprints of the certificate (or SHA-256 of the CRL) written, for the audit log."""
    previous_digest: str | None = None
    """:func:`value_digest` of the value the plan judged when it replaces an existing secret; the apply
    refuses to write when the vault holds anything else by then (Key Vault has no write preconditions,
    so this is the only way to notice another writer in between). None: not known (older journals)."""

    def to_json(self) -> dict[str, Any]:
        """JSON object (the value included: it is the public certificate as hex)."""
        return {
            "secret_name": self.secret_name,
            "value": self.value,
            "content_type": self.content_type,
            "tags": dict(self.tags),
            "expires_on": iso_utc(self.expires_on),
            "replaces": self.replaces,
            "list_name": self.list_name,
            "target_key": self.target_key,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "previous_digest": self.previous_digest,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VaultWrite:
        """Inverse of :meth:`to_json`."""
        return cls(
            secret_name=str(data["secret_name"]),
            value=str(data["value"]),
            content_type=str(data["content_type"]),
            tags=MappingProxyType({str(k): str(v) for k, v in dict(data.get("tags") or {}).items()}),
            expires_on=_time(data.get("expires_on")),
            replaces=bool(data.get("replaces", False)),
            list_name=str(data.get("list_name", "")),
            target_key=str(data.get("target_key", "")),
            sha1=data.get("sha1"),
            sha256=data.get("sha256"),
            previous_digest=data.get("previous_digest"),
        )


@dataclass(frozen=True)
class VaultDelete:
    """Delete one Key Vault secret and, with ``purge``, purge it (as ``--include-secrets`` does)."""

    secret_name: str
    purge: bool = True
    list_name: str = ""
    target_key: str = ""
    """The entry the secret backed, for messages and the audit log."""

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "secret_name": self.secret_name,
            "purge": self.purge,
            "list_name": self.list_name,
            "target_key": self.target_key,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> VaultDelete:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(data["secret_name"]),
            bool(data.get("purge", True)),
            str(data.get("list_name", "")),
            str(data.get("target_key", "")),
        )


@dataclass(frozen=True)
class ArmTarget:
    """Where an SPC or SecretSync edit is written when Azure Resource Manager owns the object.

    The official tooling GETs the resource, edits ``objects`` or ``objectSecretMapping`` and PUTs it back
    (docs/domain.md §9.1); the edit carries the ETag it was planned against, sent as ``If-Match`` so that
    a write made in between fails with 412 instead of being overwritten. ``etag`` None means: for an SPC,
    "the ETag the previous SPC step of the same plan left" (as ``resource_version`` None does on the
    cluster); for a SecretSync the plan creates, "it must not exist" (``If-None-Match: *``).
    """

    resource_id: str
    etag: str | None
    location: str | None = None
    """``location`` of a resource the plan creates (the official CLI copies the instance's)."""
    extended_location: str | None = None
    """The custom location id a created resource is placed on (``extendedLocation.name``)."""

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "resource_id": self.resource_id,
            "etag": self.etag,
            "location": self.location,
            "extended_location": self.extended_location,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> ArmTarget | None:
        """Inverse of :meth:`to_json` (None stays None: a cluster write)."""
        if not data:
            return None
        return cls(
            str(data["resource_id"]),
            data.get("etag"),
            data.get("location"),
            data.get("extended_location"),
        )


def _owner(value: Any) -> Owner:
    # Journals written before ARM writes existed carry no owner: those edits were cluster edits.
    return Owner(str(value)) if value else Owner.CLUSTER


@dataclass(frozen=True)
class SpcEdit:
    """Replace ``spec.parameters.objects`` of one SecretProviderClass.

    ``before`` and ``after`` are the whole ``objects`` strings; ``after`` None means drop the property
    (what the official CLI does when the last object goes; the SPC itself is kept). ``after`` is written
    in the official CLI's style. ``resource_version`` is the precondition for the write; None means
    "the version the previous SPC step of the same plan left" (the second half of a two-phase edit).

    ``owner`` says where the object's truth lives; ``arm`` says the edit is written through ARM (the
    same ``objects`` text, in the resource's ``properties``). An ARM-owned object edited without ``arm``
    is a ``--local-only`` write of the cluster copy: :attr:`drift`.
    """

    namespace: str
    name: str
    resource_version: str | None
    before: str | None
    after: str | None
    added: tuple[str, ...] = ()
    """objectNames added (or replaced in place) by this edit, in order."""
    removed: tuple[str, ...] = ()
    """objectNames removed by this edit, in order."""
    owner: Owner = Owner.CLUSTER
    arm: ArmTarget | None = None

    arm_kind: ClassVar[ArmKind] = ArmKind.SPC
    """The ARM resource type of the object."""

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def drift(self) -> bool:
        """ARM owns the object but this edit writes only its cluster copy (``--local-only``)."""
        return self.owner is Owner.ARM and self.arm is None

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "resource_version": self.resource_version,
            "before": self.before,
            "after": self.after,
            "added": list(self.added),
            "removed": list(self.removed),
            "owner": str(self.owner),
            "arm": self.arm.to_json() if self.arm is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SpcEdit:
        """Inverse of :meth:`to_json`."""
        return cls(
            str(data["namespace"]),
            str(data["name"]),
            data.get("resource_version"),
            data.get("before"),
            data.get("after"),
            tuple(data.get("added") or ()),
            tuple(data.get("removed") or ()),
            _owner(data.get("owner")),
            ArmTarget.from_json(data.get("arm")),
        )


Mapping_ = tuple[tuple[str, str], ...]
"""``(sourcePath, targetKey)`` pairs of a SecretSync, in spec order."""


@dataclass(frozen=True)
class SyncEdit:
    """Create, update or delete the SecretSync of one list.

    ``action`` is ``create`` (``resource_version`` None; type Opaque, serviceAccountName aio-ssc-sa and
    the SPC name, as the official tool creates it), ``update`` (``secretObject.data`` becomes ``after``)
    or ``delete`` (the last entry went: an empty mapping is not allowed, so the SecretSync goes, as the
    official tool does). ``force_synchronization`` is a new ``spec.forceSynchronization`` value when the
    controller must re-fetch at once (a vault secret behind an unchanged mapping was overwritten);
    None leaves the field as it is.

    ``owner`` and ``arm`` as for :class:`SpcEdit`: through ARM the same mappings are the resource's
    ``objectSecretMapping``, a create places it on the site's custom location, and a delete removes
    the ARM resource (the projection then removes the cluster copy and its Secret).
    """

    namespace: str
    name: str
    list_name: str
    resource_version: str | None
    before: Mapping_
    after: Mapping_
    action: str
    spc_name: str
    service_account: str = "aio-ssc-sa"
    secret_type: str = SECRET_TYPE
    force_synchronization: str | None = None
    owner: Owner = Owner.CLUSTER
    arm: ArmTarget | None = None

    arm_kind: ClassVar[ArmKind] = ArmKind.SECRET_SYNC
    """The ARM resource type of the object."""

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"

    @property
    def drift(self) -> bool:
        """ARM owns the object but this edit writes only its cluster copy (``--local-only``)."""
        return self.owner is Owner.ARM and self.arm is None

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "namespace": self.namespace,
            "name": self.name,
            "list_name": self.list_name,
            "resource_version": self.resource_version,
            "before": [{"sourcePath": s, "targetKey": t} for s, t in self.before],
            "after": [{"sourcePath": s, "targetKey": t} for s, t in self.after],
            "action": self.action,
            "spc_name": self.spc_name,
            "service_account": self.service_account,
            "secret_type": self.secret_type,
            "force_synchronization": self.force_synchronization,
            "owner": str(self.owner),
            "arm": self.arm.to_json() if self.arm is not None else None,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SyncEdit:
        """Inverse of :meth:`to_json`."""

        def pairs(items: Any) -> Mapping_:
            return tuple((str(i["sourcePath"]), str(i["targetKey"])) for i in items or ())

        return cls(
            namespace=str(data["namespace"]),
            name=str(data["name"]),
            list_name=str(data["list_name"]),
            resource_version=data.get("resource_version"),
            before=pairs(data.get("before")),
            after=pairs(data.get("after")),
            action=str(data["action"]),
            spc_name=str(data["spc_name"]),
            service_account=str(data.get("service_account", "aio-ssc-sa")),
            secret_type=str(data.get("secret_type", SECRET_TYPE)),
            force_synchronization=data.get("force_synchronization"),
            owner=_owner(data.get("owner")),
            arm=ArmTarget.from_json(data.get("arm")),
        )


class StepKind(StrEnum):
    """What one step does; the executor maps each to one adapter call."""

    VAULT_WRITE = "vault-write"
    VAULT_DELETE = "vault-delete"
    SPC_UPDATE = "spc-update"
    SYNC_CREATE = "sync-create"
    SYNC_UPDATE = "sync-update"
    SYNC_DELETE = "sync-delete"


Operation = VaultWrite | VaultDelete | SpcEdit | SyncEdit

_SYNC_KINDS = {"create": StepKind.SYNC_CREATE, "update": StepKind.SYNC_UPDATE, "delete": StepKind.SYNC_DELETE}


def step_kind(op: Operation) -> StepKind:
    """The step kind that performs ``op``."""
    if isinstance(op, VaultWrite):
        return StepKind.VAULT_WRITE
    if isinstance(op, VaultDelete):
        return StepKind.VAULT_DELETE
    if isinstance(op, SpcEdit):
        return StepKind.SPC_UPDATE
    return _SYNC_KINDS[op.action]


def step_target(op: Operation) -> str:
    """What a step touches, for the journal and progress lines: ``vault/NAME``, ``SecretSync/ns/name``,
    ``ARM SecretSync/name`` (the ARM resource of that name, written through Azure Resource Manager)..."""
    if isinstance(op, VaultWrite | VaultDelete):
        return f"vault/{op.secret_name}"
    kind = "SecretProviderClass" if isinstance(op, SpcEdit) else "SecretSync"
    if op.arm is not None:
        return f"ARM {kind}/{op.name}"
    return f"{kind}/{op.key}"


def via_arm(op: Operation) -> bool:
    """Whether ``op`` is written through Azure Resource Manager."""
    return isinstance(op, SpcEdit | SyncEdit) and op.arm is not None


@dataclass(frozen=True)
class Step:
    """One operation of a plan, numbered in execution order (0-based)."""

    index: int
    op: Operation

    @property
    def kind(self) -> StepKind:
        """What the step does."""
        return step_kind(self.op)

    @property
    def target(self) -> str:
        """What the step touches (see :func:`step_target`)."""
        return step_target(self.op)

    def to_json(self) -> dict[str, Any]:
        """JSON object: index, kind, target and the operation."""
        return {"index": self.index, "kind": str(self.kind), "target": self.target, "op": self.op.to_json()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Step:
        """Inverse of :meth:`to_json`; ValueError on an unknown kind."""
        kind = StepKind(str(data["kind"]))
        raw = data["op"]
        op: Operation
        if kind is StepKind.VAULT_WRITE:
            op = VaultWrite.from_json(raw)
        elif kind is StepKind.VAULT_DELETE:
            op = VaultDelete.from_json(raw)
        elif kind is StepKind.SPC_UPDATE:
            op = SpcEdit.from_json(raw)
        else:
            op = SyncEdit.from_json(raw)
        return cls(int(data["index"]), op)
