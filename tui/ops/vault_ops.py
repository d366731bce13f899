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

from tui.core.changes.operations import VaultDelete, VaultWrite, value_digest
from tui.core.model.snapshot import VaultSecret
from tui.ops.errors import WriteConflict
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


def check_unchanged(op: VaultWrite, current: VaultSecret | None) -> bool:
    """Whether ``op`` may write over what the vault holds now; True when ``current`` is ``op``'s own value.

    The plan judged the secret as it was then (absent, or a given value); anything else by now means
    another writer got in, and :class:`~tui.ops.errors.WriteConflict` (nothing written) stops the apply
    before it replaces that writer's value. Journals from before the plan kept that digest skip the value
    comparison.
    """
    if current is not None and current.value == op.value:
        return True
    name = op.secret_name
    if current is None:
        if op.replaces and op.previous_digest is not None:
            raise WriteConflict(f"vault secret {name} was deleted by someone else after the plan was made; "
                                "nothing was written to it: plan the change again", written=False)
        return False
    if not op.replaces:
        raise WriteConflict(f"vault secret {name} was created by someone else after the plan was made; "
                            "nothing was written to it: plan the change again (with --overwrite to "
                            "replace it)", written=False)
    if op.previous_digest is not None and value_digest(current.value or "") != op.previous_digest:
        raise WriteConflict(f"vault secret {name} was changed by someone else after the plan was made; "
                            "nothing was written to it: plan the change again", written=False)
    return False


def version_ids(client: SecretClient, name: str) -> set[str]:
    """Every version id of ``name`` (empty when the secret does not exist)."""
    try:
        with vault_errors(f"listing the versions of secret {name}"):
            return {p.version for p in client.list_properties_of_secret_versions(name) if p.version}
    except VaultError as exc:
        if isinstance(exc.__cause__, ResourceNotFoundError):
            return set()
        raise


def write_secret_checked(client: SecretClient, op: VaultWrite) -> str:
    """:func:`write_secret` guarded against other writers; returns our version.

    Key Vault keeps the last write and offers no precondition, so two applies writing the same name at
    once would both believe they won. Before the write the secret must still be what the plan judged
    (:func:`check_unchanged`, nothing written otherwise). The versions are listed before and after the
    write: a version that is neither one of those nor ours, or a current version that is not ours,
    holding another value, means another writer: :class:`~tui.ops.errors.WriteConflict` (written) stops
    the apply before the cluster maps a value it did not check. A racer writing the very same bytes is no
    conflict.
    """
    name = op.secret_name
    # The versions first, then the value judged against the plan: a write landing between the two reads
    # shows in the value, one landing after them shows as a foreign version below.
    before = version_ids(client, name)
    current, _ = read_current(client, name)
    check_unchanged(op, current)
    mine = write_secret(client, op)
    with vault_errors(f"reading back secret {name}"):
        current = client.get_secret(name)
    foreign = sorted(version_ids(client, name) - before - {mine})
    if current.properties.version != mine and current.value != op.value:
        raise WriteConflict(f"vault secret {name} was written by someone else right after this apply wrote "
                            "it (Key Vault keeps the last write); stopped before changing the cluster",
                            written=True)
    for version in foreign:
        with vault_errors(f"reading secret {name} version {version}"):
            other = client.get_secret(name, version)
        if other.value != op.value:
            raise WriteConflict(f"vault secret {name} was also written by someone else while this apply "
                                "wrote it (Key Vault keeps the last write); stopped before changing the "
                                "cluster", written=True)
    return mine


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
