"""Where to find the cluster, as the command line says: plain data, no Kubernetes client.

Kept apart from :mod:`tui.cluster.config` (which imports the kubernetes client) so that the command
layer can build its settings without paying for that import: ``aio-certs journal`` lists journals
without ever connecting.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ConnectionSettings:
    """Where to find the cluster, as given on the command line (None: use the environment)."""

    kubeconfig: str | None = None
    context: str | None = None
