"""Write-ahead journal records of an apply and their JSON form.

``tui.ops`` persists these (one JSON object per line in the user's state directory); this module only
says what a record holds and how it round-trips, so an interrupted apply can be understood by a later
process without the one that wrote it. The protocol the executor follows:

1. a :class:`PlanRecord` (the plan's steps) before the first write; a new one with ``revision + 1``
   after each rebase on a 409;
2. per step, a ``pending`` :class:`StepRecord` with the step's operation and the *before-image* of what
   it is about to change (:func:`vault_before`, :class:`ClusterBefore`), then the write, then ``done``
   (with the resourceVersion the write left) or ``failed`` (with a one-line reason);
3. an :class:`EndRecord` with the outcome.

:func:`summarize` reads a journal back (an apply without an EndRecord was interrupted; a step whose
last record is ``pending`` may or may not have happened, which ``tui.ops`` settles by looking at the
target now, and it also undoes done steps for a rollback). Private keys never enter a record: a vault
before-image keeps the old value only when it is a certificate or CRL, and plans never write anything
else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from tui.core.certs.model import iso_utc
from tui.core.changes.file_rules import read_content, vault_value
from tui.core.changes.operations import (
    Operation,
    SpcEdit,
    Step,
    StepKind,
    SyncEdit,
    VaultDelete,
    VaultWrite,
)
from tui.core.model.snapshot import VaultSecret

FORMAT_VERSION = 2
"""The newest record format this version reads; a reader refuses records of a newer format."""
CLUSTER_FORMAT = 1
"""Records without ARM steps keep format 1, which earlier versions read."""
ARM_FORMAT = 2
"""Records holding a step written through Azure Resource Manager: an earlier version, which would take
such a step for a cluster edit, refuses them instead."""


class JournalFormatError(ValueError):
    """A journal record that cannot be read; the message is one line naming the field."""


class StepState(StrEnum):
    """Where one step of an apply stands."""

    PENDING = "pending"
    """Written before the step runs: it may or may not have happened."""
    DONE = "done"
    FAILED = "failed"
    ROLLED_BACK = "rolled-back"


@dataclass(frozen=True)
class VaultBefore:
    """A Key Vault secret as it was before a step changed it."""

    secret_name: str
    existed: bool
    value: str | None = field(default=None, repr=False)
    """The old value, kept only when it held a certificate or CRL (public data); else None."""
    content_type: str | None = None
    tags: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    expires_on: datetime | None = None
    enabled: bool = True
    version: str | None = None
    """The old version id when the adapter knows it (Key Vault keeps it after a new write)."""

    @property
    def restorable(self) -> bool:
        """True when a rollback can put the secret back as it was (absent, or its value is known)."""
        return not self.existed or self.value is not None

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "type": "vault",
            "secret_name": self.secret_name,
            "existed": self.existed,
            "value": self.value,
            "content_type": self.content_type,
            "tags": dict(self.tags),
            "expires_on": iso_utc(self.expires_on),
            "enabled": self.enabled,
            "version": self.version,
        }


def vault_before(secret_name: str, secret: VaultSecret | None, *, version: str | None = None) -> VaultBefore:
    """The before-image of a vault secret read just before a write (None: it does not exist).

    The old value is kept only when it decodes to a certificate or CRL, so a journal never stores a
    private key or any other secret that happened to carry the name.
    """
    if secret is None:
        return VaultBefore(secret_name, existed=False)
    value: str | None = None
    if secret.value is not None:
        held = vault_value(secret)
        if held.payload is not None and read_content(held.payload, secret_name).kind is not None:
            value = secret.value
    return VaultBefore(
        secret_name,
        True,
        value,
        secret.content_type,
        MappingProxyType(dict(secret.tags)),
        secret.expires_on,
        secret.enabled,
        version,
    )


@dataclass(frozen=True)
class ClusterBefore:
    """A SecretProviderClass or SecretSync as it was before a step changed it."""

    kind: str
    """``SecretProviderClass`` or ``SecretSync``."""
    namespace: str
    name: str
    existed: bool
    resource_version: str | None = None
    objects: str | None = None
    """SPC: the whole ``parameters.objects`` string (None when absent)."""
    mappings: tuple[tuple[str, str], ...] = ()
    """SecretSync: ``(sourcePath, targetKey)`` pairs."""
    spc_name: str | None = None
    service_account: str | None = None
    secret_type: str | None = None
    force_synchronization: str | None = None

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "type": "cluster",
            "kind": self.kind,
            "namespace": self.namespace,
            "name": self.name,
            "existed": self.existed,
            "resource_version": self.resource_version,
            "objects": self.objects,
            "mappings": [{"sourcePath": s, "targetKey": t} for s, t in self.mappings],
            "spc_name": self.spc_name,
            "service_account": self.service_account,
            "secret_type": self.secret_type,
            "force_synchronization": self.force_synchronization,
        }


@dataclass(frozen=True)
class ArmBefore:
    """An Azure Resource Manager resource as it was before a step changed it: its ETag and whole body.

    A rollback puts back only the step's own delta on ARM's current copy (as on the cluster); the body
    is what a SecretSync the apply deleted is created from again (location, extendedLocation, the
    mappings and every other property ARM held). A list resource holds no secret value.
    """

    kind: str
    """The ARM type's last segment (``secretSyncs``, ``azureKeyVaultSecretProviderClasses``)."""
    name: str
    resource_id: str
    existed: bool
    etag: str | None = None
    body: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "type": "arm",
            "kind": self.kind,
            "name": self.name,
            "resource_id": self.resource_id,
            "existed": self.existed,
            "etag": self.etag,
            "body": _plain(self.body),
        }


