"""What every simulated controller shares: object access through the ``kubernetes`` client, and the loop.

:class:`KubeAccess` reads and writes any kind of ``tui.core.model.resources`` as plain dicts, through the same
client library the product uses (``CoreV1Api`` for core kinds, ``CustomObjectsApi`` for the rest).

:class:`Controller` is the loop: subclasses implement ``_reconcile()``, which does one pass over the
cluster and returns when it next needs to run (a time on the injected clock). ``reconcile_once()`` runs a
pass now (tests call it after moving a ``FrozenClock``); ``run(stop_event)`` runs passes whenever a
watched kind changes or the next due time arrives, waiting on a ``threading.Event`` in between.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kubernetes import client as k8s
from kubernetes import watch as k8s_watch
from kubernetes.client.exceptions import ApiException

from tui.core.clock import Clock
from tui.core.model.resources import ResourceKind

log = logging.getLogger(__name__)

JsonObject = dict[str, Any]

# A live clock never waits longer than this without re-checking the stop flag and the due time;
# with a FrozenClock it is also how soon a test's clock move is noticed by a running loop.
MAX_WAIT_SECONDS = 1.0
# Watch events arrive in bursts (our own writes echo back too); gather them into one pass.
COALESCE_SECONDS = 0.05
WATCH_RETRY_SECONDS = 1.0
# Re-open a quiet watch this often, so a server that never ends streams still gets a fresh one.
WATCH_TIMEOUT_SECONDS = 60
APPLY_PATCH = "application/apply-patch+yaml"


def _snake(kind_name: str) -> str:
    """``ConfigMap`` -> ``config_map``: how CoreV1Api spells kinds in method names."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", kind_name).lower()


class KubeAccess:
    """Plain-dict CRUD for the kinds in ``tui.core.model.resources`` over one ``kubernetes`` ApiClient."""

    def __init__(self, api_client: k8s.ApiClient) -> None:
        self.api_client = api_client
        self.core = k8s.CoreV1Api(api_client)
        # The generated client types every answer as ``object`` and every option as one union; the
        # controllers pass and read plain JSON, so they talk to it untyped.
        self.custom: Any = k8s.CustomObjectsApi(api_client)

    # Core kinds go through CoreV1Api by method name (read_namespaced_secret, list_namespace, ...);
    # the raw response keeps them plain dicts, the same shape custom objects come back in.
    def _core(self, verb: str, kind: ResourceKind, namespace: str | None, **kwargs: Any) -> JsonObject:
        singular = _snake(kind.kind)
        if not kind.namespaced:
            method = f"{verb}_{singular}"
        elif namespace is None:
            method = f"{verb}_{singular}_for_all_namespaces"
        else:
            method = f"{verb}_namespaced_{singular}"
            kwargs["namespace"] = namespace
        response = getattr(self.core, method)(_preload_content=False, **kwargs)
        return json.loads(response.data or b"{}")

    def list(
        self, kind: ResourceKind, namespace: str | None = None, *, label_selector: str | None = None
    ) -> list[JsonObject]:
        """All objects of ``kind`` (in ``namespace``, or everywhere when None)."""
        extra = {"label_selector": label_selector} if label_selector else {}
        if not kind.group:
            return list(self._core("list", kind, namespace, **extra).get("items") or [])
        args = (kind.group, kind.version)
        if kind.namespaced and namespace is not None:
            result = self.custom.list_namespaced_custom_object(*args, namespace, kind.plural, **extra)
        else:
            result = self.custom.list_cluster_custom_object(*args, kind.plural, **extra)
        return list(result.get("items") or [])

    def get(self, kind: ResourceKind, namespace: str | None, name: str) -> JsonObject | None:
        """One object, or None when it does not exist."""
        try:
            if not kind.group:
                return self._core("read", kind, namespace if kind.namespaced else None, name=name)
            args = (kind.group, kind.version)
            if kind.namespaced:
                return self.custom.get_namespaced_custom_object(*args, namespace, kind.plural, name)
            return self.custom.get_cluster_custom_object(*args, kind.plural, name)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def create(self, kind: ResourceKind, obj: Mapping[str, Any]) -> JsonObject:
        """Create ``obj``; its metadata says where."""
        namespace = obj["metadata"].get("namespace")
        if not kind.group:
            return self._core("create", kind, namespace if kind.namespaced else None, body=dict(obj))
        args = (kind.group, kind.version)
        if kind.namespaced:
            return self.custom.create_namespaced_custom_object(*args, namespace, kind.plural, dict(obj))
        return self.custom.create_cluster_custom_object(*args, kind.plural, dict(obj))

    def replace(self, kind: ResourceKind, obj: Mapping[str, Any]) -> JsonObject:
        """PUT ``obj``; a stale ``metadata.resourceVersion`` raises ApiException 409."""
        meta = obj["metadata"]
        namespace, name = meta.get("namespace"), meta["name"]
        if not kind.group:
            ns = namespace if kind.namespaced else None
            return self._core("replace", kind, ns, name=name, body=dict(obj))
        args = (kind.group, kind.version)
        if kind.namespaced:
            return self.custom.replace_namespaced_custom_object(
                *args, namespace, kind.plural, name, dict(obj)
            )
        return self.custom.replace_cluster_custom_object(*args, kind.plural, name, dict(obj))

    def patch_status(
        self, kind: ResourceKind, namespace: str | None, name: str, status: Mapping[str, Any]
    ) -> JsonObject:
        """JSON merge patch of ``status`` through the status subresource (None values delete fields)."""
        body = {"status": dict(status)}
        args = (kind.group, kind.version)
        if kind.namespaced:
            return self.custom.patch_namespaced_custom_object_status(
                *args, namespace, kind.plural, name, body
            )
        return self.custom.patch_cluster_custom_object_status(*args, kind.plural, name, body)

    def delete(self, kind: ResourceKind, namespace: str | None, name: str) -> None:
        """Delete one object; absent is fine."""
        try:
            if not kind.group:
                self._core("delete", kind, namespace if kind.namespaced else None, name=name)
            elif kind.namespaced:
                self.custom.delete_namespaced_custom_object(
                    kind.group, kind.version, namespace, kind.plural, name
                )
            else:
                self.custom.delete_cluster_custom_object(kind.group, kind.version, kind.plural, name)
        except ApiException as exc:
            if exc.status != 404:
                raise

    def apply(
        self, kind: ResourceKind, obj: Mapping[str, Any], manager: str, *, force: bool = False
    ) -> JsonObject:
        """Server-side apply of ``obj`` as field manager ``manager`` (core kinds); a field another manager
        owns and ``obj`` changes raises ApiException 409 unless ``force``."""
        if kind.group:
            raise NotImplementedError("the demo's controllers apply core kinds only")
        meta = obj["metadata"]
        extra: dict[str, Any] = {"force": True} if force else {}
        return self._core(
            "patch",
            kind,
            meta.get("namespace") if kind.namespaced else None,
            name=meta["name"],
            body=dict(obj),
            field_manager=manager,
            _content_type=APPLY_PATCH,
            **extra,
        )

    def upsert(
        self, kind: ResourceKind, obj: Mapping[str, Any], existing: Mapping[str, Any] | None
    ) -> JsonObject:
        """Create ``obj``, or replace ``existing`` with it (keeping existing's resourceVersion)."""
        if existing is None:
            return self.create(kind, obj)
        body = dict(obj)
        body["metadata"] = {**obj["metadata"], "resourceVersion": existing["metadata"].get("resourceVersion")}
        return self.replace(kind, body)

    def watch_call(self, kind: ResourceKind) -> tuple[Callable[..., Any], tuple[Any, ...]]:
        """The list function and arguments that ``kubernetes.watch.Watch.stream`` needs for ``kind``."""
        if not kind.group:
            singular = _snake(kind.kind)
            suffix = singular if not kind.namespaced else f"{singular}_for_all_namespaces"
            return getattr(self.core, f"list_{suffix}"), ()
        return self.custom.list_cluster_custom_object, (kind.group, kind.version, kind.plural)


