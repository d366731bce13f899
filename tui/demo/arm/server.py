"""HTTP side of the demo ARM: Microsoft.SecretSyncController's REST API as the azure-mgmt SDK calls it.

One aiohttp handler checks what ARM's front door checks, in its order (the bearer token, throttling, the
api-version, the subscription and resource group, the caller's permission), then serves the resource
operations from :class:`~tui.demo.arm.store.ArmStore` and renders ARM's shapes: resources with ``etag``
and ``systemData``, ``{"value", "nextLink"}`` pages, ``{"error": {"code", "message"}}`` envelopes, and
long-running operations with ``Azure-AsyncOperation`` (and ``Location`` for PATCH and DELETE) and a small
``Retry-After``. The wire details and their sources are in docs/domain.md §9.5.

An operation-status request waits (up to ``status_hold`` seconds, without blocking the loop) for the
operation to end before answering, so a poller's first status request usually sees ``Succeeded`` and
never sleeps its ``Retry-After``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from tui.core.model.arm import ARM_PROVIDER, ArmKind
from tui.demo.arm.store import (
    API_VERSIONS,
    IN_PROGRESS,
    SUCCEEDED,
    ArmError,
    ArmStore,
    Operation,
    operation_document,
    provider_path,
    render,
)

ACTIONS = ("read", "write", "delete")
"""The RBAC actions of a resource type (``Microsoft.SecretSyncController/<type>/<action>``)."""
DEMO_OBJECT_ID = "5d2b6c3e-0f1a-4b7c-9d8e-a1b2c3d4e5f6"
"""The object id the AuthorizationFailed message names (the demo token carries none)."""

_DATED_API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}(-preview|-beta|-alpha|-privatepreview)?$", re.IGNORECASE)
_PROVIDER = r"/providers/Microsoft\.SecretSyncController"
_RESOURCE = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)"
    + _PROVIDER
    + r"/(?P<type>[^/]+)(?:/(?P<name>[^/]+))?/?$",
    re.IGNORECASE,
)
_SUBSCRIPTION_LIST = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)" + _PROVIDER + r"/(?P<type>[^/]+)/?$", re.IGNORECASE
)
_OPERATION = re.compile(
    r"^/subscriptions/(?P<sub>[^/]+)"
    + _PROVIDER
    + r"/locations/(?P<loc>[^/]+)/(?P<what>operationStatuses|operationResults)/(?P<id>[^/]+)/?$",
    re.IGNORECASE,
)
_OPERATIONS_LIST = re.compile(r"^" + _PROVIDER + r"/operations/?$", re.IGNORECASE)


@dataclass(frozen=True)
class RequestRecord:
    """One request as the emulator saw it: whether a bearer came (never the token) and the answer."""

    method: str
    path: str
    query: Mapping[str, str]
    authorized: bool
    status: int
    if_match: str | None = None
    if_none_match: str | None = None


class ArmFaults:
    """Thread-safe test switches: throttling, denied actions, latency, and the request log."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._throttle_left = 0
        self._retry_after = 1.0
        self._denied: frozenset[tuple[str, ArmKind]] = frozenset()
        self._latency = 0.0
        self._log: deque[RequestRecord] = deque(maxlen=10_000)

    def throttle(self, count: int, retry_after: float) -> None:
        """Answer the next ``count`` authenticated requests with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._throttle_left, self._retry_after = count, retry_after

    def take_throttle(self) -> float | None:
        """Consume one throttled answer: its Retry-After seconds, or None when not throttling."""
        with self._lock:
            if self._throttle_left <= 0:
                return None
            self._throttle_left -= 1
            return self._retry_after

    def deny(self, actions: frozenset[str], kinds: frozenset[ArmKind]) -> None:
        """Refuse (403) ``actions`` on ``kinds``; no actions allows everything again."""
        unknown = actions - set(ACTIONS)
        if unknown:
            raise ValueError(f"unknown ARM action(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self._denied = frozenset((action, kind) for action in actions for kind in kinds)

    def is_denied(self, action: str, kind: ArmKind) -> bool:
        """Whether ``action`` on ``kind`` is currently refused."""
        with self._lock:
            return (action, kind) in self._denied

    @property
    def latency(self) -> float:
        """Seconds every answer is held back."""
        with self._lock:
            return self._latency

    def set_latency(self, seconds: float) -> None:
        """Hold every answer back by ``seconds`` (0 for none)."""
        with self._lock:
            self._latency = max(0.0, seconds)

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


def error_response(
    status: int, code: str, message: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """ARM's error envelope."""
    return web.json_response({"error": {"code": code, "message": message}}, status=status, headers=headers)


