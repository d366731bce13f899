"""Reading a vault into a :class:`~tui.core.model.snapshot.VaultSnapshot`, never raising.

Lists every secret's properties, then reads the values of the wanted ones on a small thread pool (one
request per value is the only way the API offers). Failures become the snapshot's status (FORBIDDEN,
UNREACHABLE or ERROR with a one-line reason) so an unreachable vault leaves the rest of the dashboard
working.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from types import MappingProxyType

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient, SecretProperties

from tui.core.clock import Clock
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.vault.errors import classify

DEFAULT_WORKERS = 8
LISTING_FIRST_FROM = 32
"""Values to read from which the listing is delivered ahead of them (below, the wait is short anyway)."""
# Failures that will hit every remaining read the same way: stop instead of repeating them.
_FATAL = (AreaState.FORBIDDEN, AreaState.UNREACHABLE)


def _secret(properties: SecretProperties, value: str | None) -> VaultSecret:
    return VaultSecret(
        name=properties.name or "",
        value=value,
        content_type=properties.content_type,
        tags=MappingProxyType(dict(properties.tags or {})),
        enabled=bool(properties.enabled),
        updated_on=properties.updated_on,
        expires_on=properties.expires_on,
    )


class _ValueReader:
    """Fetches values concurrently, remembering the first failure and stopping early on fatal ones."""

    def __init__(self, client: SecretClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.failure: tuple[AreaState, str] | None = None
        self.failed = 0

    def read(self, name: str) -> tuple[str, str | None, bool]:
        """``(name, value, still exists)``; value None when it could not be read."""
        with self._lock:
            if self.failure is not None and self.failure[0] in _FATAL:
                self.failed += 1
                return name, None, True
        try:
            return name, self._client.get_secret(name).value, True
        except ResourceNotFoundError:
            return name, None, False  # deleted between the listing and the read
        except HttpResponseError as exc:
            inner = getattr(exc.error, "innererror", None) or {}
            if exc.status_code == 403 and inner.get("code") == "SecretDisabled":
                return name, None, True  # disabled since the listing: not a failure of ours
            self._fail(exc)
        except Exception as exc:  # any SDK or transport failure must land in the snapshot, not escape
            self._fail(exc)
        return name, None, True

    def _fail(self, exc: BaseException) -> None:
        with self._lock:
            self.failed += 1
            if self.failure is None:
                self.failure = classify(exc)


def _reusable_value(previous: VaultSnapshot | None, properties: SecretProperties) -> str | None:
    if previous is None or properties.name is None or properties.updated_on is None:
        return None
    old = previous.secrets.get(properties.name)
    if old is None or old.value is None or not old.enabled:
        return None
    if old.updated_on != properties.updated_on or old.content_type != properties.content_type:
        return None
    return old.value


def read_vault_snapshot(
    client: SecretClient,
    *,
    names: Iterable[str] | None = None,
    clock: Clock,
    workers: int = DEFAULT_WORKERS,
    previous: VaultSnapshot | None = None,
    on_listed: Callable[[VaultSnapshot], None] | None = None,
) -> VaultSnapshot:
    """Read the vault behind ``client``: properties of every secret, values of ``names`` (all when None,
    none when empty).

    Secret names compare case-insensitively, as Key Vault does; the snapshot keys them as listed.
    Disabled secrets are listed without a value. With ``previous``, a value is reused when the secret's
    ``updated_on`` and content type are unchanged (the service's timestamps have 1 s resolution, so a
    refresh loop should still read everything now and then). Never raises for vault, network or
    credential failures. ``on_listed`` gets the listing ahead of the values (unread ones None,
    ``values_pending`` set) when at least :data:`LISTING_FIRST_FROM` values are to be read: presence,
    content types and expiry show at once while the values take their time.
    """
    taken_at = clock.now()
    vault_url = client.vault_url
    try:
        listed = [p for p in client.list_properties_of_secrets() if p.name]
    except Exception as exc:  # see _ValueReader.read: nothing may escape to the dashboard
        state, message = classify(exc)
        return VaultSnapshot(vault_url, ResourceStatus(state, message, since=taken_at), taken_at=taken_at)
    wanted = None if names is None else {n.lower() for n in names}
    values: dict[str, str | None] = {}
    to_read = []
    for p in listed:
        if not p.enabled or not p.name or (wanted is not None and p.name.lower() not in wanted):
            continue
        known = _reusable_value(previous, p)
        if known is None:
            to_read.append(p.name)
        else:
            values[p.name] = known
    if on_listed is not None and len(to_read) >= LISTING_FIRST_FROM:
        listing = {p.name: _secret(p, values.get(p.name)) for p in listed if p.name}
        on_listed(
            VaultSnapshot(
                vault_url,
                ResourceStatus(AreaState.OK),
                MappingProxyType(listing),
                taken_at=taken_at,
                values_pending=len(to_read),
            )
        )
    reader = _ValueReader(client)
    gone: set[str] = set()
    if to_read:
        with ThreadPoolExecutor(
            max_workers=max(1, min(workers, len(to_read))), thread_name_prefix="vault-read"
        ) as pool:
            for name, value, exists in pool.map(reader.read, to_read):
                if exists:
                    values[name] = value
                else:
                    gone.add(name)
    secrets = {p.name: _secret(p, values.get(p.name)) for p in listed if p.name and p.name not in gone}
    if reader.failure is None:
        status = ResourceStatus(AreaState.OK)
    else:
        state, message = reader.failure
        status = ResourceStatus(
            state, f"{reader.failed} of {len(to_read)} secret values unread: {message}", since=taken_at
        )
    return VaultSnapshot(vault_url, status, MappingProxyType(secrets), taken_at=taken_at)


def read_vault_secrets(
    client: SecretClient, names: Iterable[str], *, clock: Clock, workers: int = DEFAULT_WORKERS
) -> VaultSnapshot:
    """Read the secrets ``names`` alone (one request each, no listing): the ones found, with their values.

    For a site whose lists came to map a few names since the last full read (docs/design.md §6): a vault
    of thousands of secrets is not listed again for them. A name the vault lacks is absent from the
    snapshot; a disabled one is there without a value. Never raises: a failure is the status, as with
    :func:`read_vault_snapshot` (the caller keeps its earlier read then).
    """
    taken_at = clock.now()
    wanted = sorted(set(names))
    found: dict[str, VaultSecret] = {}
    failure: tuple[AreaState, str] | None = None
    lock = threading.Lock()

    def one(name: str) -> None:
        nonlocal failure
        try:
            secret = client.get_secret(name)
            properties = secret.properties
            with lock:
                found[properties.name or name] = _secret(properties, secret.value)
        except ResourceNotFoundError:
            return  # not in the vault (or deleted): absent
        except HttpResponseError as exc:
            inner = getattr(exc.error, "innererror", None) or {}
            if exc.status_code == 403 and inner.get("code") == "SecretDisabled":
                with lock:
                    found[name] = VaultSecret(name=name, value=None, enabled=False)
                return
            with lock:
                failure = failure or classify(exc)
        except Exception as exc:  # any SDK or transport failure lands in the status
            with lock:
                failure = failure or classify(exc)

    if wanted:
        with ThreadPoolExecutor(
            max_workers=max(1, min(workers, len(wanted))), thread_name_prefix="vault-recheck"
        ) as pool:
            list(pool.map(one, wanted))
    if failure is not None:
        state, message = failure
        return VaultSnapshot(
            client.vault_url, ResourceStatus(state, message, since=taken_at), taken_at=taken_at
        )
    return VaultSnapshot(
        client.vault_url, ResourceStatus(AreaState.OK), MappingProxyType(found), taken_at=taken_at
    )
