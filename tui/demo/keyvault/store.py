"""The state and rules behind the demo's Key Vault emulator: secrets, versions, soft delete.

Pure and thread-safe: no network, no HTTP. The HTTP layer (``keyvault_server``) turns requests into
calls here and :class:`VaultFault` into the service's error envelopes. Timestamps are integer Unix
seconds taken from an injected clock, as the real service reports them.

Key Vault secret names are case-insensitive: records are keyed by the lower-case name and keep the
spelling they were first created with.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from tui.core.clock import Clock, SystemClock

SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
# The service refuses secret values above 25 KiB; large CRLs hit this once hex-encoded.
MAX_VALUE_CHARS = 25 * 1024
DEFAULT_PAGE_SIZE = 25
_BACKUP_MAGIC = "aio-certs-kv-backup-1"
_UNSET: Any = object()


class VaultFault(Exception):
    """A request the service would refuse: HTTP status, error code, message and optional inner code."""

    def __init__(self, status: int, code: str, message: str, inner: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.inner = inner


def _not_found(name: str) -> VaultFault:
    return VaultFault(
        404,
        "SecretNotFound",
        f"A secret with (name/id) {name} was not found in this key vault. If you recently deleted this "
        "secret you may be able to recover it using the correct recovery command.",
    )


def _deleted_not_found(name: str) -> VaultFault:
    return VaultFault(404, "SecretNotFound", f"Deleted Secret not found: {name}")


def check_name(name: str) -> str:
    """Return ``name`` if it is a valid secret name, else raise a 400 ``BadParameter`` fault."""
    if not SECRET_NAME.match(name):
        raise VaultFault(400, "BadParameter", f"The request URI contains an invalid name: {name}")
    return name


@dataclass(frozen=True)
class SecretVersion:
    """One immutable version of a secret; updates replace the object rather than mutate it."""

    version: str
    value: str
    content_type: str | None = None
    tags: Mapping[str, str] | None = None
    enabled: bool = True
    not_before: int | None = None
    expires: int | None = None
    created: int = 0
    updated: int = 0


@dataclass
class SecretRecord:
    """All versions of one secret (oldest first) and, when soft-deleted, when and until when."""

    name: str
    versions: list[SecretVersion] = field(default_factory=list)
    deleted_date: int | None = None
    scheduled_purge_date: int | None = None

    @property
    def latest(self) -> SecretVersion:
        """The current version (the last one written)."""
        return self.versions[-1]

    def copy(self) -> SecretRecord:
        """A copy safe to hand outside the store's lock (versions themselves are immutable)."""
        return replace(self, versions=list(self.versions))


@dataclass(frozen=True)
class Page:
    """One page of a listing and the token for the next one (None on the last page)."""

    items: list[SecretRecord]
    next_token: str | None


def page_size(raw: str | None) -> int:
    """Parse ``maxresults``: 1-25, default 25, anything else is a 400 fault."""
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    if not raw.isdigit() or not 1 <= int(raw) <= DEFAULT_PAGE_SIZE:
        raise VaultFault(
            400, "BadParameter", f"Invalid maxresults '{raw}': it must be an integer between 1 and 25."
        )
    return int(raw)


