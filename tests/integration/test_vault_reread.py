"""Re-reads through the real SecretClient against the demo Key Vault emulator fetch only new versions.

The emulator logs every request: the value GETs of a re-read are counted there. The emulator and the
reader share a frozen clock, moved on by ``SETTLED`` after each write so that the version is settled by
the time it is listed (tui/vault/reader.py); the emulator's ``Date`` follows the machine's clock, later
than this test's instants.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from azure.keyvault.secrets import SecretClient

from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState, VaultSnapshot
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator
from tui.vault.client import make_secret_client
from tui.vault.reader import SETTLED, read_vault_secrets, read_vault_snapshot

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)
HEX = "application/pkix-cert"
COUNT = 60  # three pages of the listing


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def kv(clock: FrozenClock) -> Iterator[KeyVaultEmulator]:
    with start_keyvault_emulator(clock=clock) as emulator:
        for i in range(COUNT):
            emulator.put_secret(f"plc-{i:02d}-der", f"30{i:04x}", HEX, {"file-encoding": "hex"})
        clock.advance(SETTLED)
        yield emulator


def _client(kv: KeyVaultEmulator, **options: Any) -> SecretClient:
    options.setdefault("auth", "demo")
    options.setdefault("retry_backoff_factor", 0.01)
    return make_secret_client(kv.url, ca_bundle=str(kv.ca_pem_path), **options)


def _value_gets(kv: KeyVaultEmulator) -> list[str]:
    return sorted(r.path for r in kv.requests() if r.method == "GET" and r.path.startswith("/secrets/"))


def _listings(kv: KeyVaultEmulator) -> int:
    return sum(1 for r in kv.requests() if r.method == "GET" and r.path == "/secrets")


def _scratch(kv: KeyVaultEmulator, clock: FrozenClock) -> VaultSnapshot:
    return read_vault_snapshot(_client(kv), clock=clock)


def test_a_reread_with_nothing_changed_fetches_no_value(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    client = _client(kv)
    first = read_vault_snapshot(client, clock=clock)
    assert first.status.state is AreaState.OK and len(_value_gets(kv)) == COUNT
    kv.clear_requests()
    again = read_vault_snapshot(client, clock=clock)
    assert _value_gets(kv) == []
    assert _listings(kv) >= COUNT // 25 + 1  # the listing's pages, all of them
    assert again.status.state is AreaState.OK and dict(again.secrets) == dict(first.secrets)


def test_a_reread_fetches_exactly_the_changed_secret(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    client = _client(kv)
    read_vault_snapshot(client, clock=clock)
    clock.advance(SETTLED)
    kv.put_secret("plc-07-der", "30ffff", HEX, {"file-encoding": "hex"})
    kv.clear_requests()
    snapshot = read_vault_snapshot(client, clock=clock)
    assert _value_gets(kv) == ["/secrets/plc-07-der/"]
    assert snapshot.secrets["plc-07-der"].value == "30ffff"
    assert dict(snapshot.secrets) == dict(_scratch(kv, clock).secrets)


def test_rereads_equal_a_read_from_scratch_over_adds_deletes_disable_and_updates(
    kv: KeyVaultEmulator, clock: FrozenClock
) -> None:
    client = _client(kv)
    read_vault_snapshot(client, clock=clock)
    clock.advance(SETTLED)
    kv.put_secret("plc-60-der", "30aaaa", HEX, {"file-encoding": "hex"})  # added
    kv.put_secret("plc-01-der", "30bbbb", HEX, {"file-encoding": "hex"})  # a new version
    kv.store.delete_secret("plc-02-der")
    client.update_secret_properties("plc-03-der", enabled=False)
    client.update_secret_properties("plc-04-der", content_type="application/x-pem-file")  # same version
    kv.clear_requests()
    snapshot = read_vault_snapshot(client, clock=clock)
    assert _value_gets(kv) == ["/secrets/plc-01-der/", "/secrets/plc-60-der/"]
    assert "plc-02-der" not in snapshot.secrets
    assert snapshot.secrets["plc-03-der"].enabled is False and snapshot.secrets["plc-03-der"].value is None
    assert snapshot.secrets["plc-04-der"].content_type == "application/x-pem-file"
    assert snapshot.secrets["plc-04-der"].value == "300004"
    assert dict(snapshot.secrets) == dict(_scratch(kv, clock).secrets)


def test_a_targeted_read_after_a_change_sees_the_new_value(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    client = _client(kv)
    read_vault_snapshot(client, clock=clock)
    clock.advance(SETTLED)
    kv.put_secret("plc-09-der", "30cccc", HEX, {"file-encoding": "hex"})
    found = read_vault_secrets(client, ["plc-09-der"], clock=clock)
    assert found.secrets["plc-09-der"].value == "30cccc"
    assert read_vault_snapshot(client, clock=clock).secrets["plc-09-der"].value == "30cccc"


def test_the_dashboard_read_lists_through_the_pages_json_not_the_sdk(
    kv: KeyVaultEmulator, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = _client(kv)
    sdk_listings: list[object] = []

    def sdk_listing(**kwargs: Any) -> Iterator[Any]:
        sdk_listings.append(kwargs)
        raise AssertionError("the SDK's listing was used")

    monkeypatch.setattr(client, "list_properties_of_secrets", sdk_listing)
    kv.clear_requests()
    snapshot = read_vault_snapshot(client, clock=clock)
    assert sdk_listings == []
    assert snapshot.status.state is AreaState.OK and len(snapshot.secrets) == COUNT
    assert _listings(kv) >= COUNT // 25 + 1  # every page (and the challenge the first one meets)
    assert snapshot == read_vault_snapshot(_client(kv), clock=clock, through_sdk=True)
    # The listing's creation times tie the values to their versions as the SDK's did: nothing refetched.
    kv.clear_requests()
    assert read_vault_snapshot(client, clock=clock) == snapshot
    assert _value_gets(kv) == [] and sdk_listings == []


def test_a_listing_not_read_as_the_sdk_reads_it_is_read_by_the_sdk(
    kv: KeyVaultEmulator, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import tui.vault.reader as reader
    from tui.vault.listing import NotAsTheSdkReadsIt

    def odd(client: SecretClient, *, on_answer: Any = None) -> list[Any]:
        raise NotAsTheSdkReadsIt

    monkeypatch.setattr(reader, "list_secrets", odd)
    client = _client(kv)
    sdk_listing = client.list_properties_of_secrets
    sdk_listings: list[object] = []

    def counted(**kwargs: Any) -> Any:
        sdk_listings.append(kwargs)
        return sdk_listing(**kwargs)

    monkeypatch.setattr(client, "list_properties_of_secrets", counted)
    snapshot = read_vault_snapshot(client, clock=clock)
    assert len(sdk_listings) == 1
    assert snapshot.status.state is AreaState.OK and len(snapshot.secrets) == COUNT
    assert snapshot == read_vault_snapshot(_client(kv), clock=clock, through_sdk=True)
    kv.clear_requests()
    assert read_vault_snapshot(client, clock=clock) == snapshot
    assert _value_gets(kv) == [] and len(sdk_listings) == 2
