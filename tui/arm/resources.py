"""The list resources in ARM through ``azure-mgmt-secretsstoreextension``: reads and guarded writes.

:class:`ArmResources` satisfies :class:`tui.ops.ports.ArmPort`. It makes the requests and decides
nothing: a GET returns the resource with the ETag read from the response headers (the SDK's models
carry none); a PUT sends ``If-Match`` (or ``If-None-Match: *`` to create) and follows the long-running
operation to a terminal ``provisioningState``; a DELETE does the same. Bodies are ARM's JSON as sent
and received, read-only fields included, so what a caller GETs it can edit and PUT back as the
official CLI does (docs/domain.md §9.1).

Failures are one-line :class:`~tui.arm.errors.ArmError` values, :class:`~tui.arm.errors.ArmConflict`
for 409 and 412; a refused api-version is retried once with the other (:mod:`tui.arm.client`).
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from azure.core.credentials import TokenCredential
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError

from tui.arm.client import (
    API_VERSIONS,
    DEADLINE_OPTION,
    POLLING_INTERVAL,
    ApiVersionMemory,
    BoundedPolling,
    make_mgmt_client,
)
from tui.arm.errors import ArmError, error_code, is_api_version_refusal, to_arm_error
from tui.arm.listing import NotAsTheSdkReadsIt, list_resources
from tui.core.model.arm import ArmIds, ArmKind, ArmResource

T = TypeVar("T")
Body = dict[str, Any]
# A 404 that means "no such resource" (an answer); any other 404 (no resource group...) is a failure.
_ABSENT_CODES = frozenset({"resourcenotfound", "notfound", ""})


def _capture(pipeline_response: Any, _deserialized: Any, _headers: Any) -> tuple[str | None, Body]:
    """The SDK's ``cls`` hook: the ETag header and the raw JSON body of the response."""
    response = pipeline_response.http_response
    body = response.json() if response.content else {}
    return response.headers.get("ETag"), body if isinstance(body, dict) else {}


def to_resource(kind: ArmKind, body: Mapping[str, Any], etag: str | None = None) -> ArmResource:
    """An :class:`ArmResource` from ARM's JSON (the ETag header, else the body's ``etag`` field)."""
    tag = etag or body.get("etag")
    return ArmResource(
        kind,
        str(body.get("name") or ""),
        str(body.get("id") or ""),
        str(tag) if tag else None,
        MappingProxyType(dict(body)),
    )