class KeyVaultStore:
    """The secrets of one emulated vault. Every public method is atomic under one lock."""

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        soft_delete: bool = True,
        recoverable_days: int = 90,
        new_version: Callable[[], str] | None = None,
    ) -> None:
        self._clock = clock or SystemClock()
        self.soft_delete = soft_delete
        self.recoverable_days = recoverable_days
        self._new_version = new_version or (lambda: uuid.uuid4().hex)
        self._live: dict[str, SecretRecord] = {}
        self._deleted: dict[str, SecretRecord] = {}
        self._lock = threading.Lock()

    @property
    def recovery_level(self) -> str:
        """The ``recoveryLevel`` attribute the service reports for this vault's settings."""
        if not self.soft_delete:
            return "Purgeable"
        if self.recoverable_days == 90:
            return "Recoverable+Purgeable"
        return "CustomizedRecoverable+Purgeable"

    def _now(self) -> int:
        return int(self._clock.now().timestamp())

    def _expire_deleted(self, now: int) -> None:
        # The service purges soft-deleted secrets on its own once their retention ends.
        for key in [k for k, r in self._deleted.items() if (r.scheduled_purge_date or 0) <= now]:
            del self._deleted[key]

    # -- live secrets -------------------------------------------------------------------------

    def set_secret(
        self,
        name: str,
        value: str,
        *,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        enabled: bool | None = None,
        not_before: int | None = None,
        expires: int | None = None,
    ) -> SecretRecord:
        """Add a new version (creating the secret if needed); refused while the name is soft-deleted."""
        check_name(name)
        if len(value) > MAX_VALUE_CHARS:
            raise VaultFault(
                400,
                "BadParameter",
                f"Secret value for {name} is too large: {len(value)} > {MAX_VALUE_CHARS} characters.",
            )
        key = name.lower()
        with self._lock:
            now = self._now()
            self._expire_deleted(now)
            if key in self._deleted:
                raise VaultFault(
                    409,
                    "Conflict",
                    f"Secret {name} is currently in a deleted but recoverable state, and its name cannot be "
                    "reused; in this state, the secret can only be recovered or purged.",
                    inner="ObjectIsDeletedButRecoverable",
                )
            record = self._live.setdefault(key, SecretRecord(name=name))
            record.versions.append(
                SecretVersion(
                    version=self._new_version(),
                    value=value,
                    content_type=content_type,
                    tags=dict(tags) if tags is not None else None,
                    enabled=True if enabled is None else enabled,
                    not_before=not_before,
                    expires=expires,
                    created=now,
                    updated=now,
                )
            )
            return record.copy()

    def _find_version(self, name: str, version: str | None) -> tuple[SecretRecord, int]:
        record = self._live.get(check_name(name).lower())
        if record is None:
            raise _not_found(name)
        if not version:
            return record, len(record.versions) - 1
        for index, candidate in enumerate(record.versions):
            if candidate.version == version.lower():
                return record, index
        raise _not_found(f"{name}/{version}")

    def get_secret(self, name: str, version: str | None = None) -> tuple[str, SecretVersion]:
        """Return ``(name, version)``; latest when ``version`` is empty; a disabled one is a 403."""
        with self._lock:
            record, index = self._find_version(name, version)
            found = record.versions[index]
        if not found.enabled:
            raise VaultFault(
                403, "Forbidden", "Operation get is not allowed on a disabled secret.", inner="SecretDisabled"
            )
        return record.name, found

    def update_secret(
        self, name: str, version: str | None, changes: Mapping[str, Any]
    ) -> tuple[str, SecretVersion]:
        """Change the given properties (keys of :class:`SecretVersion` except value) of one version."""
        allowed = {"content_type", "tags", "enabled", "not_before", "expires"}
        unknown = set(changes) - allowed
        if unknown:
            raise VaultFault(
                400, "BadParameter", f"Properties cannot be updated: {', '.join(sorted(unknown))}"
            )
        with self._lock:
            record, index = self._find_version(name, version)
            updated = replace(record.versions[index], **dict(changes), updated=self._now())
            record.versions[index] = updated
            return record.name, updated

    def list_secrets(self, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> Page:
        """Live secrets ordered by lower-case name, starting after the key in ``after``."""
        with self._lock:
            return self._page(self._live, after, limit)

    def list_versions(
        self, name: str, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE
    ) -> tuple[str, list[SecretVersion], int | None]:
        """Versions of one secret, oldest first: ``(name, versions, next offset or None)``."""
        check_name(name)
        with self._lock:
            record = self._live.get(name.lower())
            if record is None:
                # The service answers an empty listing, not a 404, for an unknown name.
                return name, [], None
            chunk = record.versions[offset : offset + limit]
            more = offset + limit < len(record.versions)
            return record.name, chunk, (offset + limit) if more else None

    @staticmethod
    def _page(table: Mapping[str, SecretRecord], after: str | None, limit: int) -> Page:
        # Keyset paging (token = last key served) stays correct while secrets come and go between pages.
        keys = sorted(k for k in table if after is None or k > after)
        chunk = keys[:limit]
        next_token = chunk[-1] if len(keys) > limit else None
        return Page([table[k].copy() for k in chunk], next_token)

    # -- deletion and recovery ----------------------------------------------------------------

    def delete_secret(self, name: str) -> SecretRecord:
        """Delete every version; soft-deleted (recoverable) when the vault has soft delete on."""
        key = check_name(name).lower()
        with self._lock:
            now = self._now()
            self._expire_deleted(now)
            record = self._live.pop(key, None)
            if record is None:
                raise _not_found(name)
            if self.soft_delete:
                record.deleted_date = now
                record.scheduled_purge_date = now + self.recoverable_days * 86400
                self._deleted[key] = record
            return record.copy()

    def get_deleted(self, name: str) -> SecretRecord:
        """A soft-deleted secret, or a 404 fault."""
        key = check_name(name).lower()
        with self._lock:
            self._expire_deleted(self._now())
            record = self._deleted.get(key)
            if record is None:
                raise _deleted_not_found(name)
            return record.copy()

    def list_deleted(self, after: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> Page:
        """Soft-deleted secrets ordered by lower-case name."""
        with self._lock:
            self._expire_deleted(self._now())
            return self._page(self._deleted, after, limit)

    def purge_deleted(self, name: str) -> None:
        """Remove a soft-deleted secret for good."""
        key = check_name(name).lower()
        with self._lock:
            self._expire_deleted(self._now())
            if self._deleted.pop(key, None) is None:
                raise _deleted_not_found(name)

    def recover_deleted(self, name: str) -> SecretRecord:
        """Bring a soft-deleted secret back with all its versions."""
        key = check_name(name).lower()
        with self._lock:
            self._expire_deleted(self._now())
            record = self._deleted.pop(key, None)
            if record is None:
                raise _deleted_not_found(name)
            record.deleted_date = record.scheduled_purge_date = None
            self._live[key] = record
            return record.copy()

    # -- backup and restore -------------------------------------------------------------------

    def backup_secret(self, name: str) -> bytes:
        """An opaque blob holding every version of a live secret."""
        with self._lock:
            record, _ = self._find_version(name, None)
            return json.dumps({"magic": _BACKUP_MAGIC, "record": _record_to_dict(record)}).encode()

    def restore_secret(self, blob: bytes) -> SecretRecord:
        """Recreate a secret from :meth:`backup_secret` output; 409 if the name is in use."""
        try:
            document = json.loads(blob)
            if document.get("magic") != _BACKUP_MAGIC:
                raise ValueError("not a backup")
            record = _record_from_dict(document["record"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise VaultFault(400, "BadParameter", "Backup blob is corrupt or not a secret backup.") from exc
        key = record.name.lower()
        with self._lock:
            self._expire_deleted(self._now())
            if key in self._live or key in self._deleted:
                raise VaultFault(409, "Conflict", f"Secret {record.name} already exists.")
            self._live[key] = record
            return record.copy()

    # -- whole-state views --------------------------------------------------------------------

    def export(self) -> dict[str, Any]:
        """The whole state as plain JSON-able data (for persistence and before/after comparisons)."""
        with self._lock:
            return {
                "secrets": {k: _record_to_dict(r) for k, r in sorted(self._live.items())},
                "deleted": {k: _record_to_dict(r) for k, r in sorted(self._deleted.items())},
            }

    def load(self, state: Mapping[str, Any]) -> None:
        """Replace the whole state with what :meth:`export` produced."""
        live = {k: _record_from_dict(v) for k, v in state.get("secrets", {}).items()}
        deleted = {k: _record_from_dict(v) for k, v in state.get("deleted", {}).items()}
        with self._lock:
            self._live, self._deleted = live, deleted


def _record_to_dict(record: SecretRecord) -> dict[str, Any]:
    return asdict(record)


def _record_from_dict(document: Mapping[str, Any]) -> SecretRecord:
    versions = [SecretVersion(**v) for v in document["versions"]]
    if not versions:
        raise ValueError("a secret record needs at least one version")
    return SecretRecord(
        name=check_name(document["name"]),
        versions=versions,
        deleted_date=document.get("deleted_date"),
        scheduled_purge_date=document.get("scheduled_purge_date"),
    )


def encode_backup(blob: bytes) -> str:
    """base64url without padding, as the service sends backup blobs."""
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def decode_backup(text: str) -> bytes:
    """Inverse of :func:`encode_backup`, tolerant of missing padding; a 400 fault on garbage."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise VaultFault(400, "BadParameter", "Backup blob is not valid base64url.") from exc
