"""The listing ``status`` and the dashboard read (tui/vault/listing.py) equals the SDK's listing, against
the emulator.

``list_vault_snapshot`` reads the pages' JSON itself instead of through the SDK's models; whatever it
returns must be exactly what ``read_vault_snapshot(client, names=(), through_sdk=True)`` returns: the
same secrets, in the same order, with the same fields, and the same status when the vault refuses or
cannot be reached.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState, VaultSnapshot
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator
from tui.vault.client import make_secret_client
from tui.vault.listing import list_vault_snapshot
from tui.vault.reader import read_vault_snapshot

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def vault_clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def vault(vault_clock: FrozenClock) -> Iterator[KeyVaultEmulator]:
    emulator = start_keyvault_emulator(clock=vault_clock)
    try:
        yield emulator
    finally:
        emulator.stop()


def _both(url: str, ca: str | None) -> tuple[VaultSnapshot, VaultSnapshot]:
    clock = FrozenClock(NOW)
    client = make_secret_client(url, auth="demo", ca_bundle=ca, retry_total=0)
    try:
        return (
            read_vault_snapshot(client, names=(), clock=clock, through_sdk=True),
            list_vault_snapshot(client, clock=clock),
        )
    finally:
        client.close()


def test_every_page_and_field_equals_the_sdk_listing(
    vault: KeyVaultEmulator, vault_clock: FrozenClock
) -> None:
    # More than two pages of 25, and every field the snapshot keeps in each of its forms.
    for i in range(60):
        vault.put_secret(f"plc-{i:02}-der", "00", "application/pkix-cert", {"file-encoding": "hex"})
    vault.put_secret("no-content-type", "x")
    vault.put_secret("disabled-one", "x", "application/x-pem-file", enabled=False)
    vault.put_secret("expiring", "x", tags={"a": "1", "b": ""}, expires_on=NOW + timedelta(days=3))
    vault_clock.advance(timedelta(hours=1))
    vault.put_secret("plc-07-der", "01", "application/pkix-crl")  # a second version: the latest is listed
    # Updated an hour after it was created: the listing's dates are told apart.
    client = make_secret_client(vault.url, auth="demo", ca_bundle=str(vault.ca_pem_path))
    client.update_secret_properties("plc-03-der", tags={"file-encoding": "hex", "note": "moved"})
    client.close()
    sdk, fast = _both(vault.url, str(vault.ca_pem_path))
    assert sdk.status.state is AreaState.OK and len(sdk.secrets) == 63
    assert list(fast.secrets.items()) == list(sdk.secrets.items())
    assert fast == sdk
    assert fast.secrets["disabled-one"].enabled is False
    assert fast.secrets["expiring"].expires_on == (NOW + timedelta(days=3)).replace(microsecond=0)
    assert fast.secrets["plc-07-der"].content_type == "application/pkix-crl"
    assert fast.secrets["plc-03-der"].updated_on == NOW + timedelta(hours=1)
    assert fast.secrets["plc-03-der"].tags == {"file-encoding": "hex", "note": "moved"}
    # Equal content types and tag sets are one object each, read either way (tui/core/shared.py): the
    # snapshot is kept, and pickled to the dashboard, with one of each instead of one per secret.
    for snapshot in (sdk, fast):
        plcs = [
            secret
            for name, secret in snapshot.secrets.items()
            if name.startswith("plc-") and name not in ("plc-03-der", "plc-07-der")
        ]
        assert len({id(secret.tags) for secret in plcs}) == 1 and plcs[0].tags == {"file-encoding": "hex"}
        pkix = [secret.content_type for secret in plcs if secret.content_type == "application/pkix-cert"]
        assert len(pkix) == 58 and len({id(text) for text in pkix}) == 1


def test_an_empty_vault_lists_nothing_as_the_sdk_does(vault: KeyVaultEmulator) -> None:
    sdk, fast = _both(vault.url, str(vault.ca_pem_path))
    assert fast == sdk and fast.status.state is AreaState.OK and not fast.secrets


def test_a_refused_listing_is_worded_by_the_sdk_as_before(vault: KeyVaultEmulator) -> None:
    vault.put_secret("plc-1-der", "00")
    vault.deny("list")
    sdk, fast = _both(vault.url, str(vault.ca_pem_path))
    assert sdk.status.state is AreaState.FORBIDDEN
    assert fast == sdk


def test_an_unreachable_vault_is_the_same_status() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    sdk, fast = _both(f"https://127.0.0.1:{port}/", None)
    assert sdk.status.state is AreaState.UNREACHABLE
    assert fast == sdk
