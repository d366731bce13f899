"""Reading a vault into a :class:`~tui.core.model.snapshot.VaultSnapshot`, never raising.

Lists every secret's properties, then reads the values of the wanted ones on a small thread pool (one
request per value is the only way the API offers). Failures become the snapshot's status (FORBIDDEN,
UNREACHABLE or ERROR with a one-line reason) so an unreachable vault leaves the rest of the dashboard
working.

A secret's value never changes within a version, so the values read through a client are remembered (in
memory, per client, never written anywhere) by the version they belong to, and a later read through the
same client fetches only the values of versions it has not seen: with nothing changed, a re-read of a
vault is its paged listing alone. The listing names no version (docs/domain.md, "Key Vault"); what ties a
listed secret to a remembered version is the current version's creation time, which is whole seconds. A
value is therefore remembered only when the listing before it was answered at least :data:`SETTLED`
after that version was created, by the service's own ``Date`` and by the reader's clock alike: any later
version has a later creation time (see :class:`_Remembered`).

The listing is read from the pages' JSON (:mod:`tui.vault.listing`), the SDK's listing taking over for
any answer that module does not read exactly as the SDK would. Each value is reduced to what the
snapshot keeps as it arrives, on the thread that read it: a read never holds every SDK object of a
vault at once, and the short-lived objects it makes stay few.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient, SecretProperties

from tui.core.clock import Clock
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.core.shared import shared
from tui.vault.errors import classify
from tui.vault.listing import ListedSecret, NotAsTheSdkReadsIt, list_secrets, shared_tags

DEFAULT_WORKERS = 8
LISTING_FIRST_FROM = 32
"""Values to read from which the listing is delivered ahead of them (below, the wait is short anyway)."""
# Failures that will hit every remaining read the same way: stop instead of repeating them.
_FATAL = (AreaState.FORBIDDEN, AreaState.UNREACHABLE)
SETTLED = timedelta(seconds=2)
"""How long before the listing's answer a version must have been created for its value to be remembered.

Creation times are whole seconds, so a version created in the same second as a remembered one, after
it was read, would look the same in the listing. One second past the creation second rules that out;
the second second absorbs clock differences between the service's machines."""


@dataclass(frozen=True)
class _Remembered:
    """A value as read, and the creation time of the version it belongs to.

    The listing reports the current version's creation time. A value read after the service had already
    stamped a later whole second than its version's creation (a listing answered before the read said
    so) cannot be confused with a version created after the read: that one has a later creation time.
    The reader's clock must agree as well (the earlier of the two counts): it costs a real vault nothing
    but a second read of a young value, and keeps a vault whose stamps follow another clock than its
    ``Date`` (the demo's emulator under a test's frozen clock) from being trusted on ``Date`` alone.
    """

    created_on: datetime
    version: str | None
    value: str


_memory: weakref.WeakKeyDictionary[Any, Mapping[str, _Remembered]] = weakref.WeakKeyDictionary()
"""Per client: the values its last successful listing could vouch for, by lower-case secret name."""
_memory_lock = threading.Lock()


def _remembered(client: SecretClient) -> Mapping[str, _Remembered]:
    with _memory_lock:
        return _memory.get(client, {})


def _remember(client: SecretClient, values: Mapping[str, _Remembered]) -> None:
    with _memory_lock:
        _memory[client] = MappingProxyType(dict(values))


RememberedValue = tuple[datetime, "str | None", str]
"""A remembered value as plain data: its version's creation time, the version and the value."""


def remembered_values(client: SecretClient) -> dict[str, RememberedValue]:
    """What ``client`` remembers, by lower-case secret name, as plain tuples: for another client of the
    same vault to :func:`adopt_values` (the dashboard's first read, made in a child process, hands them to
    the reader that takes over)."""
    known = _remembered(client)
    return {name: (value.created_on, value.version, value.value) for name, value in known.items()}


def adopt_values(client: SecretClient, values: Mapping[str, RememberedValue]) -> None:
    """Let ``client`` remember ``values`` (from :func:`remembered_values` of a client of the same vault) as if
    it had read them: its next read fetches only versions not among them. Replaces what it remembered."""
    _remember(client, {name: _Remembered(*value) for name, value in values.items()})


def forget_values(client: SecretClient) -> None:
    """Drop the values remembered for ``client``: its next read fetches every wanted value."""
    with _memory_lock:
        _memory.pop(client, None)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class _ServerTime:
    """A ``raw_response_hook``: the latest ``Date`` the service stamped on the answers it was given."""

    def __init__(self) -> None:
        self.latest: datetime | None = None

    def __call__(self, response: Any) -> None:
        """Note the answer's ``Date`` header (HTTP date, whole seconds, GMT); one that does not parse
        is ignored."""
        try:
            headers = response.http_response.headers
        except AttributeError:
            return
        self.note(headers)

    def note(self, headers: Any) -> None:
        """Note the ``Date`` among an answer's ``headers``, as :meth:`__call__` does."""
        try:
            header = headers.get("Date")
            stamped = parsedate_to_datetime(header) if header else None
        except (AttributeError, TypeError, ValueError, IndexError):
            return
        if stamped is None:
            return
        stamped = _aware(stamped)  # "-0000" parses naive: UTC all the same
        if self.latest is None or stamped > self.latest:
            self.latest = stamped


def _settled(created_on: datetime | None, listed_by: datetime | None) -> bool:
    if created_on is None or listed_by is None:
        return False
    return listed_by - _aware(created_on) >= SETTLED


