"""Which Azure credential signs vault requests: ``--auth`` / ``AIO_CERTS_AUTH`` to an azure-identity object.

Modes: ``default`` (DefaultAzureCredential chain), ``cli`` (az login), ``managed-identity``,
``device-code`` (prompt on stderr: what works over SSH), ``workload-identity`` (federated token file,
as in a pod) and ``demo``: a fixed placeholder token for the embedded demo's emulator, refused for
any vault that is not on loopback so it can never be sent to a real service.

azure-identity (about 35 ms to import, with msal) is imported only when a mode that needs it is built:
the demo credential and the checks here need none of it, so ``status`` against the demo never loads it.
"""

from __future__ import annotations

import ipaddress
import os
import sys
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TextIO
from urllib.parse import urlsplit

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential

from tui.core.durations import screen_time
from tui.core.model.snapshot import AreaState
from tui.vault.errors import VaultError
from tui.vault.sdk_imports import IDENTITY, import_sdk

AUTH_MODES = ("default", "cli", "managed-identity", "device-code", "workload-identity", "demo")
AUTH_ENV = "AIO_CERTS_AUTH"
DEMO_TOKEN = "aio-certs-demo-placeholder"  # not a secret: the demo emulator accepts any bearer
_TOKEN_LIFETIME = 3600
# The vault's challenge names its tenant; the credential must be allowed to ask for a token there.
_ANY_TENANT = ["*"]
# Entra ID's authority hosts per cloud, as azure.identity.AzureAuthorityHosts names them (equal values,
# tested), kept here so that choosing one does not import azure-identity.
AUTHORITY_PUBLIC = "login.microsoftonline.com"
AUTHORITY_CHINA = "login.chinacloudapi.cn"
AUTHORITY_GOVERNMENT = "login.microsoftonline.us"


def resolve_auth(auth: str | None, env: Mapping[str, str] | None = None) -> str:
    """The auth mode to use: ``auth`` if given, else ``AIO_CERTS_AUTH``, else ``default``."""
    source = os.environ if env is None else env
    chosen = (auth or source.get(AUTH_ENV) or "default").strip().lower()
    if chosen not in AUTH_MODES:
        raise VaultError(f"auth mode '{chosen}': unknown, expected one of {', '.join(AUTH_MODES)}")
    return chosen


def is_loopback_url(url: str) -> bool:
    """Whether the URL's host is a loopback address (127.0.0.0/8, ::1) or ``localhost``."""
    host = (urlsplit(url).hostname or "").rstrip(".").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authority_for(vault_url: str) -> str:
    """The Entra ID authority host for the cloud a vault or ARM URL belongs to (public cloud by default)."""
    host = (urlsplit(vault_url).hostname or "").lower()
    # Key Vault (vault.azure.cn) and ARM (management.chinacloudapi.cn) hosts of each sovereign cloud.
    if host.endswith((".vault.azure.cn", ".chinacloudapi.cn")):
        return AUTHORITY_CHINA
    if host.endswith(".usgovcloudapi.net"):
        return AUTHORITY_GOVERNMENT
    return AUTHORITY_PUBLIC


class DemoCredential:
    """A static placeholder token for the demo's loopback Key Vault emulator (which accepts any)."""

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """Return the placeholder token."""
        # azure-core compares expiry with the wall clock, so this one uses it too.
        return AccessToken(DEMO_TOKEN, int(time.time()) + _TOKEN_LIFETIME)

    def get_token_info(self, *scopes: str, options: Mapping[str, Any] | None = None) -> AccessTokenInfo:
        """Return the placeholder token (the newer protocol the Key Vault policy prefers)."""
        return AccessTokenInfo(DEMO_TOKEN, int(time.time()) + _TOKEN_LIFETIME)

    def close(self) -> None:
        """Nothing to release."""


def device_code_prompt(stream: TextIO) -> Callable[[str, str, datetime], None]:
    """The device-code callback: one line telling where to go and which code to type."""

    def prompt(verification_uri: str, user_code: str, expires_on: datetime) -> None:
        # stderr, so that `--json` output on stdout stays parseable while a technician signs in.
        print(
            f"To sign in, open {verification_uri} and enter the code {user_code} "
            f"(valid until {screen_time(expires_on)}).",
            file=stream,
            flush=True,
        )

    return prompt


def make_credential(auth: str | None, *, vault_url: str, stderr: TextIO | None = None) -> TokenCredential:
    """Build the credential for ``auth`` (None: ``AIO_CERTS_AUTH`` or ``default``) and ``vault_url``.

    Raises :class:`VaultError` for an unknown mode, ``demo`` with a non-loopback vault, or a mode whose
    configuration is missing. Sign-in itself happens on the first vault request.
    """
    mode = resolve_auth(auth)
    if mode == "demo":
        if not is_loopback_url(vault_url):
            host = urlsplit(vault_url).hostname or vault_url
            raise VaultError(
                f"auth mode 'demo': refused for vault host {host}; it only works with the "
                "embedded demo's loopback vault",
                AreaState.FORBIDDEN,
            )
        return DemoCredential()
    # Every other mode is an azure-identity credential: imported here, through the SDK import gate (the
    # vault and ARM readers build theirs on their own threads at the same time), and only by those who
    # sign in for real.
    import_sdk(IDENTITY)
    from azure.identity import (
        AzureCliCredential,
        DefaultAzureCredential,
        DeviceCodeCredential,
        ManagedIdentityCredential,
        WorkloadIdentityCredential,
    )

    authority = authority_for(vault_url)
    if mode == "cli":
        return AzureCliCredential(additionally_allowed_tenants=_ANY_TENANT)
    if mode == "managed-identity":
        client_id = os.environ.get("AZURE_CLIENT_ID") or None
        return ManagedIdentityCredential(client_id=client_id)
    if mode == "device-code":
        return DeviceCodeCredential(
            prompt_callback=device_code_prompt(stderr or sys.stderr),
            authority=authority,
            additionally_allowed_tenants=_ANY_TENANT,
        )
    if mode == "workload-identity":
        try:
            return WorkloadIdentityCredential(authority=authority, additionally_allowed_tenants=_ANY_TENANT)
        except ValueError:
            raise VaultError(
                "auth mode 'workload-identity': needs AZURE_TENANT_ID, AZURE_CLIENT_ID and "
                "AZURE_FEDERATED_TOKEN_FILE (set by the workload identity webhook)",
                AreaState.FORBIDDEN,
            ) from None
    return DefaultAzureCredential(authority=authority, additionally_allowed_tenants=_ANY_TENANT)
