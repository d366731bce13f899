"""Simulated secret sync controller (Azure's Secret Store Extension): Key Vault -> Kubernetes Secret.

For each SecretSync (docs/domain.md §5): read its SecretProviderClass, fetch every SPC object from the
vault with the real ``SecretClient`` (as the provider mounts them all), decode per ``objectEncoding``,
map ``sourcePath`` -> ``targetKey``, and write the Secret of the same name with the controller's label,
annotation and ownerReference. It follows the released controller (SSC v0.0.4
``secretsync_controller.go``, docs/domain.md §5.3 to §5.5):

- **When it runs.** It watches SecretSyncs only, and acts on a new one or a new ``metadata.generation``
  (a spec change, a new ``forceSynchronization``); every ``poll_interval`` (AIO: 120 s, one ticker for
  all) it runs every SecretSync again. A change to the SecretProviderClass alone waits for that poll. A
  failed sync is retried with controller-runtime's per-item backoff (5 ms doubling, at most 1000 s).
- **When it writes.** Only when the sync hash changes (or a failure is being retried): server-side apply
  as ``v1-secrets-store-sync-controller`` without force, so keys others added survive, and a key it owns
  that someone else changed makes the apply a 409 Conflict. A refused write (a conflict, a Secret over
  the API server's 1 MiB limit) is condition reason ``UnknownError`` with status Unknown, the hash and
  ``lastSuccessfulSyncTime`` left as they were.
- **Conditions.** ``Create`` until a first sync succeeded, ``Update`` after, edited exactly as upstream
  edits them (which leaves no ``Update`` condition after a recovery until the next poll, and an
  ``Unknown`` placeholder after a retry that found the hash unchanged). Messages are fixed per reason;
  the error itself is in the controller's log only, as upstream.
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from azure.core.exceptions import AzureError, ResourceNotFoundError
from azure.keyvault.secrets import SecretClient
from kubernetes.client.exceptions import ApiException

from tui.core.clock import Clock
from tui.core.model import resources as rk
from tui.core.model.names import SECRET_SYNC_LABEL
from tui.core.model.spc import SpcObject, SpcView, parse_spc
from tui.demo.controllers.base import Controller, KubeAccess, PassResult
from tui.demo.seed.aio import synced_secret
from tui.demo.seed.objects import (
    b64,
    condition,
    iso,
    remove_condition,
    set_condition,
)

log = logging.getLogger(__name__)

POLL_INTERVAL = timedelta(seconds=120)
FIELD_MANAGER = "v1-secrets-store-sync-controller"
"""The field manager of the controller's server-side apply (SSC ``SecretSyncControllerFieldManager``)."""
RETRY_BASE = timedelta(milliseconds=5)
RETRY_MAX = timedelta(seconds=1000)
FETCH_WORKERS = 4  # the SDK is GIL-bound here; more threads only add contention

CREATE, UPDATE, UNKNOWN = "Create", "Update", "Unknown"
# Fixed per reason, as upstream (conditions.go): the error itself goes to the controller's log.
MESSAGES = {
    "CreateSucceeded": "Secret created successfully.",
    "UpdateNoValueChangeSucceeded": "Polled at the end of the interval; no value changed.",
    "UpdateValueChangeOrForceUpdateSucceeded": "The secret was updated: a value change or a forced update.",
    "ProviderError": "Secret sync failed: the provider could not fetch the secrets; see the logs.",
    "ControllerSPCError": "Secret sync failed: the SecretProviderClass is missing or wrong; see the logs.",
    "UserInputValidationFailed": "Secret sync failed: the SecretSync or its SPC is invalid; see the logs.",
    "InvalidClusterSecretLabelError": "Secret sync failed: a label reserved for the controller is in use.",
    "UnknownError": "Secret patch failed with an unknown error; see the logs.",
    UNKNOWN: UNKNOWN,
}
# Reason -> condition status (conditions.go): UnknownError and the placeholder are Unknown.
_STATUS = {
    "CreateSucceeded": "True",
    "UpdateNoValueChangeSucceeded": "True",
    "UpdateValueChangeOrForceUpdateSucceeded": "True",
    "UnknownError": "Unknown",
    UNKNOWN: "Unknown",
}
FAILING_REASONS = frozenset(
    {
        "ProviderError",
        "ControllerSPCError",
        "UserInputValidationFailed",
        "InvalidClusterSecretLabelError",
        "UnknownError",
    }
)
"""Upstream's ``FailedConditionsTriggeringRetry`` (of the reasons the demo produces)."""

