"""The Key Vault side of an apply, against :class:`~tui.ops.ports.VaultPort`: what a secret holds, and
when a write may go ahead.

Key Vault keeps the last write and offers no precondition, so the guard against another writer is
built from reads around the write: :func:`check_unchanged` (before: the secret is still what the plan
judged) and :func:`write_secret_checked` (after: no version but ours holds other bytes). These are pure
decisions over the port's answers; the requests themselves are the adapter's
(:class:`tui.vault.writes.VaultWriter`). Every failure is a one-line
:class:`~tui.vault.errors.VaultError` or :class:`~tui.ops.errors.WriteConflict`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from tui.core.changes.operations import VaultWrite, value_digest
from tui.core.model.snapshot import VaultSecret
from tui.ops.errors import WriteConflict
from tui.ops.ports import VaultPort
from tui.vault.errors import VaultError


@dataclass(frozen=True)
class SecretState:
    """What the vault holds under one name right now (values are public certificate hex)."""

    exists: bool
    value: str | None = None
    version: str | None = None
    content_type: str | None = None
    deleted: bool = False
    """Soft-deleted and recoverable (the name cannot be reused until purged or recovered)."""


def read_secret(vault: VaultPort, name: str) -> SecretState:
    """The current version of ``name`` (or its absence, and then whether it is soft-deleted)."""
    found = vault.read(name)
    if found is None:
        return SecretState(False, deleted=vault.is_soft_deleted(name))
    secret, version = found
    return SecretState(True, secret.value, version, secret.content_type)


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
            raise WriteConflict(
                f"vault secret {name} was deleted by someone else after the plan was made; "
                "nothing was written to it: plan the change again",
                written=False,
            )
        return False
    if not op.replaces:
        raise WriteConflict(
            f"vault secret {name} was created by someone else after the plan was made; "
            "nothing was written to it: plan the change again (with --overwrite to "
            "replace it)",
            written=False,
        )
    if op.previous_digest is not None and value_digest(current.value or "") != op.previous_digest:
        raise WriteConflict(
            f"vault secret {name} was changed by someone else after the plan was made; "
            "nothing was written to it: plan the change again",
            written=False,
        )
    return False


def write_secret_checked(vault: VaultPort, op: VaultWrite) -> str:
    """Write ``op`` as the official tool does (hex value, tags, content type, exp), guarded against other
    writers; returns our version.

    Two applies writing the same name at once would otherwise both believe they won. Before the write
    the secret must still be what the plan judged (:func:`check_unchanged`, nothing written otherwise).
    The versions are listed before and after the write: a version that is neither one of those nor ours,
    or a current version that is not ours, holding another value, means another writer:
    :class:`~tui.ops.errors.WriteConflict` (written) stops the apply before the cluster maps a value it
    did not check. A racer writing the very same bytes is no conflict.
    """
    name = op.secret_name
    # The versions first, then the value judged against the plan: a write landing between the two reads
    # shows in the value, one landing after them shows as a foreign version below.
    before = vault.version_ids(name)
    found = vault.read(name)
    check_unchanged(op, found[0] if found is not None else None)
    try:
        mine = vault.write(
            name, op.value, content_type=op.content_type, tags=op.tags, expires_on=op.expires_on
        )
    except VaultError as exc:
        if exc.status != 409:
            raise
        # Key Vault refuses a set while the name is deleted (recoverable) or being purged: another writer
        # deleted it between our read and our write. Nothing of ours landed.
        raise WriteConflict(
            f"vault secret {name} was deleted by someone else while this apply wrote it (Key Vault "
            "answered 409 Conflict: deleted but recoverable, or being purged); nothing was written: "
            "plan the change again once it is recovered or purged",
            written=False,
        ) from exc
    current, current_version = vault.read_after_write(name)
    foreign = sorted(vault.version_ids(name) - before - {mine})
    if current_version != mine and current.value != op.value:
        raise WriteConflict(
            f"vault secret {name} was written by someone else right after this apply wrote "
            "it (Key Vault keeps the last write); stopped before changing the cluster",
            written=True,
        )
    theirs = [(version, vault.read_version(name, version)) for version in foreign]
    theirs = [(version, secret) for version, secret in theirs if secret.value != op.value]
    if theirs:
        # Ours landed on top of theirs: the other writer may already have mapped and reported its value,
        # so put it back rather than leave our unchecked bytes current (the newest of theirs wins).
        if current_version == mine:
            _, last = max(theirs, key=lambda item: item[1].updated_on or datetime.min.replace(tzinfo=UTC))
            vault.restore(
                name,
                last.value or "",
                content_type=last.content_type,
                tags=last.tags,
                expires_on=last.expires_on,
            )
        raise WriteConflict(
            f"vault secret {name} was also written by someone else while this apply wrote "
            "it (Key Vault keeps the last write); their value is current again and the "
            "cluster was not changed",
            written=True,
        )
    return mine


def still_ours(vault: VaultPort, op: VaultWrite) -> bool:
    """Whether the vault still holds ``op``'s value: checked once more before an apply says "applied",
    since another writer may set the secret after our own guard looked."""
    found = vault.read(op.secret_name)
    return found is not None and found[0].value == op.value


def restore_version(vault: VaultPort, name: str, version: str) -> str:
    """Make ``version`` (an older version of ``name``) current again by writing its value as a new version."""
    old = vault.read_version(name, version)
    return vault.restore(
        name, old.value or "", content_type=old.content_type, tags=old.tags, expires_on=old.expires_on
    )
