"""A vault's listing (no values) read through the client's own pipeline, without the SDK's models.

``status`` reads a vault's listing only: presence, content type, tags, enabled and dates of every secret.
Through ``SecretClient.list_properties_of_secrets`` the SDK turns each listed item into a generated model
and then into a ``SecretProperties``, about 150 microseconds of interpreter time per secret: at 2,000
secrets, 0.3 s, the largest single cost of a ``status`` run, spent while the interpreter has nothing
else to do. :func:`list_vault_snapshot` sends the same requests through the same pipeline
(``SecretClient.send_request``: credential, challenge, TLS, retries, deadline) and reads the JSON itself.

It equals :func:`tui.vault.reader.read_vault_snapshot` with ``names=()`` (tested against the emulator):
the first page is what the SDK asks for, each next page is built from ``nextLink`` as the SDK builds it,
and every field is taken as the SDK's models take it (the name is the second path segment of the id, the
dates are Unix seconds in UTC). Whatever it does not read exactly as the SDK would (an answer other than
200, a body that is not the documented shape) is handed to the SDK's own listing from the start, so an
error is raised, and worded, as it always was.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlparse

from azure.core.rest import HttpRequest
from azure.keyvault.secrets import SecretClient

from tui.core.clock import Clock
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.vault.errors import classify
from tui.vault.reader import read_vault_snapshot

_ACCEPT = {"Accept": "application/json"}


class _NotAsTheSdkReadsIt(Exception):
    """An answer this module does not read exactly as the SDK would: the SDK's listing takes over."""


def _name(item_id: Any) -> str | None:
    # As azure.keyvault.secrets' parse_key_vault_id: an absolute URL whose path has two or three segments.
    if not isinstance(item_id, str):
        raise _NotAsTheSdkReadsIt
    parsed = urlparse(item_id)
    path = [p for p in parsed.path.split("/") if p]
    if not (parsed.scheme and parsed.hostname) or not 2 <= len(path) <= 3:
        raise _NotAsTheSdkReadsIt
    return path[1]


def _moment(value: Any) -> datetime | None:
    # The models' "unix-timestamp" format: seconds since the epoch, read as UTC.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _NotAsTheSdkReadsIt
    return datetime.fromtimestamp(value, UTC)


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _NotAsTheSdkReadsIt
    return value


def _secret(item: Any) -> VaultSecret | None:
    """The listed secret as ``reader._secret(properties, None)`` makes it; None for one without a name."""
    if not isinstance(item, Mapping):
        raise _NotAsTheSdkReadsIt
    name = _name(item["id"]) if item.get("id") else None  # the SDK names no secret for an empty id
    attributes = item.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise _NotAsTheSdkReadsIt
    enabled = attributes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise _NotAsTheSdkReadsIt
    tags = item.get("tags")
    if tags is not None and (
        not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values())
    ):
        raise _NotAsTheSdkReadsIt
    if not name:
        return None
    return VaultSecret(
        name=name,
        value=None,
        content_type=_text(item.get("contentType")),
        tags=MappingProxyType(dict(tags or {})),
        enabled=bool(enabled),
        updated_on=_moment(attributes.get("updated")),
        expires_on=_moment(attributes.get("exp")),
    )


def _next_request(client: SecretClient, next_link: str) -> HttpRequest:
    # As the generated get_secrets builds it: the link's path and query, with the client's api-version.
    parsed = urlparse(next_link)
    params: dict[str, Any] = {
        key: [quote(v) for v in values] for key, values in parse_qs(parsed.query).items()
    }
    params["api-version"] = client.api_version
    return HttpRequest("GET", urljoin(next_link, parsed.path), headers=dict(_ACCEPT), params=params)


def _pages(client: SecretClient) -> dict[str, VaultSecret]:
    secrets: dict[str, VaultSecret] = {}
    request = HttpRequest("GET", "/secrets", headers=dict(_ACCEPT))
    while True:
        response = client.send_request(request)
        if response.status_code != 200:
            raise _NotAsTheSdkReadsIt
        try:
            body = response.json()
        except ValueError:
            raise _NotAsTheSdkReadsIt from None
        if not isinstance(body, Mapping):
            raise _NotAsTheSdkReadsIt
        items = body.get("value", [])
        if not isinstance(items, list):
            raise _NotAsTheSdkReadsIt
        for item in items:
            secret = _secret(item)
            if secret is not None:
                secrets[secret.name] = secret
        next_link = body.get("nextLink") or None
        if next_link is None:
            return secrets
        if not isinstance(next_link, str):
            raise _NotAsTheSdkReadsIt
        request = _next_request(client, next_link)


def list_vault_snapshot(client: SecretClient, *, clock: Clock) -> VaultSnapshot:
    """Every secret's properties and no value: ``read_vault_snapshot(client, names=(), clock=clock)``,
    read with less work. Never raises for vault, network or credential failures."""
    taken_at = clock.now()
    try:
        secrets = _pages(client)
    except _NotAsTheSdkReadsIt:
        return read_vault_snapshot(client, names=(), clock=clock)
    except Exception as exc:  # as read_vault_snapshot: a failure is the snapshot's status
        state, message = classify(exc)
        return VaultSnapshot(
            client.vault_url, ResourceStatus(state, message, since=taken_at), taken_at=taken_at
        )
    return VaultSnapshot(
        client.vault_url, ResourceStatus(AreaState.OK), MappingProxyType(secrets), taken_at=taken_at
    )
