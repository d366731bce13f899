"""Re-reads of a vault fetch only the values of versions not read before (tui/vault/reader.py).

Against an SDK-shaped fake of Key Vault kept in memory: secrets with versions, a listing that names no
version (as the service's), creation and update times in whole seconds from the service's clock, and a
``Date`` on every listing answer. Each read through a long-lived client is compared with a read from
scratch (a client with nothing remembered) over the same vault, and the value GETs are counted.
"""

from __future__ import annotations

import itertools
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest
from azure.core.exceptions import HttpResponseError, ODataV4Format, ResourceNotFoundError

from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState, VaultSnapshot
from tui.vault.reader import (
    SETTLED,
    _ValueReader,
    forget_values,
    read_vault_secrets,
    read_vault_snapshot,
)

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
HEX = "application/pkix-cert"


def _whole(moment: datetime) -> datetime:
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class FakeProperties:
    """The SecretProperties fields the reader uses."""

    name: str
    version: str | None
    enabled: bool = True
    content_type: str | None = HEX
    tags: dict[str, str] = field(default_factory=dict)
    created_on: datetime | None = None
    updated_on: datetime | None = None
    expires_on: datetime | None = None


@dataclass(frozen=True)
class FakeSecret:
    """A KeyVaultSecret: the value and the properties of its version."""

    value: str
    properties: FakeProperties


@dataclass(frozen=True)
class _Headers:
    headers: dict[str, str]


@dataclass(frozen=True)
class _Answer:
    """What a raw_response_hook is handed: a PipelineResponse's http_response."""

    http_response: _Headers


class FakeVault:
    """One vault's secrets: every version of each (oldest first), stamped from ``clock`` as the service
    stamps them (whole seconds)."""

    def __init__(self, clock: FrozenClock, *, dates: bool = True, date_skew: timedelta = timedelta()) -> None:
        self.clock = clock
        self.dates = dates
        self.date_skew = date_skew  # how far the answers' Date is from the clock the versions are stamped by
        self.versions: dict[str, list[tuple[str, FakeProperties]]] = {}
        self._ids = (f"v{n}" for n in itertools.count(1))
        self.gets: list[str] = []
        self.before_get: Callable[[str], None] | None = None

    def set(self, name: str, value: str, **changes: Any) -> str:
        now = _whole(self.clock.now())
        version = next(self._ids)
        props = FakeProperties(name, version, created_on=now, updated_on=now, **changes)
        self.versions.setdefault(name.lower(), []).append((value, props))
        return version

    def update(self, name: str, **changes: Any) -> None:
        """Change the current version's properties (no new version)."""
        history = self.versions[name.lower()]
        value, props = history[-1]
        history[-1] = (value, replace(props, updated_on=_whole(self.clock.now()), **changes))

    def delete(self, name: str) -> None:
        del self.versions[name.lower()]

    def client(self) -> FakeClient:
        """A new client object: nothing remembered yet."""
        return FakeClient(self)


class FakeClient:
    """The SecretClient calls the reader makes, over a :class:`FakeVault`."""

    vault_url = "https://site-kv.vault.azure.net"

    def __init__(self, vault: FakeVault) -> None:
        self.vault = vault

    def list_properties_of_secrets(self, **kwargs: Any) -> Iterator[FakeProperties]:
        hook = kwargs.get("raw_response_hook")
        if hook is not None and self.vault.dates:
            stamped = self.vault.clock.now() + self.vault.date_skew
            hook(_Answer(_Headers({"Date": format_datetime(stamped, usegmt=True)})))
        # As the service: the current version's attributes, the id without its version.
        listed = [replace(h[-1][1], version=None) for _, h in sorted(self.vault.versions.items())]
        return iter(listed)

    def get_secret(self, name: str, version: str | None = None) -> FakeSecret:
        assert version is None
        if self.vault.before_get is not None:
            self.vault.before_get(name)
        self.vault.gets.append(name)
        history = self.vault.versions.get(name.lower())
        if not history:
            raise ResourceNotFoundError("SecretNotFound")
        value, props = history[-1]
        if not props.enabled:
            exc = HttpResponseError(message="Operation get is not allowed on a disabled secret.")
            exc.status_code = 403
            exc.error = ODataV4Format(
                {"code": "Forbidden", "message": "disabled", "innererror": {"code": "SecretDisabled"}}
            )
            raise exc
        return FakeSecret(value, props)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def vault(clock: FrozenClock) -> FakeVault:
    return FakeVault(clock)


def _read(client: FakeClient, clock: FrozenClock, **options: Any) -> VaultSnapshot:
    return read_vault_snapshot(client, clock=clock, **options)  # type: ignore[arg-type]  # SDK-shaped


class Reader:
    """Reads through one long-lived client and checks each read against one from scratch."""

    def __init__(self, vault: FakeVault, clock: FrozenClock) -> None:
        self.vault, self.clock = vault, clock
        self.client = vault.client()

    def read(self, **options: Any) -> tuple[VaultSnapshot, list[str]]:
        """The long-lived client's snapshot and the names it fetched; asserts it equals a fresh read."""
        before = len(self.vault.gets)
        kept = _read(self.client, self.clock, **options)
        fetched = self.vault.gets[before:]
        scratch = _read(self.vault.client(), self.clock, **options)
        assert kept.status == scratch.status
        assert dict(kept.secrets) == dict(scratch.secrets)
        return kept, sorted(fetched)


