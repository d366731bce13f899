"""The emulated Kubernetes API server: a kmock ``KubernetesEmulator`` with real-server semantics.

kmock supplies the aiohttp handler, request recording, the reaction DSL (tests can still override any
URL with ``emulator['get /x'] << ...``, which takes precedence over everything here) and the Status
rendering of ``KubernetesError``. This subclass replaces kmock's object handling, which answers 200 on
create, lists without ``kind``, ignores selectors and has no resourceVersion, with
:class:`~tui.demo.apiserver.store.ObjectStore`, and adds discovery built from the served kinds, Table
printing for kubectl, watches with resume and bookmarks, and fault injection for tests.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import json
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import aiohttp.web
import attrs
from kmock import KubernetesEmulator, KubernetesError, Request, action, resource
from kmock._internal import rendering
from typing_extensions import override

from tui.core.clock import Clock, SystemClock
from tui.core.model.resources import ResourceKind
from tui.demo.apiserver import discovery, errors
from tui.demo.apiserver.objects import MAX_SECRET_BYTES
from tui.demo.apiserver.patch import APPLY
from tui.demo.apiserver.paths import ResourcePath, is_true, parse_resource_path, verb_for
from tui.demo.apiserver.selectors import Selector
from tui.demo.apiserver.store import ObjectStore
from tui.demo.apiserver.tables import TABLE_CONTENT_TYPE, table, wants_table
from tui.demo.apiserver.watch import WatchHub, WatchRequest, watch_stream

log = logging.getLogger(__name__)

ALL_VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")
DEFAULT_USER = "system:serviceaccount:azure-iot-operations:aio-certs"
JSON = "application/json"

# Core kinds are deleted with a Status answer, custom resources with the deleted object (as upstream).
_STATUS_ON_DELETE = frozenset(
    {"v1/secrets", "v1/configmaps", "v1/events", "v1/resourcequotas", "v1/limitranges"}
)


def _reply(payload: Any, status: int = 200, content_type: str = JSON) -> rendering.Response:
    # A fresh Response with explicit status and Content-Type every time: kmock copies a returned
    # Response's metadata onto the reaction, so leaving either unset would leak the previous request's.
    return rendering.Response(status=status, headers={"Content-Type": content_type}, payload=payload)


def _as_status_error(exc: Exception) -> KubernetesError:
    return exc if isinstance(exc, KubernetesError) else KubernetesError(500, "InternalError", repr(exc), {})


def _header(request: Request, name: str) -> str:
    lowered = name.lower()
    for key, value in request.headers.items():
        if key.lower() == lowered:
            return value
    return ""


def _body(request: Request) -> Any:
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except ValueError:
        raise errors.bad_request("the request body is not valid JSON") from None


def _apply_body(request: Request) -> Any:
    """An apply patch's body: YAML (JSON is YAML too, and what the client libraries send)."""
    if not request.body:
        raise errors.bad_request("the body of an apply patch must not be empty")
    try:
        return json.loads(request.body)
    except ValueError:
        pass
    import yaml  # only for a YAML body, which kubectl and the client libraries never send

    try:
        return yaml.safe_load(request.body)
    except yaml.YAMLError:
        raise errors.bad_request("the apply patch is neither JSON nor YAML") from None


def field_manager(params: dict[str, str], user_agent: str) -> str:
    """Who a write is recorded for in ``managedFields``: the ``fieldManager`` parameter, else the client's
    user agent up to its first ``/`` (apiserver ``managerOrUserAgent``), e.g. ``OpenAPI-Generator`` for
    the Python client, ``kubectl-patch`` for ``kubectl patch`` (which sets the parameter)."""
    return params.get("fieldManager") or user_agent.split("/", 1)[0] or "unknown"


