"""The demo Key Vault emulator driven by the real ``SecretClient`` over verified HTTPS.

Every test gets its own emulator on a fresh ephemeral port (start-up takes milliseconds), so the SDK's
process-wide challenge cache, keyed by host:port, never carries over between tests.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from azure.core.credentials import AccessToken
from azure.core.exceptions import (
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
)
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import http_challenge_cache

from tui.core.clock import FrozenClock
from tui.demo.keyvault.server import DEMO_TENANT_ID, challenge_resource_for
from tui.demo.keyvault.vault import KeyVaultEmulator, start_keyvault_emulator

T0 = datetime(2026, 5, 4, 8, 0, tzinfo=UTC)
FAST = {"_polling_interval": 0.01}  # the pollers' private knob; our deletes are synchronous anyway


class RecordingCredential:
    """A minimal token credential that remembers what the SDK asked for."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls.append((scopes, kwargs))
        return AccessToken("test-token", int(time.time()) + 3600)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def kv(clock: FrozenClock) -> Iterator[KeyVaultEmulator]:
    with start_keyvault_emulator(clock=clock) as emulator:
        yield emulator


@pytest.fixture
def credential() -> RecordingCredential:
    return RecordingCredential()


def _client(kv: KeyVaultEmulator, credential: Any, **options: Any) -> SecretClient:
    # A tiny backoff keeps retried paths fast without changing what is retried.
    options.setdefault("retry_backoff_factor", 0.01)
    return SecretClient(kv.url, credential, connection_verify=str(kv.ca_pem_path), **options)


@pytest.fixture
def client(kv: KeyVaultEmulator, credential: RecordingCredential) -> SecretClient:
    return _client(kv, credential)


