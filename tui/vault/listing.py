"""A vault's listing (no values) read through the client's own pipeline, without the SDK's models.

``status`` reads a vault's listing only: presence, content type, tags, enabled and dates of every secret.
Through ``SecretClient.list_properties_of_secrets`` the SDK turns each listed item into a generated model
and then into a ``SecretProperties``, about 150 microseconds of interpreter time per secret: at 2,000
secrets, 0.3 s, the largest single cost of a ``status`` run, spent while the interpreter has nothing
else to do. :func:`list_vault_snapshot` sends the same requests through the same pipeline
(``SecretClient.send_request``: credential, challenge, TLS, retries, deadline) and reads the JSON itself.

The dashboard's reads list through :func:`list_secrets` as well (:mod:`tui.vault.reader`): a re-read of
an unchanged vault is its listing alone, and that listing runs beside the UI thread, so the interpreter
time it saves is the UI's.

:func:`list_vault_snapshot` equals what the SDK's listing gives (tested against the emulator):
the first page is what the SDK asks for, each next page is built from ``nextLink`` as the SDK builds it,
and every field is taken as the SDK's models take it (the name is the second path segment of the id, the
dates are Unix seconds in UTC). An answer other than 200 is raised as the SDK's generated listing raises
it (its status map, then ``HttpResponseError``, whose error code and message are read from the same
body), from that one answer: handing it to the SDK's listing would ask again at once, and a vault that
answered 429 with a Retry-After longer than the call could wait must not be asked again. A 200 whose
body is not the documented shape is handed to the SDK's own listing from the start.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any
from urllib.parse import parse_qs, quote, urljoin, urlparse

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ResourceNotModifiedError,
    map_error,
)
from azure.core.rest import HttpRequest
from azure.core.utils import case_insensitive_dict
from azure.keyvault.secrets import SecretClient

from tui.core.clock import Clock
from tui.core.model.snapshot import AreaState, ResourceStatus, VaultSecret, VaultSnapshot
from tui.core.shared import shared
from tui.vault.errors import classify

_ACCEPT = {"Accept": "application/json"}
# The generated listing's status map (azure-keyvault-secrets, ``get_secrets``).
_ERROR_MAP = {
    401: ClientAuthenticationError,
    404: ResourceNotFoundError,
    409: ResourceExistsError,
    304: ResourceNotModifiedError,
}


class NotAsTheSdkReadsIt(Exception):
    """An answer this module does not read exactly as the SDK would: the SDK's listing takes over."""


@dataclass(frozen=True, slots=True)
class ListedSecret:
    """One listed secret: as the snapshot keeps it (no value), and its current version's creation time."""

    secret: VaultSecret
    created_on: datetime | None


_TAGS = object()
"""Marks a tag set's key in the shared table (no other value's key can hold this object)."""


def shared_tags(tags: Mapping[str, str] | None) -> Mapping[str, str]:
    """A read-only mapping equal to ``tags`` (empty for None), one object for the same items in the same
    order (:func:`tui.core.shared.shared`): a site's secrets carry one or two tag sets between them, each
    otherwise ~400 bytes per secret for as long as the snapshot is shown."""
    items = tuple(tags.items()) if tags else ()
    return shared(MappingProxyType(dict(items)), key=(_TAGS, items))


_PLAIN_ID = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9.-]+(?::([0-9]{1,5}))?/secrets/([0-9A-Za-z-]+)")
"""The usual listed id, ``https://<vault host>/secrets/<name>``, with nothing ``urlparse`` could read
otherwise: no user, query, fragment, parameters, escapes or spaces."""


def _name(item_id: Any) -> str | None:
    # As azure.keyvault.secrets' parse_key_vault_id: an absolute URL whose path has two or three segments.
    if not isinstance(item_id, str):
        raise NotAsTheSdkReadsIt
    # The usual id read without urlparse (2,000 of them per listing, beside the UI thread): the same name.
    plain = _PLAIN_ID.fullmatch(item_id)
    if plain is not None and int(plain.group(1) or 0) <= 65535:
        return plain.group(2)
    parsed = urlparse(item_id)
    path = [p for p in parsed.path.split("/") if p]
    try:
        parsed.port  # noqa: B018 - the SDK reads it, and a port out of range raises there
    except ValueError:
        raise NotAsTheSdkReadsIt from None
    if not (parsed.scheme and parsed.hostname) or not 2 <= len(path) <= 3:
        raise NotAsTheSdkReadsIt
    return path[1]


