"""Connecting to Azure Resource Manager for the list resources: endpoint, TLS, api-version, deadline.

The endpoint is ``AIO_CERTS_ARM_ENDPOINT`` when set (the demo's emulator), else the one of ``--cloud``
(docs/domain.md §9.4). TLS is always verified: against ``AIO_CERTS_ARM_CA`` when set, else the system
trust store. Two api-versions are in use for ``Microsoft.SecretSyncController``: the official CLI's
(:data:`~tui.core.model.arm.CLI_API_VERSION`) and the installed SDK's default; a client starts with the
CLI's and switches to the other when ARM refuses it, remembering the choice per endpoint.

Every call is bounded by one deadline (``--request-timeout``): the first request, the SDK's retries,
each poll of a long-running operation and the sleeps between polls (Retry-After honoured but cut to
what is left), as the vault adapter does for its calls (``tui/vault/client.py``).
"""

from __future__ import annotations

import ipaddress
import os
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from azure.core import AzureClouds
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ServiceResponseTimeoutError
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import RetryPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.mgmt.core.polling.arm_polling import ARMPolling
from azure.mgmt.core.tools import get_arm_endpoints
from azure.mgmt.secretsstoreextension import SecretsStoreExtensionMgmtClient
from azure.mgmt.secretsstoreextension._configuration import SecretsStoreExtensionMgmtClientConfiguration

from tui.arm.errors import ArmError
from tui.core.durations import worth_waiting
from tui.core.model.arm import CLI_API_VERSION
from tui.core.model.snapshot import AreaState

ARM_ENDPOINT_ENV = "AIO_CERTS_ARM_ENDPOINT"
ARM_CA_ENV = "AIO_CERTS_ARM_CA"
CLOUD_ENDPOINTS = {
    "AzureCloud": "https://management.azure.com",
    "AzureChinaCloud": "https://management.chinacloudapi.cn",
    "AzureUSGovernment": "https://management.usgovcloudapi.net",
}
DEFAULT_CLOUD = "AzureCloud"
POLLING_INTERVAL = 1.0
"""Seconds between polls of a long-running operation when ARM sends no Retry-After (the SDK's 30 s would
make every apply wait half a minute per write)."""
DEFAULT_CONNECTION_TIMEOUT = 10.0
DEFAULT_READ_TIMEOUT = 60.0
DEADLINE_OPTION = "aio_certs_arm_deadline"
"""Per-call option (a ``time.monotonic()`` value) that every send and poll of one operation shares."""


def sdk_api_version() -> str:
    """The api-version the installed ``azure-mgmt-secretsstoreextension`` sends by default."""
    config = SecretsStoreExtensionMgmtClientConfiguration(
        credential=_NoCredential(), subscription_id="00000000-0000-0000-0000-000000000000", base_url=""
    )
    return str(config.api_version)


class _NoCredential:
    """A stand-in to read the SDK configuration's defaults; never asked for a token."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """Never called."""
        raise AssertionError("no token is needed to read the configuration")


def api_versions() -> tuple[str, ...]:
    """The api-versions to try, in order: the official CLI's, then the SDK's default (when different)."""
    return tuple(dict.fromkeys((CLI_API_VERSION, sdk_api_version())))


class ApiVersionMemory:
    """Which api-version each endpoint answered to last: later clients start there."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._chosen: dict[str, str] = {}

    def first(self, endpoint: str) -> str:
        """The api-version to try first on ``endpoint``."""
        with self._lock:
            return self._chosen.get(endpoint.rstrip("/").lower(), api_versions()[0])

    def remember(self, endpoint: str, version: str) -> None:
        """``endpoint`` served ``version``."""
        with self._lock:
            self._chosen[endpoint.rstrip("/").lower()] = version

    def order(self, endpoint: str) -> tuple[str, ...]:
        """Every api-version, the remembered one first."""
        first = self.first(endpoint)
        return (first, *(v for v in api_versions() if v != first))