def _raw(
    kv: KeyVaultEmulator, method: str, path: str, body: bytes | None = None, bearer: bool = True
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One request with the standard library, for what the SDK never sends."""
    context = ssl.create_default_context(cafile=str(kv.ca_pem_path))
    connection = http.client.HTTPSConnection(kv.host, kv.port, context=context, timeout=10)
    headers = {"Content-Type": "application/json"}
    if bearer:
        headers["Authorization"] = "Bearer anything"
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        payload = response.read()
        return response.status, dict(response.headers), json.loads(payload) if payload else {}
    finally:
        connection.close()


def test_challenge_handshake_then_cached_bearer(
    kv: KeyVaultEmulator, client: SecretClient, credential: RecordingCredential
) -> None:
    http_challenge_cache.clear()
    client.set_secret("hs", "v1")
    client.get_secret("hs")
    seen = [(r.method, r.path, r.authorized, r.status) for r in kv.requests()]
    assert seen == [
        ("PUT", "/secrets/hs", False, 401),
        ("PUT", "/secrets/hs", True, 200),
        ("GET", "/secrets/hs/", True, 200),
    ]
    # The resource passes the SDK's challenge-resource check, which this client keeps on.
    assert credential.calls == [
        (
            (f"https://0.0.1:{kv.port}/.default",),
            {"claims": None, "tenant_id": DEMO_TENANT_ID, "enable_cae": True},
        )
    ]
    assert kv.requests()[1].query["api-version"] == "2026-04-01"


def test_set_and_get_round_trip_every_property(client: SecretClient, clock: FrozenClock) -> None:
    nbf, exp = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)
    first = client.set_secret(
        "plc-1-der",
        "3082",
        content_type="application/pkix-cert",
        tags={"file-encoding": "hex"},
        not_before=nbf,
        expires_on=exp,
    )
    clock.advance(30)
    second = client.set_secret("plc-1-der", "3083")
    latest = client.get_secret("plc-1-der")
    old = client.get_secret("plc-1-der", first.properties.version)
    assert (latest.value, latest.properties.version) == ("3083", second.properties.version)
    assert old.value == "3082"
    assert old.properties.content_type == "application/pkix-cert"
    assert old.properties.tags == {"file-encoding": "hex"}
    assert (old.properties.not_before, old.properties.expires_on) == (nbf, exp)
    assert old.properties.enabled is True
    assert old.properties.created_on == T0
    assert latest.properties.updated_on == T0.replace(second=30)
    assert latest.properties.recovery_level == "Recoverable+Purgeable"
    assert latest.properties.recoverable_days == 90
    assert latest.properties.vault_url == client.vault_url


def test_an_unknown_secret_is_resource_not_found(client: SecretClient) -> None:
    with pytest.raises(ResourceNotFoundError) as excinfo:
        client.get_secret("ghost")
    assert excinfo.value.status_code == 404
    assert excinfo.value.error is not None and excinfo.value.error.code == "SecretNotFound"
    assert "ghost was not found in this key vault" in excinfo.value.error.message


def test_an_invalid_name_is_bad_parameter(client: SecretClient) -> None:
    with pytest.raises(HttpResponseError) as excinfo:
        client.set_secret("bad_name", "v")
    assert excinfo.value.status_code == 400
    assert excinfo.value.error is not None and excinfo.value.error.code == "BadParameter"


def test_listing_follows_next_links_across_pages(kv: KeyVaultEmulator, client: SecretClient) -> None:
    for i in range(60):
        kv.put_secret(f"cert-{i:02d}", "00", "application/pkix-cert")
    kv.clear_requests()
    listed = list(client.list_properties_of_secrets(max_page_size=7))
    assert [p.name for p in listed] == [f"cert-{i:02d}" for i in range(60)]
    assert all(p.version is None and p.content_type == "application/pkix-cert" for p in listed)
    pages = [r for r in kv.requests() if r.path == "/secrets" and r.authorized]
    assert len(pages) == 9
    assert pages[1].query["$skiptoken"] == "cert-06" and pages[1].query["maxresults"] == "7"
    kv.clear_requests()
    assert len(list(client.list_properties_of_secrets())) == 60
    assert [r.query.get("maxresults") for r in kv.requests()] == [None, "25", "25"]


def test_versions_are_listed_with_their_ids(kv: KeyVaultEmulator, client: SecretClient) -> None:
    written = [client.set_secret("s", str(i)).properties.version for i in range(3)]
    listed = list(client.list_properties_of_secret_versions("s", max_page_size=2))
    assert [p.version for p in listed] == written
    assert len([r for r in kv.requests() if r.path == "/secrets/s/versions"]) == 2


def test_update_properties_of_latest_and_of_a_version(client: SecretClient) -> None:
    old = client.set_secret("s", "v1").properties.version
    client.set_secret("s", "v2")
    latest = client.update_secret_properties("s", tags={"owner": "ot"}, content_type="text/plain")
    assert latest.tags == {"owner": "ot"} and latest.content_type == "text/plain"
    disabled = client.update_secret_properties("s", old, enabled=False)
    assert (disabled.version, disabled.enabled) == (old, False)
    with pytest.raises(HttpResponseError) as excinfo:
        client.get_secret("s", old)
    assert excinfo.value.status_code == 403
    assert excinfo.value.error is not None and excinfo.value.error.innererror == {"code": "SecretDisabled"}
    assert client.get_secret("s").value == "v2"


def test_soft_delete_and_recover_with_the_sdk_pollers(
    kv: KeyVaultEmulator, client: SecretClient, clock: FrozenClock
) -> None:
    client.set_secret("s", "keep-me", tags={"a": "b"})
    clock.advance(60)
    poller = client.begin_delete_secret("s", **FAST)
    deleted = poller.result()
    poller.wait()
    assert deleted.recovery_id == f"https://127.0.0.1:{kv.port}/deletedsecrets/s"
    fetched = client.get_deleted_secret("s")
    assert fetched.deleted_date == T0.replace(minute=1)
    assert fetched.scheduled_purge_date == datetime(2026, 8, 2, 8, 1, tzinfo=UTC)
    assert [d.name for d in client.list_deleted_secrets()] == ["s"]
    before = kv.snapshot()
    with pytest.raises(ResourceExistsError) as excinfo:
        client.set_secret("s", "new")
    assert excinfo.value.status_code == 409
    assert excinfo.value.error is not None and excinfo.value.error.code == "Conflict"
    assert excinfo.value.error.innererror == {"code": "ObjectIsDeletedButRecoverable"}
    assert kv.snapshot() == before
    client.begin_recover_deleted_secret("s", **FAST).wait()
    recovered = client.get_secret("s")
    assert (recovered.value, recovered.properties.tags) == ("keep-me", {"a": "b"})
    paths = [(r.method, r.path) for r in kv.requests()]
    assert ("GET", "/deletedsecrets/s") in paths and ("POST", "/deletedsecrets/s/recover") in paths


def test_purge_frees_the_name(client: SecretClient) -> None:
    client.set_secret("s", "v1")
    client.begin_delete_secret("s", **FAST).wait()
    client.purge_deleted_secret("s")
    with pytest.raises(ResourceNotFoundError):
        client.get_deleted_secret("s")
    with pytest.raises(ResourceNotFoundError):
        client.begin_delete_secret("s")
    assert client.set_secret("s", "v2").value == "v2"


def test_without_soft_delete_the_delete_poller_does_not_poll(clock: FrozenClock) -> None:
    with start_keyvault_emulator(clock=clock, soft_delete=False) as kv:
        client = _client(kv, RecordingCredential())
        client.set_secret("s", "v")
        deleted = client.begin_delete_secret("s").result()
        assert deleted.recovery_id is None
        assert not [r for r in kv.requests() if r.path.startswith("/deletedsecrets")]
        with pytest.raises(ResourceNotFoundError):
            client.get_secret("s")


def test_backup_and_restore(client: SecretClient) -> None:
    client.set_secret("s", "v1", content_type="application/pkix-crl")
    blob = client.backup_secret("s")
    with pytest.raises(ResourceExistsError):
        client.restore_secret_backup(blob)
    client.begin_delete_secret("s", **FAST).wait()
    client.purge_deleted_secret("s")
    restored = client.restore_secret_backup(blob)
    assert (restored.name, restored.content_type) == ("s", "application/pkix-crl")
    assert client.get_secret("s").value == "v1"


def test_throttling_with_retry_after_is_survived(kv: KeyVaultEmulator, client: SecretClient) -> None:
    kv.put_secret("s", "v")
    client.get_secret("s")  # handshake first, so the log below shows only the throttled call
    kv.clear_requests()
    kv.throttle(2, retry_after=0.01)
    assert client.get_secret("s").value == "v"
    assert [r.status for r in kv.requests()] == [429, 429, 200]


def test_persistent_throttling_surfaces_as_429(kv: KeyVaultEmulator, client: SecretClient) -> None:
    kv.put_secret("s", "v")
    kv.throttle(100, retry_after=0)
    with pytest.raises(HttpResponseError) as excinfo:
        client.get_secret("s", retry_total=1)
    assert excinfo.value.status_code == 429
    assert excinfo.value.error is not None and excinfo.value.error.code == "Throttled"
    assert len(kv.requests()) == 2


def test_an_older_api_version_is_served(kv: KeyVaultEmulator, credential: RecordingCredential) -> None:
    client = _client(kv, credential, api_version="7.4")
    client.set_secret("s", "v")
    assert client.get_secret("s").value == "v"
    assert {r.query["api-version"] for r in kv.requests()} == {"7.4"}


def test_every_401_carries_a_parseable_challenge(kv: KeyVaultEmulator) -> None:
    status, headers, body = _raw(kv, "GET", "/secrets?api-version=7.5", bearer=False)
    assert status == 401
    assert body["error"]["code"] == "Unauthorized"
    challenge = headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    # The SDK splits on "," and "=": exactly two parameters, values free of both characters.
    params = dict(part.strip().split("=", 1) for part in challenge[len("Bearer ") :].split(","))
    assert params == {
        "authorization": f'"https://login.microsoftonline.com/{DEMO_TENANT_ID}"',
        "resource": f'"https://0.0.1:{kv.port}"',
    }


@pytest.mark.parametrize(
    ("method", "path", "body", "status", "code"),
    [
        ("GET", "/secrets", None, 400, "BadParameter"),
        ("GET", "/secrets?api-version=banana", None, 400, "BadParameter"),
        ("GET", "/secrets?api-version=7.5&maxresults=26", None, 400, "BadParameter"),
        ("GET", "/secrets?api-version=7.5&$skiptoken=%2B%2B", None, 400, "BadParameter"),
        ("PUT", "/secrets/s?api-version=7.5", b"{not json", 400, "BadParameter"),
        ("PUT", "/secrets/s?api-version=7.5", b'{"value": 5}', 400, "BadParameter"),
        (
            "PUT",
            "/secrets/s?api-version=7.5",
            b'{"value": "v", "attributes": {"exp": "soon"}}',
            400,
            "BadParameter",
        ),
        ("GET", "/keys?api-version=7.5", None, 404, "NotFound"),
    ],
)
def test_bad_requests_get_error_envelopes_and_change_nothing(
    kv: KeyVaultEmulator, method: str, path: str, body: bytes | None, status: int, code: str
) -> None:
    before = kv.snapshot()
    got_status, headers, document = _raw(kv, method, path, body)
    assert (got_status, document["error"]["code"]) == (status, code)
    assert "Retry-After" not in headers  # azure-core would retry any error that carried one
    assert kv.snapshot() == before


def test_denied_permission_is_a_403_for_that_operation_only(
    kv: KeyVaultEmulator, client: SecretClient
) -> None:
    kv.put_secret("s", "v")
    kv.deny("get")
    with pytest.raises(HttpResponseError) as excinfo:
        client.get_secret("s")
    assert excinfo.value.status_code == 403
    assert excinfo.value.error is not None and excinfo.value.error.innererror == {"code": "ForbiddenByPolicy"}
    assert [p.name for p in client.list_properties_of_secrets()] == ["s"]
    kv.deny()
    assert client.get_secret("s").value == "v"
    with pytest.raises(ValueError, match="unknown Key Vault permission"):
        kv.deny("read")


def test_an_outage_refuses_connections_until_it_ends(kv: KeyVaultEmulator, client: SecretClient) -> None:
    kv.put_secret("s", "v")
    assert client.get_secret("s").value == "v"
    port = kv.port
    kv.set_unreachable(True)
    with pytest.raises(ServiceRequestError):
        client.get_secret("s", retry_total=0)
    kv.set_unreachable(False)
    assert kv.port == port
    assert client.get_secret("s").value == "v"


def test_tls_is_verified_against_the_emulator_ca(
    kv: KeyVaultEmulator, credential: RecordingCredential
) -> None:
    untrusting = SecretClient(kv.url, credential, retry_total=0)
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        untrusting.get_secret("s")
    assert kv.requests() == []


def test_state_dir_persists_secrets_across_restarts(tmp_path: Path, clock: FrozenClock) -> None:
    with start_keyvault_emulator(state_dir=tmp_path, clock=clock) as first:
        _client(first, RecordingCredential()).set_secret("kept", "v1", tags={"t": "1"})
        first.put_secret("seeded", "v2")
        assert first.ca_pem_path == tmp_path / "vault-ca.pem"
        before = first.snapshot()
    with start_keyvault_emulator(state_dir=tmp_path, clock=clock) as second:
        assert second.snapshot() == before
        assert _client(second, RecordingCredential()).get_secret("kept").value == "v1"


def test_state_is_saved_while_running_not_only_on_stop(tmp_path: Path, clock: FrozenClock) -> None:
    with start_keyvault_emulator(state_dir=tmp_path, clock=clock, flush_delay=0.01) as kv:
        kv.put_secret("early", "v")
        state = tmp_path / "keyvault.json"
        deadline = time.monotonic() + 5
        # Nothing to await: the debounced save runs on the emulator's loop; poll for its result.
        while not (state.exists() and "early" in json.loads(state.read_text())["secrets"]):
            assert time.monotonic() < deadline, "state was not saved within 5 s"
            time.sleep(0.01)


def test_latency_holds_answers_back(kv: KeyVaultEmulator, client: SecretClient) -> None:
    kv.put_secret("s", "v")
    client.get_secret("s")
    kv.set_latency(0.05)
    started = time.perf_counter()
    assert client.get_secret("s").value == "v"
    assert time.perf_counter() - started >= 0.05


def test_a_corrupt_state_file_is_named(tmp_path: Path) -> None:
    (tmp_path / "keyvault.json").write_text("{oops")
    emulator = KeyVaultEmulator(state_dir=tmp_path)
    with pytest.raises(ValueError, match=r"keyvault\.json: cannot be loaded"):
        emulator.start()
    assert not emulator.running


def test_seeding_two_thousand_secrets_is_fast(kv: KeyVaultEmulator, client: SecretClient) -> None:
    started = time.perf_counter()
    for i in range(2000):
        kv.put_secret(f"bulk-{i:04d}", "30" * 600, "application/pkix-cert", {"file-encoding": "hex"})
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"seeding took {elapsed:.2f} s"
    assert len(kv.snapshot()["secrets"]) == 2000
    assert client.get_secret("bulk-1999").value == "30" * 600


def test_the_temporary_ca_file_goes_away_on_stop(clock: FrozenClock) -> None:
    emulator = start_keyvault_emulator(clock=clock)
    ca = emulator.ca_pem_path
    assert ca is not None and ca.read_bytes().startswith(b"-----BEGIN CERTIFICATE-----")
    emulator.stop()
    emulator.stop()  # idempotent
    assert not ca.exists()


@pytest.mark.parametrize(
    ("authority", "resource"),
    [
        ("127.0.0.1:4443", "https://0.0.1:4443"),
        ("127.0.0.1", "https://0.0.1"),
        ("localhost:4443", "https://vault.azure.net"),
        ("[::1]:4443", "https://vault.azure.net"),
    ],
)
def test_challenge_resource_is_a_dot_suffix_of_ipv4_authorities(authority: str, resource: str) -> None:
    assert challenge_resource_for(authority) == resource