def _plain(value: Any) -> Any:
    """A JSON-ready copy of an ARM body (read-only mappings become dicts)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


Before = VaultBefore | ClusterBefore | ArmBefore


def _uses_arm(ops: Iterable[Operation | None], before: Before | None = None) -> bool:
    return isinstance(before, ArmBefore) or any(
        isinstance(op, SpcEdit | SyncEdit) and op.arm is not None for op in ops
    )


@dataclass(frozen=True)
class SiteIdentity:
    """What tells one site from another, recorded with an apply so it is never finished elsewhere.

    A context name says little: many edge clusters share ``default`` (k3s), and two kubeconfigs may give
    different sites the same name. The API server URL does not settle it either (an SSH tunnel makes
    every k3s ``https://127.0.0.1:6443``), so the cluster's own identity is kept when it could be read:
    the UID of its ``kube-system`` namespace, made once when the cluster was created. The vault and the
    ARM resources are the other places an apply writes to.
    """

    server: str = ""
    """The API server URL the apply wrote through."""
    cluster_uid: str | None = None
    """``metadata.uid`` of the ``kube-system`` Namespace; None when it could not be read."""
    vault_url: str | None = None
    """The Key Vault the apply read or wrote; None when none was known."""
    arm_resources: tuple[str, ...] = ()
    """ARM resource ids the apply wrote through (a plan) or the site's list objects name (now)."""

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "server": self.server,
            "cluster_uid": self.cluster_uid,
            "vault_url": self.vault_url,
            "arm_resources": list(self.arm_resources),
        }

    @classmethod
    def from_json(cls, data: Any) -> SiteIdentity | None:
        """Read back; None when ``data`` holds none (a journal written before sites were recorded)."""
        if not isinstance(data, Mapping):
            return None
        uid, vault = data.get("cluster_uid"), data.get("vault_url")
        return cls(
            str(data.get("server") or ""),
            str(uid) if uid else None,
            str(vault) if vault else None,
            tuple(str(r) for r in data.get("arm_resources") or ()),
        )


def _url(value: str) -> str:
    """A URL as compared: scheme and host are case-blind, a trailing slash means nothing."""
    return value.strip().rstrip("/").lower()


def site_difference(recorded: SiteIdentity | None, current: SiteIdentity) -> str | None:
    """How the site a journal was written for differs from ``current`` (one line), or None when not.

    Only what is known on both sides is compared. The cluster's UID decides the cluster when both have
    one (the same cluster reached through another address is the same site); without it the API server
    URL does. A journal with no recorded site (written before they were recorded) cannot be told apart
    and is said to differ: finishing it against the wrong cluster and vault redoes or undoes writes on a
    site that never had them.
    """
    if recorded is None:
        return (
            "it records no site (written by an earlier aio-certs), so which cluster and vault it was "
            "for is unknown"
        )
    if recorded.cluster_uid and current.cluster_uid:
        if recorded.cluster_uid != current.cluster_uid:
            return (
                f"the cluster differs (written for the cluster at {recorded.server or '?'} whose kube-system "
                f"namespace has uid {recorded.cluster_uid}; now at {current.server or '?'}, uid "
                f"{current.cluster_uid})"
            )
    elif recorded.server and current.server and _url(recorded.server) != _url(current.server):
        return f"the API server differs (written for {recorded.server}, now {current.server})"
    if recorded.vault_url and current.vault_url and _url(recorded.vault_url) != _url(current.vault_url):
        return f"the vault differs (written for {recorded.vault_url}, now {current.vault_url})"
    written = {r.lower() for r in recorded.arm_resources}
    now = {r.lower() for r in current.arm_resources}
    if written and now and not written & now:
        return (
            f"the ARM resources differ (written through {', '.join(recorded.arm_resources[:2])}, the site "
            f"now names {', '.join(current.arm_resources[:2])})"
        )
    return None


