"""The demo Key Vault's in-memory store: versions, soft delete, paging and persistence rules."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from tui.core.clock import FrozenClock
from tui.demo.keyvault.store import (
    MAX_VALUE_CHARS,
    KeyVaultStore,
    VaultFault,
    decode_backup,
    encode_backup,
    page_size,
)

START = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
START_TS = int(START.timestamp())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def store(clock: FrozenClock) -> KeyVaultStore:
    return KeyVaultStore(clock=clock)


def _fault(excinfo: pytest.ExceptionInfo[VaultFault]) -> tuple[int, str, str | None]:
    return excinfo.value.status, excinfo.value.code, excinfo.value.inner


def test_each_write_adds_a_version_stamped_by_the_clock(store: KeyVaultStore, clock: FrozenClock) -> None:
    first = store.set_secret("plc-1-der", "00ff", content_type="application/pkix-cert", tags={"a": "b"})
    clock.advance(60)
    second = store.set_secret("plc-1-der", "11ee")
    assert [v.value for v in second.versions] == ["00ff", "11ee"]
    assert first.latest.created == START_TS
    assert second.latest.created == START_TS + 60
    assert second.latest.version != first.latest.version
    assert len(second.latest.version) == 32 and second.latest.version == second.latest.version.lower()
    name, latest = store.get_secret("plc-1-der")
    assert (name, latest.value) == ("plc-1-der", "11ee")
    assert store.get_secret("plc-1-der", first.latest.version)[1].value == "00ff"


def test_names_are_case_insensitive_and_keep_their_first_spelling(store: KeyVaultStore) -> None:
    store.set_secret("Site-CA-crt", "aa")
    store.set_secret("site-ca-CRT", "bb")
    name, version = store.get_secret("SITE-CA-CRT")
    assert (name, version.value) == ("Site-CA-crt", "bb")
    assert [r.name for r in store.list_secrets().items] == ["Site-CA-crt"]


@pytest.mark.parametrize("bad", ["", "a.der", "a_b", "x" * 128, "ünï"])
def test_invalid_names_are_a_400(store: KeyVaultStore, bad: str) -> None:
    with pytest.raises(VaultFault) as excinfo:
        store.set_secret(bad, "00")
    assert _fault(excinfo) == (400, "BadParameter", None)


def test_oversized_values_are_refused_and_change_nothing(store: KeyVaultStore) -> None:
    with pytest.raises(VaultFault) as excinfo:
        store.set_secret("big", "0" * (MAX_VALUE_CHARS + 1))
    assert excinfo.value.status == 400
    assert store.export() == {"secrets": {}, "deleted": {}}


def test_unknown_secret_or_version_is_secret_not_found(store: KeyVaultStore) -> None:
    store.set_secret("known", "00")
    for name, version in (("missing", None), ("known", "0" * 32)):
        with pytest.raises(VaultFault) as excinfo:
            store.get_secret(name, version)
        assert _fault(excinfo) == (404, "SecretNotFound", None)
        assert "was not found in this key vault" in excinfo.value.message


def test_a_disabled_version_cannot_be_read_but_others_can(store: KeyVaultStore) -> None:
    old = store.set_secret("s", "old").latest.version
    store.set_secret("s", "new", enabled=False)
    with pytest.raises(VaultFault) as excinfo:
        store.get_secret("s")
    assert _fault(excinfo) == (403, "Forbidden", "SecretDisabled")
    assert store.get_secret("s", old)[1].value == "old"


def test_update_changes_only_what_is_given(store: KeyVaultStore, clock: FrozenClock) -> None:
    store.set_secret("s", "v", content_type="text/plain", tags={"k": "1"})
    clock.advance(5)
    _, updated = store.update_secret("s", None, {"tags": {"k": "2"}, "expires": START_TS + 99})
    assert updated.tags == {"k": "2"}
    assert updated.expires == START_TS + 99
    assert updated.content_type == "text/plain"
    assert (updated.created, updated.updated) == (START_TS, START_TS + 5)
    with pytest.raises(VaultFault) as excinfo:
        store.update_secret("s", None, {"value": "sneaky"})
    assert excinfo.value.status == 400
    assert store.get_secret("s")[1].value == "v"


def test_listing_pages_by_name_and_survives_deletes_between_pages(store: KeyVaultStore) -> None:
    for i in range(60):
        store.set_secret(f"cert-{i:02d}", "00")
    first = store.list_secrets(limit=25)
    assert [r.name for r in first.items] == [f"cert-{i:02d}" for i in range(25)]
    assert first.next_token == "cert-24"
    # Deleting an already-served secret must not make the next page skip or repeat one.
    store.delete_secret("cert-03")
    second = store.list_secrets(first.next_token, 25)
    third = store.list_secrets(second.next_token, 25)
    assert [r.name for r in second.items + third.items] == [f"cert-{i:02d}" for i in range(25, 60)]
    assert third.next_token is None


def test_versions_page_by_offset(store: KeyVaultStore) -> None:
    written = [store.set_secret("s", str(i)).latest.version for i in range(5)]
    name, chunk, next_offset = store.list_versions("s", 0, 2)
    assert (name, [v.version for v in chunk], next_offset) == ("s", written[:2], 2)
    _, rest, end = store.list_versions("s", 4, 2)
    assert ([v.version for v in rest], end) == (written[4:], None)
    assert store.list_versions("nothing-here") == ("nothing-here", [], None)


@pytest.mark.parametrize(("raw", "expected"), [(None, 25), ("", 25), ("1", 1), ("25", 25)])
def test_page_size_accepts_1_to_25(raw: str | None, expected: int) -> None:
    assert page_size(raw) == expected


@pytest.mark.parametrize("raw", ["0", "26", "-1", "ten", "2.5"])
def test_page_size_refuses_anything_else(raw: str) -> None:
    with pytest.raises(VaultFault) as excinfo:
        page_size(raw)
    assert _fault(excinfo) == (400, "BadParameter", None)


def test_soft_delete_blocks_the_name_until_recovered(store: KeyVaultStore, clock: FrozenClock) -> None:
    store.set_secret("s", "v1")
    store.set_secret("s", "v2")
    clock.advance(10)
    deleted = store.delete_secret("s")
    assert deleted.deleted_date == START_TS + 10
    assert deleted.scheduled_purge_date == START_TS + 10 + 90 * 86400
    with pytest.raises(VaultFault) as excinfo:
        store.get_secret("s")
    assert excinfo.value.status == 404
    before = store.export()
    with pytest.raises(VaultFault) as excinfo:
        store.set_secret("s", "v3")
    assert _fault(excinfo) == (409, "Conflict", "ObjectIsDeletedButRecoverable")
    assert store.export() == before
    assert [r.name for r in store.list_deleted().items] == ["s"]
    recovered = store.recover_deleted("s")
    assert [v.value for v in recovered.versions] == ["v1", "v2"]
    assert recovered.deleted_date is None
    assert store.list_deleted().items == []


def test_purge_frees_the_name(store: KeyVaultStore) -> None:
    store.set_secret("s", "v1")
    store.delete_secret("s")
    store.purge_deleted("s")
    for action in (store.get_deleted, store.purge_deleted, store.recover_deleted):
        with pytest.raises(VaultFault) as excinfo:
            action("s")
        assert (excinfo.value.status, excinfo.value.message) == (404, "Deleted Secret not found: s")
    assert [v.value for v in store.set_secret("s", "fresh").versions] == ["fresh"]


def test_retention_end_purges_on_its_own(store: KeyVaultStore, clock: FrozenClock) -> None:
    store.set_secret("s", "v")
    store.delete_secret("s")
    clock.advance(timedelta(days=90) - timedelta(seconds=1))
    assert store.get_deleted("s").name == "s"
    clock.advance(1)
    with pytest.raises(VaultFault):
        store.get_deleted("s")
    assert store.set_secret("s", "again").latest.value == "again"


def test_without_soft_delete_a_delete_is_final(clock: FrozenClock) -> None:
    store = KeyVaultStore(clock=clock, soft_delete=False)
    store.set_secret("s", "v")
    deleted = store.delete_secret("s")
    assert deleted.deleted_date is None
    assert store.recovery_level == "Purgeable"
    with pytest.raises(VaultFault):
        store.get_deleted("s")
    assert store.set_secret("s", "v2").latest.value == "v2"


@pytest.mark.parametrize(
    ("days", "level"), [(90, "Recoverable+Purgeable"), (7, "CustomizedRecoverable+Purgeable")]
)
def test_recovery_level_follows_retention(clock: FrozenClock, days: int, level: str) -> None:
    assert KeyVaultStore(clock=clock, recoverable_days=days).recovery_level == level


def test_delete_of_an_unknown_name_is_a_404(store: KeyVaultStore) -> None:
    with pytest.raises(VaultFault) as excinfo:
        store.delete_secret("ghost")
    assert _fault(excinfo) == (404, "SecretNotFound", None)


def test_backup_restores_every_version_and_refuses_a_taken_name(store: KeyVaultStore) -> None:
    store.set_secret("s", "v1", tags={"file-encoding": "hex"})
    store.set_secret("s", "v2")
    blob = decode_backup(encode_backup(store.backup_secret("s")))
    with pytest.raises(VaultFault) as excinfo:
        store.restore_secret(blob)
    assert excinfo.value.status == 409
    store.delete_secret("s")
    store.purge_deleted("s")
    restored = store.restore_secret(blob)
    assert [v.value for v in restored.versions] == ["v1", "v2"]
    assert restored.versions[0].tags == {"file-encoding": "hex"}


@pytest.mark.parametrize(
    "blob", [b"", b"not json", b'{"magic": "other"}', b'{"magic": "aio-certs-kv-backup-1"}']
)
def test_a_corrupt_backup_is_a_400(store: KeyVaultStore, blob: bytes) -> None:
    with pytest.raises(VaultFault) as excinfo:
        store.restore_secret(blob)
    assert _fault(excinfo) == (400, "BadParameter", None)


def test_export_and_load_round_trip(store: KeyVaultStore, clock: FrozenClock) -> None:
    store.set_secret("a", "1", content_type="application/pkix-crl", tags={"t": "x"}, not_before=START_TS)
    store.set_secret("b", "2")
    store.delete_secret("b")
    copy = KeyVaultStore(clock=clock)
    copy.load(store.export())
    assert copy.export() == store.export()
    assert copy.get_deleted("b").name == "b"


def test_concurrent_writers_lose_nothing(store: KeyVaultStore) -> None:
    def write(worker: int) -> None:
        for i in range(250):
            store.set_secret(f"w{worker}", str(i))

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    exported = store.export()["secrets"]
    assert sorted(exported) == ["w0", "w1", "w2", "w3"]
    assert all(len(record["versions"]) == 250 for record in exported.values())