def _continue_token(rv: int, namespace: str | None, name: str) -> str:
    raw = json.dumps({"rv": rv, "ns": namespace or "", "name": name}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _parse_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return int(data["rv"]), (str(data["ns"]), str(data["name"]))
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise errors.bad_request(f"invalid continue token {token!r}") from None


@attrs.define(kw_only=True)
class ClusterEmulator(KubernetesEmulator):
    """A Kubernetes API server for ``kinds``, faithful enough for kubectl and the client libraries."""

    clock: Clock = attrs.field(factory=SystemClock)
    kinds: tuple[ResourceKind, ...] = discovery.SERVED_KINDS
    user: str = DEFAULT_USER  # named in 403 messages, as RBAC names the caller
    bookmark_interval: float = 30.0
    # kmock records every request, and matching a request to a reaction walks the whole record (it
    # tests membership by iterating): at 2,000 kept requests every answer took ~30 ms. Keep it short.
    request_log_limit: int = 100
    history_limit: int = 10_000  # changes kept for watch resumes; older resumes get 410 Gone
    max_secret_bytes: int | None = MAX_SECRET_BYTES
    """The most data a Secret may hold (a real cluster's 1 MiB); None lifts it, for benchmarks only."""
    latency: float = 0.0
    """Seconds added before every answer (discovery, reads, writes, a watch's first event), to stand for
    a far API server; requests whose user agent starts with one of ``latency_exempt`` skip it."""
    latency_exempt: tuple[str, ...] = ()
    not_installed: frozenset[str] = frozenset()
    """Resource keys served as if their CRD were missing, from the start and after ``reset_faults``."""
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    """How the latency is waited (tests record it instead of waiting)."""

    _store: ObjectStore = attrs.field(init=False)
    _hub: WatchHub | None = attrs.field(default=None, init=False)
    _forbidden: dict[str, frozenset[str]] = attrs.field(factory=dict, init=False)
    _uninstalled: frozenset[str] = attrs.field(default=frozenset(), init=False)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        self._uninstalled = self.not_installed
        self._store = ObjectStore(
            self.kinds, self.clock, history_limit=self.history_limit, max_secret_bytes=self.max_secret_bytes
        )
        self._store.put({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default"}})
        self._store.add_listener(self._on_commit)
        # Just above kmock's own fallbacks (which they replace), below any reaction a test adds.
        # Discovery is registered again because kmock's patterns refuse a trailing slash (/api/v1/).
        fallback = self.fallback**1
        fallback[self._is_resource_request] << self._serve_resource
        fallback["get", re.compile(r"/api/?")] << self._serve_api
        fallback["get", re.compile(r"/apis/?")] << self._serve_apis
        fallback["get", re.compile(r"/api/[^/]+/?")] << self._serve_version
        fallback["get", re.compile(r"/apis/[^/]+/?")] << self._serve_group
        fallback["get", re.compile(r"/apis/[^/]+/[^/]+/?")] << self._serve_version
        fallback["get", re.compile(r"/version/?")] << self._serve_server_version
        fallback["get /"] << self._serve_root
        fallback["get /openapi/v3"] << self._serve_openapi_v3_root
        fallback["get /openapi/v3/*"] << self._serve_openapi_v3_group_version
        for probe in ("/healthz", "/livez", "/readyz"):
            fallback[f"get {probe}"] << b"ok"
        # Anything else is a 404 Status, as from a real server (kmock's would name kmock).
        (self.fallback**0.5) << self._serve_not_found

    # ---- plumbing ----------------------------------------------------------------------------

    @property
    def store(self) -> ObjectStore:
        """The object store (thread-safe; seed it directly with ``store.put``)."""
        return self._store

    @property
    def hub(self) -> WatchHub | None:
        """Open watches; None until the emulator is entered on its loop."""
        return self._hub

    def _on_commit(self) -> None:
        if self._hub is not None:
            self._hub.notify()

    @override
    async def __aenter__(self) -> ClusterEmulator:
        if self._hub is None:
            self._hub = WatchHub(asyncio.get_running_loop())
        await super().__aenter__()
        return self

    @override
    async def __call__(self, raw_request: aiohttp.web.BaseRequest) -> aiohttp.web.StreamResponse:
        """Entry point for aiohttp: parse, record, dispatch, render failures as Status.

        Replaces kmock's own entry point, whose URL parser cannot handle ``/api/v1/namespaces``.
        """
        await raw_request.read()
        if self.latency > 0 and not raw_request.headers.get("User-Agent", "").startswith(self.latency_exempt):
            # Before anything is handled: a write lands, and a watch's first event leaves, this late too.
            await self.sleep(self.latency)
        raw_response: aiohttp.web.StreamResponse | None = None
        try:
            request = await self._parse(raw_request)
            self._remember(request)
            try:
                return await self._handle(request)
            except rendering.StreamingError as exc:
                raw_response = exc.args[0]
                raise exc.__cause__ or exc from None
        except Exception as exc:
            if not isinstance(exc, KubernetesError):
                log.exception("emulated API server failed on %s %s", raw_request.method, raw_request.path)
                if self._errors:
                    self._errors[-1].append(exc)
            if raw_response is None or not raw_response.prepared:
                return await self._render_error(exc)
            await self._stream_error(exc, raw_response)
            await raw_response.write_eof()
            return raw_response

    async def _parse(self, raw_request: aiohttp.web.BaseRequest) -> Request:
        body = await raw_request.read()
        text = body.decode("utf-8", errors="replace")
        try:
            data = json.loads(body) if body else None
        except ValueError:
            data = None
        path = parse_resource_path(raw_request.path)
        params = dict(raw_request.query)
        k8s_action = None
        if path is not None:
            verb = verb_for(raw_request.method, path, params)
            # kmock's action vocabulary, so that tests can filter recorded requests by action.
            k8s_action = {
                "get": action.FETCH,
                "list": action.LIST,
                "watch": action.WATCH,
                "create": action.CREATE,
                "patch": action.UPDATE,
                "update": action.UPDATE,
                "delete": action.DELETE,
            }.get(verb)
        return Request(
            id=len(self._requests),
            raw_request=raw_request,
            url=raw_request.url,
            method=raw_request.method,
            params=params,
            headers=dict(raw_request.headers),
            cookies=dict(raw_request.cookies),
            body=body,
            text=text,
            data=data,
            action=k8s_action,
            resource=None if path is None else resource(path.group, path.version, path.plural),
            namespace=None if path is None else path.namespace,
            name=None if path is None else path.name,
            subresource=None if path is None else path.subresource,
        )

    def _remember(self, request: Request) -> None:
        self._requests.append(request)
        if len(self._requests) > 2 * self.request_log_limit:
            del self._requests[: -self.request_log_limit]
            # kmock's reactions keep their own request lists; trim them the same way.
            for payload in self._payloads:
                seen = getattr(payload, "_requests", None)
                if isinstance(seen, list) and len(seen) > self.request_log_limit:
                    del seen[: -self.request_log_limit]

    @override
    async def _handle(self, request: Request) -> aiohttp.web.StreamResponse:
        # Skip KubernetesEmulator._handle: it mutates kmock's own object map; the store does that here.
        return await super(KubernetesEmulator, self)._handle(request)

    @override
    async def _render_error(self, exc: Exception) -> aiohttp.web.StreamResponse:
        error = _as_status_error(exc)
        return aiohttp.web.json_response(errors.status_body(error), status=error.status)

    @override
    async def _stream_error(self, exc: Exception, raw_response: aiohttp.web.StreamResponse) -> None:
        error = _as_status_error(exc)
        line = json.dumps({"type": "ERROR", "object": errors.status_body(error)})
        with contextlib.suppress(ConnectionError):  # the client is gone; nothing to tell it
            await raw_response.write(line.encode() + b"\n")

    # ---- fault injection -----------------------------------------------------------------------

    def forbid(self, resource_key: str, verbs: Iterable[str] = ALL_VERBS) -> None:
        """Answer 403 Forbidden for these verbs on one resource (others are unaffected)."""
        self._store.kind(resource_key)  # KeyError for a resource that is not served
        self._forbidden = {**self._forbidden, resource_key: frozenset(verbs)}

    def uninstall(self, resource_key: str) -> None:
        """Serve the resource as if its CRD were missing: 404 and absent from discovery; ends its watches."""
        self._store.kind(resource_key)
        self._uninstalled = self._uninstalled | {resource_key}
        if self._hub is not None:
            self._hub.drop(resource_key)

    def drop_watches(self) -> int:
        """Abruptly close every open watch connection; returns how many were closed (call on the loop)."""
        return self._hub.drop() if self._hub is not None else 0

    def compact(self) -> int:
        """Make every resume from a resourceVersion older than now answer 410 Gone."""
        return self._store.compact()

    def reset_faults(self) -> None:
        """Undo ``forbid`` and ``uninstall`` (a compaction cannot be undone, as on a real cluster); the
        kinds ``not_installed`` from the start stay so."""
        self._forbidden = {}
        self._uninstalled = self.not_installed

    def installed_kinds(self) -> list[ResourceKind]:
        """The kinds served and shown in discovery right now."""
        return [k for k in self.kinds if k.key not in self._uninstalled]

    # ---- discovery (same method names as kmock's, so its own registrations serve ours too) ---------

    @override
    async def _serve_root(self, request: Request) -> rendering.Payload:
        return _reply(discovery.root_paths(self.installed_kinds()))

    @override
    async def _serve_server_version(self, request: Request) -> rendering.Payload:
        return _reply(discovery.SERVER_VERSION)

    @override
    async def _serve_api(self, request: Request) -> rendering.Payload:
        if discovery.wants_aggregated(_header(request, "Accept")):
            return _reply(
                discovery.aggregated(self.installed_kinds(), core=True), content_type=discovery.AGGREGATED_V2
            )
        return _reply(discovery.api_versions())

    @override
    async def _serve_apis(self, request: Request) -> rendering.Payload:
        if discovery.wants_aggregated(_header(request, "Accept")):
            return _reply(
                discovery.aggregated(self.installed_kinds(), core=False), content_type=discovery.AGGREGATED_V2
            )
        return _reply(discovery.api_group_list(self.installed_kinds()))

    @override
    async def _serve_group(self, request: Request) -> rendering.Payload:
        group = request.url.path.strip("/").split("/")[1]
        doc = discovery.api_group(self.installed_kinds(), group)
        if doc is None:
            raise errors.resource_not_found()
        return _reply(doc)

    @override
    async def _serve_version(self, request: Request) -> rendering.Payload:
        parts = request.url.path.strip("/").split("/")
        group, version = ("", parts[1]) if parts[0] == "api" else (parts[1], parts[2])
        doc = discovery.resource_list(self.installed_kinds(), group, version)
        if doc is None:
            raise errors.resource_not_found()
        return _reply(doc)

    async def _serve_not_found(self, request: Request) -> rendering.Payload:
        raise errors.resource_not_found()

    async def _serve_openapi_v3_root(self, request: Request) -> rendering.Payload:
        return _reply(discovery.openapi_v3_root(self.installed_kinds()))

    async def _serve_openapi_v3_group_version(self, request: Request) -> rendering.Payload:
        parts = request.url.path.strip("/").split("/")[2:]  # after "openapi/v3"
        group, version = (
            ("", parts[1])
            if parts[:1] == ["api"] and len(parts) == 2
            else (parts[1], parts[2])
            if parts[:1] == ["apis"] and len(parts) == 3
            else ("?", "?")
        )
        doc = discovery.openapi_v3_group_version(self.installed_kinds(), group, version)
        if doc is None:
            raise errors.resource_not_found()
        return _reply(doc)

    # ---- resources -----------------------------------------------------------------------------

    def _is_resource_request(self, request: Request) -> bool:
        return parse_resource_path(request.url.path) is not None

    def _kind_for(self, path: ResourcePath) -> ResourceKind:
        try:
            kind = self._store.kind(path.key)
        except KeyError:
            raise errors.resource_not_found() from None
        if path.key in self._uninstalled:
            raise errors.resource_not_found()
        if path.namespace is not None and not kind.namespaced:
            raise errors.resource_not_found()
        return kind

    async def _serve_resource(self, request: Request) -> rendering.Payload:
        path = parse_resource_path(request.url.path)
        assert path is not None  # the reaction's criterion guarantees it
        kind = self._kind_for(path)
        params = dict(request.params)
        verb = verb_for(request.method, path, params)
        allowed = self._forbidden.get(kind.key, frozenset())
        if verb in allowed or (verb == "deletecollection" and "delete" in allowed):
            raise errors.forbidden(kind, verb, path.namespace, self.user)
        if path.subresource is not None:
            if path.subresource != "status" or not kind.has_status:
                raise errors.resource_not_found()
            if verb not in ("get", "update", "patch"):
                raise errors.method_not_allowed(request.method)
        if path.name is None and kind.namespaced and path.namespace is None and verb not in ("list", "watch"):
            raise errors.resource_not_found()
        dry_run = params.get("dryRun") is not None
        if dry_run and params["dryRun"] != "All":
            raise errors.bad_request(f"unsupported dryRun value {params['dryRun']!r}: only 'All' is valid")
        manager = field_manager(params, _header(request, "User-Agent"))
        match verb:
            case "list":
                return self._list(kind, path, params, request)
            case "watch":
                return self._watch(kind, path, params, request)
            case "get":
                return self._get(kind, path, params, request)
            case "create":
                obj = self._store.create(
                    kind.key, path.namespace, _body(request), dry_run=dry_run, manager=manager
                )
                return _reply(obj, 201)
            case "update":
                assert path.name is not None
                return _reply(
                    self._store.replace(
                        kind.key,
                        path.namespace,
                        path.name,
                        _body(request),
                        path.subresource,
                        dry_run=dry_run,
                        manager=manager,
                    )
                )
            case "patch":
                assert path.name is not None
                content_type = _header(request, "Content-Type")
                if content_type.split(";")[0].strip().lower() == APPLY:
                    return self._apply(kind, path, params, request, dry_run)
                if "force" in params:
                    raise errors.patch_options_invalid(
                        "force", "FieldValueForbidden", "Forbidden: may not be specified for non-apply patch"
                    )
                patched = self._store.patch(
                    kind.key,
                    path.namespace,
                    path.name,
                    content_type,
                    _body(request),
                    path.subresource,
                    dry_run=dry_run,
                    manager=manager,
                )
                return _reply(patched)
            case "delete":
                return self._delete(kind, path, params, request, dry_run)
            case "deletecollection":
                return self._delete_collection(kind, path, params)
        raise errors.method_not_allowed(request.method)

    def _apply(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str], request: Request, dry_run: bool
    ) -> rendering.Response:
        """Server-side apply: 201 when it created the object, 409 on conflicts unless ``force=true``."""
        assert path.name is not None
        manager = params.get("fieldManager") or ""
        if not manager:
            raise errors.patch_options_invalid(
                "fieldManager", "FieldValueRequired", "Required value: is required for apply patch"
            )
        force = params.get("force")
        if force not in (None, "true", "false"):
            raise errors.bad_request(f"invalid force {force!r}: must be true or false")
        obj, created = self._store.apply(
            kind.key,
            path.namespace,
            path.name,
            _apply_body(request),
            manager=manager,
            force=force == "true",
            subresource=path.subresource,
            dry_run=dry_run,
        )
        return _reply(obj, 201 if created else 200)

    def _render_one(self, kind: ResourceKind, obj: dict[str, Any], request: Request) -> rendering.Response:
        if wants_table(_header(request, "Accept")):
            rv = obj.get("metadata", {}).get("resourceVersion", "")
            doc = table(
                kind,
                [obj],
                now=self.clock.now(),
                resource_version=rv,
                include_object=request.params.get("includeObject", "Metadata"),
            )
            return _reply(doc, content_type=TABLE_CONTENT_TYPE)
        return _reply(obj)

    def _get(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str], request: Request
    ) -> rendering.Response:
        assert path.name is not None
        obj = self._store.get(kind.key, path.namespace, path.name)
        if obj is None:
            raise errors.not_found(kind, path.name)
        return self._render_one(kind, obj, request)

    def _list(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str], request: Request
    ) -> rendering.Response:
        selector = Selector.parse(params.get("labelSelector"), params.get("fieldSelector"), kind.key)
        start_after: tuple[str, str] | None = None
        if params.get("continue"):
            token_rv, start_after = _parse_continue(params["continue"])
            try:
                self._store.check_resume(token_rv)
            except KubernetesError:
                raise errors.gone(
                    "The provided continue parameter is too old to display a consistent "
                    "list result. You can start a new list without the continue "
                    "parameter."
                ) from None
        rv_param = params.get("resourceVersion")
        if rv_param not in (None, "", "0"):
            try:
                self._store.check_resume(int(rv_param))
            except ValueError:
                raise errors.bad_request(f"invalid resourceVersion {rv_param!r}") from None
        rv, objects = self._store.snapshot(kind.key, path.namespace)
        items = [o for o in objects if selector.matches(o)]
        if start_after is not None:
            items = [
                o for o in items if (o["metadata"].get("namespace", ""), o["metadata"]["name"]) > start_after
            ]
        list_meta: dict[str, Any] = {"resourceVersion": str(rv)}
        limit = int(params.get("limit") or 0)
        if limit > 0 and len(items) > limit:
            last = items[limit - 1]["metadata"]
            list_meta["continue"] = _continue_token(rv, last.get("namespace"), last["name"])
            list_meta["remainingItemCount"] = len(items) - limit
            items = items[:limit]
        if wants_table(_header(request, "Accept")):
            doc = table(
                kind,
                items,
                now=self.clock.now(),
                resource_version=str(rv),
                include_object=params.get("includeObject", "Metadata"),
                list_meta={k: v for k, v in list_meta.items() if k != "resourceVersion"},
            )
            return _reply(doc, content_type=TABLE_CONTENT_TYPE)
        return _reply(
            {"kind": kind.list_kind, "apiVersion": kind.group_version, "metadata": list_meta, "items": items}
        )

    def _watch(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str], request: Request
    ) -> rendering.Response:
        selector = Selector.parse(params.get("labelSelector"), params.get("fieldSelector"), kind.key)
        timeout = params.get("timeoutSeconds")
        try:
            timeout_seconds = float(timeout) if timeout else None
        except ValueError:
            raise errors.bad_request(f"invalid timeoutSeconds {timeout!r}") from None
        if timeout_seconds is not None and (math.isnan(timeout_seconds) or timeout_seconds < 0):
            raise errors.bad_request(f"invalid timeoutSeconds {timeout!r}")
        watch = WatchRequest(
            kind=kind,
            namespace=path.namespace,
            name=path.name,
            selector=selector,
            resource_version=params.get("resourceVersion"),
            timeout_seconds=timeout_seconds,
            allow_bookmarks=is_true(params.get("allowWatchBookmarks")),
            send_initial_events=is_true(params.get("sendInitialEvents")),
        )
        as_table = wants_table(_header(request, "Accept"))

        def render(obj: dict[str, Any]) -> dict[str, Any]:
            if not as_table:
                return obj
            return table(
                kind,
                [obj],
                now=self.clock.now(),
                resource_version=obj.get("metadata", {}).get("resourceVersion", ""),
                include_object=params.get("includeObject", "Metadata"),
            )

        assert self._hub is not None, "the emulator must be entered (async with) before serving"
        raw = request._raw_request
        stream = watch_stream(
            self._store,
            self._hub,
            watch,
            transport=None if raw is None else raw.transport,
            bookmark_interval=self.bookmark_interval,
            render=render,
        )
        return _reply(stream, content_type=TABLE_CONTENT_TYPE if as_table else JSON)

    def _delete_options(self, request: Request, params: dict[str, str]) -> tuple[dict[str, Any], str | None]:
        body = _body(request) if request.body else None
        options = body if isinstance(body, dict) else {}
        propagation = options.get("propagationPolicy") or params.get("propagationPolicy")
        if options.get("orphanDependents") is True or is_true(params.get("orphanDependents")):
            propagation = "Orphan"
        return options.get("preconditions") or {}, propagation

    def _delete(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str], request: Request, dry_run: bool
    ) -> rendering.Response:
        assert path.name is not None
        preconditions, propagation = self._delete_options(request, params)
        obj, gone = self._store.delete(
            kind.key,
            path.namespace,
            path.name,
            preconditions=preconditions,
            propagation=propagation,
            dry_run=dry_run,
        )
        if gone and kind.key in _STATUS_ON_DELETE:
            meta = obj.get("metadata", {})
            details = {"name": meta.get("name"), "kind": kind.plural, "uid": meta.get("uid")}
            return _reply(
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                }
            )
        return _reply(obj)

    def _delete_collection(
        self, kind: ResourceKind, path: ResourcePath, params: dict[str, str]
    ) -> rendering.Response:
        selector = Selector.parse(params.get("labelSelector"), params.get("fieldSelector"), kind.key)
        _, objects = self._store.snapshot(kind.key, path.namespace)
        deleted = []
        for obj in objects:
            if selector.matches(obj):
                meta = obj["metadata"]
                try:
                    gone_obj, _ = self._store.delete(kind.key, meta.get("namespace"), meta["name"])
                except KubernetesError:
                    continue  # deleted concurrently
                deleted.append(gone_obj)
        return _reply(
            {
                "kind": kind.list_kind,
                "apiVersion": kind.group_version,
                "metadata": {"resourceVersion": str(self._store.resource_version)},
                "items": deleted,
            }
        )
