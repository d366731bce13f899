"""Per-object rules the real API server applies on write: names, metadata, defaults, validation.

Pure functions over plain dicts; :mod:`tui.demo.apiserver.store` calls them under its lock.
"""

from __future__ import annotations

import base64
import binascii
import random
import re
from datetime import UTC, datetime
from typing import Any

from kmock import KubernetesError

from tui.core.model.resources import ResourceKind
from tui.demo.apiserver.errors import bad_request, invalid, too_long

# The alphabet and length upstream uses for generateName suffixes (no vowels, no look-alikes).
_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_SUFFIX_LENGTH = 5
_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DATA_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")

# Metadata the server owns: a client's copy is ignored on create and update.
_SERVER_OWNED = (
    "uid",
    "creationTimestamp",
    "deletionTimestamp",
    "deletionGracePeriodSeconds",
    "generation",
    "selfLink",
    "managedFields",
)


def rfc3339(when: datetime) -> str:
    """Timestamps as the API server writes them: UTC, whole seconds, ``Z``."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def metadata(obj: dict[str, Any]) -> dict[str, Any]:
    """The object's ``metadata`` map (empty when absent or not a map)."""
    meta = obj.get("metadata")
    return meta if isinstance(meta, dict) else {}


def generate_name(prefix: str, rng: random.Random) -> str:
    """``prefix`` plus the 5-character random suffix upstream appends."""
    return prefix + "".join(rng.choice(_SUFFIX_ALPHABET) for _ in range(_SUFFIX_LENGTH))


def uses_generation(kind: ResourceKind) -> bool:
    """Custom resources carry ``metadata.generation``; core Secrets, ConfigMaps and Namespaces do not."""
    return bool(kind.group)


