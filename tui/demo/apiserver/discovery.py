"""API discovery documents built from the served kinds: legacy (per group/version) and aggregated (v2).

kubectl 1.30+ first asks ``/api`` and ``/apis`` for the aggregated ``APIGroupDiscoveryList`` and falls
back to the legacy documents when the answer's Content-Type is plain JSON; both are served so either
path works. Uninstalled kinds are simply left out of the ``kinds`` passed in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tui.core.model.resources import ALL_KINDS, ResourceKind

VERBS = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
STATUS_VERBS = ["get", "patch", "update"]

AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"

# Kinds every cluster has that kubectl reads on the side: `describe` lists a Secret's Events and a
# Namespace's ResourceQuotas and LimitRanges. Served (empty unless written) so kubectl prints no errors.
EVENTS = ResourceKind("", "v1", "events", "Event", True, ("ev",))
RESOURCE_QUOTAS = ResourceKind("", "v1", "resourcequotas", "ResourceQuota", True, ("quota",), True)
LIMIT_RANGES = ResourceKind("", "v1", "limitranges", "LimitRange", True, ("limits",))
SUPPORT_KINDS: tuple[ResourceKind, ...] = (EVENTS, RESOURCE_QUOTAS, LIMIT_RANGES)
SERVED_KINDS: tuple[ResourceKind, ...] = (*ALL_KINDS, *SUPPORT_KINDS)

SERVER_VERSION = {
    "major": "1",
    "minor": "31",
    "gitVersion": "v1.31.4+aio-certs-demo",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2024-12-10T00:00:00Z",
    "goVersion": "go1.22.9",
    "compiler": "gc",
    "platform": "linux/amd64",
}


def wants_aggregated(accept: str) -> bool:
    """Whether the client asked for aggregated discovery v2 before plain JSON."""
    for part in accept.split(","):
        params = {p.strip() for p in part.split(";")[1:]}
        if "as=APIGroupDiscoveryList" in params and "v=v2" in params and "g=apidiscovery.k8s.io" in params:
            return True
    return False


def _groups(kinds: Iterable[ResourceKind]) -> dict[str, dict[str, list[ResourceKind]]]:
    """group -> version -> kinds, in table order (core group under "")."""
    out: dict[str, dict[str, list[ResourceKind]]] = {}
    for kind in kinds:
        out.setdefault(kind.group, {}).setdefault(kind.version, []).append(kind)
    return out


def _resource(kind: ResourceKind) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = [
        {
            "name": kind.plural,
            "singularName": kind.singular,
            "namespaced": kind.namespaced,
            "kind": kind.kind,
            "verbs": VERBS,
            **({"shortNames": list(kind.short_names)} if kind.short_names else {}),
        }
    ]
    if kind.has_status:
        entries.append(
            {
                "name": f"{kind.plural}/status",
                "singularName": "",
                "namespaced": kind.namespaced,
                "kind": kind.kind,
                "verbs": STATUS_VERBS,
            }
        )
    return entries


def api_versions() -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def resource_list(kinds: Iterable[ResourceKind], group: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` or ``/apis/GROUP/VERSION``; None when nothing is served there."""
    served = _groups(kinds).get(group, {}).get(version)
    if not served:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for kind in served for entry in _resource(kind)],
    }


def _group_doc(group: str, versions: list[str]) -> dict[str, Any]:
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(kinds: Iterable[ResourceKind]) -> dict[str, Any]:
    """``GET /apis``."""
    groups = _groups(kinds)
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group_doc(g, list(vs)) for g, vs in groups.items() if g],
    }


def api_group(kinds: Iterable[ResourceKind], group: str) -> dict[str, Any] | None:
    """``GET /apis/GROUP``; None when the group is not served."""
    versions = _groups(kinds).get(group)
    if not group or not versions:
        return None
    return {"kind": "APIGroup", "apiVersion": "v1", **_group_doc(group, list(versions))}


def _aggregated_resource(kind: ResourceKind) -> dict[str, Any]:
    response_kind = {"group": kind.group, "version": kind.version, "kind": kind.kind}
    entry: dict[str, Any] = {
        "resource": kind.plural,
        "responseKind": response_kind,
        "scope": "Namespaced" if kind.namespaced else "Cluster",
        "singularResource": kind.singular,
        "verbs": VERBS,
    }
    if kind.short_names:
        entry["shortNames"] = list(kind.short_names)
    if kind.has_status:
        entry["subresources"] = [
            {"subresource": "status", "responseKind": response_kind, "verbs": STATUS_VERBS}
        ]
    return entry


def aggregated(kinds: Iterable[ResourceKind], *, core: bool) -> dict[str, Any]:
    """``GET /api`` (core) or ``/apis`` (named groups) as an aggregated ``APIGroupDiscoveryList``."""
    items = []
    for group, versions in _groups(kinds).items():
        if bool(group) == core:
            continue
        items.append(
            {
                "metadata": {"name": group, "creationTimestamp": None},
                "versions": [
                    {"version": v, "resources": [_aggregated_resource(k) for k in ks], "freshness": "Current"}
                    for v, ks in versions.items()
                ],
            }
        )
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": "apidiscovery.k8s.io/v2",
        "metadata": {},
        "items": items,
    }


def root_paths(kinds: Iterable[ResourceKind]) -> dict[str, Any]:
    """``GET /``: the list of served paths."""
    paths = {"/api", "/api/v1", "/apis", "/version", "/openapi/v2", "/openapi/v3"}
    for group, versions in _groups(kinds).items():
        if group:
            paths.add(f"/apis/{group}")
            paths.update(f"/apis/{group}/{v}" for v in versions)
    return {"paths": sorted(paths)}


def _openapi_v3_key(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


def openapi_v3_root(kinds: Iterable[ResourceKind]) -> dict[str, Any]:
    """``GET /openapi/v3``: one entry per served group/version."""
    paths = {}
    for group, versions in _groups(kinds).items():
        for version in versions:
            key = _openapi_v3_key(group, version)
            paths[key] = {"serverRelativeURL": f"/openapi/v3/{key}"}
    return {"paths": paths}


def openapi_v3_group_version(
    kinds: Iterable[ResourceKind], group: str, version: str
) -> dict[str, Any] | None:
    """``GET /openapi/v3/api[s]/...``: a minimal document that only declares what kubectl checks.

    kubectl validates manifests on the server when each kind's PATCH operation lists the
    ``fieldValidation`` query parameter; without it, kubectl would fall back to downloading the
    protobuf OpenAPI v2 document to validate on the client.
    """
    served = _groups(kinds).get(group, {}).get(version)
    if not served:
        return None
    prefix = f"/apis/{group}/{version}" if group else f"/api/{version}"
    paths: dict[str, Any] = {}
    for kind in served:
        scope = "/namespaces/{namespace}" if kind.namespaced else ""
        gvk = {"group": kind.group, "version": kind.version, "kind": kind.kind}
        operation = {
            "operationId": f"patch{kind.kind}",
            "x-kubernetes-group-version-kind": gvk,
            "x-kubernetes-action": "patch",
            "parameters": [
                {
                    "name": "fieldValidation",
                    "in": "query",
                    "schema": {"type": "string"},
                    "description": "Strict, Warn or Ignore unknown fields (accepted, not enforced)",
                }
            ],
            "responses": {"200": {"description": "OK"}},
        }
        paths[f"{prefix}{scope}/{kind.plural}/{{name}}"] = {"patch": operation}
    return {
        "openapi": "3.0.0",
        "info": {"title": "Kubernetes", "version": SERVER_VERSION["gitVersion"]},
        "paths": paths,
        "components": {"schemas": {}},
    }
