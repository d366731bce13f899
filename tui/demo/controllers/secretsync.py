"""Simulated secret sync controller (Azure's Secret Store Extension): Key Vault -> Kubernetes Secret.

For each SecretSync (docs/domain.md §5): read its SecretProviderClass, fetch every SPC object from the
vault with the real ``SecretClient`` (as the provider mounts them all), decode per ``objectEncoding``,
map ``sourcePath`` -> ``targetKey``, and write the Secret of the same name with the controller's label,
annotation and ownerReference. Status follows the released controller: a ``Create`` condition until a
first sync succeeded, ``Update`` after; ``syncHash`` and ``lastSuccessfulSyncTime`` on success; failing
reasons (``ControllerSPCError``, ``ProviderError``, ``UserInputValidationFailed``,
``InvalidClusterSecretLabelError``) otherwise. A sync runs at once on any spec change (including a new
``forceSynchronization``) or SPC change, and otherwise every ``poll_interval`` (AIO: 120 s).
"""

from __future__ import annotations

import binascii
import hashlib
import hmac
import json
from collections.abc import Callable, Iterable, Mapping
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

POLL_INTERVAL = timedelta(seconds=120)
RETRY_INTERVAL = timedelta(seconds=10)
FETCH_WORKERS = 4  # the SDK is GIL-bound here; more threads only add contention