def _kind_of(type_segment: str) -> ArmKind | None:
    return next((k for k in ArmKind if k.value.lower() == type_segment.lower()), None)


class ArmApp:
    """The aiohttp application serving one :class:`ArmStore`."""

    def __init__(
        self,
        store: ArmStore,
        faults: ArmFaults,
        *,
        retry_after: int = 1,
        status_hold: float = 1.0,
        page_size: int = 100,
    ) -> None:
        self.store = store
        self.faults = faults
        self.retry_after = retry_after
        self.status_hold = status_hold
        self.page_size = page_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._waiters: set[asyncio.Future[None]] = set()
        store.add_listener(self.operation_ended)

    def build(self) -> web.Application:
        """The aiohttp application: one catch-all handler so that authentication always comes first."""
        app = web.Application(client_max_size=8 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.handle)
        return app

    # -- operation completion (any thread) ----------------------------------------------------

    def operation_ended(self) -> None:
        """Wake the status requests waiting for an operation (called by the store from any thread)."""
        loop = self._loop
        if loop is None:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed while the site stopped
            loop.call_soon_threadsafe(self._wake)

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, set()
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def _await_end(self, operation_id: str) -> Operation | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.status_hold
        while True:
            operation = self.store.operation(operation_id)
            remaining = deadline - loop.time()
            if operation is None or operation.done or remaining <= 0:
                return operation
            # Registered before yielding to the loop: a completion posted meanwhile still wakes us.
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.add(waiter)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, remaining)
            self._waiters.discard(waiter)

    # -- the pipeline -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        """Serve one request and log it."""
        self._loop = asyncio.get_running_loop()
        # Always drain the body, even for a refusal: the client keeps the connection alive.
        body = await request.read()
        latency = self.faults.latency
        if latency:
            await asyncio.sleep(latency)
        try:
            response = await self._respond(request, body)
        except ArmError as exc:
            response = error_response(exc.status, exc.code, exc.message, exc.headers)
        self.faults.record(
            RequestRecord(
                request.method,
                request.path,
                dict(request.query),
                self._has_bearer(request),
                response.status,
                request.headers.get("If-Match"),
                request.headers.get("If-None-Match"),
            )
        )
        return response

    @staticmethod
    def _has_bearer(request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        return scheme.lower() == "bearer" and bool(token.strip())

    async def _respond(self, request: web.Request, body: bytes) -> web.Response:
        site = self.store.site
        if not self._has_bearer(request):
            # ARM needs no challenge round trip: the SDK sends its token with the first request.
            raise ArmError(
                401,
                "AuthenticationFailed",
                "Authentication failed. The 'Authorization' header is missing.",
                {
                    "WWW-Authenticate": (
                        f'Bearer authorization_uri="https://login.microsoftonline.com/{site.tenant}", '
                        'error="invalid_token", error_description="The authentication failed because of '
                        "missing 'Authorization' header.\""
                    )
                },
            )
        retry_after = self.faults.take_throttle()
        if retry_after is not None:
            action = "read" if request.method == "GET" else "write"
            raise ArmError(
                429,
                "SubscriptionRequestsThrottled",
                f"Number of '{action}' requests for subscription '{site.subscription}' actor "
                f"'{DEMO_OBJECT_ID}' exceeded. Please try again after '{retry_after:g}' seconds.",
                {"Retry-After": f"{retry_after:g}"},
            )
        api_version = self._api_version(request)
        path = request.path
        if _OPERATIONS_LIST.match(path):
            return web.json_response({"value": []})
        found = _OPERATION.match(path)
        if found:
            self._check_subscription(found["sub"])
            return await self._operation(request, found["what"].lower(), found["id"], api_version)
        found = _RESOURCE.match(path)
        if found:
            self._check_subscription(found["sub"])
            if found["rg"].lower() != site.resource_group.lower():
                raise ArmError(
                    404, "ResourceGroupNotFound", f"Resource group '{found['rg']}' could not be found."
                )
            kind = self._kind(found["type"], api_version)
            name = found["name"]
            if name is None:
                if request.method != "GET":
                    raise ArmError(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed.")
                self._authorize("read", kind, request.path)
                return self._list(request, kind, api_version)
            return await self._resource(request, kind, name, body, api_version)
        found = _SUBSCRIPTION_LIST.match(path)
        if found and request.method == "GET":
            self._check_subscription(found["sub"])
            kind = self._kind(found["type"], api_version)
            self._authorize("read", kind, request.path)
            return self._list(request, kind, api_version)
        raise ArmError(404, "NotFound", f"No HTTP resource was found that matches the request URI '{path}'.")

    def _api_version(self, request: web.Request) -> str:
        api_version = request.query.get("api-version")
        supported = ", ".join(API_VERSIONS)
        if not api_version:
            raise ArmError(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        if api_version in API_VERSIONS:
            return api_version
        if not _DATED_API_VERSION.match(api_version):
            raise ArmError(
                400,
                "InvalidApiVersionParameter",
                f"The api-version '{api_version}' is invalid. The supported versions are '{supported}'.",
            )
        site = self.store.site
        raise ArmError(
            400,
            "NoRegisteredProviderFound",
            f"No registered resource provider found for location '{site.location}' and API version "
            f"'{api_version}' for type '{_type_in(request.path)}'. The supported api-versions are "
            f"'{supported}'. The supported locations are '{site.location}'.",
        )

    def _check_subscription(self, subscription: str) -> None:
        if subscription.lower() != self.store.site.subscription.lower():
            raise ArmError(
                404, "SubscriptionNotFound", f"The subscription '{subscription}' could not be found."
            )

    @staticmethod
    def _kind(type_segment: str, api_version: str) -> ArmKind:
        kind = _kind_of(type_segment)
        if kind is None:
            raise ArmError(
                400,
                "InvalidResourceType",
                f"The resource type '{type_segment}' could not be found in the namespace "
                f"'{ARM_PROVIDER}' for api version '{api_version}'.",
            )
        return kind

    def _authorize(self, action: str, kind: ArmKind, scope: str) -> None:
        if self.faults.is_denied(action, kind):
            raise ArmError(
                403,
                "AuthorizationFailed",
                f"The client '{DEMO_OBJECT_ID}' with object id '{DEMO_OBJECT_ID}' does not have "
                f"authorization to perform action '{kind.resource_type}/{action}' over scope '{scope}' or "
                "the scope is invalid. If access was recently granted, please refresh your credentials.",
            )

    # -- resources ----------------------------------------------------------------------------

    async def _resource(
        self, request: web.Request, kind: ArmKind, name: str, body: bytes, api_version: str
    ) -> web.Response:
        method = request.method
        scope = self.store.site.resource_id(kind, name)
        if_match = request.headers.get("If-Match")
        if method == "GET":
            self._authorize("read", kind, scope)
            resource, etag = self.store.get(kind, name)
            return web.json_response(render(kind, resource, api_version), headers={"ETag": etag})
        if method == "PUT":
            self._authorize("write", kind, scope)
            resource, etag, created, operation = self.store.put(
                kind,
                name,
                _json(body),
                api_version=api_version,
                if_match=if_match,
                if_none_match=request.headers.get("If-None-Match"),
            )
            headers = {"ETag": etag, **self._async_headers(request, operation, api_version, location=False)}
            return web.json_response(
                render(kind, resource, api_version), status=201 if created else 200, headers=headers
            )
        if method == "PATCH":
            self._authorize("write", kind, scope)
            _, etag, operation = self.store.patch(
                kind, name, _json(body), api_version=api_version, if_match=if_match
            )
            headers = {"ETag": etag, **self._async_headers(request, operation, api_version, location=True)}
            return web.Response(status=202, headers=headers)
        if method == "DELETE":
            self._authorize("delete", kind, scope)
            deleted = self.store.delete(kind, name, if_match=if_match)
            if deleted is None:
                return web.Response(status=204)
            return web.Response(
                status=202, headers=self._async_headers(request, deleted, api_version, location=True)
            )
        raise ArmError(405, "MethodNotAllowed", f"The method '{method}' is not allowed.")

    def _async_headers(
        self, request: web.Request, operation: Operation, api_version: str, *, location: bool
    ) -> dict[str, str]:
        # Absolute URLs on the authority the client used, as the RPC requires.
        base = f"https://{request.host}{provider_path(self.store.site)}/locations/{self.store.site.location}"
        headers = {
            "Azure-AsyncOperation": f"{base}/operationStatuses/{operation.id}?api-version={api_version}",
            "Retry-After": str(self.retry_after),
        }
        if location:
            headers["Location"] = f"{base}/operationResults/{operation.id}?api-version={api_version}"
        return headers

    def _list(self, request: web.Request, kind: ArmKind, api_version: str) -> web.Response:
        items = self.store.of_kind(kind)
        token = request.query.get("$skipToken", "0")
        if not token.isdigit():
            raise ArmError(400, "InvalidSkipToken", f"The $skipToken '{token}' is invalid.")
        start = int(token)
        page = items[start : start + self.page_size]
        document: dict[str, Any] = {"value": [render(kind, item, api_version) for item in page]}
        if start + self.page_size < len(items):
            document["nextLink"] = (
                f"https://{request.host}{request.path}?api-version={api_version}"
                f"&$skipToken={start + self.page_size}"
            )
        return web.json_response(document)

    # -- operations ---------------------------------------------------------------------------

    async def _operation(
        self, request: web.Request, what: str, operation_id: str, api_version: str
    ) -> web.Response:
        if request.method != "GET":
            raise ArmError(405, "MethodNotAllowed", f"The method '{request.method}' is not allowed.")
        operation = await self._await_end(operation_id)
        if operation is None:
            raise ArmError(404, "OperationNotFound", f"The operation '{operation_id}' could not be found.")
        retry = {"Retry-After": str(self.retry_after)}
        if what == "operationstatuses":
            headers = retry if operation.status == IN_PROGRESS else None
            return web.json_response(operation_document(self.store.site, operation), headers=headers)
        # operationResults (the Location header): 202 while running, then what a synchronous call answers.
        if operation.status == IN_PROGRESS:
            return web.Response(status=202, headers={"Location": str(request.url), **retry})
        if operation.status != SUCCEEDED:
            error = operation.error or {"code": "OperationFailed", "message": "The operation failed."}
            raise ArmError(400, error.get("code", "OperationFailed"), error.get("message", ""))
        if operation.method == "DELETE":
            return web.Response(status=204)
        found = self.store.find(operation.kind, operation.name)
        if found is None:
            return web.Response(status=204)
        resource, etag = found
        return web.json_response(render(operation.kind, resource, api_version), headers={"ETag": etag})


def _json(body: bytes) -> Any:
    if not body:
        raise ArmError(400, "InvalidRequestContent", "The request content was invalid: the body is empty.")
    try:
        return json.loads(body)
    except ValueError:
        raise ArmError(
            400, "InvalidRequestContent", "The request content was invalid and could not be deserialized."
        ) from None


def _type_in(path: str) -> str:
    found = _RESOURCE.match(path) or _SUBSCRIPTION_LIST.match(path)
    return found["type"] if found else ARM_PROVIDER
