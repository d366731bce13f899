"""Raw list and watch requests through the kubernetes client, and what their failures mean.

Objects stay plain JSON dicts exactly as the API server sent them (``_preload_content=False`` style): the
pure core parses them, so nothing here knows a Secret from a Certificate beyond its URL. Every request
goes through the client's own ``param_serialize``/``call_api`` so authentication, TLS, proxies and token
refresh behave as for any other kubernetes-client call.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

import urllib3
from kubernetes.client import ApiClient
from kubernetes.client.exceptions import ApiException

from tui.core.model.resources import ResourceKind
from tui.core.model.snapshot import AreaState, ObjectKey

# (connect, read) seconds for a list; a list of a few thousand objects is well within this on a LAN.
LIST_TIMEOUT: tuple[float, float] = (5.0, 60.0)
PAGE_SIZE = 500


@dataclass(frozen=True)
class WatchTarget:
    """One collection to list and watch: a kind, optionally one namespace, optionally selectors."""

    kind: ResourceKind
    namespace: str | None = None  # None: cluster-wide (or cluster-scoped kind)
    label_selector: str | None = None
    field_selector: str | None = None

    @property
    def path(self) -> str:
        """The collection URL path, e.g. ``/apis/cert-manager.io/v1/namespaces/ns/certificates``."""
        kind = self.kind
        base = f"/apis/{kind.group}/{kind.version}" if kind.group else f"/api/{kind.version}"
        if self.kind.namespaced and self.namespace:
            return f"{base}/namespaces/{self.namespace}/{self.kind.plural}"
        return f"{base}/{self.kind.plural}"

    def describe(self) -> str:
        """Short human name used in messages: ``secrets in cert-manager``."""
        where = f" in {self.namespace}" if self.kind.namespaced and self.namespace else ""
        return f"{self.kind.plural}{where}"

    def selector_params(self) -> list[tuple[str, str]]:
        """Query parameters for the selectors, if any."""
        params = []
        if self.label_selector:
            params.append(("labelSelector", self.label_selector))
        if self.field_selector:
            params.append(("fieldSelector", self.field_selector))
        return params


@dataclass(frozen=True)
class ListResult:
    """A complete list: objects by ``(namespace, name)`` and the collection's resourceVersion."""

    items: dict[ObjectKey, dict[str, Any]]
    resource_version: str


class WatchEvent(NamedTuple):
    """One line of a watch stream."""

    type: str  # ADDED, MODIFIED, DELETED, BOOKMARK, ERROR
    obj: dict[str, Any]


class GoneError(Exception):
    """The resourceVersion we asked for is too old (410 Gone): the collection must be listed again."""