API_VERSIONS = ApiVersionMemory()
"""The process's memory of api-versions per endpoint (every client of a run shares it)."""


def arm_endpoint(cloud: str | None = None, *, env: Mapping[str, str] | None = None) -> str:
    """The ARM endpoint: ``AIO_CERTS_ARM_ENDPOINT`` when set, else ``cloud``'s (default AzureCloud)."""
    source = os.environ if env is None else env
    override = source.get(ARM_ENDPOINT_ENV, "").strip()
    if override:
        return check_endpoint(override, origin=ARM_ENDPOINT_ENV)
    wanted = (cloud or DEFAULT_CLOUD).strip().lower()
    endpoint = next((e for c, e in CLOUD_ENDPOINTS.items() if c.lower() == wanted), None)
    if endpoint is None:
        raise ArmError(f"cloud '{cloud}': unknown, expected one of {', '.join(CLOUD_ENDPOINTS)}")
    return endpoint


def check_endpoint(url: str, *, origin: str = "ARM endpoint") -> str:
    """``url`` without a trailing slash if it is an https URL with a host, else a one-line ArmError."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ArmError(f"{origin} '{url}': must be an https:// URL (ARM refuses tokens over http)")
    return url.rstrip("/")


def arm_ca_bundle(ca_bundle: str | None = None, *, env: Mapping[str, str] | None = None) -> str | None:
    """The CA bundle to verify ARM with: ``ca_bundle``, else ``AIO_CERTS_ARM_CA``, else None (system
    trust). The file must exist."""
    source = os.environ if env is None else env
    chosen = ca_bundle or source.get(ARM_CA_ENV, "").strip() or None
    if chosen is not None and not Path(chosen).is_file():
        raise ArmError(f"ARM CA bundle '{chosen}': file not found")
    return chosen


def credential_scopes(endpoint: str) -> list[str]:
    """The token scope for ``endpoint``: the cloud's as azure-mgmt-core knows it (US Government's ARM
    audience is ``management.core.usgovcloudapi.net``, not its host), else the endpoint's ``/.default``
    (the demo's emulator, which takes any token)."""
    wanted = endpoint.rstrip("/").lower()
    for cloud in AzureClouds:
        try:
            known = get_arm_endpoints(cloud)
        except ValueError:  # a cloud azure-mgmt-core has no endpoints for
            continue
        if str(known["resource_manager"]).rstrip("/").lower() == wanted:
            return list(known["credential_scopes"])
    return [f"{endpoint.rstrip('/')}/.default"]


def remaining(deadline: float | None) -> float | None:
    """Seconds left before ``deadline`` (None: unbounded); raises the SDK's timeout once it has passed."""
    if deadline is None:
        return None
    left = deadline - time.monotonic()
    if left <= 0:
        raise ServiceResponseTimeoutError("no answer within the request timeout")
    return left


class DeadlineTransport(RequestsTransport):
    """The requests transport, but no send waits past its operation's deadline.

    azure-core's retry ``timeout`` only stops new attempts: an attempt that has connected still waits its
    full read timeout, and a long-running operation makes one call per poll. Capping both timeouts of
    every send to what is left of the operation bounds the whole of it.
    """

    def send(self, request: Any, **kwargs: Any) -> Any:
        """Send ``request`` with its timeouts cut to the time left before the deadline."""
        left = remaining(kwargs.pop(DEADLINE_OPTION, None))
        if left is not None:
            config = self.connection_config
            kwargs["connection_timeout"] = min(kwargs.get("connection_timeout") or config.timeout, left)
            kwargs["read_timeout"] = min(kwargs.get("read_timeout") or config.read_timeout, left)
        return super().send(request, **kwargs)


class ThrottleAwareRetry(RetryPolicy):
    """azure-core's retries, except that a ``Retry-After`` the operation's deadline cannot afford (see
    :func:`~tui.core.durations.worth_waiting`) is not waited for: the call ends with ARM's answer (429),
    which says "throttled", where the SDK would sleep the whole hour ARM may ask for. Unlike the vault's
    policy this one does not replace a later timeout with an earlier failure: a wait is taken only when a
    second is left after it, so an ARM that answers within that second is not reported as having "not
    answered in time"; one that takes longer still is."""

    def increment(
        self,
        settings: dict[str, Any],
        response: PipelineRequest[Any] | PipelineResponse[Any, Any] | None = None,
        error: Exception | None = None,
    ) -> bool:
        """As azure-core, then no retry when the throttled answer asks for a wait the call cannot afford."""
        if not super().increment(settings, response=response, error=error):
            return False
        if error is None and isinstance(response, PipelineResponse):
            deadline = response.context.options.get(DEADLINE_OPTION)
            left = None if deadline is None else deadline - time.monotonic()
            return worth_waiting(self.get_retry_after(response), left)
        return True


class BoundedPolling(ARMPolling):
    """ARM's LRO polling (Azure-AsyncOperation, Location, the resource's provisioningState), sleeping as
    Retry-After says but never past the operation's deadline."""

    def __init__(self, interval: float, endpoint: str, deadline: float | None) -> None:
        super().__init__(interval, path_format_arguments={"endpoint": endpoint})
        # The deadline rides along as an operation option: every poll's send gets it (DeadlineTransport).
        self._operation_config[DEADLINE_OPTION] = deadline
        self._deadline = deadline

    def _sleep(self, delay: float) -> None:
        left = remaining(self._deadline)
        super()._sleep(delay if left is None else min(delay, left))


def make_mgmt_client(
    endpoint: str,
    subscription: str,
    *,
    credential: TokenCredential,
    api_version: str,
    ca_bundle: str | None = None,
    timeout: float | None = None,
    retry_total: int | None = None,
    connection_timeout: float = DEFAULT_CONNECTION_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
) -> SecretsStoreExtensionMgmtClient:
    """A ``SecretsStoreExtensionMgmtClient`` for ``endpoint`` with verified TLS and ``api_version``.

    ``timeout`` (``--request-timeout``) also caps each send's connect and read timeouts; the per-call
    deadline is given by the caller as :data:`DEADLINE_OPTION`.
    """
    verify = arm_ca_bundle(ca_bundle)
    if timeout is not None:
        connection_timeout, read_timeout = min(connection_timeout, timeout), min(read_timeout, timeout)
    transport: dict[str, Any] = {"connection_timeout": connection_timeout, "read_timeout": read_timeout}
    if verify is not None:
        # A path, not an SSLContext: requests would otherwise fall back to REQUESTS_CA_BUNDLE.
        transport["connection_verify"] = verify
    options: dict[str, Any] = {
        **transport,
        "transport": DeadlineTransport(**transport),
        "api_version": api_version,
        "polling_interval": POLLING_INTERVAL,
        "credential_scopes": credential_scopes(endpoint),
    }
    if timeout is not None:
        options["timeout"] = timeout  # RetryPolicy: no new attempt after this many seconds
    if retry_total is not None:
        options["retry_total"] = retry_total
    # Built from the same options the client would build azure-core's RetryPolicy from.
    options["retry_policy"] = ThrottleAwareRetry(**options)
    return SecretsStoreExtensionMgmtClient(credential, subscription, base_url=endpoint, **options)


def refuse_demo_for(endpoint: str, *, demo: bool) -> None:
    """The demo credential's placeholder token goes to a loopback endpoint only (as for the vault)."""
    if demo and not is_loopback(endpoint):
        host = urlsplit(endpoint).hostname or endpoint
        raise ArmError(
            f"auth mode 'demo': refused for ARM host {host}; it only works with the embedded demo's "
            "loopback ARM",
            AreaState.FORBIDDEN,
        )


def is_loopback(url: str) -> bool:
    """Whether the URL's host is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