def _values(snapshot: VaultSnapshot) -> dict[str, str | None]:
    return {name: secret.value for name, secret in snapshot.secrets.items()}


def test_rereads_equal_a_read_from_scratch_over_adds_updates_deletes_and_disable(
    vault: FakeVault, clock: FrozenClock
) -> None:
    for name in ("plc-1-der", "plc-2-der", "plc-3-der", "site-ca-crl"):
        vault.set(name, f"30{name}")
    clock.advance(SETTLED)
    reader = Reader(vault, clock)
    first, fetched = reader.read()
    assert fetched == ["plc-1-der", "plc-2-der", "plc-3-der", "site-ca-crl"]

    clock.advance(60)
    _, fetched = reader.read()
    assert fetched == []  # nothing changed: the listing alone

    # Added, rewritten (a new version), property-only updates (no new version), deleted, disabled.
    vault.set("plc-4-der", "30new")
    vault.set("plc-1-der", "30rewritten")
    vault.update("plc-2-der", content_type="application/x-pem-file", tags={"file-encoding": "hex"})
    vault.update("site-ca-crl", expires_on=T0 + timedelta(days=30))
    vault.delete("plc-3-der")
    clock.advance(SETTLED)
    snapshot, fetched = reader.read()
    assert fetched == ["plc-1-der", "plc-4-der"]
    assert _values(snapshot) == {
        "plc-1-der": "30rewritten",
        "plc-2-der": "30plc-2-der",
        "plc-4-der": "30new",
        "site-ca-crl": "30site-ca-crl",
    }
    assert snapshot.secrets["plc-2-der"].content_type == "application/x-pem-file"
    assert snapshot.secrets["site-ca-crl"].expires_on == T0 + timedelta(days=30)
    assert snapshot.secrets["plc-2-der"].updated_on != first.secrets["plc-2-der"].updated_on

    # Disabled: listed without a value and never fetched, exactly as a read from scratch.
    vault.update("plc-2-der", enabled=False)
    clock.advance(SETTLED)
    snapshot, fetched = reader.read()
    assert fetched == []
    assert snapshot.secrets["plc-2-der"].enabled is False and snapshot.secrets["plc-2-der"].value is None
    # Enabled again: its value is fetched again (it was not part of the last read).
    vault.update("plc-2-der", enabled=True)
    clock.advance(SETTLED)
    snapshot, fetched = reader.read()
    assert fetched == ["plc-2-der"] and snapshot.secrets["plc-2-der"].value == "30plc-2-der"

    # Deleted and created again under the same name, in another case: a new version, fetched.
    vault.delete("plc-4-der")
    vault.set("PLC-4-DER", "30again")
    clock.advance(SETTLED)
    snapshot, fetched = reader.read()
    assert fetched == ["PLC-4-DER"] and _values(snapshot)["PLC-4-DER"] == "30again"
    _, fetched = reader.read()
    assert fetched == []


def test_a_version_created_in_the_same_second_after_the_read_is_fetched(
    vault: FakeVault, clock: FrozenClock
) -> None:
    # Creation times are whole seconds: v1 and v2 both say 09:30:00. The listing cannot tell them apart.
    clock.set(T0 + timedelta(milliseconds=100))
    vault.set("plc-1-der", "30v1")
    clock.set(T0 + timedelta(milliseconds=400))
    reader = Reader(vault, clock)
    snapshot, _ = reader.read()
    assert _values(snapshot) == {"plc-1-der": "30v1"}
    clock.set(T0 + timedelta(milliseconds=700))
    vault.set("plc-1-der", "30v2")
    clock.advance(60)
    snapshot, fetched = reader.read()
    assert fetched == ["plc-1-der"] and _values(snapshot) == {"plc-1-der": "30v2"}


@pytest.mark.parametrize(("age", "fetched_again"), [(SETTLED - timedelta(seconds=1), True), (SETTLED, False)])
def test_a_value_is_remembered_once_its_version_is_settled_when_listed(
    vault: FakeVault, clock: FrozenClock, age: timedelta, fetched_again: bool
) -> None:
    vault.set("plc-1-der", "30v1")
    clock.advance(age)
    reader = Reader(vault, clock)
    reader.read()
    clock.advance(60)
    _, fetched = reader.read()
    assert fetched == (["plc-1-der"] if fetched_again else [])