@dataclass(frozen=True)
class PlanRecord:
    """Opens an apply (or a rebased revision of it): the steps about to run."""

    plan_id: str
    revision: int
    at: datetime
    namespace: str
    steps: tuple[Step, ...]
    changes: tuple[str, ...] = ()
    """The change set, one line per change, for humans reading the journal."""
    context: str = ""
    """Kubernetes context name, for the "interrupted apply" prompt."""
    site: SiteIdentity | None = None
    """The site the apply writes to; a resume or rollback elsewhere is refused (see
    :func:`site_difference`). None in journals written before it was recorded."""

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        # "site" is a new field, not a new format: an earlier reader ignores it and reads the rest.
        return {
            "record": "plan",
            "format": ARM_FORMAT if _uses_arm(s.op for s in self.steps) else CLUSTER_FORMAT,
            "plan_id": self.plan_id,
            "revision": self.revision,
            "at": iso_utc(self.at),
            "namespace": self.namespace,
            "context": self.context,
            "site": self.site.to_json() if self.site is not None else None,
            "changes": list(self.changes),
            "steps": [s.to_json() for s in self.steps],
        }


@dataclass(frozen=True)
class StepRecord:
    """One state change of one step."""

    plan_id: str
    revision: int
    index: int
    kind: StepKind
    target: str
    state: StepState
    at: datetime
    before: Before | None = None
    """The before-image, on the ``pending`` record."""
    op: Operation | None = None
    """The operation, on the ``pending`` record, so a rollback needs nothing else."""
    resource_version: str | None = None
    """The resourceVersion a cluster write left (the ETag, for a write through ARM), on the ``done``
    record."""
    message: str = ""
    """One-line reason on a ``failed`` record."""

    @property
    def key(self) -> tuple[int, int]:
        """``(revision, index)``: a step's identity across rebases."""
        return (self.revision, self.index)

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "record": "step",
            "format": ARM_FORMAT if _uses_arm([self.op], self.before) else CLUSTER_FORMAT,
            "plan_id": self.plan_id,
            "revision": self.revision,
            "index": self.index,
            "kind": str(self.kind),
            "target": self.target,
            "state": str(self.state),
            "at": iso_utc(self.at),
            "before": self.before.to_json() if self.before else None,
            "op": self.op.to_json() if self.op is not None else None,
            "resource_version": self.resource_version,
            "message": self.message,
        }


@dataclass(frozen=True)
class EndRecord:
    """Closes an apply: ``applied``, ``failed``, ``rolled-back`` or ``abandoned`` (left as it is)."""

    plan_id: str
    outcome: str
    at: datetime
    message: str = ""

    def to_json(self) -> dict[str, Any]:
        """JSON object."""
        return {
            "record": "end",
            "format": CLUSTER_FORMAT,
            "plan_id": self.plan_id,
            "outcome": self.outcome,
            "at": iso_utc(self.at),
            "message": self.message,
        }


Record = PlanRecord | StepRecord | EndRecord

OUTCOMES = ("applied", "failed", "rolled-back", "abandoned", "conflict")


# --- Reading records back -----


def _need(data: Mapping[str, Any], name: str) -> Any:
    if name not in data or data[name] is None:
        raise JournalFormatError(f"journal record: missing field {name!r}")
    return data[name]


def _time(data: Mapping[str, Any], name: str, *, required: bool = True) -> datetime | None:
    raw = _need(data, name) if required else data.get(name)
    if raw is None:
        return None
    try:
        return datetime.fromisoformat(str(raw).replace("Z", "+00:00"))
    except ValueError:
        raise JournalFormatError(f"journal record: field {name!r} is not a time ({raw!r})") from None


def _pairs(items: Any) -> tuple[tuple[str, str], ...]:
    return tuple((str(i["sourcePath"]), str(i["targetKey"])) for i in items or ())


