"""The rule for a Key Vault URL, shared by the flag check at parse time and the vault adapter.

Key Vault takes bearer tokens over TLS only, so a vault URL must be ``https://`` with a host (and a
valid port when it names one). The rule lives here, in the pure core, because the command line checks
``--vault-url`` while parsing and must not import the Azure SDK to do it (``--help`` starts fast); the
vault adapter (``tui/vault/client.py``) applies the same rule to every URL it is given.

Only the standard library is used.
"""

from __future__ import annotations

from urllib.parse import urlsplit


def vault_url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a Key Vault URL (one line, no quoting of ``url``), or None when it can."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
        _ = parts.port  # raises ValueError on a port that is not a number in range
    except ValueError:
        return "not a valid URL"
    if parts.scheme.lower() != "https":
        return "must be an https:// URL (Key Vault refuses tokens over http)"
    if not host:
        return "must be an https:// URL with a host name"
    return None