VaultClientFactory = Callable[[SpcView], SecretClient]
"""Gives the SecretClient for an SPC's vault (keyvaultName, cloud); the demo maps all to its emulator."""


def retry_delay(failures: int) -> timedelta:
    """controller-runtime's default per-item backoff after ``failures`` failures in a row (>= 1):
    5 ms doubling, at most 1000 s (client-go ``DefaultTypedControllerRateLimiter``)."""
    if failures > 30:  # far past the cap; avoids a huge power
        return RETRY_MAX
    return min(RETRY_BASE * (2 ** max(failures - 1, 0)), RETRY_MAX)


class SyncFailure(Exception):
    """A sync that could not complete: ``reason`` is the condition reason, the message says what."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class _Tracked:
    identity: tuple[Any, Any]  # (uid, generation) last acted on
    failures: int = 0
    retry_at: datetime | None = None


def _decode(value: str, encoding: str | None, object_name: str) -> bytes:
    kind = (encoding or "utf-8").lower()
    try:
        if kind == "hex":
            return bytes.fromhex(value)
        if kind == "base64":
            return binascii.a2b_base64(value)
        return value.encode("utf-8")
    except (ValueError, binascii.Error):
        raise SyncFailure("ProviderError", f"{object_name}: value is not valid {kind}") from None


def sync_hash(data: Mapping[str, bytes], spc: Mapping[str, Any], sync: Mapping[str, Any]) -> str:
    """HMAC over the synced data plus SPC and SecretSync identity, generation and forceSynchronization."""
    spc_meta, sync_meta = spc.get("metadata") or {}, sync.get("metadata") or {}
    payload = json.dumps(
        {
            "data": {k: b64(v) for k, v in sorted(data.items())},
            "spc": [spc_meta.get("uid"), spc_meta.get("generation")],
            "ss": [sync_meta.get("uid"), sync_meta.get("generation")],
            "force": (sync.get("spec") or {}).get("forceSynchronization"),
        },
        sort_keys=True,
    ).encode()
    return hmac.new(str(sync_meta.get("uid") or "").encode(), payload, hashlib.sha512).hexdigest()


def _put(conditions: list[dict[str, Any]], type_: str, reason: str, now: datetime) -> list[dict[str, Any]]:
    """Upstream's condition for ``reason`` set on ``type_`` (apimachinery ``SetStatusCondition``)."""
    status = _STATUS.get(reason, "False")
    type_ = UNKNOWN if reason == UNKNOWN else type_
    return set_condition(conditions, condition(type_, status, reason, MESSAGES[reason], now))