def _before_from_json(data: Mapping[str, Any] | None) -> Before | None:
    if data is None:
        return None
    if data.get("type") == "vault":
        return VaultBefore(
            str(_need(data, "secret_name")),
            bool(data.get("existed")),
            data.get("value"),
            data.get("content_type"),
            MappingProxyType({str(k): str(v) for k, v in dict(data.get("tags") or {}).items()}),
            _time(data, "expires_on", required=False),
            bool(data.get("enabled", True)),
            data.get("version"),
        )
    if data.get("type") == "cluster":
        return ClusterBefore(
            str(_need(data, "kind")),
            str(_need(data, "namespace")),
            str(_need(data, "name")),
            bool(data.get("existed")),
            data.get("resource_version"),
            data.get("objects"),
            _pairs(data.get("mappings")),
            data.get("spc_name"),
            data.get("service_account"),
            data.get("secret_type"),
            data.get("force_synchronization"),
        )
    if data.get("type") == "arm":
        body = data.get("body")
        return ArmBefore(
            str(_need(data, "kind")),
            str(_need(data, "name")),
            str(_need(data, "resource_id")),
            bool(data.get("existed")),
            data.get("etag"),
            dict(body) if isinstance(body, Mapping) else {},
        )
    raise JournalFormatError(f"journal record: unknown before-image type {data.get('type')!r}")


def _op_from_json(kind: StepKind, data: Mapping[str, Any] | None) -> Operation | None:
    if data is None:
        return None
    return Step.from_json({"index": 0, "kind": str(kind), "op": data}).op


def record_from_json(data: Mapping[str, Any]) -> Record:
    """Read one record back; JournalFormatError (one line) when it is not a record this version knows."""
    if not isinstance(data, Mapping):
        raise JournalFormatError("journal record: not a JSON object")
    fmt = data.get("format", FORMAT_VERSION)
    if not isinstance(fmt, int) or fmt > FORMAT_VERSION:
        raise JournalFormatError(
            f"journal record: format {fmt!r} is newer than this aio-certs ({FORMAT_VERSION})"
        )
    kind = data.get("record")
    try:
        if kind == "plan":
            steps = tuple(Step.from_json(s) for s in _need(data, "steps"))
            at = _time(data, "at")
            assert at is not None
            return PlanRecord(
                str(_need(data, "plan_id")),
                int(data.get("revision", 0)),
                at,
                str(_need(data, "namespace")),
                steps,
                tuple(str(c) for c in data.get("changes") or ()),
                str(data.get("context") or ""),
                SiteIdentity.from_json(data.get("site")),
            )
        if kind == "step":
            step_kind = StepKind(str(_need(data, "kind")))
            at = _time(data, "at")
            assert at is not None
            return StepRecord(
                str(_need(data, "plan_id")),
                int(data.get("revision", 0)),
                int(_need(data, "index")),
                step_kind,
                str(_need(data, "target")),
                StepState(str(_need(data, "state"))),
                at,
                _before_from_json(data.get("before")),
                _op_from_json(step_kind, data.get("op")),
                data.get("resource_version"),
                str(data.get("message") or ""),
            )
        if kind == "end":
            outcome = str(_need(data, "outcome"))
            if outcome not in OUTCOMES:
                raise JournalFormatError(f"journal record: unknown outcome {outcome!r}")
            at = _time(data, "at")
            assert at is not None
            return EndRecord(str(_need(data, "plan_id")), outcome, at, str(data.get("message") or ""))
    except JournalFormatError:
        raise
    except (KeyError, TypeError, ValueError) as exc:
        raise JournalFormatError(
            f"journal record ({kind}): malformed ({type(exc).__name__}: {exc})"
        ) from None
    raise JournalFormatError(f"journal record: unknown record type {kind!r}")


def record_to_json(record: Record) -> dict[str, Any]:
    """The JSON object of any record (same as its ``to_json``)."""
    return record.to_json()


@dataclass(frozen=True)
class JournalSummary:
    """The latest apply in a journal, as its records tell it."""

    plan: PlanRecord | None
    """The newest revision's plan record; None for an empty journal."""
    plans: tuple[PlanRecord, ...]
    """Every revision, oldest first."""
    steps: Mapping[tuple[int, int], StepRecord]
    """Latest record per ``(revision, index)``."""
    pending: Mapping[tuple[int, int], StepRecord]
    """The ``pending`` record (with op and before-image) per step that got one."""
    end: EndRecord | None

    @property
    def interrupted(self) -> bool:
        """An apply started and never recorded its end."""
        return self.plan is not None and self.end is None

    @property
    def done_steps(self) -> tuple[StepRecord, ...]:
        """The steps whose latest state is ``done``, in execution order, each with its op and before-image."""
        out = []
        for key in sorted(self.steps):
            if self.steps[key].state is StepState.DONE:
                first = self.pending.get(key)
                latest = self.steps[key]
                out.append(
                    StepRecord(
                        latest.plan_id,
                        latest.revision,
                        latest.index,
                        latest.kind,
                        latest.target,
                        latest.state,
                        latest.at,
                        first.before if first else None,
                        first.op if first else None,
                        latest.resource_version,
                        latest.message,
                    )
                )
        return tuple(out)

    @property
    def uncertain(self) -> tuple[StepRecord, ...]:
        """Steps left ``pending``: the process stopped around the write; look at the target to know."""
        return tuple(self.steps[k] for k in sorted(self.steps) if self.steps[k].state is StepState.PENDING)

    def remaining(self) -> tuple[Step, ...]:
        """Steps of the newest revision not done yet (what a resume runs, after settling uncertain ones)."""
        if self.plan is None:
            return ()
        rev = self.plan.revision
        return tuple(
            s
            for s in self.plan.steps
            if (st := self.steps.get((rev, s.index))) is None or st.state is not StepState.DONE
        )