class ArmResources:
    """The site's ``Microsoft.SecretSyncController`` resources in one subscription and resource group."""

    def __init__(
        self,
        ids: ArmIds,
        *,
        endpoint: str,
        credential: TokenCredential,
        ca_bundle: str | None = None,
        timeout: float | None = None,
        retry_total: int | None = None,
        polling_interval: float = POLLING_INTERVAL,
        memory: ApiVersionMemory = API_VERSIONS,
        client_factory: Callable[..., Any] = make_mgmt_client,
    ) -> None:
        """``timeout`` (``--request-timeout``) bounds each method call as a whole: retries, every poll
        of a long-running operation and the waits between polls included."""
        self.ids = ids
        self.endpoint = endpoint.rstrip("/")
        self._credential = credential
        self._ca_bundle = ca_bundle
        self._timeout = timeout
        self._retry_total = retry_total
        self._polling_interval = polling_interval
        self._memory = memory
        self._factory = client_factory
        self._clients: dict[str, Any] = {}
        self.api_version: str | None = None
        """The api-version the last successful call used."""

    # -- plumbing --------------------------------------------------------------------------------

    def _client(self, api_version: str) -> Any:
        client = self._clients.get(api_version)
        if client is None:
            client = self._factory(
                self.endpoint,
                self.ids.subscription,
                credential=self._credential,
                api_version=api_version,
                ca_bundle=self._ca_bundle,
                timeout=self._timeout,
                retry_total=self._retry_total,
            )
            self._clients[api_version] = client
        return client

    @staticmethod
    def _operations(client: Any, kind: ArmKind) -> Any:
        if kind is ArmKind.SECRET_SYNC:
            return client.secret_syncs
        return client.azure_key_vault_secret_provider_classes

    def _deadline(self) -> float | None:
        return None if self._timeout is None else time.monotonic() + self._timeout

    def _call(self, action: str, kind: ArmKind, work: Callable[[Any, float | None], T]) -> T:
        """Run ``work(operations, deadline)`` with the endpoint's api-version, and with the other one when
        ARM refuses it (nothing was written then: the refusal comes before any change)."""
        return self._attempt(
            action, lambda client, _version, deadline: work(self._operations(client, kind), deadline)
        )

    def _attempt(self, action: str, work: Callable[[Any, str, float | None], T]) -> T:
        """:meth:`_call` for work that takes the client itself and its api-version."""
        deadline = self._deadline()
        versions = self._memory.order(self.endpoint)
        for index, version in enumerate(versions):
            try:
                result = work(self._client(version), version, deadline)
            except ArmError:
                raise
            except Exception as exc:  # every SDK, transport or credential failure becomes one line
                if is_api_version_refusal(exc) and index + 1 < len(versions):
                    continue
                raise to_arm_error(exc, action) from exc
            self._memory.remember(self.endpoint, version)
            self.api_version = version
            return result
        raise ArmError(f"{action}: no api-version left to try")  # pragma: no cover - loop returns

    def _polling(self, deadline: float | None) -> BoundedPolling:
        return BoundedPolling(self._polling_interval, self.endpoint, deadline)

    def _describe(self, verb: str, kind: ArmKind, name: str) -> str:
        return f"{verb} {kind.resource_type} {name} in resource group {self.ids.resource_group}"

    # -- ArmPort ---------------------------------------------------------------------------------

    def get(self, kind: ArmKind, name: str) -> ArmResource | None:
        """The resource with its ETag; None when ARM holds none of that name."""

        def work(operations: Any, deadline: float | None) -> ArmResource | None:
            try:
                etag, body = operations.get(
                    self.ids.resource_group, name, cls=_capture, **{DEADLINE_OPTION: deadline}
                )
            except ResourceNotFoundError as exc:
                if _absent(exc):
                    return None
                raise
            return to_resource(kind, body, etag)

        return self._call(self._describe("reading", kind, name), kind, work)

    def put(self, kind: ArmKind, name: str, body: Mapping[str, Any], *, etag: str | None) -> ArmResource:
        """Create or replace the resource (``If-Match: etag``, or ``If-None-Match: *`` for None) and
        follow the long-running operation to a terminal state; returns the resource as ARM now holds it."""
        headers = {"If-Match": etag} if etag else {"If-None-Match": "*"}
        content = json.dumps(dict(body)).encode("utf-8")
        action = self._describe("writing", kind, name)

        def work(operations: Any, deadline: float | None) -> ArmResource:
            poller = operations.begin_create_or_update(
                self.ids.resource_group,
                name,
                content,
                content_type="application/json",
                headers=dict(headers),
                polling=self._polling(deadline),
                cls=_capture,
                **{DEADLINE_OPTION: deadline},
            )
            new_etag, result = poller.result()
            resource = to_resource(kind, result, new_etag)
            if resource.provisioning_state not in (None, "Succeeded"):
                raise ArmError(f"{action}: provisioningState {resource.provisioning_state}")
            if resource.etag is None:
                # The final answer of some operations carries no ETag: ask for the resource itself.
                etag_now, fresh = operations.get(
                    self.ids.resource_group, name, cls=_capture, **{DEADLINE_OPTION: deadline}
                )
                resource = to_resource(kind, fresh, etag_now)
            return resource

        return self._call(action, kind, work)

    def delete(self, kind: ArmKind, name: str, *, etag: str | None) -> bool:
        """Delete the resource (``If-Match`` when ``etag`` is given) and follow the operation to its end;
        False when it was already gone."""
        headers = {"If-Match": etag} if etag else {}

        def work(operations: Any, deadline: float | None) -> bool:
            try:
                poller = operations.begin_delete(
                    self.ids.resource_group,
                    name,
                    headers=dict(headers),
                    polling=self._polling(deadline),
                    **{DEADLINE_OPTION: deadline},
                )
            except ResourceNotFoundError as exc:
                if _absent(exc):
                    return False
                raise
            initial = poller.polling_method()._initial_response.http_response.status_code
            poller.result()
            return bool(initial != 204)  # ARM answers 204 to the DELETE of a resource it does not hold

        return self._call(self._describe("deleting", kind, name), kind, work)

    # -- reading ---------------------------------------------------------------------------------

    def list(self, kind: ArmKind) -> list[ArmResource]:
        """Every resource of ``kind`` in the resource group (all pages): read from the pages' JSON
        (:mod:`tui.arm.listing`), through the SDK's listing for an answer that module leaves to it."""

        def work(client: Any, version: str, deadline: float | None) -> list[ArmResource]:
            try:
                items = list_resources(client, self.ids, kind, api_version=version, deadline=deadline)
            except NotAsTheSdkReadsIt:
                pages: Iterator[Any] = iter(
                    self._operations(client, kind).list_by_resource_group(
                        self.ids.resource_group, **{DEADLINE_OPTION: deadline}
                    )
                )
                items = [item.as_dict() for item in pages]
            return [to_resource(kind, item) for item in items]

        return self._attempt(
            f"listing {kind.resource_type} in resource group {self.ids.resource_group}", work
        )

    def close(self) -> None:
        """Close every client (their HTTP sessions)."""
        for client in self._clients.values():
            with contextlib.suppress(Exception):  # best effort: a socket going away is no news
                client.close()
        self._clients.clear()


def _absent(exc: HttpResponseError) -> bool:
    """Whether a 404 means "no such resource" rather than a missing resource group or provider."""
    return (error_code(exc) or "").lower() in _ABSENT_CODES
