"""TLS for the demo's loopback servers: a throwaway CA and a server certificate from ``trustme``.

Clients keep verification on and trust the demo by being given the CA as a PEM bundle (for the vault,
``connection_verify=<path>``; for the product, ``AIO_CERTS_VAULT_CA``). The private keys stay in
memory: only the CA certificate is ever written to disk.
"""

from __future__ import annotations

import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import trustme

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class LoopbackTLS:
    """A CA certificate (PEM) and a server-side SSL context whose certificate that CA signed."""

    ca_pem: bytes
    server_context: ssl.SSLContext

    def write_ca(self, path: Path) -> Path:
        """Write the CA certificate (public part only) to ``path`` and return it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(self.ca_pem)
        return path


def make_loopback_tls(hostnames: Sequence[str] = LOOPBACK_NAMES) -> LoopbackTLS:
    """Create a fresh CA and a server certificate for ``hostnames`` (IP literals become IP SANs)."""
    ca = trustme.CA(organization_name="aio-certs demo")
    leaf = ca.issue_cert(*hostnames)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    leaf.configure_cert(context)
    return LoopbackTLS(ca_pem=ca.cert_pem.bytes(), server_context=context)