class WatchErrorEvent(Exception):
    """The watch stream carried an ERROR event other than 410; ``code`` is its HTTP-like status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


def object_key(obj: dict[str, Any]) -> ObjectKey:
    """``(namespace, name)`` of a raw object; namespace is ``""`` for cluster-scoped objects."""
    meta = obj.get("metadata") or {}
    return (meta.get("namespace") or "", meta.get("name") or "")


def _get(
    api_client: ApiClient, path: str, params: list[tuple[str, str]], timeout: tuple[float, float]
) -> urllib3.HTTPResponse:
    """GET ``path`` and return the still-unread response; raise ApiException on a non-2xx status."""
    method, url, headers, _body, _post = api_client.param_serialize(
        "GET",
        path,
        query_params=params,
        header_params={"Accept": "application/json"},
        auth_settings=["BearerToken"],
    )
    response = api_client.call_api(method, url, header_params=headers, _request_timeout=timeout).response
    if not 200 <= response.status <= 299:
        try:
            body = response.data.decode("utf-8", errors="replace")
        finally:
            response.release_conn()
        raise ApiException(status=response.status, reason=response.reason, body=body)
    return response


def get_object(
    api_client: ApiClient, target: WatchTarget, name: str, *, timeout: tuple[float, float] = LIST_TIMEOUT
) -> dict[str, Any]:
    """GET one object of ``target``'s collection as the raw dict the API server sent.

    Raises ApiException (404 when absent), urllib3 errors on connection problems, and ValueError on a
    body that is not a JSON object.
    """
    response = _get(api_client, f"{target.path}/{name}", [], timeout)
    try:
        doc = json.loads(response.data or b"{}")
    finally:
        response.release_conn()
    if not isinstance(doc, dict):
        raise ValueError(f"{target.describe()}/{name}: the API server's answer is not an object")
    return doc


def list_objects(
    api_client: ApiClient,
    target: WatchTarget,
    *,
    page_size: int = PAGE_SIZE,
    timeout: tuple[float, float] = LIST_TIMEOUT,
) -> ListResult:
    """List a collection completely (following ``continue`` tokens) and return raw objects.

    Raises ApiException (HTTP errors, with 410 as :class:`GoneError` when a continue token expired),
    urllib3 errors on connection problems, and ValueError on a body that is not a JSON list.
    """
    items: dict[ObjectKey, dict[str, Any]] = {}
    token = ""
    resource_version = ""
    while True:
        params = [*target.selector_params(), ("limit", str(page_size))]
        if token:
            params.append(("continue", token))
        try:
            response = _get(api_client, target.path, params, timeout)
        except ApiException as exc:
            if exc.status == 410:
                raise GoneError(f"{target.describe()}: list continue token expired") from None
            raise
        try:
            doc = json.loads(response.data)
        finally:
            response.release_conn()
        # A Kubernetes list always names its items (an empty list as []): a server answering {} or any
        # other JSON to every path is not an API server, whatever its status codes say.
        if not isinstance(doc, dict) or "items" not in doc or not isinstance(doc["items"] or [], list):
            raise ValueError(f"{target.describe()}: the answer is not a Kubernetes list (no items)")
        # Lists leave out kind/apiVersion on each item; put them back so objects look like watch objects.
        for obj in doc.get("items") or []:
            if isinstance(obj, dict):
                obj.setdefault("kind", target.kind.kind)
                obj.setdefault("apiVersion", target.kind.group_version)
                items[object_key(obj)] = obj
        meta = doc.get("metadata") or {}
        # Only the first page's resourceVersion describes a consistent snapshot to watch from.
        resource_version = resource_version or str(meta.get("resourceVersion") or "")
        token = meta.get("continue") or ""
        if not token:
            return ListResult(items, resource_version)


def open_watch(
    api_client: ApiClient,
    target: WatchTarget,
    resource_version: str,
    *,
    timeout_seconds: int,
    read_timeout: float,
    connect_timeout: float = 5.0,
) -> urllib3.HTTPResponse:
    """Start a watch from ``resource_version`` and return the streaming response.

    The server ends the watch after ``timeout_seconds``; ``read_timeout`` guards against a server that
    neither sends nor ends. Raises :class:`GoneError` on an HTTP 410 and ApiException on other statuses.
    """
    params = [
        *target.selector_params(),
        ("watch", "true"),
        ("allowWatchBookmarks", "true"),
        ("timeoutSeconds", str(timeout_seconds)),
    ]
    if resource_version:
        params.append(("resourceVersion", resource_version))
    try:
        return _get(api_client, target.path, params, (connect_timeout, read_timeout))
    except ApiException as exc:
        if exc.status == 410:
            raise GoneError(f"{target.describe()}: resourceVersion {resource_version} is too old") from None
        raise


def iter_events(response: urllib3.HTTPResponse) -> Iterator[WatchEvent]:
    """Yield the events of a watch stream until it ends; raise on ERROR events.

    An ERROR event with code 410 becomes :class:`GoneError`, any other :class:`WatchErrorEvent`.
    Lines that are not JSON objects are skipped (a truncated last line when the connection drops).
    """
    buffer = b""
    for chunk in response.stream(amt=None, decode_content=True):
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for line in lines:
            event = _parse_line(line)
            if event is not None:
                yield event
    if buffer.strip():
        event = _parse_line(buffer)
        if event is not None:
            yield event


def _parse_line(line: bytes) -> WatchEvent | None:
    if not line.strip():
        return None
    try:
        doc = json.loads(line)
    except ValueError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("object"), dict):
        return None
    kind = str(doc.get("type") or "")
    obj = doc["object"]
    if kind == "ERROR":
        code = int(obj.get("code") or 0)
        message = str(obj.get("message") or obj.get("reason") or "watch error")
        if code == 410 or obj.get("reason") in ("Expired", "Gone"):
            raise GoneError(message)
        raise WatchErrorEvent(code, message)
    return WatchEvent(kind, obj)


_ERRNO_TEXT = re.compile(r"\[Errno -?\d+\]\s*([^'\")]+)")


def connection_problem(exc: BaseException) -> str:
    """One line saying why a connection failed: ``connection refused``, ``timed out``..."""
    text = str(exc)
    match = _ERRNO_TEXT.search(text)
    if match:
        return match.group(1).strip().rstrip(".").lower()
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        return connection_problem(exc.reason)
    if isinstance(exc, urllib3.exceptions.ProtocolError) and len(exc.args) == 2:
        # ("Connection aborted.", RemoteDisconnected("Remote end closed connection without response"))
        head, cause = exc.args
        detail = str(cause).strip() or type(cause).__name__
        return f"{str(head).rstrip('.').lower()}: {detail[:1].lower()}{detail[1:]}"
    if isinstance(exc, urllib3.exceptions.TimeoutError | TimeoutError):
        return "timed out"
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return first[:200]


def _status_message(exc: ApiException) -> str:
    """The ``message`` of a Kubernetes Status body, else the HTTP reason."""
    try:
        body = json.loads(exc.body or "")
        message = body.get("message") if isinstance(body, dict) else None
    except ValueError:
        message = None
    text = str(message or exc.reason or "").strip()
    return (text.splitlines()[0] if text else "")[:200]


def classify(exc: BaseException, target: WatchTarget, *, had_data: bool) -> tuple[AreaState, str]:
    """Map a list/watch failure to the read state of its area and a one-line message."""
    what = target.describe()
    if isinstance(exc, ApiException):
        status = exc.status or 0
        if status == 404:
            return AreaState.NOT_INSTALLED, f"{what}: not served by the API server (not installed)"
        if status in (401, 403):
            label = "unauthorized" if status == 401 else "forbidden"
            detail = _status_message(exc)
            return AreaState.FORBIDDEN, f"{what}: {label} ({status})" + (f": {detail}" if detail else "")
        if status == 0:
            # The client turns TLS failures into status 0; the server was never properly reached.
            state = AreaState.RECONNECTING if had_data else AreaState.UNREACHABLE
            return state, f"{what}: {_status_message(exc) or 'TLS error'}"
        return AreaState.ERROR, f"{what}: HTTP {status}" + (f": {m}" if (m := _status_message(exc)) else "")
    if isinstance(exc, urllib3.exceptions.HTTPError | OSError):
        state = AreaState.RECONNECTING if had_data else AreaState.UNREACHABLE
        return state, f"{what}: {connection_problem(exc)}"
    if isinstance(exc, WatchErrorEvent):
        return AreaState.ERROR, f"{what}: watch error {exc.code}: {exc}"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return AreaState.ERROR, f"{what}: {text[:200]}"
