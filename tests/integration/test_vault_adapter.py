"""The vault adapter (URL, credential, client, snapshot reader, hex writer) against the demo emulator.

Nothing of ours is mocked: the real ``SecretClient`` talks HTTPS to the emulator, credentials are real
azure-identity objects where they can work offline (the Azure CLI one runs a fake ``az``).
"""

from __future__ import annotations

import json
import stat
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import trustme
from azure.keyvault.secrets import SecretClient
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from tui.core.clock import FrozenClock
from tui.core.model.snapshot import AreaState, VaultSnapshot
from tui.demo.keyvault.server import DEMO_TENANT_ID
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator
from tui.vault.client import make_secret_client, vault_url_for, write_hex_secret
from tui.vault.errors import VaultError
from tui.vault.reader import LISTING_FIRST_FROM, SETTLED, read_vault_snapshot

T0 = datetime(2026, 6, 1, 9, 30, tzinfo=UTC)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def kv(clock: FrozenClock) -> Iterator[KeyVaultEmulator]:
    with start_keyvault_emulator(clock=clock) as emulator:
        yield emulator


def _client(kv: KeyVaultEmulator, **options: Any) -> SecretClient:
    options.setdefault("auth", "demo")
    options.setdefault("retry_backoff_factor", 0.01)
    return make_secret_client(kv.url, ca_bundle=str(kv.ca_pem_path), **options)


def _gets(kv: KeyVaultEmulator) -> list[str]:
    return [r.path for r in kv.requests() if r.method == "GET" and r.path.startswith("/secrets/")]


@pytest.fixture
def certificate() -> tuple[bytes, bytes]:
    pem = trustme.CA().cert_pem.bytes()
    return pem, x509.load_pem_x509_certificate(pem).public_bytes(Encoding.DER)