def summarize(records: Iterable[Record]) -> JournalSummary:
    """What the journal says about its newest apply (records of older plans are ignored)."""
    items = list(records)
    newest = next((r.plan_id for r in reversed(items) if isinstance(r, PlanRecord)), None)
    plans: list[PlanRecord] = []
    steps: dict[tuple[int, int], StepRecord] = {}
    pending: dict[tuple[int, int], StepRecord] = {}
    end: EndRecord | None = None
    for rec in items:
        if rec.plan_id != newest:
            continue
        if isinstance(rec, PlanRecord):
            plans.append(rec)
        elif isinstance(rec, StepRecord):
            steps[rec.key] = rec
            if rec.state is StepState.PENDING:
                pending[rec.key] = rec
        else:
            end = rec
    plans.sort(key=lambda p: p.revision)
    return JournalSummary(plans[-1] if plans else None, tuple(plans), steps, pending, end)


@dataclass(frozen=True)
class JournalAuditFields:
    """What the audit log records about a journaled apply, read from its journal alone (no cluster).

    The same fields as ``tui.ops.apply.AuditInfo`` minus action and context, so a resume or rollback
    records the thumbprints, secrets and entries of the apply it finishes or undoes.
    """

    thumbprints: tuple[str, ...] = ()
    """SHA-256 of every certificate or CRL the apply writes to the vault."""
    vault_secrets: tuple[str, ...] = ()
    """Secrets written, deleted, or mapped in or out of the SecretProviderClass."""
    entries: tuple[str, ...] = ()
    """``list/targetKey`` of every entry added, replaced or removed."""
    arm_resources: tuple[str, ...] = ()
    """ARM resource ids of the steps written through Azure Resource Manager."""
    drift: tuple[str, ...] = ()
    """``Kind namespace/name`` of each ARM-owned object written on the cluster only (``--local-only``)."""


def _changed_targets(op: SyncEdit) -> list[str]:
    """Target keys whose mapping the SecretSync edit adds, re-points or drops."""
    before, after = dict((t, s) for s, t in op.before), dict((t, s) for s, t in op.after)
    return [t for t in (*after, *before) if before.get(t) != after.get(t)]


def journal_audit_fields(summary: JournalSummary) -> JournalAuditFields:
    """Thumbprints, vault secrets and ``list/targetKey`` entries of the apply ``summary`` reads, from every
    plan revision's steps and the operations on its step records, in order, without repeats."""
    ops: list[Operation] = [s.op for plan in summary.plans for s in plan.steps]
    ops += [r.op for r in summary.pending.values() if r.op is not None]
    prints: dict[str, None] = {}
    secrets: dict[str, None] = {}
    entries: dict[str, None] = {}
    arm: dict[str, None] = {}
    drift: dict[str, None] = {}
    for op in ops:
        if isinstance(op, SpcEdit | SyncEdit):
            if op.arm is not None:
                arm[op.arm.resource_id] = None
            if op.drift:
                drift[f"{'SecretProviderClass' if isinstance(op, SpcEdit) else 'SecretSync'} {op.key}"] = None
        if isinstance(op, VaultWrite | VaultDelete):
            secrets[op.secret_name] = None
            if op.target_key:
                entries[f"{op.list_name}/{op.target_key}"] = None
            if isinstance(op, VaultWrite) and op.sha256:
                prints[op.sha256] = None
        elif isinstance(op, SpcEdit):
            # objectNames are the vault secret names the SecretProviderClass reads.
            secrets.update(dict.fromkeys((*op.added, *op.removed)))
        elif isinstance(op, SyncEdit):
            entries.update(dict.fromkeys(f"{op.list_name}/{t}" for t in _changed_targets(op)))
    return JournalAuditFields(tuple(prints), tuple(secrets), tuple(entries), tuple(arm), tuple(drift))
