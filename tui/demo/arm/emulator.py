"""The demo's ARM: an HTTPS emulator the real azure-mgmt SDK works against, run from sync code.

:func:`start_arm_emulator` serves an :class:`~tui.demo.arm.store.ArmStore` on loopback in a background
thread with its own event loop and its own throwaway CA (``ca_pem_path``; clients keep TLS verification
on), and returns an :class:`ArmEmulator` handle that is safe to use from any thread. No global state:
several emulators can run side by side.

Endpoint form: ``https://127.0.0.1:PORT`` (no trailing slash: the SDK appends ``/subscriptions/...``).

Test switches: :meth:`~ArmEmulator.deny` (403 for an action on a kind), :meth:`~ArmEmulator.throttle`
(429 with Retry-After), :meth:`~ArmEmulator.set_unreachable` (connections refused and dropped),
:meth:`~ArmEmulator.hold_operations` (long-running operations stay InProgress until released),
:meth:`~ArmEmulator.fail_operations` (the next operations end Failed), :meth:`~ArmEmulator.set_latency`,
and the request log. :meth:`~ArmEmulator.wait_idle` blocks until every operation has ended, which with the
Arc projection attached means the cluster has every change.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from tui.core.clock import Clock, SystemClock
from tui.core.model.arm import ArmKind
from tui.demo.arm.server import ArmApp, ArmFaults, RequestRecord
from tui.demo.arm.site import DEMO_ARM_SITE, ArmSite
from tui.demo.arm.store import SDK_API_VERSION, ArmStore, Change, Operation
from tui.demo.https_server import LoopbackHttpsServer
from tui.demo.tls import LoopbackTLS

CA_FILE = "arm-ca.pem"


class ArmEmulator(LoopbackHttpsServer):
    """Handle on one running (or startable) ARM emulator."""

    label = "ARM emulator"
    thread_name = "arm-emulator"
    temp_prefix = "aio-certs-arm-"

    def __init__(
        self,
        *,
        site: ArmSite = DEMO_ARM_SITE,
        host: str = "127.0.0.1",
        port: int = 0,
        clock: Clock | None = None,
        tls: LoopbackTLS | None = None,
        retry_after: int = 1,
        status_hold: float = 1.0,
        page_size: int = 100,
    ) -> None:
        """``retry_after`` is the Retry-After (seconds) of every long-running answer: the SDK sleeps it
        between status polls (it falls back to 30 s when it is 0, docs/domain.md §9.5). ``status_hold``
        bounds how long a status request waits for its operation to end before answering InProgress."""
        super().__init__(host=host, port=port, tls=tls)
        self.site = site
        self.store = ArmStore(site, clock or SystemClock())
        self.faults = ArmFaults()
        self._app = ArmApp(
            self.store, self.faults, retry_after=retry_after, status_hold=status_hold, page_size=page_size
        )
        # Between the store and where changes go: holding, failing, or the projection.
        self._gate = threading.Lock()
        self._target: Callable[[Change], None] | None = None
        self._held: list[Change] | None = None
        self._fail: list[dict[str, str]] = []
        self.store.set_sink(self._route)

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def endpoint(self) -> str:
        """The ARM endpoint clients use as ``base_url``, e.g. ``https://127.0.0.1:41234``."""
        return f"https://{self._host_in_url}:{self.port}"

    def start(self, ca_dir: Path | None = None) -> Self:
        """Write the CA file (into ``ca_dir``, else a temporary directory), bind and serve; returns once
        accepting connections."""
        if not self.running:
            self._launch(CA_FILE, ca_dir)
        return self

    def _build_app(self) -> web.Application:
        return self._app.build()

    # -- where changes go ---------------------------------------------------------------------

    def attach(self, target: Callable[[Change], None] | None) -> None:
        """Send every accepted write's :class:`Change` to ``target`` (the Arc projection), which completes
        its operation once applied (:meth:`complete`); None completes each operation at once."""
        with self._gate:
            self._target = target

    def complete(self, change: Change, error: Mapping[str, str] | None = None) -> None:
        """End the operation behind ``change`` (Succeeded, or Failed with ``error``)."""
        self.store.complete(change.operation_id, error)

    def _route(self, change: Change) -> None:
        # Called by the store under its lock, in the order writes were accepted. Decided under the gate,
        # acted on outside it: completing takes the store's lock, which release_operations does not hold.
        with self._gate:
            failure = self._fail.pop(0) if self._fail else None
            if failure is None and self._held is not None:
                self._held.append(change)
                return
            target = self._target
        if failure is not None:
            self.store.complete(change.operation_id, failure)
        elif target is None:
            self.store.complete(change.operation_id)
        else:
            target(change)

    # -- seeding and inspection ---------------------------------------------------------------

    def put_resource(
        self,
        kind: ArmKind,
        name: str,
        properties: Mapping[str, Any],
        *,
        tags: Mapping[str, str] | None = None,
    ) -> Operation:
        """Create or replace a resource on the site's custom location directly (no HTTP), as a PUT would;
        returns its operation (completed by the projection, or at once without one)."""
        body: dict[str, Any] = {
            "location": self.site.location,
            "extendedLocation": {"name": self.site.custom_location_id, "type": "CustomLocation"},
            "properties": dict(properties),
        }
        if tags:
            body["tags"] = dict(tags)
        return self.store.put(kind, name, body, api_version=SDK_API_VERSION)[3]

    def delete_resource(self, kind: ArmKind, name: str) -> Operation | None:
        """Start deleting a resource directly (no HTTP); None when it did not exist."""
        return self.store.delete(kind, name)

    def resource(self, kind: ArmKind, name: str) -> dict[str, Any] | None:
        """A copy of one resource as stored (every api-version's fields, ``etag`` included), or None."""
        found = self.store.find(kind, name)
        return found[0] if found is not None else None

    def resources(self, kind: ArmKind) -> list[dict[str, Any]]:
        """Copies of every resource of ``kind``, by name."""
        return self.store.of_kind(kind)

    def operations(self) -> list[Operation]:
        """Every operation so far, oldest first."""
        return self.store.operations()

    def wait_idle(self, timeout: float) -> bool:
        """Block until every operation has ended (True) or ``timeout`` seconds pass (False). With the Arc
        projection attached, an ended operation's change is on the cluster."""
        return self.store.wait_idle(timeout)

    def wait_operation(self, operation_id: str, timeout: float) -> Operation | None:
        """Block until one operation ends (or ``timeout`` passes) and return it."""
        return self.store.wait_operation(operation_id, timeout)

    # -- fault injection ----------------------------------------------------------------------

    def deny(self, *actions: str, kind: ArmKind | None = None) -> None:
        """Answer 403 AuthorizationFailed to ``actions`` (``read``, ``write``, ``delete``) on ``kind`` (both
        kinds when None); call with no action to allow everything again."""
        kinds = frozenset(ArmKind) if kind is None else frozenset({kind})
        self.faults.deny(frozenset(actions), kinds)

    def throttle(self, count: int, retry_after: float = 1.0) -> None:
        """Answer the next ``count`` authenticated requests with 429 and ``Retry-After`` (seconds)."""
        self.faults.throttle(count, retry_after)

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds`` (0 for none)."""
        self.faults.set_latency(seconds)

    def hold_operations(self) -> None:
        """Keep every new operation InProgress (nothing reaches the projection) until released."""
        with self._gate:
            if self._held is None:
                self._held = []

    def release_operations(self) -> None:
        """Let held operations go on, in order (to the projection, or complete at once)."""
        with self._gate:
            held, self._held = self._held or [], None
        for change in held:
            self._route(change)

    def fail_operations(
        self,
        count: int = 1,
        code: str = "ProvisioningFailed",
        message: str = "The demo failed this operation.",
    ) -> None:
        """End the next ``count`` operations Failed with ``code``/``message`` (the resource goes back to
        what it was, marked Failed), without touching the cluster."""
        with self._gate:
            self._fail = [{"code": code, "message": message} for _ in range(count)]

    def requests(self) -> list[RequestRecord]:
        """Every request served so far (method, path, query, bearer present, status, preconditions)."""
        return self.faults.requests()

    def clear_requests(self) -> None:
        """Forget the request log."""
        self.faults.clear_requests()


def start_arm_emulator(*, ca_dir: Path | None = None, **options: Any) -> ArmEmulator:
    """Start an emulator (see :class:`ArmEmulator` for ``options``) and return its handle."""
    return ArmEmulator(**options).start(ca_dir)
