"""The Key Vault side of an apply: write a certificate secret, delete and purge one, undo a write.

Throttling (429 with Retry-After) is the SDK's retry policy's job; these functions add what the
official tool does around deletion (wait until the deleted secret is visible, then purge; a 403 on
the deleted-secret read stops the wait) and what a rollback needs (restore the previous version's
value, recover a soft-deleted secret). Every failure is a one-line :class:`~tui.vault.errors.VaultError`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient

from tui.core.plan_ops import VaultDelete, VaultWrite
from tui.core.snapshot import VaultSecret
from tui.vault.errors import VaultError, vault_errors

DELETE_WAIT_SECONDS = 20.0
# The official tool polls every 2 s; a shorter interval keeps a purge quick when the vault is fast.
POLL_SECONDS = 0.2


@dataclass(frozen=True)
class SecretState:
    """What the vault holds under one name right now (values are public certificate hex)."""

    exists: bool
    value: str | None = None
    version: str | None = None
    content_type: str | None = None
    deleted: bool = False
    """Soft-deleted and recoverable (the name cannot be reused until purged or recovered)."""


def read_secret(client: SecretClient, name: str) -> SecretState:
    """The current version of ``name`` (or its absence, or its soft-deleted state)."""
    try:
        with vault_errors(f"reading secret {name}"):
            secret = client.get_secret(name)
    except VaultError as exc:
        if not isinstance(exc.__cause__, ResourceNotFoundError):
            raise
    else:
        return SecretState(True, secret.value, secret.properties.version, secret.properties.content_type)
    return SecretState(False, deleted=is_soft_deleted(client, name))


def read_current(client: SecretClient, name: str) -> tuple[VaultSecret | None, str | None]:
    """The current version of ``name`` as the core's :class:`VaultSecret` plus its version id
    (``(None, None)`` when it does not exist), for before-images."""
    try:
        with vault_errors(f"reading secret {name}"):
            secret = client.get_secret(name)
    except VaultError as exc:
        if isinstance(exc.__cause__, ResourceNotFoundError):
            return None, None
        raise
    props = secret.properties
    return VaultSecret(name=props.name or name, value=secret.value, content_type=props.content_type,
                       tags=MappingProxyType(dict(props.tags or {})), enabled=bool(props.enabled),
                       updated_on=props.updated_on, expires_on=props.expires_on), props.version


def is_soft_deleted(client: SecretClient, name: str) -> bool:
    """Whether ``name`` sits in the vault's deleted list (False when that list may not be read)."""
    try:
        client.get_deleted_secret(name)
    except ResourceNotFoundError:
        return False
    except HttpResponseError as exc:
        if exc.status_code == 403:
            return False
        raise VaultError(f"reading deleted secret {name}: {exc.status_code} {exc.reason}") from exc
    return True


def write_secret(client: SecretClient, op: VaultWrite) -> str:
    """Set the secret as the official tool does (hex value, tags, content type, exp); returns the version."""
    with vault_errors(f"writing secret {op.secret_name}"):
        secret = client.set_secret(op.secret_name, op.value, content_type=op.content_type,
                                   tags=dict(op.tags), expires_on=op.expires_on)
    return secret.properties.version or ""


def restore_version(client: SecretClient, name: str, version: str) -> str:
    """Make ``version`` (an older version of ``name``) current again by writing its value as a new version."""
    with vault_errors(f"reading secret {name} version {version}"):
        old = client.get_secret(name, version)
    with vault_errors(f"restoring secret {name}"):
        secret = client.set_secret(name, old.value or "", content_type=old.properties.content_type,
                                   tags=dict(old.properties.tags or {}),
                                   expires_on=old.properties.expires_on)
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


def delete_secret(client: SecretClient, op: VaultDelete, *, wait_seconds: float = DELETE_WAIT_SECONDS) -> str:
    """Delete (and with ``op.purge`` purge) a secret, as ``--include-secrets`` does; returns what happened.

    ``gone`` when it did not exist, ``deleted`` (recoverable) or ``purged``. A secret already soft-deleted
    is purged when asked.
    """
    name = op.secret_name
    try:
        with vault_errors(f"deleting secret {name}"):
            client.begin_delete_secret(name)
    except VaultError as exc:
        if not isinstance(exc.__cause__, ResourceNotFoundError):
            raise
        if not (op.purge and is_soft_deleted(client, name)):
            return "gone"
    if not op.purge:
        return "deleted"
    forbidden = False

    def visible() -> bool:
        nonlocal forbidden
        try:
            client.get_deleted_secret(name)
        except ResourceNotFoundError:
            return False
        except HttpResponseError as exc:
            if exc.status_code == 403:  # as the official tool: no read permission on deleted secrets
                forbidden = True
                return True
            raise VaultError(f"waiting for deleted secret {name}: {exc.status_code} {exc.reason}") from exc
        return True

    if not _wait(visible, wait_seconds) and not forbidden:
        raise VaultError(f"deleting secret {name}: still not in the deleted list after {wait_seconds:g}s; "
                         "purge it later with `az keyvault secret purge`")
    with vault_errors(f"purging secret {name}"):
        client.purge_deleted_secret(name)
    return "purged"


def recover_secret(client: SecretClient, name: str, *, wait_seconds: float = DELETE_WAIT_SECONDS) -> None:
    """Recover a soft-deleted secret and wait until it can be read again."""
    with vault_errors(f"recovering secret {name}"):
        client.begin_recover_deleted_secret(name)

    def back() -> bool:
        return read_secret(client, name).exists

    if not _wait(back, wait_seconds):
        raise VaultError(f"recovering secret {name}: not readable after {wait_seconds:g}s")