CREATE, UPDATE = "Create", "Update"
MESSAGES = {
    "CreateSucceeded": "Secret created successfully.",
    "UpdateNoValueChangeSucceeded": "Polled at the end of the interval; no value changed.",
    "UpdateValueChangeOrForceUpdateSucceeded": "The secret was updated: a value change or a forced update.",
    "ProviderError": "Secret sync failed: the provider could not fetch the secret objects.",
    "ControllerSPCError": "Secret sync failed: the SecretProviderClass is missing or misconfigured.",
    "UserInputValidationFailed": "Secret sync failed: the SecretSync or SecretProviderClass is invalid.",
    "InvalidClusterSecretLabelError": "Secret sync failed: the Secret exists without the controller's label.",
    "UnknownError": "Secret sync failed: the Secret could not be written.",
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

VaultClientFactory = Callable[[SpcView], SecretClient]
"""Gives the SecretClient for an SPC's vault (keyvaultName, cloud); the demo maps all to its emulator."""


class SyncFailure(Exception):
    """A sync that could not complete: ``reason`` is the condition reason, the message says what."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


@dataclass
class _Tracked:
    trigger: str
    next_due: datetime


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


class SecretSyncController(Controller):
    """Syncs vault objects into Secrets for every SecretSync, on change and on a poll interval."""

    name = "secret-sync"
    watched = (rk.SECRET_SYNCS, rk.SECRET_PROVIDER_CLASSES)
    # A sync runs on a spec change (the trigger hashes uid and spec) or when due; its own status
    # updates, and anyone else's, would only wake it to list every SecretSync and SPC for nothing.
    spec_driven = (rk.SECRET_SYNCS,)

    def __init__(
        self,
        kube: KubeAccess,
        clock: Clock,
        vault_client_for: VaultClientFactory,
        *,
        poll_interval: timedelta = POLL_INTERVAL,
        retry_interval: timedelta = RETRY_INTERVAL,
    ) -> None:
        super().__init__(kube, clock)
        self.vault_client_for = vault_client_for
        self.poll_interval = poll_interval
        self.retry_interval = retry_interval
        self._tracked: dict[tuple[str, str], _Tracked] = {}
        self._pool = ThreadPoolExecutor(max_workers=FETCH_WORKERS, thread_name_prefix="secret-sync-fetch")
        self.syncs = 0
        self.vault_reads = 0

    def close(self) -> None:
        """Release the fetch threads."""
        self._pool.shutdown(wait=True, cancel_futures=True)

    def _trigger(self, sync: Mapping[str, Any], spc: Mapping[str, Any] | None) -> str:
        # What must not change between passes for a sync to wait for its poll interval.
        spc_meta = (spc or {}).get("metadata") or {}
        parts = [
            (sync.get("metadata") or {}).get("uid"),
            sync.get("spec"),
            spc_meta.get("uid"),
            (spc or {}).get("spec"),
        ]
        return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()

    def _reconcile(self) -> PassResult:
        now = self.clock.now()
        writes = 0
        due: datetime | None = None
        syncs = self.kube.list(rk.SECRET_SYNCS)
        spcs = {
            (o["metadata"].get("namespace"), o["metadata"]["name"]): o
            for o in self.kube.list(rk.SECRET_PROVIDER_CLASSES)
        }
        cache: dict[tuple[str, str, str | None], bytes | SyncFailure] = {}
        seen: set[tuple[str, str]] = set()
        for sync in syncs:
            meta = sync["metadata"]
            key = (meta.get("namespace") or "", meta["name"])
            seen.add(key)
            spc = spcs.get((meta.get("namespace"), (sync.get("spec") or {}).get("secretProviderClassName")))
            trigger = self._trigger(sync, spc)
            tracked = self._tracked.get(key)
            if tracked is not None and tracked.trigger == trigger and now < tracked.next_due:
                due = tracked.next_due if due is None or tracked.next_due < due else due
                continue
            made, ok = self._sync(sync, spc, cache, now)
            writes += made
            next_due = now + (self.poll_interval if ok else self.retry_interval)
            self._tracked[key] = _Tracked(trigger, next_due)
            due = next_due if due is None or next_due < due else due
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

    def _write_secret(self, sync: Mapping[str, Any], data: Mapping[str, bytes]) -> int:
        meta = sync["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        existing = self.kube.get(rk.SECRETS, namespace, name)
        if existing is not None and SECRET_SYNC_LABEL not in (existing["metadata"].get("labels") or {}):
            raise SyncFailure("InvalidClusterSecretLabelError", f"Secret {name} exists and is not ours")
        obj = synced_secret(sync, data)
        if (
            existing is not None
            and existing.get("data") == obj["data"]
            and existing.get("type") == obj["type"]
        ):
            same_meta = all(
                (existing["metadata"].get(f) or {}) == obj["metadata"].get(f)
                for f in ("labels", "annotations")
            )
            if (
                same_meta
                and existing["metadata"].get("ownerReferences") == obj["metadata"]["ownerReferences"]
            ):
                return 0
        try:
            self.kube.upsert(rk.SECRETS, obj, existing)
        except ApiException as exc:
            # E.g. a list too large for one Secret (the API server's size limit): the released
            # controller reports a failed patch as UnknownError with status Unknown.
            raise SyncFailure(
                "UnknownError", f"writing Secret {name}: HTTP {exc.status} {exc.reason}"
            ) from None
        return 1

    def _sync(
        self,
        sync: Mapping[str, Any],
        spc: Mapping[str, Any] | None,
        cache: dict[tuple[str, str, str | None], bytes | SyncFailure],
        now: datetime,
    ) -> tuple[int, bool]:
        """One sync of one SecretSync; returns (writes, succeeded)."""
        meta = sync["metadata"]
        namespace, name = meta["namespace"], meta["name"]
        status = dict(sync.get("status") or {})
        conditions = status.get("conditions") or []
        kind = UPDATE if status.get("syncHash") else CREATE
        generation = meta.get("generation")
        self.syncs += 1
        try:
            data = self._desired(sync, spc, cache)
            new_hash = sync_hash(data, spc or {}, sync)
            failing = [c for c in conditions if c.get("reason") in FAILING_REASONS]
            if not failing and new_hash == status.get("syncHash"):
                reason = "UpdateNoValueChangeSucceeded"
                merged = set_condition(
                    conditions, condition(UPDATE, True, reason, MESSAGES[reason], now, generation)
                )
                writes = self._write_secret(sync, data)  # repairs a hand-edited Secret
                if merged != conditions:
                    self.kube.patch_status(rk.SECRET_SYNCS, namespace, name, {"conditions": merged})
                    writes += 1
                return writes, True
            writes = self._write_secret(sync, data)
        except SyncFailure as failure:
            message = f"{MESSAGES[failure.reason]} {failure.detail}"
            state = "Unknown" if failure.reason == "UnknownError" else False
            failed = condition(kind, state, failure.reason, message, now, generation)
            merged = set_condition(conditions, failed)
            if merged != conditions:
                self.kube.patch_status(rk.SECRET_SYNCS, namespace, name, {"conditions": merged})
                return 1, False
            return 0, False
        reason = "CreateSucceeded" if kind == CREATE else "UpdateValueChangeOrForceUpdateSucceeded"
        cleaned = _without_failures(conditions)
        merged = set_condition(cleaned, condition(kind, True, reason, MESSAGES[reason], now, generation))
        patch = {"conditions": merged, "syncHash": new_hash, "lastSuccessfulSyncTime": iso(now)}
        self.kube.patch_status(rk.SECRET_SYNCS, namespace, name, patch)
        return writes + 1, True


def _without_failures(conditions: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    out = [dict(c) for c in conditions]
    for cond in list(out):
        if cond.get("reason") in FAILING_REASONS:
            out = remove_condition(out, str(cond.get("type")))
    return out
