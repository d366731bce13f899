"""The demo's Key Vault: an HTTPS emulator the real ``SecretClient`` works against, run from sync code.

:func:`start_keyvault_emulator` serves a :class:`~tui.demo.keyvault.store.KeyVaultStore` on loopback in a
background thread with its own event loop, and returns a :class:`KeyVaultEmulator` handle that is safe to
use from any thread: seed secrets directly, compare whole-vault snapshots, inject throttling, denied
permissions or an outage, and stop it. No global state: several emulators can run side by side.

Vault URL form: ``https://127.0.0.1:PORT/`` (an IPv4 literal). With it the emulator advertises
``resource="https://0.0.1:PORT"`` in its challenge, which passes the SDK's challenge-resource check, so
clients keep ``verify_challenge_resource`` on exactly as in production. Clients trust the emulator
through ``ca_pem_path`` (``connection_verify=<path>``); TLS verification stays on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Self

from aiohttp import web

from tui.core.clock import Clock, SystemClock
from tui.demo.https_server import LoopbackHttpsServer
from tui.demo.keyvault.server import DEMO_TENANT_ID, Faults, KeyVaultApp, RequestRecord
from tui.demo.keyvault.store import KeyVaultStore
from tui.demo.tls import LoopbackTLS

log = logging.getLogger(__name__)

STATE_FILE = "keyvault.json"
CA_FILE = "vault-ca.pem"


class KeyVaultEmulator(LoopbackHttpsServer):
    """Handle on one running (or startable) Key Vault emulator."""

    label = "Key Vault emulator"
    thread_name = "keyvault-emulator"
    temp_prefix = "aio-certs-kv-"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        state_dir: Path | None = None,
        clock: Clock | None = None,
        tenant_id: str = DEMO_TENANT_ID,
        soft_delete: bool = True,
        recoverable_days: int = 90,
        resource: str | None = None,
        tls: LoopbackTLS | None = None,
        flush_delay: float = 0.2,
    ) -> None:
        super().__init__(host=host, port=port, tls=tls)
        self.state_dir = state_dir
        self.store = KeyVaultStore(
            clock=clock or SystemClock(), soft_delete=soft_delete, recoverable_days=recoverable_days
        )
        self.faults = Faults()
        self._flush_delay = flush_delay
        self._app = KeyVaultApp(
            self.store, self.faults, tenant_id=tenant_id, resource=resource, on_change=self._changed
        )
        self._flush_handle: asyncio.TimerHandle | None = None
        self._dirty = False
        self._dirty_lock = threading.Lock()

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The vault URL clients use, e.g. ``https://127.0.0.1:41234/``."""
        return f"https://{self._host_in_url}:{self.port}/"

    def start(self) -> Self:
        """Load persisted state, write the CA file, bind and serve; returns once accepting connections."""
        if self.running:
            return self
        ca_dir = None
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self._load_state(self.state_dir / STATE_FILE)
            ca_dir = self.state_dir
        self._launch(CA_FILE, ca_dir)
        return self

    def _build_app(self) -> web.Application:
        return self._app.build()

    def stop(self) -> None:
        """Stop serving, flush persisted state, remove temporary files. Idempotent."""
        self._stop_serving()
        self._flush()
        self._cleanup_temp()

    async def _before_shutdown(self) -> None:
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None

    # -- seeding and inspection ---------------------------------------------------------------

    def put_secret(
        self,
        name: str,
        value: str,
        content_type: str | None = None,
        tags: Mapping[str, str] | None = None,
        *,
        enabled: bool = True,
        not_before: datetime | None = None,
        expires_on: datetime | None = None,
    ) -> str:
        """Add a version directly to the store (no HTTP) and return its version id."""
        record = self.store.set_secret(
            name,
            value,
            content_type=content_type,
            tags=tags,
            enabled=enabled,
            not_before=int(not_before.timestamp()) if not_before else None,
            expires=int(expires_on.timestamp()) if expires_on else None,
        )
        self._changed()
        return record.latest.version

    def snapshot(self) -> dict[str, Any]:
        """The whole vault state as plain data; equal snapshots mean nothing changed."""
        return self.store.export()

    # -- fault injection ----------------------------------------------------------------------

    def throttle(self, count: int, retry_after: float = 1.0) -> None:
        """Answer the next ``count`` requests with 429 Throttled and ``Retry-After`` (seconds, may be 0)."""
        self.faults.throttle(count, retry_after)

    def deny(self, *permissions: str) -> None:
        """Answer 403 to operations needing these permissions (get, list, set, delete, recover, purge,
        backup, restore); call with none to allow everything again."""
        self.faults.deny(frozenset(permissions))

    def set_latency(self, seconds: float) -> None:
        """Delay every answer by ``seconds``, as a vault across a WAN would (0 for none)."""
        self.faults.set_latency(seconds)

    def requests(self) -> list[RequestRecord]:
        """Every request served so far (method, path, query, whether a bearer came, status)."""
        return self.faults.requests()

    def clear_requests(self) -> None:
        """Forget the request log."""
        self.faults.clear_requests()

    # -- persistence --------------------------------------------------------------------------

    def _load_state(self, path: Path) -> None:
        if not path.exists():
            return
        try:
            self.store.load(json.loads(path.read_text(encoding="utf-8")))
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"Key Vault state file {path}: cannot be loaded ({exc})") from None

    def _changed(self) -> None:
        if self.state_dir is None:
            return
        with self._dirty_lock:
            self._dirty = True
        loop = self._loop
        if loop is not None and loop.is_running():
            # Debounced: seeding thousands of secrets or a burst of writes costs one file write.
            loop.call_soon_threadsafe(self._schedule_flush)

    def _schedule_flush(self) -> None:
        if self._flush_handle is None and self._loop is not None:
            self._flush_handle = self._loop.call_later(self._flush_delay, self._timed_flush)

    def _timed_flush(self) -> None:
        self._flush_handle = None
        self._flush()

    def _flush(self) -> None:
        if self.state_dir is None:
            return
        with self._dirty_lock:
            if not self._dirty:
                return
            self._dirty = False
        path = self.state_dir / STATE_FILE
        temp = path.with_suffix(".tmp")
        try:
            temp.write_text(json.dumps(self.store.export()), encoding="utf-8")
            os.replace(temp, path)
        except OSError as exc:
            log.warning("Key Vault emulator could not save %s: %s", path, exc.strerror)
            with contextlib.suppress(OSError):
                temp.unlink()


def start_keyvault_emulator(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    state_dir: Path | None = None,
    clock: Clock | None = None,
    **options: Any,
) -> KeyVaultEmulator:
    """Start an emulator (see :class:`KeyVaultEmulator` for ``options``) and return its handle."""
    return KeyVaultEmulator(host=host, port=port, state_dir=state_dir, clock=clock, **options).start()