def spec_part(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """What bumps ``generation`` when changed: all but ``metadata`` (and a subresource ``status``)."""
    skip = {"metadata", "status"} if kind.has_status else {"metadata"}
    return {k: v for k, v in obj.items() if k not in skip}


def check_type(kind: ResourceKind, body: Any) -> dict[str, Any]:
    """Reject bodies that are not objects or that name another kind; fill apiVersion/kind when absent."""
    if not isinstance(body, dict):
        raise bad_request("the request body is not a JSON object")
    api_version = body.get("apiVersion", kind.group_version)
    object_kind = body.get("kind", kind.kind)
    if api_version != kind.group_version or object_kind != kind.kind:
        raise bad_request(
            f"the API version in the data ({api_version}) or kind ({object_kind}) does not "
            f"match the expected API version ({kind.group_version}) and kind ({kind.kind})"
        )
    if "metadata" in body and not isinstance(body["metadata"], dict):
        raise bad_request("metadata must be an object")
    return {**body, "apiVersion": kind.group_version, "kind": kind.kind}


def check_namespace(kind: ResourceKind, body: dict[str, Any], url_namespace: str | None) -> dict[str, Any]:
    """Fill ``metadata.namespace`` from the URL and reject a body that names another one."""
    meta = dict(metadata(body))
    if kind.namespaced:
        given = meta.get("namespace")
        if url_namespace is None:
            raise bad_request(f"the namespace is required to create or update {kind.plural}")
        if given not in (None, "", url_namespace):
            raise bad_request(
                "the namespace of the provided object does not match the namespace sent on the request"
            )
        meta["namespace"] = url_namespace
    else:
        meta.pop("namespace", None)
    return {**body, "metadata": meta}


def validate_name(kind: ResourceKind, name: str) -> None:
    """Names must be DNS subdomains (DNS labels for Namespaces), as upstream requires."""
    pattern = _DNS_LABEL if kind.plural == "namespaces" else _DNS_SUBDOMAIN
    if len(name) > 253 or not pattern.match(name):
        raise invalid(
            kind,
            name,
            "metadata.name",
            f'Invalid value: "{name}": a lowercase RFC 1123 name must consist of lower case '
            f"alphanumeric characters, '-' or '.', and must start and end with an alphanumeric "
            f"character",
        )


MAX_SECRET_BYTES = 1024 * 1024
"""The most data a Secret may hold, summed over its decoded values (kubernetes ``core.MaxSecretSize``)."""


def secret_data_size(obj: dict[str, Any]) -> int:
    """Bytes of data a canonical Secret holds: its decoded values summed, as ``ValidateSecret`` counts."""
    return sum(len(base64.b64decode(v)) for v in (obj.get("data") or {}).values())


def check_secret_size(kind: ResourceKind, obj: dict[str, Any], limit: int | None) -> None:
    """422 when a canonical Secret holds more than ``limit`` bytes (None: no limit), worded as
    kube-apiserver 1.31 words it (docs/domain.md §1.2)."""
    if limit is None or kind.key != "v1/secrets":
        return
    if secret_data_size(obj) > limit:
        raise too_long(kind, metadata(obj).get("name", ""), "data", limit)


def normalise_secret_data(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with ``stringData`` folded into ``data`` and ``data`` re-encoded (invalid base64 is a
    400), without the defaults :func:`canonical` adds: what an applied configuration claims."""
    if kind.key != "v1/secrets" or ("data" not in obj and "stringData" not in obj):
        return obj
    normalised = _canonical_secret(kind, obj)
    if "type" not in obj:
        normalised.pop("type", None)
    return normalised


def _canonical_secret(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """Decode and re-encode ``data`` (invalid base64 is a 400) and fold ``stringData`` into it."""
    name = metadata(obj).get("name", "")
    data = obj.get("data") or {}
    if not isinstance(data, dict):
        raise bad_request("Secret.data must be a map of base64 strings")
    out: dict[str, str] = {}
    for key, value in data.items():
        if not _DATA_KEY.match(key):
            raise invalid(
                kind,
                name,
                f"data[{key}]",
                f'Invalid value: "{key}": a valid config key must '
                f"consist of alphanumeric characters, '-', '_' or '.'",
            )
        if not isinstance(value, str):
            raise bad_request(f"Secret.data[{key}] must be a base64 string")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise bad_request(
                f'Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[{key}]'
            ) from None
        out[key] = base64.b64encode(raw).decode("ascii")
    string_data = obj.get("stringData") or {}
    if not isinstance(string_data, dict):
        raise bad_request("Secret.stringData must be a map of strings")
    for key, value in string_data.items():
        out[key] = base64.b64encode(str(value).encode("utf-8")).decode("ascii")
    result = {k: v for k, v in obj.items() if k != "stringData"}
    if out:
        result["data"] = out
    else:
        result.pop("data", None)
    result.setdefault("type", "Opaque")
    return result


def _canonical_configmap(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    name = metadata(obj).get("name", "")
    for field in ("data", "binaryData"):
        values = obj.get(field)
        if values is None:
            continue
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise bad_request(f"ConfigMap.{field} must be a map of strings")
        for key in values:
            if not _DATA_KEY.match(key):
                raise invalid(
                    kind,
                    name,
                    f"{field}[{key}]",
                    f'Invalid value: "{key}": a valid config key '
                    f"must consist of alphanumeric characters, '-', '_' or '.'",
                )
    return obj


def _canonical_namespace(obj: dict[str, Any]) -> dict[str, Any]:
    meta = dict(metadata(obj))
    # The API server labels every namespace with its own name (since 1.21).
    meta["labels"] = {**(meta.get("labels") or {}), "kubernetes.io/metadata.name": meta.get("name", "")}
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    return {
        **obj,
        "metadata": meta,
        "spec": {"finalizers": ["kubernetes"], **spec},
        "status": {"phase": "Active", **status},
    }


def canonical(kind: ResourceKind, obj: dict[str, Any]) -> dict[str, Any]:
    """Apply the defaulting and normalisation the real server applies for this kind."""
    if kind.key == "v1/secrets":
        return _canonical_secret(kind, obj)
    if kind.key == "v1/configmaps":
        return _canonical_configmap(kind, obj)
    if kind.key == "v1/namespaces":
        return _canonical_namespace(obj)
    return obj


def strip_server_owned(meta: dict[str, Any]) -> dict[str, Any]:
    """Drop the metadata fields a client cannot set."""
    return {k: v for k, v in meta.items() if k not in _SERVER_OWNED}


def require(condition: bool, error: KubernetesError) -> None:
    """Raise ``error`` unless ``condition`` holds (keeps the store's checks one line each)."""
    if not condition:
        raise error