class SecretSyncController(Controller):
    """Syncs vault objects into Secrets for every SecretSync: on a spec change, on the poll, on retry."""

    name = "secret-sync"
    # SecretSyncs only: the released controller does not watch SecretProviderClasses (docs/domain.md §5.5).
    watched = (rk.SECRET_SYNCS,)
    # It acts on a new generation only; its own status writes, and anyone else's, do not wake it.
    spec_driven = (rk.SECRET_SYNCS,)

    def __init__(
        self,
        kube: KubeAccess,
        clock: Clock,
        vault_client_for: VaultClientFactory,
        *,
        poll_interval: timedelta = POLL_INTERVAL,
    ) -> None:
        super().__init__(kube, clock)
        self.vault_client_for = vault_client_for
        self.poll_interval = poll_interval
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        self._next_poll: datetime | None = None
        self._pool = ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="secret-sync-fetch")
        self.syncs = 0
        self.vault_reads = 0
        self.secret_writes = 0

    def close(self) -> None:
        """Release the fetch threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    @property
    def next_poll(self) -> datetime | None:
        """When the poll next runs every SecretSync (None before the first pass)."""
        return self._next_poll

    def _poll_due(self, now: datetime) -> bool:
        """Whether the poll ticker fired since the last pass (like Go's ticker, missed ticks are dropped)."""
        if self._next_poll is None:
            self._next_poll = now + self.poll_interval
            return False
        if now < self._next_poll:
            return False
        while self._next_poll <= now:
            self._next_poll += self.poll_interval
        return True

    def _reconcile(self) -> PassResult:
        now = self.clock.now()
        writes = 0
        poll = self._poll_due(now)
        due: datetime | None = self._next_poll
        syncs = self.kube.list(rk.SECRET_SYNCS)
        spcs: dict[tuple[Any, Any], dict[str, Any]] | None = None
        cache: dict[tuple[str, str, str | None], bytes | SyncFailure] = {}
        seen: set[tuple[str, str]] = set()
        for sync in syncs:
            meta = sync["metadata"]
            key = (meta.get("namespace") or "", meta["name"])
            seen.add(key)
            identity = (meta.get("uid"), meta.get("generation"))
            tracked = self._tracked.get(key)
            retry = tracked is not None and tracked.retry_at is not None and now >= tracked.retry_at
            if tracked is not None and tracked.identity == identity and not poll and not retry:
                if tracked.retry_at is not None and (due is None or tracked.retry_at < due):
                    due = tracked.retry_at
                continue
            if spcs is None:  # read once a pass, and only when some SecretSync is due
                spcs = {
                    (o["metadata"].get("namespace"), o["metadata"]["name"]): o
                    for o in self.kube.list(rk.SECRET_PROVIDER_CLASSES)
                }
            spc = spcs.get((meta.get("namespace"), (sync.get("spec") or {}).get("secretProviderClassName")))
            made, ok = self._sync(sync, spc, cache, now)
            writes += made
            failures = 0 if ok else (tracked.failures + 1 if tracked is not None else 1)
            retry_at = None if ok else now + retry_delay(failures)
            self._tracked[key] = _Tracked(identity, failures, retry_at)
            if retry_at is not None and (due is None or retry_at < due):
                due = retry_at
        for gone in set(self._tracked) - seen:
            del self._tracked[gone]
        return PassResult(writes, due)

    # -- one SecretSync ----------------------------------------------------------------------

    def _fetch_all(
        self, view: SpcView, cache: dict[tuple[str, str, str | None], bytes | SyncFailure]
    ) -> dict[str, bytes]:
        client = self.vault_client_for(view)
        vault = str(view.keyvault_name)
        wanted = [o for o in view.objects if (vault, o.object_name, o.object_version) not in cache]

        def fetch(obj: SpcObject) -> bytes | SyncFailure:
            try:
                secret = client.get_secret(obj.object_name, obj.object_version)
            except ResourceNotFoundError:
                return SyncFailure(
                    "ProviderError", f"secret {obj.object_name} not found in Key Vault {vault}"
                )
            except AzureError as exc:
                first = (str(exc).splitlines() or [type(exc).__name__])[0]
                return SyncFailure("ProviderError", f"secret {obj.object_name}: {first}")
            try:
                return _decode(secret.value or "", obj.object_encoding, obj.object_name)
            except SyncFailure as failure:
                return failure

        for obj, result in zip(wanted, self._pool.map(fetch, wanted), strict=True):
            cache[(vault, obj.object_name, obj.object_version)] = result
            self.vault_reads += 1
        files: dict[str, bytes] = {}
        for obj in view.objects:
            result = cache[(vault, obj.object_name, obj.object_version)]
            if isinstance(result, SyncFailure):
                raise result
            files[obj.file_name] = result
        return files

    def _desired(
        self,
        sync: Mapping[str, Any],
        spc: Mapping[str, Any] | None,
        cache: dict[tuple[str, str, str | None], bytes | SyncFailure],
    ) -> dict[str, bytes]:
        spec = sync.get("spec") or {}
        secret_object = spec.get("secretObject") or {}
        mappings = secret_object.get("data") or []
        if not mappings:
            raise SyncFailure("UserInputValidationFailed", "secretObject.data is empty")
        for field in ("labels", "annotations"):
            if any(str(k).startswith(SECRET_SYNC_LABEL) for k in secret_object.get(field) or {}):
                raise SyncFailure("UserInputValidationFailed", f"secretObject.{field} uses a reserved key")
        if spc is None:
            name = spec.get("secretProviderClassName")
            raise SyncFailure("ControllerSPCError", f"SecretProviderClass {name} not found")
        view = parse_spc(spc)
        if view.objects_error:
            raise SyncFailure("ControllerSPCError", view.objects_error)
        if view.provider != "azure" or not view.keyvault_name:
            raise SyncFailure("ControllerSPCError", "provider must be azure with a keyvaultName")
        files = self._fetch_all(view, cache)
        data: dict[str, bytes] = {}
        for mapping in mappings:
            source, target = str(mapping.get("sourcePath") or ""), str(mapping.get("targetKey") or "")
            if source not in files:
                raise SyncFailure(
                    "UserInputValidationFailed", f"sourcePath {source} is not an object of {view.name}"
                )
            data[target] = files[source]
        return data

    def _write_secret(self, sync: Mapping[str, Any], data: Mapping[str, bytes]) -> None:
        """Server-side apply of the synced Secret, without force (SSC ``serverSidePatchSecret``)."""
        meta = sync["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        existing = self.kube.get(rk.SECRETS, namespace, name)
        if existing is not None and SECRET_SYNC_LABEL not in (existing["metadata"].get("labels") or {}):
            raise SyncFailure("InvalidClusterSecretLabelError", f"Secret {name} exists and is not ours")
        try:
            self.kube.apply(rk.SECRETS, synced_secret(sync, data), FIELD_MANAGER)
        except ApiException as exc:
            # A conflict with a key someone else changed, a Secret over the API server's size limit:
            # upstream reports every failed patch as UnknownError and logs the error itself.
            raise SyncFailure("UnknownError", _api_error(exc)) from None
        self.secret_writes += 1

    def _sync(
        self,
        sync: Mapping[str, Any],
        spc: Mapping[str, Any] | None,
        cache: dict[tuple[str, str, str | None], bytes | SyncFailure],
        now: datetime,
    ) -> tuple[int, bool]:
        """One reconcile of one SecretSync, as upstream's ``Reconcile``; returns (writes, succeeded)."""
        meta = sync["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        status = dict(sync.get("status") or {})
        before: list[dict[str, Any]] = [dict(c) for c in status.get("conditions") or []]
        kind = UPDATE if status.get("syncHash") else CREATE
        self.syncs += 1
        # Upstream first sets an in-memory Unknown placeholder; most paths remove it before writing.
        conditions = _put(before, UNKNOWN, UNKNOWN, now)

        def report(merged: list[dict[str, Any]], extra: Mapping[str, Any] | None = None) -> int:
            patch = {"conditions": merged, **(extra or {})}
            if merged == before and all(status.get(k) == v for k, v in (extra or {}).items()):
                return 0  # upstream's Status().Update of an unchanged status writes nothing
            self.kube.patch_status(rk.SECRET_SYNCS, namespace, name, patch)
            return 1

        try:
            data = self._desired(sync, spc, cache)
        except SyncFailure as failure:
            log.info("SecretSync %s/%s: %s: %s", namespace, name, failure.reason, failure.detail)
            return report(_put(remove_condition(conditions, UNKNOWN), kind, failure.reason, now)), False
        new_hash = sync_hash(data, spc or {}, sync)
        changed = new_hash != status.get("syncHash")
        failed = next((c for c in before if c.get("reason") in FAILING_REASONS), None)
        if failed is None and not changed:
            merged = _put(remove_condition(conditions, UNKNOWN), kind, "UpdateNoValueChangeSucceeded", now)
            return report(merged), True
        if kind == CREATE:
            conditions = _put(remove_condition(conditions, UNKNOWN), kind, "CreateSucceeded", now)
        elif changed:
            conditions = _put(
                remove_condition(conditions, UNKNOWN), kind, "UpdateValueChangeOrForceUpdateSucceeded", now
            )
        if failed is not None:
            conditions = remove_condition(conditions, str(failed.get("type")))
        try:
            self._write_secret(sync, data)
        except SyncFailure as failure:
            log.info("SecretSync %s/%s: %s: %s", namespace, name, failure.reason, failure.detail)
            # The hash and lastSuccessfulSyncTime roll back (are not written); Create and Update go.
            merged = remove_condition(remove_condition(conditions, CREATE), UPDATE)
            merged = _put(remove_condition(merged, UNKNOWN), kind, failure.reason, now)
            return report(merged), False
        merged = [c for c in conditions if c.get("reason") not in FAILING_REASONS]
        return 1 + report(merged, {"syncHash": new_hash, "lastSuccessfulSyncTime": iso(now)}), True


def _api_error(exc: ApiException) -> str:
    """The API server's message of a refused write (its Status body), for the log."""
    try:
        message = json.loads(exc.body or "{}").get("message")
    except (ValueError, AttributeError):
        message = None
    return f"HTTP {exc.status}: {message or exc.reason}"
