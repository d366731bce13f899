"""Writes to Key Vault, and the reads an apply makes around them, over one SecretClient.

The vault's counterpart of :mod:`tui.cluster.writes`: :class:`VaultWriter` is the adapter behind
:class:`tui.ops.ports.VaultPort`, and does I/O only. Which value may be written over which (the guard
against a concurrent writer, since Key Vault has no write preconditions) is decided in
:mod:`tui.ops.vault_ops` against the port, so it is tested without the SDK.

Throttling (429 with Retry-After) is the SDK's retry policy's job; what this adds is what the official
tool does around deletion (wait until the deleted secret is visible, then purge; a 403 on the
deleted-secret read stops the wait) and, for a rollback, a recover that waits until the secret can be
read again. Every failure is a :class:`~tui.vault.errors.VaultError` whose ``str()`` is one line naming
the secret and the reason.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import datetime
from types import MappingProxyType

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import KeyVaultSecret, SecretClient

from tui.core.model.snapshot import VaultSecret
from tui.vault.errors import VaultError, vault_errors

DELETE_WAIT_SECONDS = 20.0
# The official tool polls every 2 s; a shorter interval keeps a purge quick when the vault is fast.
POLL_SECONDS = 0.2

# Outcomes of VaultWriter.delete.
GONE = "gone"
DELETED = "deleted"
PURGED = "purged"


def _as_core(secret: KeyVaultSecret, name: str) -> tuple[VaultSecret, str | None]:
    """An SDK secret as the core's :class:`VaultSecret`, and its version id."""
    props = secret.properties
    return VaultSecret(
        name=props.name or name,
        value=secret.value,
        content_type=props.content_type,
        tags=MappingProxyType(dict(props.tags or {})),
        enabled=bool(props.enabled),
        updated_on=props.updated_on,
        expires_on=props.expires_on,
    ), props.version


def _not_found(exc: VaultError) -> bool:
    return isinstance(exc.__cause__, ResourceNotFoundError)


class VaultWriter:
    """The vault reads and writes an apply, a resume and a rollback make, over one ``SecretClient``.

    Satisfies :class:`tui.ops.ports.VaultPort`. ``wait_seconds`` bounds the waits for a delete to
    show in the deleted list and for a recovered secret to be readable again.
    """

    def __init__(self, client: SecretClient, *, wait_seconds: float = DELETE_WAIT_SECONDS) -> None:
        self.client = client
        self.wait_seconds = wait_seconds

    # -- reads ------------------------------------------------------------------------------------

    def read(self, name: str) -> tuple[VaultSecret, str | None] | None:
        """The current version of ``name`` and its version id; None when the secret does not exist."""
        try:
            with vault_errors(f"reading secret {name}"):
                secret = self.client.get_secret(name)
        except VaultError as exc:
            if _not_found(exc):
                return None
            raise
        return _as_core(secret, name)

    def read_after_write(self, name: str) -> tuple[VaultSecret, str | None]:
        """The current version of ``name`` just after this process wrote it (absent is an error)."""
        with vault_errors(f"reading back secret {name}"):
            secret = self.client.get_secret(name)
        return _as_core(secret, name)

    def read_version(self, name: str, version: str) -> VaultSecret:
        """One version of ``name``, by id."""
        with vault_errors(f"reading secret {name} version {version}"):
            secret = self.client.get_secret(name, version)
        return _as_core(secret, name)[0]

    def version_ids(self, name: str) -> set[str]:
        """Every version id of ``name`` (empty when the secret does not exist)."""
        try:
            with vault_errors(f"listing the versions of secret {name}"):
                return {p.version for p in self.client.list_properties_of_secret_versions(name) if p.version}
        except VaultError as exc:
            if _not_found(exc):
                return set()
            raise

    def is_soft_deleted(self, name: str) -> bool:
        """Whether ``name`` sits in the vault's deleted list (False when that list may not be read)."""
        try:
            self.client.get_deleted_secret(name)
        except ResourceNotFoundError:
            return False
        except HttpResponseError as exc:
            if exc.status_code == 403:
                return False
            raise VaultError(f"reading deleted secret {name}: {exc.status_code} {exc.reason}") from exc
        return True

    # -- writes -----------------------------------------------------------------------------------

    def write(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """Set ``name`` (a new version when it exists) as the official tool does; returns the version id."""
        return self._set(f"writing secret {name}", name, value, content_type, tags, expires_on)

    def restore(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        """Write an earlier value of ``name`` again (a rollback); returns the new version id."""
        return self._set(f"restoring secret {name}", name, value, content_type, tags, expires_on)

    def delete(self, name: str, *, purge: bool) -> str:
        """Delete (and with ``purge`` purge) a secret, as ``--include-secrets`` does; returns what happened.

        ``gone`` when it did not exist, ``deleted`` (recoverable) or ``purged``. A secret already
        soft-deleted is purged when asked.
        """
        try:
            with vault_errors(f"deleting secret {name}"):
                self.client.begin_delete_secret(name)
        except VaultError as exc:
            if not _not_found(exc):
                raise
            if not (purge and self.is_soft_deleted(name)):
                return GONE
        if not purge:
            return DELETED
        forbidden = False

        def visible() -> bool:
            nonlocal forbidden
            try:
                self.client.get_deleted_secret(name)
            except ResourceNotFoundError:
                return False
            except HttpResponseError as exc:
                if exc.status_code == 403:  # as the official tool: no read permission on deleted secrets
                    forbidden = True
                    return True
                raise VaultError(
                    f"waiting for deleted secret {name}: {exc.status_code} {exc.reason}",
                ) from exc
            return True

        if not _wait(visible, self.wait_seconds) and not forbidden:
            raise VaultError(
                f"deleting secret {name}: still not in the deleted list after "
                f"{self.wait_seconds:g}s; purge it later with `az keyvault secret purge`"
            )
        with vault_errors(f"purging secret {name}"):
            self.client.purge_deleted_secret(name)
        return PURGED

    def recover(self, name: str) -> None:
        """Recover a soft-deleted secret and wait until it can be read again."""
        with vault_errors(f"recovering secret {name}"):
            self.client.begin_recover_deleted_secret(name)

        def back() -> bool:
            if self.read(name) is not None:
                return True
            # While it is not readable yet, each look also reads the deleted list, as every look at a
            # secret's state in an apply does: the requests stay those the emulator tests pin down.
            self.is_soft_deleted(name)
            return False

        if not _wait(back, self.wait_seconds):
            raise VaultError(f"recovering secret {name}: not readable after {self.wait_seconds:g}s")

    # -- plumbing ---------------------------------------------------------------------------------

    def _set(
        self,
        action: str,
        name: str,
        value: str,
        content_type: str | None,
        tags: Mapping[str, str],
        expires_on: datetime | None,
    ) -> str:
        with vault_errors(action):
            secret = self.client.set_secret(
                name, value, content_type=content_type, tags=dict(tags), expires_on=expires_on
            )
        return secret.properties.version or ""


def _wait(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        # The service finishes a delete on its own schedule; there is nothing to await but the next poll.
        time.sleep(POLL_SECONDS)
