"""Parsing of Kubernetes resource URLs and the verb a request stands for.

kmock's own parser takes ``/api/v1/namespaces/NAME`` for "a namespace called NAME" and fails on
``/api/v1/namespaces``, so the emulator parses resource paths itself with the real server's rules.
"""

from __future__ import annotations

from dataclasses import dataclass

# Subresources of a Namespace: /api/v1/namespaces/NAME/status is not "a list of 'status' in NAME".
_NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})

_TRUE = frozenset({"true", "1", "yes"})


@dataclass(frozen=True)
class ResourcePath:
    """The parts of ``/api[s]/GROUP/VERSION[/namespaces/NS]/PLURAL[/NAME[/SUB]]``."""

    group: str
    version: str
    plural: str
    namespace: str | None = None
    name: str | None = None
    subresource: str | None = None

    @property
    def key(self) -> str:
        """The resource key as in :mod:`tui.core.model.resources`, e.g. ``v1/secrets``."""
        prefix = f"{self.group}/{self.version}" if self.group else self.version
        return f"{prefix}/{self.plural}"


def parse_resource_path(path: str) -> ResourcePath | None:
    """Parse a resource URL path; ``None`` for discovery, ``/version``, ``/openapi`` and the like."""
    parts = [p for p in path.strip("/").split("/") if p]
    if len(parts) >= 2 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    if not rest:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in _NAMESPACE_SUBRESOURCES:
        namespace, rest = rest[1], rest[2:]
    plural = rest[0]
    name = rest[1] if len(rest) >= 2 else None
    subresource = "/".join(rest[2:]) or None
    return ResourcePath(group, version, plural, namespace, name, subresource)


def is_true(value: str | None) -> bool:
    """Query flags: kubectl sends ``watch=true``, the Python client ``watch=True``."""
    return value is not None and value.lower() in _TRUE


def verb_for(method: str, path: ResourcePath, params: dict[str, str]) -> str:
    """The RBAC verb of a request: ``get``, ``list``, ``watch``, ``create``, ``update``, ``patch``..."""
    method = method.upper()
    if method == "GET":
        if is_true(params.get("watch")):
            return "watch"
        return "get" if path.name else "list"
    if method == "POST":
        return "create"
    if method == "PUT":
        return "update"
    if method == "PATCH":
        return "patch"
    if method == "DELETE":
        return "delete" if path.name else "deletecollection"
    return method.lower()
