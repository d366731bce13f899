"""The dashboard's vault reader hands freed heap back after its first complete read, and only then.

tui/commands/shared/vault_reader.py calls ``release_free_heap`` (glibc's ``malloc_trim``) once: the first
read of every value is the one that leaves the most freed memory behind. Against the demo Key Vault
emulator; the release itself is replaced by a counter.
"""

from __future__ import annotations

import ctypes
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

import tui.commands.shared.vault_reader as vault_reader
from tui.commands.shared.settings import VaultSettings
from tui.commands.shared.vault_reader import make_vault_reader, release_free_heap
from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def kv(clock: FrozenClock) -> Iterator[KeyVaultEmulator]:
    with start_keyvault_emulator(clock=clock) as emulator:
        for i in range(3):
            emulator.put_secret(f"plc-{i}-der", f"30{i:02}", "application/pkix-cert")
        yield emulator


@pytest.fixture
def releases(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    calls: list[None] = []

    def release() -> bool:
        calls.append(None)
        return True

    monkeypatch.setattr(vault_reader, "release_free_heap", release)
    return calls


def _settings(kv: KeyVaultEmulator) -> VaultSettings:
    return VaultSettings(url=kv.url, auth="demo", ca_bundle=str(kv.ca_pem_path))


def test_the_first_complete_read_releases_once(
    kv: KeyVaultEmulator, clock: FrozenClock, releases: list[None]
) -> None:
    read = make_vault_reader(_settings(kv), clock=clock)
    first = read.for_spc(None)
    assert first is not None and first.status.state is AreaState.OK and len(first.secrets) == 3
    assert len(releases) == 1
    read.for_spc(None)
    read.for_spc(None, incremental=True)
    assert len(releases) == 1


def test_a_failed_read_or_a_listing_alone_releases_nothing(
    kv: KeyVaultEmulator, clock: FrozenClock, releases: list[None]
) -> None:
    listing = make_vault_reader(_settings(kv), clock=clock, values=False)
    assert listing.for_spc(None) is not None and releases == []
    read = make_vault_reader(_settings(kv), clock=clock)
    kv.deny("list")
    refused = read.for_spc(None)
    assert refused is not None and refused.status.state is AreaState.FORBIDDEN and releases == []
    kv.deny()
    complete = read.for_spc(None)
    assert complete is not None and complete.status.state is AreaState.OK and len(releases) == 1


def test_release_is_harmless_where_there_is_no_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_library(*_: object, **__: object) -> object:
        raise OSError("libc.so.6: cannot open shared object file")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert release_free_heap() is False
    monkeypatch.setattr("sys.platform", "darwin")
    assert release_free_heap() is False
