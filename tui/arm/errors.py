"""ARM failures as one-line messages and read states, whatever layer of the Azure SDK raised them.

Like the vault's (``tui/vault/errors.py``; the adapters do not import each other, docs/design.md §2.2):
azure-identity (no credential, sign-in failed), the transport (connection refused, DNS, TLS, the call's
deadline) and the service (ARM's error envelope ``{"error": {"code", "message"}}``). Messages are built
from status codes, error codes and reasons only, never from request headers, so no token can leak into
them; control characters are escaped (:func:`tui.core.text.printable`).
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
from tui.core.text import printable

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


API_VERSION_REFUSALS = frozenset({"invalidapiversionparameter", "noregisteredproviderfound"})
"""ARM error codes that mean "this api-version is not served here" (try the other one)."""


class ArmError(Exception):
    """An ARM operation failed. ``str(error)`` is one line for the terminal; ``state`` classifies it."""

    def __init__(self, message: str, state: AreaState = AreaState.ERROR) -> None:
        super().__init__(one_line(message))
        self.state = state


class ArmConflict(ArmError):
    """A precondition no longer holds (412 on If-Match / If-None-Match, or 409): re-read and re-plan."""


def one_line(text: str, limit: int = _MAX_LINE) -> str:
    """Whitespace folded, control characters escaped, cut to ``limit`` characters."""
    flat = printable(" ".join(text.split()))
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _first_line(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


def error_code(exc: HttpResponseError) -> str | None:
    """The ``error.code`` of ARM's error envelope, when the response carried one."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else None


def is_api_version_refusal(exc: BaseException) -> bool:
    """Whether ARM refused the api-version (400 InvalidApiVersionParameter, NoRegisteredProviderFound)."""
    if not isinstance(exc, HttpResponseError) or exc.status_code not in (400, 404):
        return False
    return (error_code(exc) or "").lower() in API_VERSION_REFUSALS


def _service_detail(exc: HttpResponseError) -> str:
    code = error_code(exc)
    message = getattr(getattr(exc, "error", None), "message", None)
    if code and message:
        return f"{exc.status_code} {code}: {_first_line(Exception(message))}"
    if code:
        return f"{exc.status_code} {code}"
    return f"{exc.status_code} {exc.reason or 'error'}"


def _transport_reason(exc: AzureError) -> str:
    # urllib3 wraps the useful part ("[Errno 111] Connection refused") in object reprs; keep that part.
    found = _ERRNO.search(str(exc))
    return found.group(1).strip(" :") if found else _first_line(exc)


def classify(exc: BaseException) -> tuple[AreaState, str]:
    """The read state and one-line reason for an exception raised by an ARM call."""
    if isinstance(exc, ArmError):
        return exc.state, str(exc)
    if _credential_unavailable(exc):
        return AreaState.FORBIDDEN, f"no Azure credential available: {_first_line(exc)}"
    if isinstance(exc, ClientAuthenticationError) and exc.status_code is None:
        return AreaState.FORBIDDEN, f"sign-in failed: {_first_line(exc)}"
    if isinstance(exc, HttpResponseError):
        status = exc.status_code
        if status in (401, 403):
            return AreaState.FORBIDDEN, f"ARM refused the request ({_service_detail(exc)})"
        if status == 429:
            return AreaState.ERROR, f"ARM is throttling requests ({_service_detail(exc)})"
        if status is None:
            # An LRO that ended Failed or Canceled: azure-core raises without a status of its own.
            return AreaState.ERROR, f"the operation did not succeed: {_first_line(exc)}"
        return AreaState.ERROR, f"ARM error ({_service_detail(exc)})"
    if isinstance(exc, ServiceRequestError):
        reason = _transport_reason(exc)
        if "CERTIFICATE_VERIFY_FAILED" in reason:
            return AreaState.UNREACHABLE, (
                f"TLS verification of ARM failed ({reason}); set AIO_CERTS_ARM_CA to its CA bundle"
            )
        return AreaState.UNREACHABLE, f"cannot reach ARM: {reason}"
    if isinstance(exc, ServiceResponseTimeoutError):
        return AreaState.UNREACHABLE, "ARM did not answer in time (see --request-timeout)"
    if isinstance(exc, ServiceResponseError):
        return AreaState.UNREACHABLE, f"the connection to ARM broke: {_transport_reason(exc)}"
    return AreaState.ERROR, f"ARM error: {type(exc).__name__}: {_first_line(exc)}"


def to_arm_error(exc: BaseException, action: str) -> ArmError:
    """Wrap an SDK exception as an :class:`ArmError` (an :class:`ArmConflict` for 409 and 412)."""
    state, reason = classify(exc)
    if isinstance(exc, HttpResponseError) and exc.status_code in (409, 412):
        return ArmConflict(f"{action}: {reason}", state)
    return ArmError(f"{action}: {reason}", state)


@contextmanager
def arm_errors(action: str) -> Iterator[None]:
    """Turn SDK exceptions raised inside the block into :class:`ArmError` ("<action>: <reason>")."""
    try:
        yield
    except ArmError:
        raise
    except Exception as exc:  # any SDK, transport or credential failure becomes one line
        raise to_arm_error(exc, action) from exc
