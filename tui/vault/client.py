"""Connecting to Key Vault and writing certificate files into it the way the official tooling does.

The vault URL comes from the SPC's ``keyvaultName`` and the cloud's DNS suffix, unless
``AIO_CERTS_VAULT_URL`` overrides it (the demo sets it). TLS is always verified: against the CA bundle
in ``AIO_CERTS_VAULT_CA`` when set, else the system trust store. The SDK's challenge-resource check
stays on too; the demo's emulator is built to pass it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    HttpResponseError,
    ServiceRequestTimeoutError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy, SansIOHTTPPolicy
from azure.core.pipeline.transport import HttpRequest, HttpResponse, RequestsTransport
from azure.keyvault.secrets import SecretClient, SecretProperties
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from tui.core.durations import worth_waiting
from tui.core.endpoints import vault_url_problem
from tui.core.text import printable
from tui.vault.credentials import make_credential
from tui.vault.errors import VaultError, vault_errors

VAULT_URL_ENV = "AIO_CERTS_VAULT_URL"
VAULT_CA_ENV = "AIO_CERTS_VAULT_CA"
CLOUD_DNS_SUFFIXES = {
    "AzureCloud": "vault.azure.net",
    "AzureChinaCloud": "vault.azure.cn",
    "AzureUSGovernment": "vault.usgovcloudapi.net",
}
# Key Vault names: 3-24 characters, letters, digits and single hyphens, starting with a letter.
_VAULT_NAME = re.compile(r"^[a-zA-Z](?!.*--)[a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$")
SECRET_NAME = re.compile(r"^[0-9a-zA-Z-]{1,127}$")
# Content types the official CLI (certs.py _upload_to_key_vault) sets, by file extension.
CONTENT_TYPES = {".crl": "application/pkix-crl", ".der": "application/pkix-cert"}
PEM_CONTENT_TYPE = "application/x-pem-file"
HEX_TAGS: Mapping[str, str] = {"file-encoding": "hex"}
# A dashboard must not hang for the SDK's 300 s defaults when a vault is unreachable.
DEFAULT_CONNECTION_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0


def vault_url_for(
    keyvault_name: str, cloud: str = "AzureCloud", *, env: Mapping[str, str] | None = None
) -> str:
    """The vault URL for ``keyvault_name`` in ``cloud``; ``AIO_CERTS_VAULT_URL`` wins when set."""
    source = os.environ if env is None else env
    override = source.get(VAULT_URL_ENV, "").strip()
    if override:
        return check_vault_url(override, origin=VAULT_URL_ENV)
    suffix = next((s for c, s in CLOUD_DNS_SUFFIXES.items() if c.lower() == cloud.strip().lower()), None)
    if suffix is None:
        raise VaultError(f"cloud '{cloud}': unknown, expected one of {', '.join(CLOUD_DNS_SUFFIXES)}")
    if not _VAULT_NAME.match(keyvault_name):
        raise VaultError(
            f"Key Vault name '{keyvault_name}': must be 3-24 letters, digits or single hyphens, "
            "starting with a letter"
        )
    return f"https://{keyvault_name.lower()}.{suffix}/"


def check_vault_url(url: str, *, origin: str = "vault URL") -> str:
    """Return ``url`` if it is an https URL with a host, else raise a one-line :class:`VaultError`.

    The rule is the core's (:func:`~tui.core.endpoints.vault_url_problem`), which ``--vault-url``
    is also checked with while the command line is parsed."""
    problem = vault_url_problem(url)
    if problem is not None:
        raise VaultError(f"{origin} '{printable(url)}': {problem}")
    return url


def vault_ca_bundle(ca_bundle: str | None = None, *, env: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle to verify the vault with: ``ca_bundle``, else ``AIO_CERTS_VAULT_CA``, else None
    (system trust). The file must exist."""
    source = os.environ if env is None else env
    chosen = ca_bundle or source.get(VAULT_CA_ENV, "").strip() or None
    if chosen is not None and not Path(chosen).is_file():
        raise VaultError(f"vault CA bundle '{chosen}': file not found")
    return chosen


_DEADLINE = "aio_certs_deadline"
"""Pipeline option: the ``time.monotonic()`` by which the whole call must be over."""


