"""Azure Resource Manager's side of the OPC UA lists: who owns a list object, and what ARM holds.

On a real site the SecretProviderClass and the SecretSyncs behind the OPC UA lists are ARM resources
(``Microsoft.SecretSyncController/azureKeyVaultSecretProviderClasses`` and ``.../secretSyncs``) in the
instance's resource group, placed on the cluster through the site's custom location; Azure Arc projects
them onto the cluster under the same names (docs/domain.md §9). The official tooling reads and writes
them in ARM, so an edit made only to the projected copy is undone by the next official change.

Pure values only: the adapter (``tui.arm``) reads ARM into an :class:`ArmSnapshot`, the model joins it
with the cluster (ownership, drift), and the change engine writes through ARM what ARM owns.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from tui.core.model.snapshot import AreaState, ResourceStatus

ARM_PROVIDER = "Microsoft.SecretSyncController"
"""The resource provider of both list resources."""
RESOURCE_ID_ANNOTATION = "management.azure.com/resourceId"
"""Annotation a custom location's projection puts on the cluster copy: the ARM resource id."""
PROVIDER_NAME_LABEL = "management.azure.com/provider-name"
"""Label a custom location's projection puts on the cluster copy (the resource provider)."""
ARC_CONFIG_NAMESPACE = "azure-arc"
ARC_CONFIG_MAP = "azure-clusterconfig"
"""ConfigMap the Arc agents keep on every connected cluster (subscription and resource group)."""
ARC_SUBSCRIPTION_KEY = "AZURE_SUBSCRIPTION_ID"
ARC_RESOURCE_GROUP_KEY = "AZURE_RESOURCE_GROUP"
CLI_API_VERSION = "2024-08-21-preview"
"""The api-version the official CLI's vendored client sends (docs/domain.md §9.1)."""


class Owner(StrEnum):
    """Where the truth of a list object lives."""

    ARM = "arm"
    """An ARM resource projected onto the cluster: changes go through ARM."""
    CLUSTER = "cluster"
    """Only on the cluster (a cluster-only site, or an object created with kubectl)."""


class ArmKind(StrEnum):
    """The two ARM resource types behind the OPC UA lists (the value is the type's last segment)."""

    SPC = "azureKeyVaultSecretProviderClasses"
    SECRET_SYNC = "secretSyncs"

    @property
    def resource_type(self) -> str:
        """``Microsoft.SecretSyncController/<type>``."""
        return f"{ARM_PROVIDER}/{self.value}"


_RESOURCE_ID = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/"
    r"Microsoft\.SecretSyncController/(?P<type>[^/]+)/(?P<name>[^/]+)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ArmIds:
    """Where a site's list resources live in ARM."""

    subscription: str
    resource_group: str
    custom_location: str | None = None
    """The custom location's full resource id (the ``extendedLocation`` of every list resource)."""

    def resource_id(self, kind: ArmKind, name: str) -> str:
        """The full resource id of ``name`` of ``kind``."""
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
            f"{kind.resource_type}/{name}"
        )


@dataclass(frozen=True)
class ResourceRef:
    """One list resource named by its id."""

    ids: ArmIds
    kind: ArmKind
    name: str

    @property
    def resource_id(self) -> str:
        """The full resource id."""
        return self.ids.resource_id(self.kind, self.name)


def parse_resource_id(text: str) -> ResourceRef | None:
    """The subscription, resource group, kind and name of a list resource id; None for anything else."""
    found = _RESOURCE_ID.match(text.strip())
    if found is None:
        return None
    kind = next((k for k in ArmKind if k.value.lower() == found["type"].lower()), None)
    if kind is None:
        return None
    return ResourceRef(ArmIds(found["sub"], found["rg"]), kind, found["name"])


@dataclass(frozen=True)
class ArmResource:
    """One list resource as ARM returned it."""

    kind: ArmKind
    name: str
    resource_id: str
    etag: str | None
    """The ``ETag`` ARM answered with (a PUT with ``If-Match`` on it fails 412 once someone else wrote)."""
    body: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    """The resource as JSON, read-only fields included (``id``, ``type``, ``systemData``...)."""

    @property
    def properties(self) -> Mapping[str, Any]:
        """``properties`` (empty when absent)."""
        props = self.body.get("properties")
        return props if isinstance(props, Mapping) else {}

    @property
    def provisioning_state(self) -> str | None:
        """``properties.provisioningState`` (``Succeeded``, ``Failed``, ``Canceled``, or in progress)."""
        state = self.properties.get("provisioningState")
        return str(state) if state is not None else None

    @property
    def extended_location(self) -> str | None:
        """The custom location id the resource is placed on."""
        location = self.body.get("extendedLocation")
        name = location.get("name") if isinstance(location, Mapping) else None
        return str(name) if name else None

    @property
    def mappings(self) -> tuple[tuple[str, str], ...]:
        """A SecretSync's ``objectSecretMapping`` as ``(sourcePath, targetKey)`` pairs."""
        items = self.properties.get("objectSecretMapping")
        return tuple(
            (str(item.get("sourcePath") or ""), str(item.get("targetKey") or ""))
            for item in (items if isinstance(items, list) else [])
            if isinstance(item, Mapping)
        )

    @property
    def objects(self) -> str | None:
        """An SPC's ``objects`` text (the same YAML the cluster copy holds in ``spec.parameters``)."""
        objects = self.properties.get("objects")
        return str(objects) if objects is not None else None


@dataclass(frozen=True)
class ArmSnapshot:
    """What the ARM adapter could read of a site's list resources."""

    status: ResourceStatus
    ids: ArmIds | None = None
    resources: Mapping[tuple[ArmKind, str], ArmResource] = field(default_factory=lambda: MappingProxyType({}))
    """By kind and lower-case name (ARM names compare case-insensitively)."""
    taken_at: datetime | None = None
    checking: frozenset[tuple[ArmKind, str]] = frozenset()
    """Cluster copies (kind, lower-case name) whose spec changed after this read began: ARM is being read
    again, so their drift is not judged against this snapshot yet."""

    @property
    def readable(self) -> bool:
        """ARM answered: absence of a resource means it is not there (not that it could not be read)."""
        return self.status.state is AreaState.OK

    def get(self, kind: ArmKind, name: str) -> ArmResource | None:
        """The resource of that kind and name, if ARM holds it."""
        return self.resources.get((kind, name.lower()))


def owner_of(kind: ArmKind, obj: Mapping[str, Any] | None, name: str, arm: ArmSnapshot | None) -> Owner:
    """Who owns a list object: ARM when its cluster copy carries the resource id annotation, or ARM holds
    a resource of that kind and name on the site's custom location; else the cluster alone.

    ``obj`` is the cluster copy (None when the cluster has none); ``arm`` what ARM answered (None or an
    unreadable snapshot: only the annotation can tell).
    """
    # A hand-edited object can hold anything where metadata and annotations belong: read defensively.
    metadata = obj.get("metadata") if isinstance(obj, Mapping) else None
    annotations = metadata.get("annotations") if isinstance(metadata, Mapping) else None
    if isinstance(annotations, Mapping) and annotations.get(RESOURCE_ID_ANNOTATION):
        return Owner.ARM
    if arm is not None and arm.readable:
        resource = arm.get(kind, name)
        location = arm.ids.custom_location if arm.ids is not None else None
        if resource is not None and (
            location is None or (resource.extended_location or "").lower() == location.lower()
        ):
            return Owner.ARM
    return Owner.CLUSTER
