"""Guarded writes to the cluster: every edit names the resourceVersion it was planned against.

A change plan is computed from objects read at one resourceVersion; writing it over a newer object would
silently undo someone else's edit. So every write here carries a precondition: merge patches include
``metadata.resourceVersion`` (the API server answers 409 Conflict when it moved on), deletes send
``preconditions`` with the resourceVersion (and UID). Callers re-read, re-plan and retry on
:class:`ConflictError`.

``renew_certificate`` is ``cmctl renew``: the Certificate's ``Issuing`` condition is set to True with
reason ``ManuallyTriggered`` through the status subresource (docs/domain.md §3.7).

Every failure is a :class:`WriteError` whose ``str()`` is one line naming the object and the reason.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, cast

import urllib3
from kubernetes.client import ApiClient, CustomObjectsApi
from kubernetes.client.exceptions import ApiException

from tui.cluster.listwatch import WatchTarget, connection_problem, get_object, list_objects
from tui.core.model import resources as rk
from tui.core.model.resources import ResourceKind

JsonObject = dict[str, Any]

MERGE_PATCH = "application/merge-patch+json"
# (connect, read) seconds for one write; a write is small, a slow answer means trouble.
WRITE_TIMEOUT: tuple[float, float] = (5.0, 30.0)
MANUAL_RENEW_REASON = "ManuallyTriggered"
MANUAL_RENEW_MESSAGE = "Certificate re-issuance manually triggered"
RENEW_ATTEMPTS = 3


class WriteError(Exception):
    """A cluster write failed; ``str()`` is one line naming the object and why.

    ``status`` is the HTTP status (0 when the server was not reached); ``unreachable`` says the request
    may never have arrived (connection refused, timed out).
    """

    def __init__(self, message: str, *, status: int = 0, unreachable: bool = False) -> None:
        super().__init__(" ".join(message.split()))
        self.status = status
        self.unreachable = unreachable


class ConflictError(WriteError):
    """409: the object changed since it was read (resourceVersion precondition failed)."""


class NotFoundError(WriteError):
    """404: the object (or its kind) does not exist."""


class ForbiddenError(WriteError):
    """401/403: the credentials may not make this change."""


def _status_message(exc: ApiException) -> str:
    try:
        body = json.loads(exc.body or "")
        message = body.get("message") if isinstance(body, dict) else None
    except (ValueError, TypeError):
        message = None
    text = str(message or exc.reason or "").strip()
    return (text.splitlines()[0] if text else "")[:240]


@contextmanager
def _errors(action: str, kind: ResourceKind, namespace: str | None, name: str) -> Iterator[None]:
    """Turn client exceptions inside the block into one-line :class:`WriteError` subclasses."""
    what = f"{action} {kind.kind} {namespace + '/' if namespace else ''}{name}"
    try:
        yield
    except ApiException as exc:
        status = exc.status or 0
        detail = _status_message(exc)
        if status == 409:
            raise ConflictError(
                f"{what}: changed by someone else since it was read (409 Conflict)", status=409
            ) from None
        if status == 404:
            raise NotFoundError(
                f"{what}: not found (404)" + (f": {detail}" if detail else ""), status=404
            ) from None
        if status in (401, 403):
            label = "unauthorized" if status == 401 else "forbidden"
            raise ForbiddenError(
                f"{what}: {label} ({status})" + (f": {detail}" if detail else ""), status=status
            ) from None
        if status == 0:
            raise WriteError(f"{what}: {detail or 'TLS error'}", unreachable=True) from None
        suffix = f": {detail}" if detail else ""
        raise WriteError(f"{what}: HTTP {status}{suffix}", status=status) from None
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise WriteError(f"{what}: {connection_problem(exc)}", unreachable=True) from None


def _rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def mappings_to_data(mappings: Sequence[tuple[str, str]]) -> list[dict[str, str]]:
    """``(sourcePath, targetKey)`` pairs as ``spec.secretObject.data`` items."""
    return [{"sourcePath": source, "targetKey": target} for source, target in mappings]


class ClusterWriter:
    """The few writes aio-certs makes, each with a precondition, over one kubernetes ApiClient."""

    def __init__(self, api_client: ApiClient, *, timeout: tuple[float, float] = WRITE_TIMEOUT) -> None:
        self.api_client = api_client
        self._custom = CustomObjectsApi(api_client)
        self._timeout = timeout

    # -- reads (fresh, for re-planning and verification) -----------------------------------------

    def get(self, kind: ResourceKind, namespace: str, name: str) -> JsonObject | None:
        """One namespaced object as a plain dict, or None when absent."""
        try:
            with _errors("reading", kind, namespace, name):
                if not kind.group:
                    # A raw GET, not CoreV1Api: importing that class (every core model) costs ~0.4 s.
                    return get_object(
                        self.api_client, WatchTarget(kind, namespace), name, timeout=self._timeout
                    )
                return cast(
                    JsonObject,
                    self._custom.get_namespaced_custom_object(
                        kind.group, kind.version, namespace, kind.plural, name, _request_timeout=self._timeout
                    ),
                )
        except NotFoundError:
            return None

    def list(self, kind: ResourceKind, namespace: str) -> list[JsonObject]:
        """Every object of ``kind`` in ``namespace`` (a rollback asks who else maps a secret)."""
        with _errors("listing", kind, namespace, "*"):
            result = list_objects(self.api_client, WatchTarget(kind, namespace), timeout=self._timeout)
        return list(result.items.values())

    # -- SecretProviderClass ----------------------------------------------------------------------

    def patch_spc_objects(
        self, namespace: str, name: str, objects: str | None, *, resource_version: str
    ) -> JsonObject:
        """Set ``spec.parameters.objects`` (None removes it, as the official CLI does when empty).

        A merge patch touches nothing else; ``resource_version`` is the precondition.
        """
        body = {
            "metadata": {"resourceVersion": resource_version},
            "spec": {"parameters": {"objects": objects}},
        }
        return self._patch(rk.SECRET_PROVIDER_CLASSES, namespace, name, body, "updating")

    # -- SecretSync -------------------------------------------------------------------------------

    def create_secret_sync(
        self,
        namespace: str,
        name: str,
        *,
        spc_name: str,
        service_account: str,
        mappings: Sequence[tuple[str, str]],
        secret_type: str = "Opaque",
        labels: Mapping[str, str] | None = None,
    ) -> JsonObject:
        """Create a SecretSync mapping vault objects of ``spc_name`` into a Secret of the same name.

        Fails with :class:`ConflictError` when one already exists (someone else created it).
        """
        kind = rk.SECRET_SYNCS
        metadata: dict[str, Any] = {"name": name, "namespace": namespace}
        if labels:
            metadata["labels"] = dict(labels)
        body = {
            "apiVersion": kind.group_version,
            "kind": kind.kind,
            "metadata": metadata,
            "spec": {
                "secretProviderClassName": spc_name,
                "serviceAccountName": service_account,
                "secretObject": {"type": secret_type, "data": mappings_to_data(mappings)},
            },
        }
        with _errors("creating", kind, namespace, name):
            return cast(
                JsonObject,
                self._custom.create_namespaced_custom_object(
                    kind.group, kind.version, namespace, kind.plural, body, _request_timeout=self._timeout
                ),
            )

    def update_secret_sync_mappings(
        self,
        namespace: str,
        name: str,
        mappings: Sequence[tuple[str, str]],
        *,
        resource_version: str,
        force_synchronization: str | None = None,
    ) -> JsonObject:
        """Replace ``spec.secretObject.data`` (a merge patch replaces lists whole) at ``resource_version``.

        ``force_synchronization`` also sets ``spec.forceSynchronization`` in the same write, so the
        controller re-fetches values that changed behind an unchanged mapping.
        """
        if not mappings:
            # The CRD demands at least one item; the official CLI deletes the SecretSync instead.
            raise WriteError(
                f"updating SecretSync {namespace}/{name}: an empty mapping is not allowed; "
                "delete the SecretSync instead"
            )
        spec: dict[str, Any] = {"secretObject": {"data": mappings_to_data(mappings)}}
        if force_synchronization is not None:
            spec["forceSynchronization"] = force_synchronization
        body = {"metadata": {"resourceVersion": resource_version}, "spec": spec}
        return self._patch(rk.SECRET_SYNCS, namespace, name, body, "updating")

    def delete_secret_sync(
        self, namespace: str, name: str, *, resource_version: str | None = None, uid: str | None = None
    ) -> bool:
        """Delete a SecretSync with resourceVersion/UID preconditions; False when it was already gone.

        Its synced Secret goes with it (the controller owns it through an ownerReference).
        """
        kind = rk.SECRET_SYNCS
        preconditions = {k: v for k, v in (("resourceVersion", resource_version), ("uid", uid)) if v}
        # The client's annotation asks for a V1DeleteOptions, but it sends a plain dict unchanged.
        body: Any = {"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"}
        if preconditions:
            body["preconditions"] = preconditions
        try:
            with _errors("deleting", kind, namespace, name):
                self._custom.delete_namespaced_custom_object(
                    kind.group,
                    kind.version,
                    namespace,
                    kind.plural,
                    name,
                    body=body,
                    _request_timeout=self._timeout,
                )
        except NotFoundError:
            return False
        return True

    def force_synchronization(self, namespace: str, name: str, token: str) -> JsonObject:
        """Set ``spec.forceSynchronization`` to ``token``: the controller re-fetches every object now.

        No precondition: the field exists for exactly this nudge and overwriting another nudge is harmless.
        """
        body = {"spec": {"forceSynchronization": token}}
        return self._patch(rk.SECRET_SYNCS, namespace, name, body, "forcing a sync of")

    # -- cert-manager -------------------------------------------------------------------------------

    def renew_certificate(
        self,
        namespace: str,
        name: str,
        *,
        now: datetime,
        precondition: Callable[[Mapping[str, Any]], None] | None = None,
    ) -> JsonObject:
        """Ask cert-manager to re-issue a Certificate now, exactly as ``cmctl renew`` does.

        Sets ``Issuing=True, reason=ManuallyTriggered`` with ``observedGeneration = metadata.generation``
        and writes the whole status back through the ``/status`` subresource with the object's
        resourceVersion (an update, as cmctl's UpdateStatus). Retried on a conflict (the controllers
        write status too). ``precondition`` sees each object read before it is written over and raises
        to write nothing (e.g. a new revision issued since the user looked). Returns the updated object.
        """
        kind = rk.CERTIFICATES
        for attempt in range(1, RENEW_ATTEMPTS + 1):
            current = self.get(kind, namespace, name)
            if current is None:
                raise NotFoundError(f"renewing Certificate {namespace}/{name}: not found (404)", status=404)
            if precondition is not None:
                # Judged on the very object whose resourceVersion the update carries: anything that moves
                # it after this check makes the update a 409, and the next attempt judges again.
                precondition(current)
            body = with_manual_trigger(current, now)
            try:
                with _errors("renewing", kind, namespace, name):
                    return cast(
                        JsonObject,
                        self._custom.replace_namespaced_custom_object_status(
                            kind.group,
                            kind.version,
                            namespace,
                            kind.plural,
                            name,
                            body,
                            _request_timeout=self._timeout,
                        ),
                    )
            except ConflictError:
                if attempt == RENEW_ATTEMPTS:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    # -- plumbing -------------------------------------------------------------------------------------

    def _patch(
        self, kind: ResourceKind, namespace: str, name: str, body: Mapping[str, Any], action: str
    ) -> JsonObject:
        with _errors(action, kind, namespace, name):
            return cast(
                JsonObject,
                self._custom.patch_namespaced_custom_object(
                    kind.group,
                    kind.version,
                    namespace,
                    kind.plural,
                    name,
                    dict(body),
                    _content_type=MERGE_PATCH,
                    _request_timeout=self._timeout,
                ),
            )


def with_manual_trigger(certificate: Mapping[str, Any], now: datetime) -> JsonObject:
    """A copy of ``certificate`` whose status carries cmctl's manual-renew ``Issuing`` condition.

    Like cert-manager's SetCertificateCondition, ``lastTransitionTime`` only moves when the status flips.
    """
    obj = json.loads(json.dumps(certificate))  # deep copy of plain JSON
    meta = obj.get("metadata") or {}
    status = obj.setdefault("status", {}) or {}
    obj["status"] = status
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    previous = next((c for c in conditions if c.get("type") == "Issuing"), None)
    transition = _rfc3339(now)
    if previous is not None and previous.get("status") == "True" and previous.get("lastTransitionTime"):
        transition = previous["lastTransitionTime"]
    issuing = {
        "type": "Issuing",
        "status": "True",
        "reason": MANUAL_RENEW_REASON,
        "message": MANUAL_RENEW_MESSAGE,
        "lastTransitionTime": transition,
    }
    if meta.get("generation") is not None:
        issuing["observedGeneration"] = meta["generation"]
    if previous is None:
        conditions.append(issuing)
    else:
        conditions[conditions.index(previous)] = issuing
    status["conditions"] = conditions
    return obj
