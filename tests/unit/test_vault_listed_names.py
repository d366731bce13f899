"""The name of a listed secret is read from its id as the SDK reads it (``parse_key_vault_id``), also on
the quick path that skips ``urlparse`` for the usual ids (``tui/vault/listing.py``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast
from urllib.parse import parse_qs, urlparse

import pytest
from azure.keyvault.secrets import SecretClient
from azure.keyvault.secrets._shared import parse_key_vault_id

from tui.vault.listing import NotAsTheSdkReadsIt, _name, _next_request

IDS = [
    "https://kv-aio.vault.azure.net/secrets/plc-1-der",
    "https://kv-aio.vault.azure.net:443/secrets/Plc-1-DER",
    "https://127.0.0.1:45945/secrets/bench-device-01213-der",
    "HTTPS://KV.VAULT.AZURE.NET/secrets/x",
    "https://kv.vault.azure.net/secrets/x/0123abcd",
    "https://kv.vault.azure.net/secrets/x/",
    "https://kv.vault.azure.net//secrets//x",
    "https://kv.vault.azure.net/keys/x",
    "https://user@kv.vault.azure.net/secrets/x",
    "https://kv.vault.azure.net/secrets/x?api-version=7.5",
    "https://kv.vault.azure.net/secrets/x#part",
    "https://kv.vault.azure.net/secrets/x;params",
    "https://kv.vault.azure.net/secrets/x%2Fy",
    "https://kv.vault.azure.net/secrets/x\n",
    " https://kv.vault.azure.net/secrets/x",
    "https://kv.vault.azure.net/secrets/x\ty",
    "https://[::1]:8443/secrets/x",
    "https://kv.vault.azure.net:65535/secrets/x",
    "https://kv.vault.azure.net:65536/secrets/x",
    "https://kv.vault.azure.net:99999/secrets/x",
    "https://kv.vault.azure.net:0/secrets/x",
    "https://kv.vault.azure.net:/secrets/x",
    "https://kv.vault.azure.net:x/secrets/x",
    "https:///secrets/x",
    "https://:443/secrets/x",
    "https://kv.vault.azure.net/secrets/",
    "https://kv.vault.azure.net/secrets/a/b/c",
    "kv.vault.azure.net/secrets/x",
    "/secrets/x",
]


def _sdk_name(item_id: str) -> str | None:
    try:
        return parse_key_vault_id(item_id).name
    except ValueError:
        return None


@pytest.mark.parametrize("item_id", IDS)
def test_the_name_is_the_sdks(item_id: str) -> None:
    try:
        ours: str | None = _name(item_id)
    except NotAsTheSdkReadsIt:
        ours = None
    assert ours == _sdk_name(item_id)


def test_the_usual_ids_do_not_go_through_urlparse(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*_args: object) -> None:
        raise AssertionError("urlparse called")

    monkeypatch.setattr("tui.vault.listing.urlparse", refused)
    assert _name("https://kv-aio.vault.azure.net/secrets/plc-1-der") == "plc-1-der"
    assert _name("https://127.0.0.1:45945/secrets/Bench-01") == "Bench-01"


@dataclass
class _Client:
    api_version: str


def test_a_next_links_own_api_version_is_replaced_whatever_its_spelling() -> None:
    link = "https://kv.vault.azure.net/secrets?Api-Version=7.0&$skiptoken=abc&maxresults=25"
    request = _next_request(cast(SecretClient, _Client("7.6")), link)
    query = parse_qs(urlparse(request.url).query)
    versions = [value for key, value in query.items() if key.lower() == "api-version"]
    assert versions == [["7.6"]]  # one api-version, the client's
    assert query["$skiptoken"] == ["abc"] and query["maxresults"] == ["25"]
