"""Vault failures as one-line messages and read states, whatever layer of the Azure SDK raised them.

The SDK raises from three places: azure-identity (no credential, sign-in failed), the transport
(connection refused, DNS, TLS) and the service (401/403/404/429 envelopes). The dashboard shows a
vault area state and a one-line reason; the CLI prints the same line and exits non-zero. Messages are
built from codes and reasons only, never from request headers, so no token can leak into them.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)

from tui.core.model.snapshot import AreaState

_MAX_LINE = 300
_ERRNO = re.compile(r"(\[Errno -?\d+\][^'\")]*|\[SSL[^\]]*\][^'\")]*)")


def _credential_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` is azure-identity's CredentialUnavailableError.

    azure-identity is imported only when a credential that signs in for real is built
    (tui/vault/credentials.py; not for ``--auth demo``): until then none of its exceptions can exist, and
    this check must not import it.
    """
    identity = sys.modules.get("azure.identity")
    unavailable = getattr(identity, "CredentialUnavailableError", None)
    return isinstance(unavailable, type) and isinstance(exc, unavailable)


class VaultError(Exception):
    """A vault operation failed. ``str(error)`` is one line for the terminal; ``state`` classifies it;
    ``status`` is the service's HTTP status when it answered (409: the name is deleted but recoverable,
    or being deleted or purged, docs/domain.md §6.5)."""

    def __init__(
        self, message: str, state: AreaState = AreaState.ERROR, *, status: int | None = None
    ) -> None:
        super().__init__(one_line(message))
        self.state = state
        self.status = status


def one_line(text: str, limit: int = _MAX_LINE) -> str:
    """Collapse whitespace (SDK messages span lines) and cut to ``limit`` characters."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def _service_detail(exc: HttpResponseError) -> str:
    status = exc.status_code
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    message = getattr(error, "message", None)
    if code and message:
        return f"{status} {code}: {message}"
    return f"{status} {exc.reason or _first_line(exc)}"


def _transport_reason(exc: AzureError) -> str:
    # urllib3 wraps the useful part ("[Errno 111] Connection refused") in object reprs; keep that part.
    text = str(exc)
    found = _ERRNO.search(text)
    return found.group(1).strip(" :") if found else _first_line(exc)


def classify(exc: BaseException) -> tuple[AreaState, str]:
    """The read state and one-line reason for an exception raised by a vault call."""
    if isinstance(exc, VaultError):
        return exc.state, str(exc)
    if _credential_unavailable(exc):
        return AreaState.FORBIDDEN, f"no Azure credential available: {_first_line(exc)}"
    if isinstance(exc, ClientAuthenticationError):
        if exc.status_code == 401:
            return AreaState.FORBIDDEN, f"the vault refused the credential ({_service_detail(exc)})"
        return AreaState.FORBIDDEN, f"sign-in failed: {_first_line(exc)}"
    if isinstance(exc, HttpResponseError):
        if exc.status_code == 403:
            return AreaState.FORBIDDEN, f"access denied ({_service_detail(exc)})"
        if exc.status_code == 429:
            return AreaState.ERROR, f"the vault is throttling requests ({_service_detail(exc)})"
        return AreaState.ERROR, f"vault error ({_service_detail(exc)})"
    if isinstance(exc, ServiceRequestError):
        reason = _transport_reason(exc)
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            return AreaState.UNREACHABLE, (
                f"TLS verification of the vault failed ({reason}); set AIO_CERTS_VAULT_CA to its CA bundle"
            )
        return AreaState.UNREACHABLE, f"cannot reach the vault: {reason}"
    if isinstance(exc, ServiceResponseTimeoutError):
        # A stalled vault, cut off by the read timeout or --request-timeout: "broke" would mislead.
        return AreaState.UNREACHABLE, "the vault did not answer in time (see --request-timeout)"
    if isinstance(exc, ServiceResponseError):
        return AreaState.UNREACHABLE, f"the connection to the vault broke: {_transport_reason(exc)}"
    if isinstance(exc, AzureError):
        return AreaState.ERROR, f"vault error: {_first_line(exc)}"
    # The Key Vault challenge policy raises ValueError when the vault's challenge names another domain.
    return AreaState.ERROR, f"vault error: {_first_line(exc)}"


def to_vault_error(exc: BaseException, action: str) -> VaultError:
    """Wrap an SDK exception as a :class:`VaultError` whose message starts with ``action``."""
    state, reason = classify(exc)
    status = exc.status_code if isinstance(exc, HttpResponseError) else None
    return VaultError(f"{action}: {reason}", state, status=status)


@contextmanager
def vault_errors(action: str) -> Iterator[None]:
    """Turn SDK exceptions raised inside the block into :class:`VaultError` ("<action>: <reason>")."""
    try:
        yield
    except VaultError:
        raise
    except (AzureError, ValueError) as exc:
        raise to_vault_error(exc, action) from exc
