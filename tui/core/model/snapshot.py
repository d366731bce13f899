"""Raw inputs to the cluster model: what the adapters hand over, before any judgement.

The cluster adapter's reflectors fill a :class:`RawSnapshot` with plain Kubernetes object dicts (as the
API server sends them, ``data`` values still base64) plus a per-resource :class:`ResourceStatus`; the
vault adapter fills a :class:`VaultSnapshot`. The pure builder in ``tui.core`` turns both into a
``ClusterState``. Keeping the adapters' output this plain keeps every assumption about object shapes in
the core, where it is tested without a network.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

ObjectKey = tuple[str, str]
"""``(namespace, name)``; namespace is ``""`` for cluster-scoped objects."""


class AreaState(StrEnum):
    """How well one resource (or the vault) could be read."""

    OK = "ok"
    PENDING = "pending"  # not listed yet
    NOT_INSTALLED = "not-installed"  # the API group/CRD is not served (404 on list)
    FORBIDDEN = "forbidden"  # 401/403: RBAC or credentials
    RECONNECTING = "reconnecting"  # had data, the watch broke, retrying with backoff
    UNREACHABLE = "unreachable"  # never reached (connection refused, DNS, TLS)
    ERROR = "error"  # anything else, message says what


@dataclass(frozen=True)
class ResourceStatus:
    """Read state of one resource kind (or the vault), with a one-line reason when not OK."""

    state: AreaState
    message: str = ""
    since: datetime | None = None


def namespaced_status_key(resource_key: str, namespace: str) -> str:
    """Status key of one namespace's part of a resource read in several: ``v1/secrets@cert-manager``."""
    return f"{resource_key}@{namespace}"


@dataclass(frozen=True)
class RawSnapshot:
    """Every object the reflectors hold at one moment.

    ``objects`` maps a resource key (``tui.core.model.resources.ResourceKind.key``) to its objects by
    ``(namespace, name)``. ``status`` has one entry per resource key that was asked for.
    """

    objects: Mapping[str, Mapping[ObjectKey, Mapping[str, Any]]]
    status: Mapping[str, ResourceStatus]
    taken_at: datetime

    def items(self, key: str) -> list[Mapping[str, Any]]:
        """All objects of one resource key (empty when not listed or not installed)."""
        return list(self.objects.get(key, {}).values())

    def get(self, key: str, namespace: str, name: str) -> Mapping[str, Any] | None:
        """One object by resource key, namespace (``""`` for cluster scope) and name."""
        return self.objects.get(key, {}).get((namespace, name))

    def state_of(self, key: str) -> ResourceStatus:
        """Read state of one resource key (PENDING when never asked for)."""
        return self.status.get(key, ResourceStatus(AreaState.PENDING))

    def pending(self, key: str, namespace: str | None = None) -> bool:
        """Whether the collection (its part in ``namespace``, when read per namespace) was asked for and
        has not answered its first list yet: then an object missing from it is unknown, not absent.

        A key the snapshot has no status for was never asked for, and is not pending.
        """
        if namespace is not None:
            part = self.status.get(namespaced_status_key(key, namespace))
            if part is not None:
                return part.state is AreaState.PENDING
        status = self.status.get(key)
        return status is not None and status.state is AreaState.PENDING

    @property
    def loading(self) -> tuple[str, ...]:
        """Plural names of the resources with some part not listed yet (``secrets``), sorted; empty once
        every collection asked for has answered once."""
        return tuple(
            sorted(
                {
                    key.rsplit("/", 1)[-1]
                    for key, status in self.status.items()
                    if "@" not in key and status.state is AreaState.PENDING
                }
            )
        )


@dataclass(frozen=True)
class VaultSecret:
    """One Key Vault secret as read through the SDK. ``value`` is None when only listed."""

    name: str
    value: str | None
    content_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    enabled: bool = True
    updated_on: datetime | None = None
    expires_on: datetime | None = None


@dataclass(frozen=True)
class VaultSnapshot:
    """What the vault adapter could read of one vault."""

    vault_url: str
    status: ResourceStatus
    secrets: Mapping[str, VaultSecret] = field(default_factory=lambda: MappingProxyType({}))
    taken_at: datetime | None = None
    values_pending: int = 0
    """Values still being read (a listing delivered ahead of them); 0 once the read is complete."""
    checking: frozenset[str] = frozenset()
    """Lower-case names of secrets the lists came to map after this read began (another person's change):
    being read again, so their presence and value are not judged against this snapshot yet."""
