"""Vault URL, CA bundle and content-type rules of the vault adapter (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tui.vault.client import (
    VAULT_CA_ENV,
    VAULT_URL_ENV,
    content_type_for,
    make_secret_client,
    vault_ca_bundle,
    vault_url_for,
)
from tui.vault.errors import VaultError


@pytest.mark.parametrize(
    ("cloud", "url"),
    [
        ("AzureCloud", "https://site-kv.vault.azure.net/"),
        ("AzureChinaCloud", "https://site-kv.vault.azure.cn/"),
        ("AzureUSGovernment", "https://site-kv.vault.usgovcloudapi.net/"),
        ("azurecloud", "https://site-kv.vault.azure.net/"),
    ],
)
def test_vault_url_uses_the_cloud_dns_suffix(cloud: str, url: str) -> None:
    assert vault_url_for("Site-KV", cloud, env={}) == url


def test_the_environment_override_wins() -> None:
    env = {VAULT_URL_ENV: "https://127.0.0.1:4443/"}
    assert vault_url_for("site-kv", "AzureChinaCloud", env=env) == "https://127.0.0.1:4443/"


def test_an_http_override_is_refused_in_one_line() -> None:
    with pytest.raises(VaultError) as excinfo:
        vault_url_for("site-kv", env={VAULT_URL_ENV: "http://127.0.0.1:8080/"})
    message = str(excinfo.value)
    assert VAULT_URL_ENV in message and "https://" in message and "\n" not in message


def test_an_unknown_cloud_is_named() -> None:
    with pytest.raises(VaultError, match="cloud 'AzureMoon': unknown"):
        vault_url_for("site-kv", "AzureMoon", env={})


@pytest.mark.parametrize("name", ["ab", "1site", "site--kv", "site-kv-", "a" * 25, "site.kv", ""])
def test_invalid_vault_names_are_refused(name: str) -> None:
    with pytest.raises(VaultError, match="Key Vault name"):
        vault_url_for(name, env={})


def test_ca_bundle_comes_from_the_argument_then_the_environment(tmp_path: Path) -> None:
    mine, theirs = tmp_path / "mine.pem", tmp_path / "env.pem"
    mine.write_text("x")
    theirs.write_text("y")
    env = {VAULT_CA_ENV: str(theirs)}
    assert vault_ca_bundle(str(mine), env=env) == str(mine)
    assert vault_ca_bundle(None, env=env) == str(theirs)
    assert vault_ca_bundle(None, env={}) is None


def test_a_missing_ca_bundle_is_named(tmp_path: Path) -> None:
    missing = tmp_path / "nope.pem"
    with pytest.raises(VaultError, match=f"vault CA bundle '{missing}': file not found"):
        vault_ca_bundle(None, env={VAULT_CA_ENV: str(missing)})


def test_make_secret_client_refuses_plain_http_before_any_request() -> None:
    with pytest.raises(VaultError, match="must be an https:// URL"):
        make_secret_client("http://127.0.0.1:1/", auth="demo")


@pytest.mark.parametrize(
    ("extension", "content_type"),
    [
        (".crl", "application/pkix-crl"),
        (".der", "application/pkix-cert"),
        ("der", "application/pkix-cert"),
        (".DER", "application/pkix-cert"),
        (".crt", "application/x-pem-file"),
        (".pem", "application/x-pem-file"),
        ("", "application/x-pem-file"),
    ],
)
def test_content_type_matches_the_official_tooling(extension: str, content_type: str) -> None:
    assert content_type_for(extension) == content_type
