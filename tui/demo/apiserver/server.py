"""A running emulated Kubernetes API server with a synchronous handle.

``start_api_server()`` runs a :class:`~tui.demo.apiserver.emulator.ClusterEmulator` (a kmock
``KubernetesEmulator`` subclass) on loopback in a background thread with its own event loop, and returns
an :class:`ApiServer` handle: its URL, a kubeconfig writer, direct seeding and inspection of the stored
objects (thread-safe, no HTTP round trip), and the fault switches tests use::

    with start_api_server(clock=FrozenClock(t0)) as api:
        api.put({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "s", "namespace": "ns"}})
        api.write_kubeconfig(tmp / "kubeconfig")
        api.forbid("v1/secrets", verbs=("list", "watch"))

Code that already runs an event loop can serve the emulator itself instead:
``async with ClusterEmulator() as emu, kmock.Server(emu) as server: ...``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiohttp.web

from tui.core.clock import Clock, SystemClock
from tui.demo.apiserver.emulator import ALL_VERBS, ClusterEmulator
from tui.demo.apiserver.objects import MAX_SECRET_BYTES
from tui.demo.kubeconfig import write_kubeconfig

T = TypeVar("T")

_START_TIMEOUT = 10.0
_STOP_TIMEOUT = 10.0
MAX_REQUEST_BODY = 16 * 1024 * 1024
"""Largest request body accepted; see ApiServer._make_request for why it exceeds a real cluster's."""


class ApiServerError(RuntimeError):
    """The emulated API server could not start or stop."""