def test_environment_points_the_product_at_the_demo(
    kv: KeyVaultEmulator, clock: FrozenClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIO_CERTS_VAULT_URL", kv.url)
    monkeypatch.setenv("AIO_CERTS_VAULT_CA", str(kv.ca_pem_path))
    monkeypatch.setenv("AIO_CERTS_AUTH", "demo")
    kv.put_secret("plc-1-der", "3082")
    url = vault_url_for("site-kv")
    snapshot = read_vault_snapshot(make_secret_client(url), clock=clock)
    assert snapshot.status.state is AreaState.OK
    assert snapshot.secrets["plc-1-der"].value == "3082"


def test_snapshot_holds_properties_and_values(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    expires = datetime(2027, 1, 1, tzinfo=UTC)
    kv.put_secret("plc-1-der", "3082", "application/pkix-cert", {"file-encoding": "hex"}, expires_on=expires)
    kv.put_secret("site-ca-crl", "3083", "application/pkix-crl")
    kv.put_secret("old-der", "3084", enabled=False)
    snapshot = read_vault_snapshot(_client(kv), clock=clock)
    assert snapshot.status.state is AreaState.OK
    assert snapshot.taken_at == T0
    assert snapshot.vault_url == f"https://127.0.0.1:{kv.port}"
    plc = snapshot.secrets["plc-1-der"]
    assert (plc.value, plc.content_type, dict(plc.tags)) == (
        "3082",
        "application/pkix-cert",
        {"file-encoding": "hex"},
    )
    assert (plc.expires_on, plc.updated_on, plc.enabled) == (expires, T0, True)
    assert snapshot.secrets["site-ca-crl"].value == "3083"
    disabled = snapshot.secrets["old-der"]
    assert (disabled.value, disabled.enabled) == (None, False)
    assert "/secrets/old-der/" not in _gets(kv)  # reading it would only earn a 403


def test_only_named_values_are_read_matching_names_case_insensitively(
    kv: KeyVaultEmulator, clock: FrozenClock
) -> None:
    for name in ("a-der", "b-der", "c-der"):
        kv.put_secret(name, name)
    snapshot = read_vault_snapshot(_client(kv), names=["A-DER", "c-der", "not-there"], clock=clock)
    assert {n: s.value for n, s in snapshot.secrets.items()} == {
        "a-der": "a-der",
        "b-der": None,
        "c-der": "c-der",
    }
    assert sorted(_gets(kv)) == ["/secrets/a-der/", "/secrets/c-der/"]


def test_an_empty_name_list_reads_properties_only(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    for i in range(30):
        kv.put_secret(f"s-{i:02d}", "00")
    snapshot = read_vault_snapshot(_client(kv), names=(), clock=clock)
    assert len(snapshot.secrets) == 30 and all(s.value is None for s in snapshot.secrets.values())
    assert _gets(kv) == []


def test_unchanged_values_are_reused_by_the_same_client(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    # More in test_vault_reread.py; a value is remembered once its version is SETTLED old when listed.
    for name in ("a-der", "b-der", "c-der"):
        kv.put_secret(name, "old")
    clock.advance(SETTLED)
    client = _client(kv)
    read_vault_snapshot(client, clock=clock)
    clock.advance(5)
    kv.put_secret("b-der", "new")
    kv.clear_requests()
    second = read_vault_snapshot(client, clock=clock)
    assert {n: s.value for n, s in second.secrets.items()} == {"a-der": "old", "b-der": "new", "c-der": "old"}
    assert _gets(kv) == ["/secrets/b-der/"]


def test_many_values_are_read_concurrently_and_correctly(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    for i in range(300):
        kv.put_secret(f"cert-{i:03d}", f"{i:04x}")
    snapshot = read_vault_snapshot(_client(kv), clock=clock, workers=8)
    assert snapshot.status.state is AreaState.OK
    expected = {f"cert-{i:03d}": f"{i:04x}" for i in range(300)}
    assert {n: s.value for n, s in snapshot.secrets.items()} == expected


def test_listing_forbidden_maps_to_forbidden(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    kv.put_secret("s", "v")
    kv.deny("list")
    snapshot = read_vault_snapshot(_client(kv), clock=clock)
    assert snapshot.status.state is AreaState.FORBIDDEN
    assert snapshot.status.message.startswith("access denied (403 Forbidden: The user, group or application")
    assert "\n" not in snapshot.status.message
    assert snapshot.status.since == T0
    assert dict(snapshot.secrets) == {}


def test_reading_values_forbidden_keeps_the_listing_and_stops_early(
    kv: KeyVaultEmulator, clock: FrozenClock
) -> None:
    for i in range(100):
        kv.put_secret(f"s-{i:03d}", "v")
    kv.deny("get")
    snapshot = read_vault_snapshot(_client(kv), clock=clock, workers=4)
    assert snapshot.status.state is AreaState.FORBIDDEN
    assert snapshot.status.message.startswith("100 of 100 secret values unread: access denied (403")
    assert len(snapshot.secrets) == 100 and all(s.value is None for s in snapshot.secrets.values())
    assert len(_gets(kv)) < 100  # the rest were not attempted once the first 403 came back


def test_an_unreachable_vault_maps_to_unreachable(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    client = _client(kv, retry_total=0)
    kv.set_unreachable(True)
    snapshot = read_vault_snapshot(client, clock=clock)
    assert snapshot.status.state is AreaState.UNREACHABLE
    assert snapshot.status.message == "cannot reach the vault: [Errno 111] Connection refused"


def test_an_untrusted_certificate_maps_to_unreachable_with_a_hint(
    kv: KeyVaultEmulator, clock: FrozenClock, tmp_path: Path
) -> None:
    other_ca = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other_ca))
    client = make_secret_client(kv.url, auth="demo", ca_bundle=str(other_ca), retry_total=0)
    snapshot = read_vault_snapshot(client, clock=clock)
    assert snapshot.status.state is AreaState.UNREACHABLE
    assert "CERTIFICATE_VERIFY_FAILED" in snapshot.status.message
    assert snapshot.status.message.endswith("set AIO_CERTS_VAULT_CA to its CA bundle")
    assert kv.requests() == []


def test_throttling_is_survived(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    kv.put_secret("s", "v")
    kv.throttle(3, retry_after=0)
    snapshot = read_vault_snapshot(_client(kv), clock=clock)
    assert snapshot.status.state is AreaState.OK
    assert snapshot.secrets["s"].value == "v"
    assert [r.status for r in kv.requests()][:3] == [429, 429, 429]


def _bounded(read: Callable[[], VaultSnapshot], hang: float = 60.0) -> VaultSnapshot:
    """``read()`` on a worker thread; fails the test if it is still waiting after ``hang`` seconds (a
    Retry-After honoured in full). Nothing here asserts on speed: the join only detects the wait."""
    outcome: list[VaultSnapshot] = []
    worker = threading.Thread(target=lambda: outcome.append(read()), daemon=True)
    worker.start()
    worker.join(hang)
    if worker.is_alive():
        pytest.fail("the read waited for the vault's Retry-After")
    return outcome[0]


@pytest.mark.parametrize(
    ("timeout", "retry_after"),
    [(5.0, 30.0), (None, 3600.0)],  # 30 s: within a minute, past the 5 s deadline
    ids=["past-the-deadline", "no-deadline-an-hour"],
)
def test_a_retry_after_longer_than_the_call_can_wait_ends_it_as_throttled(
    kv: KeyVaultEmulator, clock: FrozenClock, timeout: float | None, retry_after: float
) -> None:
    # azure-core sleeps whatever Retry-After says: an hour held the reader (and status) for that hour.
    kv.put_secret("s", "v")
    kv.throttle(1, retry_after=retry_after)
    client = _client(kv, timeout=timeout)
    # 20 s: past the 5 s deadline, short of the 30 s wait; far short of the hour.
    snapshot = _bounded(lambda: read_vault_snapshot(client, clock=clock), hang=20.0)
    assert snapshot.status.state is AreaState.ERROR
    assert snapshot.status.message.startswith("the vault is throttling requests (429"), snapshot.status
    assert [r.status for r in kv.requests()].count(429) == 1  # not asked again before the hour


def test_a_short_retry_after_is_still_waited_for(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    kv.put_secret("s", "v")
    kv.throttle(1, retry_after=0.05)
    snapshot = _bounded(lambda: read_vault_snapshot(_client(kv, timeout=5.0), clock=clock))
    assert snapshot.status.state is AreaState.OK
    assert snapshot.secrets["s"].value == "v"
    assert [r.status for r in kv.requests()][:2] == [429, 401]  # waited, then asked again (challenge)


def _fake_az(directory: Path, record: Path) -> None:
    script = directory / "az"
    token = json.dumps({"accessToken": "cli-token", "expires_on": 4102444800, "tokenType": "Bearer"})
    script.write_text(f"#!/bin/sh\necho \"$@\" > '{record}'\necho '{token}'\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)


def test_cli_credential_signs_in_through_az(
    kv: KeyVaultEmulator, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = tmp_path / "az-args"
    _fake_az(tmp_path, record)
    monkeypatch.setenv("PATH", str(tmp_path))
    kv.put_secret("s", "v")
    snapshot = read_vault_snapshot(_client(kv, auth="cli"), clock=clock)
    assert snapshot.status.state is AreaState.OK
    args = record.read_text().split()
    assert args[:2] == ["account", "get-access-token"]
    assert args[args.index("--resource") + 1] == f"https://0.0.1:{kv.port}"
    assert args[args.index("--tenant") + 1] == DEMO_TENANT_ID


def test_no_usable_credential_maps_to_forbidden(
    kv: KeyVaultEmulator, clock: FrozenClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no az anywhere
    snapshot = read_vault_snapshot(_client(kv, auth="cli", retry_total=0), clock=clock)
    assert snapshot.status.state is AreaState.FORBIDDEN
    assert snapshot.status.message.startswith("no Azure credential available: Azure CLI not found on path")
    assert "\n" not in snapshot.status.message


def test_demo_auth_is_refused_for_a_real_vault() -> None:
    with pytest.raises(VaultError) as excinfo:
        make_secret_client("https://site-kv.vault.azure.net/", auth="demo")
    assert excinfo.value.state is AreaState.FORBIDDEN


@pytest.mark.parametrize(
    ("extension", "content_type", "form"),
    [
        (".der", "application/pkix-cert", "der"),
        (".crt", "application/x-pem-file", "pem"),
        (".crl", "application/pkix-crl", "der"),
    ],
)
def test_hex_secrets_are_written_like_the_official_tooling(
    kv: KeyVaultEmulator, certificate: tuple[bytes, bytes], extension: str, content_type: str, form: str
) -> None:
    pem, der = certificate
    data = der if form == "der" else pem
    client = _client(kv)
    properties = write_hex_secret(client, "site-ca" + extension.replace(".", "-"), data, extension=extension)
    stored = kv.snapshot()["secrets"][properties.name]["versions"][-1]
    assert stored["value"] == data.hex()
    assert stored["tags"] == {"file-encoding": "hex"}
    assert stored["content_type"] == content_type
    assert bytes.fromhex(client.get_secret(properties.name).value or "") == data


def test_hex_secret_expiry_is_stored(kv: KeyVaultEmulator, certificate: tuple[bytes, bytes]) -> None:
    not_after = datetime(2030, 1, 1, tzinfo=UTC)
    write_hex_secret(_client(kv), "plc-der", certificate[1], extension=".der", expires_on=not_after)
    assert kv.snapshot()["secrets"]["plc-der"]["versions"][-1]["expires"] == int(not_after.timestamp())


def test_writing_over_a_deleted_name_fails_in_one_line_and_changes_nothing(
    kv: KeyVaultEmulator, certificate: tuple[bytes, bytes]
) -> None:
    client = _client(kv)
    kv.put_secret("plc-der", "00")
    client.begin_delete_secret("plc-der", _polling_interval=0.01).wait()
    before = kv.snapshot()
    with pytest.raises(VaultError) as excinfo:
        write_hex_secret(client, "plc-der", certificate[1], extension=".der")
    assert str(excinfo.value).startswith(
        "writing secret plc-der: vault error (409 Conflict: Secret plc-der "
        "is currently in a deleted but recoverable state"
    )
    assert excinfo.value.state is AreaState.ERROR
    assert excinfo.value.status == 409  # what the engine reads as "deleted by someone else"
    assert kv.snapshot() == before


def test_an_invalid_secret_name_is_refused_before_any_request(kv: KeyVaultEmulator) -> None:
    with pytest.raises(VaultError, match=r"secret name 'plc\.der': must be 1-127 letters, digits or hyphens"):
        write_hex_secret(_client(kv), "plc.der", b"\x30", extension=".der")
    assert kv.requests() == []


def test_a_long_value_read_delivers_the_listing_first(kv: KeyVaultEmulator, clock: FrozenClock) -> None:
    names = [f"plc-{i:02d}-der" for i in range(LISTING_FIRST_FROM + 3)]
    for i, name in enumerate(names):
        kv.put_secret(name, f"30{i:02x}", "application/pkix-cert", {"file-encoding": "hex"})
    kv.put_secret("site-ca-crt", "3082", "application/x-pem-file")  # listed, its value not wanted
    listings: list[tuple[object, int]] = []

    def listed(snapshot: VaultSnapshot) -> None:
        # Delivered before any value was fetched.
        listings.append(({n: s.value for n, s in snapshot.secrets.items()}, len(_gets(kv))))
        assert snapshot.status.state is AreaState.OK and snapshot.values_pending == len(names)

    final = read_vault_snapshot(_client(kv), names=names, clock=clock, on_listed=listed)
    [(values, gets_so_far)] = listings
    assert gets_so_far == 0 and set(values) == {*names, "site-ca-crt"}
    assert all(value is None for value in values.values())
    assert final.values_pending == 0 and final.secrets["plc-07-der"].value == "3007"
    # A short read (below LISTING_FIRST_FROM values) does not bother.
    read_vault_snapshot(_client(kv), names=names[:3], clock=clock, on_listed=listed)
    assert len(listings) == 1