def test_without_the_service_clock_every_value_is_fetched(clock: FrozenClock) -> None:
    vault = FakeVault(clock, dates=False)
    vault.set("plc-1-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)
    reader.read()
    _, fetched = reader.read()
    assert fetched == ["plc-1-der"]


@pytest.mark.parametrize("date_skew", [timedelta(hours=1), timedelta(hours=-1)])
def test_the_service_date_and_the_reader_clock_must_both_say_settled(
    clock: FrozenClock, date_skew: timedelta
) -> None:
    # Ahead: the Date alone would vouch for a version 1 s old. Behind: the clock alone would.
    vault = FakeVault(clock, date_skew=date_skew)
    vault.set("plc-1-der", "30v1")
    clock.advance(timedelta(seconds=1) if date_skew > timedelta() else timedelta(minutes=5))
    reader = Reader(vault, clock)
    reader.read()
    _, fetched = reader.read()
    assert fetched == ["plc-1-der"]


def test_a_version_written_between_listing_and_read_is_not_taken_for_the_listed_one(
    vault: FakeVault, clock: FrozenClock
) -> None:
    vault.set("plc-1-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)

    def rewrite(name: str) -> None:
        vault.before_get = None
        clock.advance(3)
        vault.set(name, "30v2")

    vault.before_get = rewrite
    snapshot = _read(reader.client, clock)
    assert _values(snapshot) == {"plc-1-der": "30v2"}  # as a read from scratch at that moment
    clock.advance(60)
    snapshot, fetched = reader.read()
    assert _values(snapshot) == {"plc-1-der": "30v2"}
    assert fetched == ["plc-1-der"]  # v2 was read before a listing could vouch for it: read again
    _, fetched = reader.read()
    assert fetched == []


def test_values_not_wanted_in_one_read_are_still_reused_in_the_next(
    vault: FakeVault, clock: FrozenClock
) -> None:
    vault.set("plc-1-der", "30v1")
    vault.set("plc-2-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)
    reader.read()
    snapshot, fetched = reader.read(names=["PLC-1-DER"])
    assert fetched == [] and _values(snapshot) == {"plc-1-der": "30v1", "plc-2-der": None}
    _, fetched = reader.read(names=())
    assert fetched == []
    _, fetched = reader.read()
    assert fetched == []


def test_a_failed_listing_keeps_what_was_remembered(vault: FakeVault, clock: FrozenClock) -> None:
    vault.set("plc-1-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)
    reader.read()

    def refuse(**_: Any) -> Iterator[FakeProperties]:
        exc = HttpResponseError(message="denied")
        exc.status_code = 403
        raise exc

    listing = reader.client.list_properties_of_secrets
    reader.client.list_properties_of_secrets = refuse  # type: ignore[method-assign]
    assert _read(reader.client, clock).status.state is AreaState.FORBIDDEN
    reader.client.list_properties_of_secrets = listing  # type: ignore[method-assign]
    _, fetched = reader.read()
    assert fetched == []


def test_forgetting_fetches_every_value_again(vault: FakeVault, clock: FrozenClock) -> None:
    vault.set("plc-1-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)
    reader.read()
    forget_values(reader.client)  # type: ignore[arg-type]
    _, fetched = reader.read()
    assert fetched == ["plc-1-der"]


def test_targeted_reads_always_fetch_the_current_value(vault: FakeVault, clock: FrozenClock) -> None:
    vault.set("plc-1-der", "30v1")
    clock.advance(60)
    reader = Reader(vault, clock)
    reader.read()
    vault.set("plc-1-der", "30v2")
    found = read_vault_secrets(reader.client, ["plc-1-der"], clock=clock)  # type: ignore[arg-type]
    assert _values(found) == {"plc-1-der": "30v2"}
    clock.advance(60)
    snapshot, fetched = reader.read()
    assert fetched == ["plc-1-der"] and _values(snapshot) == {"plc-1-der": "30v2"}


def _tracked(client: FakeClient) -> list[weakref.ref[FakeSecret]]:
    """Weak references to every secret object ``client.get_secret`` hands out from now on."""
    handed: list[weakref.ref[FakeSecret]] = []
    original = client.get_secret

    def get_secret(name: str, version: str | None = None) -> FakeSecret:
        secret = original(name, version)
        handed.append(weakref.ref(secret))
        return secret

    client.get_secret = get_secret  # type: ignore[method-assign]
    return handed


def test_a_value_read_keeps_nothing_of_the_sdk_secret(vault: FakeVault, clock: FrozenClock) -> None:
    vault.set("plc-1-der", "3001")
    client = vault.client()
    handed = _tracked(client)
    name, read, exists = _ValueReader(client).read("plc-1-der")  # type: ignore[arg-type]  # SDK-shaped
    # The result, still held, is the value and its version alone: the SDK object is already gone.
    assert (name, exists) == ("plc-1-der", True) and read is not None and read.value == "3001"
    assert read.version == "v1" and read.created_on == _whole(T0)
    assert len(handed) == 1 and handed[0]() is None


def test_a_read_keeps_no_sdk_secret_alive(vault: FakeVault, clock: FrozenClock) -> None:
    for i in range(40):
        vault.set(f"plc-{i:02}-der", f"30{i:02}")
    client = vault.client()
    handed = _tracked(client)
    snapshot = _read(client, clock)
    assert len(handed) == 40 and all(ref() is None for ref in handed)
    assert _values(snapshot) == {f"plc-{i:02}-der": f"30{i:02}" for i in range(40)}
