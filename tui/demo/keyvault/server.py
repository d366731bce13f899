"""HTTP side of the demo's Key Vault emulator: the Key Vault secrets REST API as the real SDK calls it.

One aiohttp handler authenticates first (the SDK's first request per authority is a body-less copy
that must get a 401 challenge), then routes by method and path to :mod:`tui.demo.keyvault.store`
and renders the service's JSON shapes and error envelopes. Wire details and their reasons are in
``docs/domain.md`` §6.7; the ones that bite are commented where they are handled.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web

from tui.demo.keyvault.store import (
    KeyVaultStore,
    SecretRecord,
    SecretVersion,
    VaultFault,
    decode_backup,
    encode_backup,
    page_size,
)

# What azure-keyvault-secrets 4.12 can send. Any other date-shaped version is accepted too, so that a
# newer SDK keeps working against the demo; junk is refused as the service does.
KNOWN_API_VERSIONS = frozenset(
    {
        "2026-04-01",
        "2025-07-01",
        "2025-06-01-preview",
        "7.6",
        "7.5",
        "7.4",
        "7.3",
        "7.2",
        "7.1",
        "7.0",
        "2016-10-01",
    }
)
_DATED_API_VERSION = re.compile(r"^20\d\d-\d\d-\d\d(-preview)?$")
PERMISSIONS = frozenset({"get", "list", "set", "delete", "recover", "purge", "backup", "restore"})
DEMO_TENANT_ID = "72f988bf-0000-4000-8000-00000000a10c"
FALLBACK_RESOURCE = "https://vault.azure.net"


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it. Whether a bearer came, never the token itself."""

    method: str
    path: str
    query: Mapping[str, str]
    authorized: bool
    status: int


