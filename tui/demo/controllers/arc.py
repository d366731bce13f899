"""Simulated Azure Arc projection: each change accepted by the demo ARM, applied to the emulated cluster.

A custom location's resource provider turns each ARM resource into a custom resource of the same name in
the namespace the custom location maps to (docs/domain.md §9.2). Here: every :class:`Change` the ARM
emulator accepts is queued; a thread woken by the queue (a condition variable, no polling) creates or
replaces the SecretProviderClass or SecretSync through the ``kubernetes`` client, as the other demo
controllers write, or deletes it; then it completes the ARM operation, so an ARM poller that sees
``Succeeded`` knows the cluster copy is in place.

What the projection writes: the spec from the ARM properties (:func:`tui.demo.arm.shapes.cluster_copy`),
the ``management.azure.com/*`` annotations and the provider-name label. Labels and annotations others put
on the object are kept; the spec is ARM's, whole (an entry added on the cluster alone is dropped by the
next ARM change of that resource, docs/domain.md §9.3). It never writes on its own: an edit made on the
cluster stays until ARM changes that resource again (whether the real provider reverts sooner is unknown).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any

from kubernetes.client.exceptions import ApiException

from tui.core.model import resources as rk
from tui.core.model.arm import PROVIDER_NAME_LABEL, ArmKind
from tui.core.model.resources import ResourceKind
from tui.demo.arm.emulator import ArmEmulator
from tui.demo.arm.shapes import PROJECTION_ANNOTATIONS, cluster_copy
from tui.demo.arm.store import Change
from tui.demo.controllers.base import JsonObject, KubeAccess

log = logging.getLogger(__name__)

CLUSTER_KIND: dict[ArmKind, ResourceKind] = {
    ArmKind.SPC: rk.SECRET_PROVIDER_CLASSES,
    ArmKind.SECRET_SYNC: rk.SECRET_SYNCS,
}
RETRY_SECONDS = 0.5
"""How long a failed cluster write waits before it is tried again (the API server down, a 409 race)."""
CONFLICT_ATTEMPTS = 5
JOIN_SECONDS = 10.0


class ArcProjection:
    """Applies the demo ARM's changes to the cluster in the custom location's namespace, in order."""

    name = "arc-projection"

    def __init__(self, kube: KubeAccess, arm: ArmEmulator, namespace: str) -> None:
        self.kube = kube
        self.arm = arm
        self.namespace = namespace
        self._queue: deque[Change] = deque()
        self._ready = threading.Condition()
        self._apply_lock = threading.Lock()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.applied = 0
        """Changes applied so far."""
        self.last_error: str | None = None
        """The last cluster write that failed (it is retried), or None."""

    # -- wiring -------------------------------------------------------------------------------

    def attach(self) -> None:
        """Receive every change the ARM emulator accepts from now on."""
        self.arm.attach(self.submit)

    def submit(self, change: Change) -> None:
        """Queue one change and wake the projection thread (called by the emulator, under its lock)."""
        with self._ready:
            self._queue.append(change)
            self._ready.notify_all()

    def start(self) -> None:
        """Apply queued changes from now on in a background thread, as they arrive."""
        if self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="demo-arc-projection", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread (changes still queued stay unapplied) and detach from the emulator."""
        self.arm.attach(None)
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=JOIN_SECONDS)
            if self._thread.is_alive():
                log.warning("the Arc projection thread did not stop")
            self._thread = None

    # -- applying -----------------------------------------------------------------------------

    def drain(self) -> int:
        """Apply every queued change now, in the calling thread; returns how many. Errors propagate (the
        change stays queued): the demo's start-up uses this to have the lists in place synchronously."""
        count = 0
        with self._apply_lock:
            while True:
                with self._ready:
                    if not self._queue:
                        return count
                    change = self._queue[0]
                self._apply(change)
                with self._ready:
                    self._queue.popleft()
                self.arm.complete(change)
                self.applied += 1
                count += 1

    def _run(self) -> None:
        while True:
            with self._ready:
                self._ready.wait_for(lambda: self._stopping or bool(self._queue))
                if self._stopping:
                    return
            try:
                self.drain()
                self.last_error = None
            except Exception as exc:  # the API server down or a race lost: keep the change, try again
                self.last_error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
                log.warning("Arc projection failed, retrying: %s", self.last_error)
                with self._ready:
                    self._ready.wait_for(lambda: self._stopping, RETRY_SECONDS)

    def _apply(self, change: Change) -> None:
        kind = CLUSTER_KIND[change.kind]
        if change.properties is None:
            self.kube.delete(kind, self.namespace, change.name)
            return
        desired = cluster_copy(
            change.kind,
            change.name,
            change.properties,
            self.arm.site,
            self.namespace,
            operation_id=change.operation_id,
            system_data=change.system_data,
            location=change.location,
        )
        for attempt in range(CONFLICT_ATTEMPTS):
            existing = self.kube.get(kind, self.namespace, change.name)
            try:
                self.kube.upsert(kind, _merged(desired, existing), existing)
                return
            except ApiException as exc:
                # Someone wrote between our read and our write (409), or created it first: read again.
                if exc.status != 409 or attempt == CONFLICT_ATTEMPTS - 1:
                    raise


def _merged(desired: JsonObject, existing: JsonObject | None) -> JsonObject:
    """``desired`` with the labels and annotations others put on ``existing`` kept (the projection's own
    keys are its to set or remove)."""
    if existing is None:
        return desired
    meta = existing.get("metadata") or {}
    own_labels = {PROVIDER_NAME_LABEL}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in own_labels}
    annotations = {
        k: v for k, v in (meta.get("annotations") or {}).items() if k not in PROJECTION_ANNOTATIONS
    }
    out: dict[str, Any] = dict(desired)
    desired_meta = dict(desired["metadata"])
    desired_meta["labels"] = {**labels, **(desired_meta.get("labels") or {})}
    desired_meta["annotations"] = {**annotations, **(desired_meta.get("annotations") or {})}
    out["metadata"] = desired_meta
    return out
