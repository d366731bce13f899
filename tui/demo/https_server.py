"""An aiohttp app served over HTTPS on loopback from its own thread: the lifecycle the demo's Key Vault
and ARM emulators share.

Each emulator runs an event loop on a daemon thread so that sync code (the CLI, the tests, the demo's
controllers) can start, stop and break it. A subclass builds its :class:`aiohttp.web.Application`
(:meth:`LoopbackHttpsServer._build_app`) and may hook into shutdown; this class owns the thread, the
listener with its throwaway TLS identity (clients keep verification on against ``ca_pem_path``), the
outage switch (:meth:`LoopbackHttpsServer.set_unreachable`) and the temporary directory.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from concurrent.futures import Future
from pathlib import Path
from types import TracebackType
from typing import Self

from aiohttp import web

from tui.demo.tls import LoopbackTLS, make_loopback_tls

JOIN_SECONDS = 30.0
"""How long start, stop and the outage switch wait for the server thread."""


class LoopbackHttpsServer:
    """Thread, listener and TLS of one emulator; subclasses supply the app (:meth:`_build_app`)."""

    label = "emulator"
    """Named in errors, e.g. "ARM emulator cannot listen on ..."."""
    thread_name = "emulator"
    temp_prefix = "aio-certs-emulator-"

    def __init__(self, *, host: str, port: int, tls: LoopbackTLS | None) -> None:
        """``port`` 0 takes a free one (:attr:`port` holds it once started)."""
        self.host = host
        self.port = port
        self._tls = tls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._temp_dir: Path | None = None
        self.ca_pem_path: Path | None = None

    def _build_app(self) -> web.Application:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        """Whether the server thread is up."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def _host_in_url(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def _launch(self, ca_file: str, ca_dir: Path | None) -> None:
        """Write the CA file (into ``ca_dir``, else a temporary directory), bind and serve; returns once
        accepting connections, or raises what kept the server from starting."""
        if ca_dir is None:
            self._temp_dir = Path(tempfile.mkdtemp(prefix=self.temp_prefix))
            ca_dir = self._temp_dir
        self._tls = self._tls or make_loopback_tls()
        self.ca_pem_path = self._tls.write_ca(ca_dir / ca_file)
        ready: Future[None] = Future()
        self._thread = threading.Thread(target=self._serve, args=(ready,), name=self.thread_name, daemon=True)
        self._thread.start()
        try:
            ready.result(timeout=JOIN_SECONDS)
        except BaseException:
            self._thread.join(timeout=5)
            self._thread = None
            self._cleanup_temp()
            raise

    def _serve(self, ready: Future[None]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._startup())
        except BaseException as exc:
            ready.set_exception(exc)
            loop.close()
            return
        ready.set_result(None)
        try:
            loop.run_forever()
        finally:
            loop.close()

    async def _startup(self) -> None:
        # access_log=None: the demo must not write to the terminal the dashboard draws on.
        self._runner = web.AppRunner(self._build_app(), access_log=None, handle_signals=False)
        await self._runner.setup()
        await self._open_site()

    async def _open_site(self) -> None:
        assert self._runner is not None and self._tls is not None
        site = web.TCPSite(
            self._runner, self.host, self.port, ssl_context=self._tls.server_context, reuse_address=True
        )
        try:
            await site.start()
        except OSError as exc:
            raise OSError(
                exc.errno, f"{self.label} cannot listen on {self.host}:{self.port}: {exc.strerror}"
            ) from None
        self._site = site
        self.port = site.port

    async def _close_site(self) -> None:
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            # Closing the listener leaves keep-alive connections open; an outage must drop them too.
            for connection in self._runner.server.connections:
                connection.force_close()

    async def _reopen_site(self) -> None:
        if self._site is None:
            await self._open_site()

    def set_unreachable(self, unreachable: bool) -> None:
        """Simulate an outage: close the listener and drop open connections (clients see connection
        refused or reset); False listens again on the same port."""
        loop = self._loop
        if loop is None:
            raise RuntimeError(f"the {self.label} is not running")
        action = self._close_site() if unreachable else self._reopen_site()
        asyncio.run_coroutine_threadsafe(action, loop).result(timeout=JOIN_SECONDS)

    def _stop_serving(self) -> None:
        """End the listener, the app and the thread. Idempotent."""
        loop, thread = self._loop, self._thread
        if loop is not None and thread is not None and thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._shutdown(), loop).result(timeout=JOIN_SECONDS)
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=JOIN_SECONDS)
        self._thread = self._loop = None

    async def _before_shutdown(self) -> None:
        """A subclass's last work on the server loop before the listener closes."""

    async def _shutdown(self) -> None:
        await self._before_shutdown()
        await self._close_site()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _cleanup_temp(self) -> None:
        if self._temp_dir is not None:
            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._temp_dir = None

    def start(self) -> Self:
        """Bind and serve; subclasses say where the CA file goes."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop serving and remove temporary files. Idempotent."""
        self._stop_serving()
        self._cleanup_temp()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
