"""What the change engine needs from the outside world, as typed ports.

``tui.ops`` is written against these Protocols, not against the adapters: the Kubernetes adapter
(:class:`tui.cluster.writes.ClusterWriter`) and the in-memory fakes of the unit tests both satisfy
:class:`ClusterPort`. Failures keep the adapters' types (``tui.cluster.writes.WriteError`` and its
``ConflictError``), each with a one-line message.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from tui.core.model.resources import ResourceKind

JsonObject = dict[str, Any]


class ClusterPort(Protocol):
    """Reads and guarded writes of the objects behind the OPC UA lists, and cert-manager's renew."""

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        """The object, or None when it does not exist."""
        ...

    def patch_spc_objects(self, namespace: str, name: str, objects: str | None, *,
                          resource_version: str) -> JsonObject:
        """Replace ``spec.parameters.objects`` of a SecretProviderClass at ``resource_version``."""
        ...

    def create_secret_sync(self, namespace: str, name: str, *, spc_name: str, service_account: str,
                           mappings: Sequence[tuple[str, str]], secret_type: str = "Opaque",
                           labels: Mapping[str, str] | None = None) -> JsonObject:
        """Create a SecretSync (a conflict when one exists)."""
        ...

    def update_secret_sync_mappings(self, namespace: str, name: str, mappings: Sequence[tuple[str, str]], *,
                                    resource_version: str, force_synchronization: str | None = None,
                                    ) -> JsonObject:
        """Replace a SecretSync's mappings at ``resource_version`` (and nudge a sync with a new token)."""
        ...

    def delete_secret_sync(self, namespace: str, name: str, *, resource_version: str | None = None,
                           uid: str | None = None) -> bool:
        """Delete a SecretSync with preconditions; False when it was already gone."""
        ...

    def force_synchronization(self, namespace: str, name: str, token: str) -> JsonObject:
        """Set ``spec.forceSynchronization`` to ``token``: the controller re-reads every value now."""
        ...

    def renew_certificate(self, namespace: str, name: str, *, now: datetime) -> JsonObject:
        """``cmctl renew``: set the Certificate's Issuing condition to True, ManuallyTriggered."""
        ...
