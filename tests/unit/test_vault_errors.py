"""Vault failures become one-line messages and area states, whichever SDK layer raised them."""

from __future__ import annotations

import pytest
from azure.core.exceptions import (
    AzureError,
    ServiceRequestError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.identity import CredentialUnavailableError

from tui.core.model.snapshot import AreaState
from tui.vault.errors import VaultError, classify, one_line, vault_errors

REFUSED = (
    "<urllib3.connection.HTTPSConnection object at 0x7f00>: Failed to establish a new connection: "
    "[Errno 111] Connection refused"
)


def test_one_line_flattens_and_bounds() -> None:
    assert one_line("a\n  b\tc") == "a b c"
    long = one_line("x" * 500)
    assert len(long) == 300 and long.endswith("…")


def test_vault_error_message_is_one_line() -> None:
    error = VaultError("first\nsecond", AreaState.FORBIDDEN)
    assert (str(error), error.state) == ("first second", AreaState.FORBIDDEN)


@pytest.mark.parametrize(
    ("exc", "state", "message"),
    [
        (
            CredentialUnavailableError("DefaultAzureCredential failed to retrieve a token.\nAttempted: ..."),
            AreaState.FORBIDDEN,
            "no Azure credential available: DefaultAzureCredential failed to retrieve a token.",
        ),
        (
            ServiceRequestError(REFUSED),
            AreaState.UNREACHABLE,
            "cannot reach the vault: [Errno 111] Connection refused",
        ),
        (
            ServiceRequestError("[Errno -2] Name or service not known"),
            AreaState.UNREACHABLE,
            "cannot reach the vault: [Errno -2] Name or service not known",
        ),
        (
            ServiceResponseError("('Connection aborted.', RemoteDisconnected('closed'))"),
            AreaState.UNREACHABLE,
            "the connection to the vault broke: ('Connection aborted.', RemoteDisconnected('closed'))",
        ),
        # A stall cut off by the read timeout or --request-timeout: the vault did not answer, nothing broke.
        (
            ServiceResponseTimeoutError("Response timeout"),
            AreaState.UNREACHABLE,
            "the vault did not answer in time (see --request-timeout)",
        ),
        (AzureError("odd"), AreaState.ERROR, "vault error: odd"),
        (
            ValueError("The challenge resource 'vault.azure.net' does not match the requested domain."),
            AreaState.ERROR,
            "vault error: The challenge resource 'vault.azure.net' does not match the requested domain.",
        ),
    ],
)
def test_classify(exc: BaseException, state: AreaState, message: str) -> None:
    assert classify(exc) == (state, message)


def test_tls_failures_point_at_the_ca_setting() -> None:
    state, message = classify(
        ServiceRequestError(
            "HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded (Caused by "
            "SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify "
            "failed: unable to get local issuer certificate (_ssl.c:1006)')))"
        )
    )
    assert state is AreaState.UNREACHABLE
    assert message.startswith("TLS verification of the vault failed ([SSL: CERTIFICATE_VERIFY_FAILED]")
    assert message.endswith("; set AIO_CERTS_VAULT_CA to its CA bundle")


def test_vault_errors_wraps_sdk_failures_with_the_action() -> None:
    with pytest.raises(VaultError) as excinfo, vault_errors("reading secret x"):
        raise ServiceRequestError(REFUSED)
    assert str(excinfo.value) == "reading secret x: cannot reach the vault: [Errno 111] Connection refused"
    assert excinfo.value.state is AreaState.UNREACHABLE
    assert isinstance(excinfo.value.__cause__, ServiceRequestError)


def test_vault_errors_lets_our_own_errors_and_bugs_through() -> None:
    original = VaultError("already explained")
    with pytest.raises(VaultError) as excinfo, vault_errors("x"):
        raise original
    assert excinfo.value is original
    with pytest.raises(KeyError), vault_errors("x"):
        raise KeyError("bug")
