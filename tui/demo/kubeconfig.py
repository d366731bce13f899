"""A kubeconfig pointing kubectl and the ``kubernetes`` client at the emulated API server."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import yaml


def kubeconfig_document(
    server_url: str, *, context: str = "aio-demo", namespace: str = "azure-iot-operations"
) -> dict[str, Any]:
    """The kubeconfig as a dict: one cluster, one user without credentials, one current context."""
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": context, "cluster": {"server": server_url}}],
        # The emulator accepts anonymous requests, so the user carries no token to leak.
        "users": [{"name": context, "user": {}}],
        "contexts": [
            {"name": context, "context": {"cluster": context, "user": context, "namespace": namespace}}
        ],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(
    path: str | os.PathLike[str],
    server_url: str,
    *,
    context: str = "aio-demo",
    namespace: str = "azure-iot-operations",
) -> Path:
    """Write the kubeconfig to ``path`` (mode 0600, parents created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = kubeconfig_document(server_url, context=context, namespace=namespace)
    text = yaml.safe_dump(document, sort_keys=False)
    # Create with 0600 from the start: kubeconfigs usually hold credentials and tools warn otherwise.
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    return target