class CallDeadline(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Stamps each call with its deadline; runs once per call, before the retry policy."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        """Set the deadline of this call (every attempt and challenge round trip shares it)."""
        request.context.options[_DEADLINE] = time.monotonic() + self.seconds


class _Watch:
    """The connections one send uses, to cut at its deadline (:class:`DeadlineTransport`)."""

    def __init__(self) -> None:
        self.connections: list[Any] = []
        self.fired = False
        self.lock = threading.Lock()

    def add(self, connection: Any) -> None:
        """Watch ``connection`` (cut at once when the deadline has already passed)."""
        with self.lock:
            self.connections.append(connection)
            fired = self.fired
        if fired:
            _cut(connection)

    def fire(self) -> None:
        """The deadline passed: shut every watched socket, so a blocked read returns at once."""
        with self.lock:
            self.fired = True
            connections = list(self.connections)
        for connection in connections:
            _cut(connection)


def _cut(connection: Any) -> None:
    sock = getattr(connection, "sock", None)
    if isinstance(sock, socket.socket):
        # The plain socket's shutdown, not SSLSocket's (which would unwrap TLS under the reading thread):
        # the reader then sees end of file or an error at once.
        with contextlib.suppress(OSError):
            socket.socket.shutdown(sock, socket.SHUT_RDWR)


_calls = threading.local()
"""``watch``: the :class:`_Watch` of the send running on this thread, if any."""


def _watched(connection: Any) -> None:
    watch: _Watch | None = getattr(_calls, "watch", None)
    if watch is not None:
        watch.add(connection)


class _WatchedHTTPPool(HTTPConnectionPool):
    """Registers the connection each request uses with the running send's :class:`_Watch`."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _watched(conn)
        return super()._make_request(conn, *args, **kwargs)


class _WatchedHTTPSPool(HTTPSConnectionPool):
    """As :class:`_WatchedHTTPPool`, for https."""

    def _make_request(self, conn: Any, *args: Any, **kwargs: Any) -> Any:
        _watched(conn)
        return super()._make_request(conn, *args, **kwargs)


class DeadlineTransport(RequestsTransport):
    """The requests transport, but no send lasts past its call's deadline (see :class:`CallDeadline`).

    azure-core's RetryPolicy ``timeout`` only stops new attempts and caps the connect timeout: an attempt
    that has connected still waits its full read timeout, and the Key Vault challenge makes two sends per
    attempt. Capping both timeouts of every send to what is left of the call bounds each socket read;
    a server that trickles its answer a byte at a time never trips those, so a timer also shuts the
    send's sockets when the deadline passes (the wall clock, whatever the server does).
    """

    def _init_session(self, session: Any) -> None:
        super()._init_session(session)
        for adapter in session.adapters.values():
            manager = getattr(adapter, "poolmanager", None)
            if manager is not None:
                manager.pool_classes_by_scheme = {"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool}

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send ``request`` with its timeouts cut to the time left before the deadline, and its sockets
        shut when the deadline passes."""
        deadline = kwargs.pop(_DEADLINE, None)
        if deadline is None:
            return super().send(request, **kwargs)
        left = deadline - time.monotonic()
        if left <= 0:
            raise ServiceResponseTimeoutError("no answer within the request timeout")
        config = self.connection_config
        kwargs["connection_timeout"] = min(kwargs.get("connection_timeout") or config.timeout, left)
        kwargs["read_timeout"] = min(kwargs.get("read_timeout") or config.read_timeout, left)
        watch = _Watch()
        timer = threading.Timer(left, watch.fire)
        timer.daemon = True
        _calls.watch = watch
        timer.start()
        try:
            response = super().send(request, **kwargs)
        except Exception as exc:
            if watch.fired:
                raise ServiceResponseTimeoutError("no answer within the request timeout") from exc
            raise
        finally:
            timer.cancel()
            _calls.watch = None
        if watch.fired:  # cut mid-answer, the end of file read as the end of the answer: not an answer
            raise ServiceResponseTimeoutError("no answer within the request timeout")
        return response


_LAST = "aio_certs_last_failure"
"""Pipeline context key: what the call's last failed attempt got (an error, or the HTTP response)."""
_TIMEOUTS = (ServiceRequestTimeoutError, ServiceResponseTimeoutError)


class LastFailureRetry(RetryPolicy):
    """azure-core's retries, but a call whose time runs out says why its attempts failed.

    When the ``timeout`` ends the retries, azure-core raises "Request timeout" or "Response timeout",
    which hides what every attempt got: a vault whose certificate does not verify, or one answering
    HTTP 500, would be reported as one that did not answer in time. This raises the last attempt's own
    error (or an :class:`HttpResponseError` for its answer) instead; a timeout stays a timeout only when
    nothing else went wrong first. Its backoff sleeps also end at the call's deadline
    (:class:`CallDeadline`): azure-core's last sleep could otherwise run the call well past it; and a
    ``Retry-After`` that would leave the attempt after it no time is not waited for (:func:`worth_waiting`):
    the call ends with the vault's answer (429), which says "throttled" where a wait would end in "did not
    answer in time".
    """

    def increment(
        self,
        settings: dict[str, Any],
        response: PipelineRequest[Any] | PipelineResponse[Any, Any] | None = None,
        error: Exception | None = None,
    ) -> bool:
        """Remember the failure (a timeout does not replace an earlier real failure), then as azure-core."""
        if response is not None:
            context = response.context
            settings[_DEADLINE] = context.options.get(_DEADLINE)
            if error is not None:
                if not isinstance(error, _TIMEOUTS) or _LAST not in context:
                    context[_LAST] = error
            elif isinstance(response, PipelineResponse):
                context[_LAST] = response.http_response
        if not super().increment(settings, response=response, error=error):
            return False
        if error is None and isinstance(response, PipelineResponse):
            # A Retry-After the deadline cannot afford (or an hour's, with none): end with this answer now.
            deadline = settings.get(_DEADLINE)
            left = None if deadline is None else deadline - time.monotonic()
            return worth_waiting(self.get_retry_after(response), left)
        return True

    def _sleep_backoff(self, settings: dict[str, Any], transport: Any) -> None:
        """azure-core's backoff, cut to what is left before the call's deadline."""
        deadline = settings.get(_DEADLINE)
        backoff = self.get_backoff_time(settings)
        if deadline is not None:
            backoff = min(backoff, deadline - time.monotonic())
        if backoff > 0:
            transport.sleep(backoff)

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        """As azure-core; a timeout after failed attempts raises the last failure instead."""
        try:
            return super().send(request)
        except _TIMEOUTS as exc:
            last = request.context.get(_LAST)
            if isinstance(last, AzureError) and not isinstance(last, _TIMEOUTS):
                raise last from exc
            if last is not None and not isinstance(last, BaseException):
                raise HttpResponseError(response=last) from exc
            raise


def make_secret_client(
    vault_url: str,
    *,
    auth: str | None = None,
    credential: TokenCredential | None = None,
    ca_bundle: str | None = None,
    retry_total: int | None = None,
    retry_backoff_factor: float | None = None,
    retry_backoff_max: float | None = None,
    connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    timeout: float | None = None,
) -> SecretClient:
    """A ``SecretClient`` for ``vault_url`` with verified TLS and the credential for ``auth``.

    ``credential`` replaces the ``auth`` selection (tests, callers that share one). ``ca_bundle`` defaults
    to ``AIO_CERTS_VAULT_CA``. Retry overrides exist so tests and health checks can fail fast.
    ``timeout`` (``--request-timeout``) bounds every call in seconds, its retries, backoff and the
    challenge round trip included: no attempt starts, and no send waits, past it. The credential's own
    token requests are not covered (azure-identity bounds those).
    """
    check_vault_url(vault_url)
    verify = vault_ca_bundle(ca_bundle)
    chosen = credential if credential is not None else make_credential(auth, vault_url=vault_url)
    if timeout is not None:
        connection_timeout, read_timeout = min(connection_timeout, timeout), min(read_timeout, timeout)
    transport: dict[str, Any] = {"connection_timeout": connection_timeout, "read_timeout": read_timeout}
    if verify is not None:
        # A path, not an SSLContext: requests would otherwise fall back to REQUESTS_CA_BUNDLE.
        transport["connection_verify"] = verify
    options: dict[str, Any] = dict(transport)
    if timeout is not None:
        options.update(
            transport=DeadlineTransport(**transport), per_call_policies=[CallDeadline(timeout)]
        )  # and the retry policy below: no new attempt after this many seconds
    retry: dict[str, Any] = {"timeout": timeout} if timeout is not None else {}
    for key, value in (
        ("retry_total", retry_total),
        ("retry_backoff_factor", retry_backoff_factor),
        ("retry_backoff_max", retry_backoff_max),
    ):
        if value is not None:
            retry[key] = value
    options["retry_policy"] = LastFailureRetry(**retry)
    return SecretClient(vault_url, chosen, **options)


def content_type_for(extension: str) -> str:
    """The content type the official tooling stores for a file extension (``.der`` or ``der``)."""
    normalized = "." + extension.lower().lstrip(".")
    return CONTENT_TYPES.get(normalized, PEM_CONTENT_TYPE)


def write_hex_secret(
    client: SecretClient,
    name: str,
    file_bytes: bytes,
    *,
    extension: str,
    expires_on: datetime | None = None,
) -> SecretProperties:
    """Store a certificate/CRL file as the official tooling does: lower-case hex of the whole file, tag
    ``file-encoding=hex``, content type by extension. Returns the new version's properties."""
    if not SECRET_NAME.match(name):
        raise VaultError(f"secret name '{name}': must be 1-127 letters, digits or hyphens")
    with vault_errors(f"writing secret {name}"):
        secret = client.set_secret(
            name,
            file_bytes.hex(),
            content_type=content_type_for(extension),
            tags=dict(HEX_TAGS),
            expires_on=expires_on,
        )
    return secret.properties
