"""Credential selection: modes, the environment override, and the loopback-only demo token."""

from __future__ import annotations

import io
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from azure.identity import (
    AzureAuthorityHosts,
    AzureCliCredential,
    DefaultAzureCredential,
    DeviceCodeCredential,
    ManagedIdentityCredential,
    WorkloadIdentityCredential,
)

from tui.core.model.snapshot import AreaState
from tui.vault.credentials import (
    AUTH_ENV,
    DemoCredential,
    authority_for,
    device_code_prompt,
    is_loopback_url,
    make_credential,
    resolve_auth,
)
from tui.vault.errors import VaultError

REMOTE = "https://site-kv.vault.azure.net/"


def test_explicit_mode_beats_the_environment_which_beats_the_default() -> None:
    assert resolve_auth("cli", {AUTH_ENV: "demo"}) == "cli"
    assert resolve_auth(None, {AUTH_ENV: "Device-Code"}) == "device-code"
    assert resolve_auth(None, {}) == "default"


def test_an_unknown_mode_lists_the_known_ones() -> None:
    with pytest.raises(VaultError, match="auth mode 'password': unknown, expected one of default, cli"):
        resolve_auth("password", {})


@pytest.mark.parametrize(
    ("url", "loopback"),
    [
        ("https://127.0.0.1:4443/", True),
        ("https://127.8.9.10/", True),
        ("https://[::1]:99/", True),
        ("https://localhost:1/", True),
        ("https://LOCALHOST./", True),
        (REMOTE, False),
        ("https://10.0.0.1/", False),
        ("https://localhost.evil.example/", False),
        ("https://128.0.0.1/", False),
    ],
)
def test_loopback_detection(url: str, loopback: bool) -> None:
    assert is_loopback_url(url) is loopback


def test_demo_token_is_refused_for_a_real_vault() -> None:
    with pytest.raises(VaultError) as excinfo:
        make_credential("demo", vault_url=REMOTE)
    assert "site-kv.vault.azure.net" in str(excinfo.value)
    assert excinfo.value.state is AreaState.FORBIDDEN


def test_demo_token_is_served_for_the_loopback_emulator() -> None:
    credential = make_credential("demo", vault_url="https://127.0.0.1:4443/")
    assert isinstance(credential, DemoCredential)
    token = credential.get_token("https://0.0.1:4443/.default", tenant_id="t", enable_cae=True)
    # More than the SDK's 300 s refresh margin left, so it is not re-fetched on every request.
    assert token.expires_on > time.time() + 300
    assert credential.get_token_info("scope", options={"enable_cae": True}).token == token.token


@pytest.mark.parametrize(
    ("mode", "kind"),
    [
        ("default", DefaultAzureCredential),
        ("cli", AzureCliCredential),
        ("managed-identity", ManagedIdentityCredential),
        ("device-code", DeviceCodeCredential),
    ],
)
def test_each_mode_builds_its_azure_identity_credential(mode: str, kind: type) -> None:
    assert isinstance(make_credential(mode, vault_url=REMOTE), kind)


def test_the_environment_selects_the_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(AUTH_ENV, "cli")
    assert isinstance(make_credential(None, vault_url=REMOTE), AzureCliCredential)


def test_workload_identity_needs_its_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in ("AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_FEDERATED_TOKEN_FILE"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(VaultError, match="AZURE_FEDERATED_TOKEN_FILE") as excinfo:
        make_credential("workload-identity", vault_url=REMOTE)
    assert excinfo.value.state is AreaState.FORBIDDEN
    token_file = tmp_path / "token"
    token_file.write_text("eyJ.fake.jwt")
    monkeypatch.setenv("AZURE_TENANT_ID", "00000000-0000-0000-0000-000000000001")
    monkeypatch.setenv("AZURE_CLIENT_ID", "00000000-0000-0000-0000-000000000002")
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(token_file))
    assert isinstance(make_credential("workload-identity", vault_url=REMOTE), WorkloadIdentityCredential)


def test_device_code_prompt_goes_to_the_given_stream() -> None:
    stream = io.StringIO()
    device_code_prompt(stream)(
        "https://microsoft.com/devicelogin", "ABCD-1234", datetime(2026, 1, 1, 10, 15, tzinfo=UTC)
    )
    assert stream.getvalue() == (
        "To sign in, open https://microsoft.com/devicelogin and enter the code "
        "ABCD-1234 (valid until 2026-01-01 10:15Z).\n"
    )


@pytest.mark.parametrize(
    ("url", "authority"),
    [
        (REMOTE, AzureAuthorityHosts.AZURE_PUBLIC_CLOUD),
        ("https://kv.vault.azure.cn/", AzureAuthorityHosts.AZURE_CHINA),
        ("https://kv.vault.usgovcloudapi.net/", AzureAuthorityHosts.AZURE_GOVERNMENT),
        # The same chain signs in to ARM (tui/commands/shared/arm_reader.py): each cloud's ARM host.
        ("https://management.azure.com", AzureAuthorityHosts.AZURE_PUBLIC_CLOUD),
        ("https://management.chinacloudapi.cn", AzureAuthorityHosts.AZURE_CHINA),
        ("https://management.usgovcloudapi.net", AzureAuthorityHosts.AZURE_GOVERNMENT),
    ],
)
def test_sign_in_goes_to_the_vaults_cloud(url: str, authority: str) -> None:
    assert authority_for(url) == authority
