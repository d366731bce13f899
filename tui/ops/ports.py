"""What the change engine needs from the outside world, as typed ports.

``tui.ops`` is written against these Protocols, not against the adapters: the Kubernetes adapter
(:class:`tui.cluster.writes.ClusterWriter`) and the in-memory fakes of the unit tests both satisfy
:class:`ClusterPort`; the Key Vault adapter (:class:`tui.vault.writes.VaultWriter`) and its fake satisfy
:class:`VaultPort`. Only :mod:`tui.ops.runner` builds the real adapters. Failures keep the adapters'
types (``tui.cluster.writes.WriteError`` and its ``ConflictError``, ``tui.vault.errors.VaultError``),
each with a one-line message.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol

from tui.core.model.arm import ArmKind, ArmResource
from tui.core.model.resources import ResourceKind
from tui.core.model.snapshot import VaultSecret

JsonObject = dict[str, Any]
Versioned = tuple[VaultSecret, str | None]
"""A secret as read (the core's :class:`VaultSecret`) and its version id."""


class ClusterPort(Protocol):
    """Reads and guarded writes of the objects behind the OPC UA lists, and cert-manager's renew."""

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        """The object, or None when it does not exist."""
        ...

    def list(self, kind: ResourceKind, namespace: str) -> list[JsonObject]:
        """Every object of ``kind`` in ``namespace``."""
        ...

    def patch_spc_objects(
        self, namespace: str, name: str, objects: str | None, *, resource_version: str
    ) -> JsonObject:
        """Replace ``spec.parameters.objects`` of a SecretProviderClass at ``resource_version``."""
        ...

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
        """Create a SecretSync (a conflict when one exists)."""
        ...

    def update_secret_sync_mappings(
        self,
        namespace: str,
        name: str,
        mappings: Sequence[tuple[str, str]],
        *,
        resource_version: str,
        force_synchronization: str | None = None,
    ) -> JsonObject:
        """Replace a SecretSync's mappings at ``resource_version`` (and nudge a sync with a new token)."""
        ...

    def delete_secret_sync(
        self, namespace: str, name: str, *, resource_version: str | None = None, uid: str | None = None
    ) -> bool:
        """Delete a SecretSync with preconditions; False when it was already gone."""
        ...

    def force_synchronization(self, namespace: str, name: str, token: str) -> JsonObject:
        """Set ``spec.forceSynchronization`` to ``token``: the controller re-reads every value now."""
        ...

    def renew_certificate(
        self,
        namespace: str,
        name: str,
        *,
        now: datetime,
        precondition: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> JsonObject:
        """``cmctl renew``: set the Certificate's Issuing condition to True, ManuallyTriggered.

        ``precondition`` sees the object about to be written over (the one whose resourceVersion the
        write carries) and raises to write nothing.
        """
        ...


class VaultPort(Protocol):
    """The Key Vault reads and writes of an apply, a resume and a rollback.

    Key Vault has no write preconditions: whether a write may go ahead, and whether another writer got
    in around it, is judged in :mod:`tui.ops.vault_ops` from these reads. Every failure is a one-line
    ``VaultError``; an absent secret is an answer (None, an empty set), not a failure.
    """

    def read(self, name: str) -> Versioned | None:
        """The current version of ``name`` and its version id; None when the secret does not exist."""
        ...

    def read_after_write(self, name: str) -> Versioned:
        """The current version of ``name`` just after this process wrote it (absent is a failure)."""
        ...

    def read_version(self, name: str, version: str) -> VaultSecret:
        """One version of ``name``, by id."""
        ...

    def version_ids(self, name: str) -> set[str]:
        """Every version id of ``name`` (empty when the secret does not exist)."""
        ...

    def is_soft_deleted(self, name: str) -> bool:
        """Whether ``name`` is deleted but recoverable (False when the deleted list may not be read)."""
        ...

    def write(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """Set ``name`` (a new version when it exists); returns the new version id."""
        ...

    def restore(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """Write an earlier value of ``name`` again, for a rollback; returns the new version id."""
        ...

    def delete(self, name: str, *, purge: bool) -> str:
        """Delete ``name`` (and with ``purge`` purge it): ``gone`` (it did not exist), ``deleted`` or
        ``purged``. An already soft-deleted secret is purged when asked."""
        ...

    def recover(self, name: str) -> None:
        """Recover a soft-deleted secret; returns once it can be read again."""
        ...


class ArmPort(Protocol):
    """Reads and guarded writes of the ARM resources behind the OPC UA lists (docs/domain.md §9).

    Failures are one-line ``tui.arm.errors.ArmError``s; a precondition that no longer holds (412, or a
    409 from ARM) is its ``ArmConflict`` subclass, for the caller to re-read and re-plan.
    """

    def get(self, kind: ArmKind, name: str) -> ArmResource | None:
        """The resource with its ETag; None when ARM holds none of that name."""
        ...

    def put(self, kind: ArmKind, name: str, body: Mapping[str, Any], *, etag: str | None) -> ArmResource:
        """Create or replace the resource and follow the long-running operation to a terminal state.

        ``etag`` is sent as ``If-Match``; None sends ``If-None-Match: *`` (the resource must not exist).
        Returns the resource as ARM holds it afterwards (its new ETag included).
        """
        ...

    def delete(self, kind: ArmKind, name: str, *, etag: str | None) -> bool:
        """Delete the resource (``If-Match`` when ``etag`` is given); False when it was already gone."""
        ...