class Faults:
    """Thread-safe test switches: throttling, denied permissions, and the request log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throttle_left = 0
        self._retry_after = 1.0
        self._denied: frozenset[str] = frozenset()
        self._latency = 0.0
        self._log: deque[RequestRecord] = deque(maxlen=10_000)

    def throttle(self, count: int, retry_after: float) -> None:
        """Answer the next ``count`` requests with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._throttle_left, self._retry_after = count, retry_after

    def take_throttle(self) -> float | None:
        """Consume one throttled answer: its Retry-After seconds, or None when not throttling."""
        with self._lock:
            if self._throttle_left <= 0:
                return None
            self._throttle_left -= 1
            return self._retry_after

    @property
    def latency(self) -> float:
        """Seconds every answer is held back, to stand in for a distant vault."""
        with self._lock:
            return self._latency

    def set_latency(self, seconds: float) -> None:
        """Hold every answer back by ``seconds`` (0 for none)."""
        with self._lock:
            self._latency = max(0.0, seconds)

    def deny(self, permissions: frozenset[str]) -> None:
        """Refuse (403) every operation needing one of ``permissions``; empty allows everything."""
        unknown = permissions - PERMISSIONS
        if unknown:
            raise ValueError(f"unknown Key Vault permission(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._denied = permissions

    def is_denied(self, permission: str) -> bool:
        """Whether operations needing ``permission`` are currently refused."""
        with self._lock:
            return permission in self._denied

    def record(self, entry: RequestRecord) -> None:
        """Append to the request log."""
        with self._lock:
            self._log.append(entry)

    def requests(self) -> list[RequestRecord]:
        """The request log, oldest first."""
        with self._lock:
            return list(self._log)

    def clear_requests(self) -> None:
        """Empty the request log."""
        with self._lock:
            self._log.clear()


def challenge_resource_for(authority: str) -> str:
    """The ``resource`` to advertise so the SDK's challenge-resource check passes for ``authority``.

    The SDK accepts a resource whose host:port is a dot-suffix of the vault's host:port. For an IPv4
    literal (``127.0.0.1:PORT``) dropping the first label (``0.0.1:PORT``) satisfies it, so production
    clients keep the check on against the demo. Names without a dot (``localhost``) cannot pass; they get
    the public resource and need the check off, which the product never does.
    """
    parts = urlsplit("https://" + authority)
    host = parts.hostname or ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return FALLBACK_RESOURCE
    if address.version != 4:
        return FALLBACK_RESOURCE
    suffix = host.split(".", 1)[1]
    return f"https://{suffix}:{parts.port}" if parts.port else f"https://{suffix}"


def _error(
    status: int, code: str, message: str, inner: str | None = None, headers: Mapping[str, str] | None = None
) -> web.Response:
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return web.json_response({"error": error}, status=status, headers=headers)


Handler = Callable[[web.Request, Mapping[str, str], Any], Awaitable[web.Response]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    permission: str
    handler: Handler
    mutating: bool
    json_body: bool = False


class KeyVaultApp:
    """The aiohttp application serving one :class:`KeyVaultStore`."""

    def __init__(
        self,
        store: KeyVaultStore,
        faults: Faults,
        *,
        tenant_id: str = DEMO_TENANT_ID,
        resource: str | None = None,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.store = store
        self.faults = faults
        self.tenant_id = tenant_id
        self.resource = resource
        self.on_change = on_change
        name = r"(?P<name>[^/]+)"
        self._routes = [
            _Route("GET", re.compile(r"^/secrets/?$"), "list", self._list_secrets, False),
            _Route("POST", re.compile(r"^/secrets/restore/?$"), "restore", self._restore, True, True),
            _Route("GET", re.compile(rf"^/secrets/{name}/versions/?$"), "list", self._list_versions, False),
            _Route("POST", re.compile(rf"^/secrets/{name}/backup/?$"), "backup", self._backup, False),
            _Route("PUT", re.compile(rf"^/secrets/{name}/?$"), "set", self._set, True, True),
            _Route("DELETE", re.compile(rf"^/secrets/{name}/?$"), "delete", self._delete, True),
            # GET/PATCH of "latest" come with a trailing slash (empty version segment).
            _Route("GET", re.compile(rf"^/secrets/{name}(?:/(?P<version>[^/]*))?$"), "get", self._get, False),
            _Route(
                "PATCH",
                re.compile(rf"^/secrets/{name}(?:/(?P<version>[^/]*))?$"),
                "set",
                self._update,
                True,
                True,
            ),
            _Route("GET", re.compile(r"^/deletedsecrets/?$"), "list", self._list_deleted, False),
            _Route("GET", re.compile(rf"^/deletedsecrets/{name}/?$"), "get", self._get_deleted, False),
            _Route("DELETE", re.compile(rf"^/deletedsecrets/{name}/?$"), "purge", self._purge, True),
            _Route(
                "POST", re.compile(rf"^/deletedsecrets/{name}/recover/?$"), "recover", self._recover, True
            ),
        ]

    def build(self) -> web.Application:
        """The aiohttp application: one catch-all handler so authentication always comes first."""
        app = web.Application(client_max_size=1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    async def handle(self, request: web.Request) -> web.Response:
        """Serve one request and log it."""
        # Always drain the body, even for the 401: the client keeps the connection alive.
        body = await request.read()
        latency = self.faults.latency
        if latency:
            await asyncio.sleep(latency)
        response = await self._respond(request, body)
        self.faults.record(
            RequestRecord(
                request.method,
                request.path,
                dict(request.query),
                self._has_bearer(request),
                response.status,
            )
        )
        return response

    @staticmethod
    def _has_bearer(request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip())

    def _challenge(self, request: web.Request) -> web.Response:
        resource = self.resource or challenge_resource_for(request.host)
        # The SDK splits this header naively on "," and "=": values must contain neither.
        header = (
            f'Bearer authorization="https://login.microsoftonline.com/{self.tenant_id}", '
            f'resource="{resource}"'
        )
        return _error(
            401,
            "Unauthorized",
            "AKV10000: Request is missing a Bearer or PoP token.",
            headers={"WWW-Authenticate": header},
        )

    async def _respond(self, request: web.Request, body: bytes) -> web.Response:
        retry_after = self.faults.take_throttle()
        if retry_after is not None:
            return _error(
                429,
                "Throttled",
                "Request was not processed because too many requests were "
                "received. Reason: VaultRequestTypeLimitReached",
                headers={"Retry-After": f"{retry_after:g}"},
            )
        # Authenticate before looking at the body: the challenge request has none.
        if not self._has_bearer(request):
            return self._challenge(request)
        api_version = request.query.get("api-version")
        if not api_version:
            return _error(
                400,
                "BadParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if api_version not in KNOWN_API_VERSIONS and not _DATED_API_VERSION.match(api_version):
            return _error(400, "BadParameter", f"The specified version ({api_version}) is not recognized.")
        route, match = self._route(request)
        if route is None or match is None:
            return _error(404, "NotFound", f"No operation {request.method} {request.path}.")
        if self.faults.is_denied(route.permission):
            return _error(
                403,
                "Forbidden",
                f"The user, group or application 'appid=aio-certs-demo' does not "
                f"have secrets {route.permission} permission on key vault 'demo'.",
                inner="ForbiddenByPolicy",
            )
        try:
            payload = self._parse_json(body) if route.json_body else None
            params = {k: v for k, v in match.groupdict().items() if v is not None}
            response = await route.handler(request, params, payload)
        except VaultFault as fault:
            return _error(fault.status, fault.code, fault.message, fault.inner)
        if route.mutating:
            self.on_change()
        return response

    def _route(self, request: web.Request) -> tuple[_Route | None, re.Match[str] | None]:
        for route in self._routes:
            if route.method == request.method:
                match = route.pattern.match(request.path)
                if match:
                    return route, match
        return None, None

    @staticmethod
    def _parse_json(body: bytes) -> dict[str, Any]:
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise VaultFault(400, "BadParameter", "The request body is not valid JSON.") from exc
        if not isinstance(document, dict):
            raise VaultFault(400, "BadParameter", "The request body must be a JSON object.")
        return document

    # -- rendering ----------------------------------------------------------------------------

    @staticmethod
    def _base(request: web.Request) -> str:
        # Ids and nextLinks must use the authority the client used: the challenge cache is keyed by it.
        return f"https://{request.host}"

    def _attributes(self, version: SecretVersion) -> dict[str, Any]:
        attributes: dict[str, Any] = {
            "enabled": version.enabled,
            "created": version.created,
            "updated": version.updated,
            "recoveryLevel": self.store.recovery_level,
        }
        if version.not_before is not None:
            attributes["nbf"] = version.not_before
        if version.expires is not None:
            attributes["exp"] = version.expires
        if self.store.soft_delete:
            attributes["recoverableDays"] = self.store.recoverable_days
        return attributes

    def _item(
        self, base: str, name: str, version: SecretVersion, *, versioned: bool, value: bool = False
    ) -> dict[str, Any]:
        suffix = f"/{version.version}" if versioned else ""
        document: dict[str, Any] = {
            "id": f"{base}/secrets/{name}{suffix}",
            "attributes": self._attributes(version),
        }
        if value:
            document["value"] = version.value
        if version.content_type is not None:
            document["contentType"] = version.content_type
        if version.tags is not None:
            document["tags"] = dict(version.tags)
        return document

    def _deleted(self, base: str, record: SecretRecord, *, versioned: bool) -> dict[str, Any]:
        document = self._item(base, record.name, record.latest, versioned=versioned)
        if record.deleted_date is not None:
            # Without recoveryId the SDK assumes no soft delete and its delete poller never polls.
            document["recoveryId"] = f"{base}/deletedsecrets/{record.name}"
            document["deletedDate"] = record.deleted_date
            document["scheduledPurgeDate"] = record.scheduled_purge_date
        return document

    @staticmethod
    def _page(
        request: web.Request, items: list[dict[str, Any]], token: str | None, size: int
    ) -> web.Response:
        next_link = None
        if token is not None:
            # Tokens are URL-safe by construction; the SDK re-quotes them and replaces api-version itself.
            next_link = (
                f"https://{request.host}{request.path}?api-version={request.query['api-version']}"
                f"&$skiptoken={token}&maxresults={size}"
            )
        return web.json_response({"value": items, "nextLink": next_link})

    # -- operations ---------------------------------------------------------------------------

    async def _set(
        self, request: web.Request, params: Mapping[str, str], body: dict[str, Any]
    ) -> web.Response:
        value = body.get("value")
        if not isinstance(value, str):
            raise VaultFault(400, "BadParameter", "The secret value is required and must be a string.")
        attributes = _attributes_in(body)
        record = self.store.set_secret(
            params["name"],
            value,
            content_type=_content_type_in(body),
            tags=_tags_in(body),
            enabled=attributes.get("enabled"),
            not_before=attributes.get("not_before"),
            expires=attributes.get("expires"),
        )
        return web.json_response(
            self._item(self._base(request), record.name, record.latest, versioned=True, value=True)
        )

    async def _get(self, request: web.Request, params: Mapping[str, str], _: Any) -> web.Response:
        name, version = self.store.get_secret(params["name"], params.get("version"))
        return web.json_response(self._item(self._base(request), name, version, versioned=True, value=True))

    async def _update(
        self, request: web.Request, params: Mapping[str, str], body: dict[str, Any]
    ) -> web.Response:
        changes: dict[str, Any] = dict(_attributes_in(body))
        if "contentType" in body:
            changes["content_type"] = _content_type_in(body)
        if "tags" in body:
            changes["tags"] = _tags_in(body)
        name, version = self.store.update_secret(params["name"], params.get("version"), changes)
        # The service answers an update without the value.
        return web.json_response(self._item(self._base(request), name, version, versioned=True))

    async def _list_secrets(self, request: web.Request, _: Mapping[str, str], __: Any) -> web.Response:
        size = page_size(request.query.get("maxresults"))
        page = self.store.list_secrets(_name_token(request), size)
        base = self._base(request)
        # A list entry carries no version in its id: SecretProperties.version is then None.
        items = [self._item(base, r.name, r.latest, versioned=False) for r in page.items]
        return self._page(request, items, page.next_token, size)

    async def _list_versions(self, request: web.Request, params: Mapping[str, str], _: Any) -> web.Response:
        size = page_size(request.query.get("maxresults"))
        token = request.query.get("$skiptoken", "0")
        if not token.isdigit():
            raise VaultFault(400, "BadParameter", f"Invalid $skiptoken '{token}'.")
        name, versions, next_offset = self.store.list_versions(params["name"], int(token), size)
        base = self._base(request)
        items = [self._item(base, name, v, versioned=True) for v in versions]
        return self._page(request, items, None if next_offset is None else str(next_offset), size)

    async def _delete(self, request: web.Request, params: Mapping[str, str], _: Any) -> web.Response:
        record = self.store.delete_secret(params["name"])
        return web.json_response(self._deleted(self._base(request), record, versioned=True))

    async def _get_deleted(self, request: web.Request, params: Mapping[str, str], _: Any) -> web.Response:
        record = self.store.get_deleted(params["name"])
        return web.json_response(self._deleted(self._base(request), record, versioned=True))

    async def _list_deleted(self, request: web.Request, _: Mapping[str, str], __: Any) -> web.Response:
        size = page_size(request.query.get("maxresults"))
        page = self.store.list_deleted(_name_token(request), size)
        base = self._base(request)
        items = [self._deleted(base, r, versioned=False) for r in page.items]
        return self._page(request, items, page.next_token, size)

    async def _purge(self, _: web.Request, params: Mapping[str, str], __: Any) -> web.Response:
        self.store.purge_deleted(params["name"])
        # The SDK accepts exactly 204 here, and 200 everywhere else.
        return web.Response(status=204)

    async def _recover(self, request: web.Request, params: Mapping[str, str], _: Any) -> web.Response:
        record = self.store.recover_deleted(params["name"])
        return web.json_response(self._item(self._base(request), record.name, record.latest, versioned=True))

    async def _backup(self, _: web.Request, params: Mapping[str, str], __: Any) -> web.Response:
        return web.json_response({"value": encode_backup(self.store.backup_secret(params["name"]))})

    async def _restore(
        self, request: web.Request, _: Mapping[str, str], body: dict[str, Any]
    ) -> web.Response:
        blob = body.get("value")
        if not isinstance(blob, str):
            raise VaultFault(400, "BadParameter", "The backup blob is required.")
        record = self.store.restore_secret(decode_backup(blob))
        return web.json_response(self._item(self._base(request), record.name, record.latest, versioned=True))


def _name_token(request: web.Request) -> str | None:
    token = request.query.get("$skiptoken")
    if token is None:
        return None
    if not re.fullmatch(r"[0-9a-z-]{1,127}", token):
        raise VaultFault(400, "BadParameter", f"Invalid $skiptoken '{token}'.")
    return token


def _content_type_in(body: Mapping[str, Any]) -> str | None:
    value = body.get("contentType")
    if value is not None and not isinstance(value, str):
        raise VaultFault(400, "BadParameter", "contentType must be a string.")
    return value


def _tags_in(body: Mapping[str, Any]) -> dict[str, str] | None:
    tags = body.get("tags")
    if tags is None:
        return None
    if not isinstance(tags, dict) or not all(isinstance(v, str) for v in tags.values()):
        raise VaultFault(400, "BadParameter", "tags must be an object of string values.")
    return tags


def _attributes_in(body: Mapping[str, Any]) -> dict[str, Any]:
    """The writable attributes present in ``body`` as store keyword names."""
    raw = body.get("attributes") or {}
    if not isinstance(raw, dict):
        raise VaultFault(400, "BadParameter", "attributes must be an object.")
    out: dict[str, Any] = {}
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise VaultFault(400, "BadParameter", "attributes.enabled must be a boolean.")
        out["enabled"] = raw["enabled"]
    for wire, field_name in (("nbf", "not_before"), ("exp", "expires")):
        if wire in raw:
            value = raw[wire]
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise VaultFault(400, "BadParameter", f"attributes.{wire} must be integer Unix seconds.")
            out[field_name] = value
    return out
