"""Kubernetes ``Status`` failures as the real API server words them.

Clients branch on ``reason`` and ``code`` (the ``kubernetes`` client raises ``ApiException`` with the
body, kubectl prints ``message``), so each constructor reproduces the real server's wording. They are
:class:`kmock.KubernetesError` instances so kmock's error path renders them.
"""

from __future__ import annotations

from typing import Any

from kmock import KubernetesError

from tui.core.model.resources import ResourceKind


def status_body(error: KubernetesError) -> dict[str, Any]:
    """The ``v1 Status`` document for ``error`` (no traceback: clients show ``message`` to users)."""
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": error.message or "",
        "reason": error.reason or "InternalError",
        "details": error.details if error.details is not None else {},
        "code": error.status,
    }


def _qualified(kind: ResourceKind) -> str:
    """``secrets`` or ``certificates.cert-manager.io``, as the server names a resource in messages."""
    return f"{kind.plural}.{kind.group}" if kind.group else kind.plural


def _details(kind: ResourceKind, name: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {"kind": kind.plural}
    if name is not None:
        details = {"name": name, **details}
    if kind.group:
        details["group"] = kind.group
    return details


def not_found(kind: ResourceKind, name: str) -> KubernetesError:
    """404 for a missing object: ``secrets "x" not found``."""
    return KubernetesError(404, "NotFound", f'{_qualified(kind)} "{name}" not found', _details(kind, name))


def namespace_not_found(namespace: str) -> KubernetesError:
    """404 for a create into a namespace that does not exist."""
    return KubernetesError(
        404, "NotFound", f'namespaces "{namespace}" not found', {"name": namespace, "kind": "namespaces"}
    )


def resource_not_found() -> KubernetesError:
    """404 for a resource the server does not serve (unknown or uninstalled CRD)."""
    return KubernetesError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(kind: ResourceKind, name: str) -> KubernetesError:
    """409 for a create over an existing name."""
    return KubernetesError(
        409, "AlreadyExists", f'{_qualified(kind)} "{name}" already exists', _details(kind, name)
    )


def conflict(kind: ResourceKind, name: str, why: str | None = None) -> KubernetesError:
    """409 for a stale ``resourceVersion`` or a failed delete precondition."""
    reason = why or (
        "the object has been modified; please apply your changes to the latest version and try again"
    )
    message = f'Operation cannot be fulfilled on {_qualified(kind)} "{name}": {reason}'
    return KubernetesError(409, "Conflict", message, _details(kind, name))


def forbidden(kind: ResourceKind, verb: str, namespace: str | None, user: str) -> KubernetesError:
    """403 as RBAC words it, naming the verb, resource, group and scope."""
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{_qualified(kind)} is forbidden: User "{user}" cannot {verb} resource "{kind.plural}" '
        f'in API group "{kind.group}" {scope}'
    )
    return KubernetesError(403, "Forbidden", message, _details(kind))


def gone(message: str) -> KubernetesError:
    """410 for a resume from a compacted ``resourceVersion`` or a stale ``continue`` token."""
    return KubernetesError(410, "Expired", message, {})


def bad_request(message: str) -> KubernetesError:
    """400 for a request the server cannot parse (selectors, bodies, parameters)."""
    return KubernetesError(400, "BadRequest", message, {})


def invalid(kind: ResourceKind, name: str, field: str, why: str) -> KubernetesError:
    """422 for an object that fails validation, with one ``cause`` naming the field."""
    message = f'{kind.kind} "{name}" is invalid: {field}: {why}'
    details = {
        "name": name,
        "kind": kind.kind,
        "causes": [{"reason": "FieldValueInvalid", "message": why, "field": field}],
    }
    if kind.group:
        details["group"] = kind.group
    return KubernetesError(422, "Invalid", message, details)


def method_not_allowed(method: str) -> KubernetesError:
    """405 for a verb the endpoint does not support."""
    return KubernetesError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({method})",
        {},
    )


def unsupported_media_type(content_type: str, *, custom_resource: bool) -> KubernetesError:
    """415 for a patch type the resource does not take (strategic merge on a custom resource, apply)."""
    accepted = ["application/json-patch+json", "application/merge-patch+json"]
    if not custom_resource:
        accepted.append("application/strategic-merge-patch+json")
    return KubernetesError(
        415,
        "UnsupportedMediaType",
        f"the body of the request was in an unknown format ({content_type or 'none'}) - "
        f"accepted media types include: {', '.join(accepted)}",
        {},
    )


def too_long(kind: ResourceKind, name: str, field: str, limit: int) -> KubernetesError:
    """422 for a value over its size limit: ``data: Too long: must have at most 1048576 bytes``.

    The wording of kube-apiserver 1.31, which the emulator reports as its version
    (``k8s.io/apimachinery`` ``field.TooLong`` at kubernetes-1.31.4); 1.33 and later say "may not be
    more than 1048576 bytes" instead.
    """
    why = f"Too long: must have at most {limit} bytes"
    details: dict[str, Any] = {
        "name": name,
        "kind": kind.kind,
        "causes": [{"reason": "FieldValueTooLong", "message": why, "field": field}],
    }
    if kind.group:
        details["group"] = kind.group
    return KubernetesError(422, "Invalid", f'{kind.kind} "{name}" is invalid: {field}: {why}', details)


def patch_options_invalid(field: str, cause: str, why: str) -> KubernetesError:
    """422 for bad PatchOptions, e.g. ``PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required
    value: is required for apply patch`` (apimachinery ``ValidatePatchOptions`` through ``NewInvalid``;
    ``cause`` is the field error's type, ``FieldValueRequired`` or ``FieldValueForbidden``)."""
    details = {
        "name": "",
        "group": "meta.k8s.io",
        "kind": "PatchOptions",
        "causes": [{"reason": cause, "message": why, "field": field}],
    }
    return KubernetesError(422, "Invalid", f'PatchOptions.meta.k8s.io "" is invalid: {field}: {why}', details)


def apply_conflict(message: str, causes: list[dict[str, str]]) -> KubernetesError:
    """409 for a server-side apply that would change fields other managers own (apimachinery
    ``NewApplyConflict``: reason Conflict, one ``FieldManagerConflict`` cause per field, no name)."""
    return KubernetesError(409, "Conflict", message, {"causes": causes})