def _same_version(remembered: _Remembered, listed: ListedSecret) -> bool:
    created = listed.created_on
    return listed.secret.enabled and created is not None and created == remembered.created_on


def _secret(properties: SecretProperties, value: str | None) -> VaultSecret:
    return VaultSecret(
        name=properties.name or "",
        value=value,
        content_type=shared(properties.content_type),
        tags=shared_tags(properties.tags),
        enabled=bool(properties.enabled),
        updated_on=properties.updated_on,
        expires_on=properties.expires_on,
    )


def _listed(properties: SecretProperties) -> ListedSecret:
    return ListedSecret(_secret(properties, None), properties.created_on)


def _list(client: SecretClient, served: _ServerTime, *, through_sdk: bool) -> list[ListedSecret]:
    """The named secrets as listed: from the pages' JSON, or through the SDK's listing (the SDK's models
    reduced one by one) when asked to or when the JSON is not as the SDK would read it."""
    if not through_sdk and hasattr(client, "send_request"):
        try:
            return list_secrets(client, on_answer=served.note)
        except NotAsTheSdkReadsIt:
            pass  # the SDK's listing starts over (a Date already noted was still stamped before it)
    return [_listed(p) for p in client.list_properties_of_secrets(raw_response_hook=served) if p.name]


@dataclass(frozen=True, slots=True)
class _Value:
    """What a read keeps of a ``KeyVaultSecret``: its value and its version's creation time and id."""

    value: str | None
    created_on: datetime | None
    version: str | None


def _with_value(listed: VaultSecret, value: str | None) -> VaultSecret:
    return listed if value is None else replace(listed, value=value)


class _ValueReader:
    """Fetches values concurrently, remembering the first failure and stopping early on fatal ones."""

    def __init__(self, client: SecretClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self.failure: tuple[AreaState, str] | None = None
        self.failed = 0

    def read(self, name: str) -> tuple[str, _Value | None, bool]:
        """``(name, value, still exists)``; value None when it could not be read. The SDK's secret is
        reduced here, on the reading thread, and dropped: none waits in the pool for its turn."""
        with self._lock:
            if self.failure is not None and self.failure[0] in _FATAL:
                self.failed += 1
                return name, None, True
        try:
            secret = self._client.get_secret(name)
            properties = secret.properties
            return name, _Value(secret.value, properties.created_on, properties.version), True
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


def read_vault_snapshot(
    client: SecretClient,
    *,
    names: Iterable[str] | None = None,
    clock: Clock,
    workers: int = DEFAULT_WORKERS,
    on_listed: Callable[[VaultSnapshot], None] | None = None,
    through_sdk: bool = False,
) -> VaultSnapshot:
    """Read the vault behind ``client``: properties of every secret, values of ``names`` (all when None,
    none when empty).

    Secret names compare case-insensitively, as Key Vault does; the snapshot keys them as listed.
    Disabled secrets are listed without a value. Values are fetched only for versions this client has
    not read before (see the module's docstring); the snapshot always equals one read from scratch, so
    every read, asked for or timed, may go through the same client. Never raises for vault, network or
    credential failures. ``on_listed`` gets the listing ahead of the values (unread ones None,
    ``values_pending`` set) when at least :data:`LISTING_FIRST_FROM` values are to be read: presence,
    content types and expiry show at once while the values take their time. ``through_sdk`` lists
    through the SDK's own listing (what the JSON listing is tested equal to) instead of the pages' JSON.
    """
    taken_at = clock.now()
    vault_url = client.vault_url
    remembered = _remembered(client)
    served = _ServerTime()
    try:
        listed = _list(client, served, through_sdk=through_sdk)
    except Exception as exc:  # see _ValueReader.read: nothing may escape to the dashboard
        state, message = classify(exc)
        return VaultSnapshot(vault_url, ResourceStatus(state, message, since=taken_at), taken_at=taken_at)
    # No value below is read earlier than this, by either clock.
    listed_by = None if served.latest is None else min(served.latest, _aware(clock.now()))
    # Still the current version of a listed, enabled secret: good for this read and the next.
    kept: dict[str, _Remembered] = {}
    for entry in listed:
        key = entry.secret.name.lower()
        known = remembered.get(key)
        if known is not None and _same_version(known, entry):
            kept[key] = known
    wanted = None if names is None else {n.lower() for n in names}
    values: dict[str, str | None] = {}
    to_read = []
    for entry in listed:
        name = entry.secret.name
        if not entry.secret.enabled or (wanted is not None and name.lower() not in wanted):
            continue
        known = kept.get(name.lower())
        if known is None:
            to_read.append(name)
        else:
            values[name] = known.value
    if on_listed is not None and len(to_read) >= LISTING_FIRST_FROM:
        listing = {e.secret.name: _with_value(e.secret, values.get(e.secret.name)) for e in listed}
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
            for name, read, exists in pool.map(reader.read, to_read):
                if not exists:
                    gone.add(name)
                    continue
                value = None if read is None else read.value
                values[name] = value
                if read is not None and value is not None:
                    # The version the value came with, which may be newer than the listed one.
                    created = read.created_on
                    if created is not None and _settled(created, listed_by):
                        kept[name.lower()] = _Remembered(created, read.version, value)
    _remember(client, kept)
    secrets = {
        e.secret.name: _with_value(e.secret, values.get(e.secret.name))
        for e in listed
        if e.secret.name not in gone
    }
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