def _moment(value: Any) -> datetime | None:
    # The models' "unix-timestamp" format: seconds since the epoch, read as UTC.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NotAsTheSdkReadsIt
    return datetime.fromtimestamp(value, UTC)


def _text(value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise NotAsTheSdkReadsIt
    return value


def _secret(item: Any) -> ListedSecret | None:
    """The listed secret as the reader makes it of the SDK's ``SecretProperties``; None for one without
    a name."""
    if not isinstance(item, Mapping):
        raise NotAsTheSdkReadsIt
    name = _name(item["id"]) if item.get("id") else None  # the SDK names no secret for an empty id
    attributes = item.get("attributes")
    if attributes is None:
        attributes = {}
    if not isinstance(attributes, Mapping):
        raise NotAsTheSdkReadsIt
    enabled = attributes.get("enabled")
    if enabled is not None and not isinstance(enabled, bool):
        raise NotAsTheSdkReadsIt
    tags = item.get("tags")
    if tags is not None and (
        not isinstance(tags, Mapping) or not all(isinstance(v, str) for v in tags.values())
    ):
        raise NotAsTheSdkReadsIt
    created_on = _moment(attributes.get("created"))
    if not name:
        return None
    secret = VaultSecret(
        name=name,
        value=None,
        content_type=shared(_text(item.get("contentType"))),
        tags=shared_tags(tags),
        enabled=bool(enabled),
        updated_on=_moment(attributes.get("updated")),
        expires_on=_moment(attributes.get("exp")),
    )
    return ListedSecret(secret, created_on)


def _next_request(client: SecretClient, next_link: str) -> HttpRequest:
    # As the generated get_secrets builds it: the link's path and query, with the client's api-version.
    parsed = urlparse(next_link)
    # Case-insensitive, as the SDK's: the link's own api-version is replaced whatever its spelling.
    params = case_insensitive_dict(
        {key: [quote(v) for v in values] for key, values in parse_qs(parsed.query).items()}
    )
    params["api-version"] = client.api_version
    return HttpRequest("GET", urljoin(next_link, parsed.path), headers=dict(_ACCEPT), params=params)


def list_secrets(
    client: SecretClient, *, on_answer: Callable[[Mapping[str, str]], None] | None = None
) -> list[ListedSecret]:
    """Every named secret of the vault, in the order listed, read from the pages' JSON.

    ``on_answer`` gets each page's response headers (the reader notes their ``Date``). Raises
    :class:`NotAsTheSdkReadsIt` for a 200 the SDK's listing should read instead (start it over with the
    SDK); an answer other than 200 as the SDK's listing raises it; the transport's or credential's own
    exceptions as the SDK would raise them.
    """
    secrets: list[ListedSecret] = []
    request = HttpRequest("GET", "/secrets", headers=dict(_ACCEPT))
    while True:
        response = client.send_request(request)
        if on_answer is not None:
            on_answer(response.headers)
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=_ERROR_MAP)
            raise HttpResponseError(response=response)
        try:
            body = response.json()
        except ValueError:
            raise NotAsTheSdkReadsIt from None
        if not isinstance(body, Mapping):
            raise NotAsTheSdkReadsIt
        items = body.get("value", [])
        if not isinstance(items, list):
            raise NotAsTheSdkReadsIt
        for item in items:
            listed = _secret(item)
            if listed is not None:
                secrets.append(listed)
        next_link = body.get("nextLink") or None
        if next_link is None:
            return secrets
        if not isinstance(next_link, str):
            raise NotAsTheSdkReadsIt
        request = _next_request(client, next_link)


def list_vault_snapshot(client: SecretClient, *, clock: Clock) -> VaultSnapshot:
    """Every secret's properties and no value: ``read_vault_snapshot(client, names=(), clock=clock)``,
    read with less work. Never raises for vault, network or credential failures."""
    taken_at = clock.now()
    try:
        secrets = {listed.secret.name: listed.secret for listed in list_secrets(client)}
    except NotAsTheSdkReadsIt:
        # Imported here: the reader lists through this module.
        from tui.vault.reader import read_vault_snapshot

        return read_vault_snapshot(client, names=(), clock=clock, through_sdk=True)
    except Exception as exc:  # as read_vault_snapshot: a failure is the snapshot's status
        state, message = classify(exc)
        return VaultSnapshot(
            client.vault_url, ResourceStatus(state, message, since=taken_at), taken_at=taken_at
        )
    return VaultSnapshot(
        client.vault_url, ResourceStatus(AreaState.OK), MappingProxyType(secrets), taken_at=taken_at
    )