@dataclass(frozen=True)
class PassResult:
    """What one reconcile pass did: how many writes, and when it wants to run next (clock time)."""

    writes: int
    next_due: datetime | None


class _Watcher(threading.Thread):
    """Watches one kind and sets ``wake`` on every event; reconnects from the last resourceVersion.

    With ``spec_only``, a MODIFIED event that leaves an object's uid and ``metadata.generation`` as
    they were (a status or metadata write: the controller's own status updates echoing back, or
    anyone else's) does not wake the controller, whose pass would find nothing to do.
    """

    def __init__(
        self,
        kube: KubeAccess,
        kind: ResourceKind,
        wake: threading.Event,
        stop: threading.Event,
        *,
        spec_only: bool = False,
    ) -> None:
        super().__init__(name=f"watch-{kind.plural}", daemon=True)
        self._kube = kube
        self._kind = kind
        self._wake = wake
        self._stop_flag = stop
        self._spec_only = spec_only
        # (namespace, name) -> (uid, generation) as last seen, for spec_only.
        self._seen: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._watch: k8s_watch.Watch | None = None
        self._lock = threading.Lock()
        self.wakes = 0
        self.skipped = 0

    def _concerns(self, event: Any) -> bool:
        """Whether this event may give the controller something to do."""
        if not self._spec_only or not isinstance(event, dict):
            return True
        obj = event.get("object")
        meta = (obj.get("metadata") or {}) if isinstance(obj, dict) else {}
        key = (str(meta.get("namespace") or ""), str(meta.get("name") or ""))
        if event.get("type") == "DELETED":
            self._seen.pop(key, None)
            return True
        identity = (meta.get("uid"), meta.get("generation"))
        before = self._seen.get(key)
        self._seen[key] = identity
        # Without a generation there is no telling a spec change from a status one: wake.
        return not (event.get("type") == "MODIFIED" and identity[1] is not None and before == identity)

    def run(self) -> None:
        func, args = self._kube.watch_call(self._kind)
        resource_version: str | None = None
        while not self._stop_flag.is_set():
            watch = k8s_watch.Watch()
            with self._lock:
                self._watch = watch
            if self._stop_flag.is_set():
                break
            try:
                kwargs: dict[str, Any] = {"timeout_seconds": WATCH_TIMEOUT_SECONDS, "deserialize": False}
                if resource_version:
                    kwargs["resource_version"] = resource_version
                for event in watch.stream(func, *args, **kwargs):
                    obj = event.get("object") if isinstance(event, dict) else None
                    if isinstance(obj, dict):
                        resource_version = (obj.get("metadata") or {}).get(
                            "resourceVersion"
                        ) or resource_version
                    if self._concerns(event):
                        self.wakes += 1
                        self._wake.set()
                    else:
                        self.skipped += 1
            except ApiException as exc:
                if exc.status == 410:  # too old: start again from a fresh list
                    resource_version = None
                    self._wake.set()
                    continue
                log.debug("watch of %s failed: %s", self._kind.plural, exc.reason)
                self._stop_flag.wait(WATCH_RETRY_SECONDS)
            except Exception as exc:  # connection dropped, server stopping: retry unless told to stop
                log.debug("watch of %s broke: %s", self._kind.plural, type(exc).__name__)
                self._stop_flag.wait(WATCH_RETRY_SECONDS)

    def close(self) -> None:
        """Unblock a waiting stream (the thread then sees the stop flag)."""
        with self._lock:
            if self._watch is not None:
                self._watch.stop()