class ApiServer:
    """Handle on an emulated API server running in a background thread."""

    def __init__(self, emulator: ClusterEmulator, *, host: str, port: int) -> None:
        self.emulator = emulator
        self._host = host
        self._port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._url = ""
        self._watch_change = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="aio-certs-apiserver", daemon=True)

    # ---- lifecycle -----------------------------------------------------------------------------

    def _start(self) -> None:
        self._thread.start()
        if not self._ready.wait(_START_TIMEOUT):
            raise ApiServerError(f"emulated API server did not start within {_START_TIMEOUT:.0f}s")
        if self._error is not None:
            raise ApiServerError(
                f"emulated API server failed to start on {self._host}:{self._port}: {self._error}"
            ) from self._error

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve())
        except BaseException as exc:  # reported to the starting thread, never lost silently
            self._error = exc
        finally:
            self._ready.set()
            loop.close()

    def _make_request(
        self, message: Any, payload: Any, protocol: Any, writer: Any, task: asyncio.Task[None]
    ) -> aiohttp.web.BaseRequest:
        """Build each request with a body cap above aiohttp's 1 MiB default.

        A real kube-apiserver accepts request bodies up to 3 MiB, so a Secret a little over its 1 MiB
        data limit gets the real 422 rather than 413; with ``allow_oversized_secrets`` the benchmark site
        (``--scale 2000``) writes a trust-list Secret of about 2 MB, hence :data:`MAX_REQUEST_BODY`.
        """
        return aiohttp.web.BaseRequest(
            message,
            payload,
            protocol,
            writer,
            task,
            asyncio.get_running_loop(),
            client_max_size=MAX_REQUEST_BODY,
        )

    async def _serve(self) -> None:
        self._stop_event = asyncio.Event()
        async with self.emulator:
            assert self.emulator.hub is not None
            self.emulator.hub.on_change = self._notify_watch_change
            server = aiohttp.web.Server(self.emulator, request_factory=self._make_request)
            runner = aiohttp.web.ServerRunner(server, shutdown_timeout=1.0)
            await runner.setup()
            try:
                site = aiohttp.web.TCPSite(runner, self._host, self._port)
                await site.start()
                host, port = runner.addresses[0][:2]
                self._url = f"http://{host}:{port}"
                self._ready.set()
                await self._stop_event.wait()
                # Close open watches first: the runner would otherwise wait for them to end.
                self.emulator.drop_watches()
            finally:
                await runner.cleanup()

    def stop(self) -> None:
        """Stop serving and join the thread (idempotent)."""
        loop, stop_event = self._loop, self._stop_event
        if self._thread.is_alive() and loop is not None and stop_event is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stop_event.set)
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(_STOP_TIMEOUT)
            if self._thread.is_alive():
                raise ApiServerError(f"emulated API server did not stop within {_STOP_TIMEOUT:.0f}s")

    def __enter__(self) -> ApiServer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:40123``."""
        return self._url

    @property
    def running(self) -> bool:
        """True while the server thread is serving."""
        return self._thread.is_alive() and self._ready.is_set() and self._error is None

    def _call_on_loop(self, fn: Callable[[], T]) -> T:
        """Run ``fn`` on the server's loop and return its result (hub state belongs to the loop)."""
        loop = self._loop
        if loop is None or not self._thread.is_alive():
            raise ApiServerError("the emulated API server is not running")
        if threading.current_thread() is self._thread:
            return fn()

        async def call() -> T:
            return fn()

        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(call(), loop)
        return future.result(_STOP_TIMEOUT)

    # ---- kubeconfig ----------------------------------------------------------------------------

    def write_kubeconfig(
        self, path: str | Path, *, context: str = "aio-demo", namespace: str = "azure-iot-operations"
    ) -> Path:
        """Write a kubeconfig for this server (see :func:`tui.demo.kubeconfig.write_kubeconfig`)."""
        return write_kubeconfig(path, self.url, context=context, namespace=namespace)

    # ---- direct state access -------------------------------------------------------------------

    def put(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Create or overwrite ``obj`` (status included) with server-filled metadata; emits a watch event."""
        return self.emulator.store.put(obj)

    def put_many(self, objs: Iterable[dict[str, Any]]) -> int:
        """``put`` each object; returns how many."""
        count = 0
        for obj in objs:
            self.emulator.store.put(obj)
            count += 1
        return count

    def get(self, resource_key: str, namespace: str | None, name: str) -> dict[str, Any] | None:
        """A copy of one stored object, or None."""
        obj = self.emulator.store.get(resource_key, namespace, name)
        return copy.deepcopy(obj) if obj is not None else None

    def objects(self, resource_key: str, namespace: str | None = None) -> list[dict[str, Any]]:
        """Copies of the stored objects of one resource (or of one namespace), sorted by namespace/name."""
        _, objs = self.emulator.store.snapshot(resource_key, namespace)
        return copy.deepcopy(objs)

    def delete(self, resource_key: str, namespace: str | None, name: str) -> bool:
        """Remove an object outright (finalizers ignored); emits DELETED. False if it did not exist."""
        return self.emulator.store.remove(resource_key, namespace, name)

    remove = delete  # the store's name for the same operation

    @property
    def resource_version(self) -> int:
        """The latest cluster-wide resourceVersion."""
        return self.emulator.store.resource_version

    # ---- faults --------------------------------------------------------------------------------

    def forbid(self, resource_key: str, verbs: Iterable[str] = ALL_VERBS) -> None:
        """403 Forbidden for these verbs of one resource only."""
        self.emulator.forbid(resource_key, tuple(verbs))

    def uninstall(self, resource_key: str) -> None:
        """Serve the resource as if its CRD were missing (404, gone from discovery, watches closed)."""
        self._call_on_loop(lambda: self.emulator.uninstall(resource_key))

    def drop_watches(self) -> int:
        """Abruptly close every open watch connection; returns how many."""
        return self._call_on_loop(self.emulator.drop_watches)

    def compact(self) -> int:
        """Any watch/list resuming from a resourceVersion older than now gets 410 Gone; returns that rv."""
        return self.emulator.compact()

    def reset_faults(self) -> None:
        """Undo ``forbid`` and ``uninstall``."""
        self.emulator.reset_faults()

    def send_bookmarks(self) -> None:
        """Make every watch that allows bookmarks send a BOOKMARK now."""
        self._call_on_loop(lambda: self.emulator.hub.request_bookmarks() if self.emulator.hub else None)

    # ---- watch accounting (lets tests wait until a client's watch is really open) ----------------

    def _notify_watch_change(self) -> None:
        with self._watch_change:
            self._watch_change.notify_all()

    def watch_counts(self) -> dict[str, int]:
        """Open watches per resource key."""
        hub = self.emulator.hub
        return hub.counts() if hub is not None else {}

    def wait_for_watches(self, count: int = 1, resource_key: str | None = None, timeout: float = 5.0) -> None:
        """Block until at least ``count`` watches are open (on one resource, or in total)."""

        def enough() -> bool:
            counts = self.watch_counts()
            have = counts.get(resource_key, 0) if resource_key else sum(counts.values())
            return have >= count

        with self._watch_change:
            if not self._watch_change.wait_for(enough, timeout):
                raise TimeoutError(
                    f"fewer than {count} open watch(es) on {resource_key or 'any resource'} "
                    f"after {timeout}s: {self.watch_counts()}"
                )


def start_api_server(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    bookmark_interval: float = 30.0,
    max_secret_bytes: int | None = MAX_SECRET_BYTES,
    latency: float = 0.0,
    latency_exempt: tuple[str, ...] = (),
    not_installed: frozenset[str] = frozenset(),
) -> ApiServer:
    """Start an emulated API server on ``host:port`` (0 picks a free port) and return its handle.

    ``max_secret_bytes`` None lets Secrets hold more than a real cluster allows (benchmarks only);
    ``latency`` seconds are added before every answer, except to user agents starting with one of
    ``latency_exempt`` (the demo's in-cluster controllers). ``not_installed`` names resources served as if
    their CRD were missing (404, absent from discovery), for good: ``reset_faults`` keeps them so.
    """
    if latency < 0:
        raise ValueError("latency must not be negative")
    emulator = ClusterEmulator(
        clock=clock or SystemClock(),
        bookmark_interval=bookmark_interval,
        max_secret_bytes=max_secret_bytes,
        latency=latency,
        latency_exempt=latency_exempt,
        not_installed=not_installed,
    )
    server = ApiServer(emulator, host=host, port=port)
    server._start()
    return server