class Controller(ABC):
    """A simulated controller: one reconcile pass at a time, run on demand or by :meth:`run`."""

    name = "controller"
    watched: tuple[ResourceKind, ...] = ()
    spec_driven: tuple[ResourceKind, ...] = ()
    """Watched kinds whose status and metadata writes never give this controller work (it acts on their
    spec, or on a timer): such writes do not wake it. Leave out any kind whose status the controller
    reads to decide, or repairs."""

    def __init__(self, kube: KubeAccess, clock: Clock) -> None:
        self.kube = kube
        self.clock = clock
        self._pass_lock = threading.Lock()
        self._wake = threading.Event()
        self.passes = 0
        self.last_error: str | None = None
        self.watchers: list[_Watcher] = []
        """The watch threads of a running loop (their ``wakes``/``skipped`` counters show why it ran)."""

    @abstractmethod
    def _reconcile(self) -> PassResult:
        """One pass over the cluster; returns the writes made and the next due time."""

    def reconcile_once(self) -> PassResult:
        """Run one pass now (serialised with the background loop, so tests may call it any time)."""
        with self._pass_lock:
            result = self._reconcile()
            self.passes += 1
            return result

    def settle(self, max_passes: int = 10) -> int:
        """Run passes until one makes no write; returns the number of passes (bounded)."""
        for count in range(1, max_passes + 1):
            if self.reconcile_once().writes == 0:
                return count
        return max_passes

    def wake(self) -> None:
        """Ask a running loop for a pass now (also how :meth:`run` notices a stop quickly)."""
        self._wake.set()

    def run(self, stop_event: threading.Event, *, watch: bool = True) -> None:
        """Loop until ``stop_event`` is set: a pass on every watch event and at each due time."""
        watchers = (
            [
                _Watcher(self.kube, kind, self._wake, stop_event, spec_only=kind in self.spec_driven)
                for kind in self.watched
            ]
            if watch
            else []
        )
        self.watchers = watchers
        for watcher in watchers:
            watcher.start()
        try:
            self._loop(stop_event)
        finally:
            for watcher in watchers:
                watcher.close()
            for watcher in watchers:
                watcher.join(timeout=5)

    def _loop(self, stop_event: threading.Event) -> None:
        due: datetime | None = None
        while not stop_event.is_set():
            try:
                due = self.reconcile_once().next_due
                self.last_error = None
            except Exception as exc:  # a controller must survive a bad object or a dropped connection
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                log.warning("%s pass failed: %s", self.name, self.last_error)
                due = self.clock.now() + timedelta(seconds=WATCH_RETRY_SECONDS)
            self._wait(stop_event, due)

    def _wait(self, stop_event: threading.Event, due: datetime | None) -> None:
        while not stop_event.is_set():
            remaining = MAX_WAIT_SECONDS
            if due is not None:
                left = (due - self.clock.now()).total_seconds()
                if left <= 0:
                    return
                remaining = min(remaining, left)
            if self._wake.wait(remaining):
                # Let the rest of a burst arrive, then handle it in one pass.
                stop_event.wait(COALESCE_SECONDS)
                self._wake.clear()
                return


def by_key(objects: Iterable[Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """Objects indexed by ``(namespace, name)`` (namespace ``""`` for cluster scope)."""
    return {
        ((o.get("metadata") or {}).get("namespace") or "", (o.get("metadata") or {}).get("name") or ""): o
        for o in objects
    }
