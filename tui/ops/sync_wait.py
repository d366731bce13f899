"""Waiting, bounded and visibly, for the secret sync controller to carry an applied plan into the cluster.

An apply is only useful once the synced Secret (what the OPC UA connector reads) holds the new files.
For each SecretSync a plan touched, :func:`expectations` says what must be true afterwards: the keys that
must be there (with the exact bytes written to the vault, when this plan wrote them), the keys that must
be gone, or that the SecretSync and its Secret must be gone. :func:`wait_for_sync` polls until every
expectation holds, or until the timeout, and reports a failing sync condition instead of just "timed out".

Each expectation also knows when the controller will act (:mod:`tui.core.changes.sync_timing`): at once
for a spec change, or at its next poll (at most 120 s on AIO) when something it does not watch changed
last. A wait for the poll says so in its progress lines and, when it runs out, how long the poll may
still take.
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tui.cluster.writes import WriteError
from tui.core.build.readers import parse_conditions
from tui.core.changes.operations import Step, SyncEdit, VaultWrite
from tui.core.changes.sync_timing import SyncTiming, SyncTrigger, poll_seconds, sync_timings
from tui.core.health.findings import condition_healthy
from tui.core.model import resources as rk
from tui.ops.ports import ClusterPort

POLL_SECONDS = 0.1
_SUCCESS_SUFFIXES = ("Succeeded", "Successful", "UpToDate")


@dataclass(frozen=True)
class SyncExpectation:
    """What one SecretSync and its Secret must show once the controller has synced the plan."""

    namespace: str
    name: str
    present: bool = True
    """False: the SecretSync (and so its Secret) must be gone."""
    keys: Mapping[str, bytes | None] = field(default_factory=dict)
    """targetKey -> the exact bytes expected (None: any bytes, the key just has to be there)."""
    absent: tuple[str, ...] = ()
    """targetKeys that must no longer be in the Secret."""
    timing: SyncTiming | None = None
    """When the controller acts on it; None when not known (taken as at once)."""

    @property
    def waits_for_poll(self) -> bool:
        """The controller carries this only at its next poll."""
        return self.timing is not None and self.timing.trigger is SyncTrigger.POLL

    @property
    def key(self) -> str:
        """``namespace/name``."""
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class SyncCheck:
    """One look at a SecretSync: whether its expectation holds, and why not."""

    expectation: SyncExpectation
    ok: bool
    reason: str = ""


def expectations(steps: Iterable[Step]) -> list[SyncExpectation]:
    """The expectation per SecretSync touched by ``steps`` (in the order the steps touch them)."""
    written: dict[str, bytes] = {}
    out: dict[str, SyncExpectation] = {}
    steps = list(steps)
    timings = {t.key: t for t in sync_timings(steps)}
    for step in steps:
        op = step.op
        if isinstance(op, VaultWrite):
            try:
                written[op.secret_name.lower()] = bytes.fromhex(op.value)
            except ValueError:
                continue
    for step in steps:
        op = step.op
        if not isinstance(op, SyncEdit):
            continue
        if op.action == "delete":
            out[op.key] = SyncExpectation(op.namespace, op.name, present=False, timing=timings.get(op.key))
            continue
        keys = {target: written.get(source.lower()) for source, target in op.after}
        gone = tuple(t for _, t in op.before if t not in keys)
        out[op.key] = SyncExpectation(
            op.namespace, op.name, keys=keys, absent=gone, timing=timings.get(op.key)
        )
    return list(out.values())


def _decoded(data: Mapping[str, Any]) -> dict[str, bytes | None]:
    out: dict[str, bytes | None] = {}
    for key, value in data.items():
        try:
            out[key] = base64.b64decode(str(value), validate=True)
        except (binascii.Error, ValueError):
            out[key] = None
    return out


def _sync_problem(sync: Mapping[str, Any], since: datetime | None = None) -> str | None:
    """A failing condition that speaks of the sync after the writes, as ``Reason: message``; one from
    before them, as ``Reason: message (set before the change: ...)``; None when neither.

    A condition with ``observedGeneration`` is current when it observed the current generation. The
    released controller (v0.0.4) sets none (docs/domain.md §5.3), so such a condition is judged by its
    ``lastTransitionTime`` against ``since`` (when the writes began; a value written to the vault moves
    no generation): set earlier, it may be an earlier sync's, and is said so (the time moves only when
    the status flips, so a sync after the writes that failed the same way would leave it as it was).
    Whether the wait is over is never judged by conditions, only by the Secret's bytes. The ``Unknown``
    placeholder of a sync under way, and the benign "nothing attempted yet" reasons, are progress, not
    problems (:func:`~tui.core.health.findings.condition_healthy`).
    """
    generation = (sync.get("metadata") or {}).get("generation")
    older: str | None = None
    for cond in parse_conditions((sync.get("status") or {}).get("conditions")):
        if condition_healthy(cond):
            continue
        said = f"{cond.reason or cond.type}: {' '.join(cond.message.split())}"
        if cond.observed_generation is not None and generation is not None:
            current = cond.observed_generation >= generation
        elif since is not None and cond.last_transition is not None:
            current = cond.last_transition >= since
        else:
            current = since is None  # nothing to tell its age by: as before, taken as current
        if current:
            return said
        older = older or said
    if older is not None:
        # Its time moves only when its status flips: a sync after the writes that failed the same way
        # leaves it as it was, so it may be current; say only what is known.
        return f"{older} (set before the change: may be an earlier sync's)"
    return None


def check(cluster: ClusterPort, expectation: SyncExpectation, *, since: datetime | None = None) -> SyncCheck:
    """Read the SecretSync and its Secret once and judge ``expectation``; a reason says when the change
    waits for the controller's next poll. Whether it holds is judged by the Secret's bytes; the
    conditions only explain why not, those older than ``since`` (the writes) as such."""
    result = _check(cluster, expectation, since)
    if result.ok or not expectation.waits_for_poll:
        return result
    assert expectation.timing is not None
    return SyncCheck(expectation, False, f"{result.reason}; {expectation.timing.describe()}")


def _check(cluster: ClusterPort, expectation: SyncExpectation, since: datetime | None) -> SyncCheck:
    ns, name = expectation.namespace, expectation.name
    sync = cluster.get(rk.SECRET_SYNCS, ns, name)
    secret = cluster.get(rk.SECRETS, ns, name)
    if not expectation.present:
        if sync is not None:
            return SyncCheck(expectation, False, "the SecretSync still exists")
        if secret is not None:
            return SyncCheck(expectation, False, "the synced Secret still exists")
        return SyncCheck(expectation, True)
    if sync is None:
        return SyncCheck(expectation, False, "the SecretSync does not exist")
    problem = _sync_problem(sync, since)
    if secret is None:
        return SyncCheck(expectation, False, problem or "the synced Secret does not exist yet")
    data = _decoded(secret.get("data") or {})
    for target, wanted in expectation.keys.items():
        if target not in data:
            return SyncCheck(expectation, False, problem or f"the synced Secret has no {target} yet")
        if wanted is not None and data[target] != wanted:
            reason = problem or f"the synced Secret's {target} is not the new file yet"
            return SyncCheck(expectation, False, reason)
    for target in expectation.absent:
        if target in data:
            return SyncCheck(expectation, False, problem or f"the synced Secret still has {target}")
    return SyncCheck(expectation, True)


@dataclass(frozen=True)
class WaitResult:
    """How the wait ended."""

    ok: bool
    seconds: float
    pending: tuple[SyncCheck, ...] = ()
    """The expectations that did not hold at the end, with why."""

    def describe(self) -> str:
        """One line: what was still missing, and for a change waiting for the poll, how long it may yet
        take (the poll comes at most 120 s after the writes, which all ended before the wait began)."""
        lines = []
        for c in self.pending:
            line = f"SecretSync {c.expectation.key}: {c.reason}"
            if c.expectation.waits_for_poll:
                left = max(0, poll_seconds() - int(self.seconds))
                line += f"; its next poll is due within {left} s" if left else "; its poll is overdue"
            lines.append(line)
        return "; ".join(lines)


def wait_for_sync(
    cluster: ClusterPort,
    wanted: Iterable[SyncExpectation],
    *,
    timeout: float,
    on_check: Callable[[SyncCheck], None] | None = None,
    since: datetime | None = None,
) -> WaitResult:
    """Poll until every expectation holds or ``timeout`` seconds pass.

    ``on_check`` sees each expectation's state whenever it changes (for progress lines). A read failure
    is reported as the reason and polled again; it does not end the wait early. ``since`` is when the
    writes began: a SecretSync condition without ``observedGeneration`` that is older speaks of a sync
    before them (see :func:`_sync_problem`).
    """
    remaining = list(wanted)
    started = time.monotonic()
    last: dict[str, str] = {}
    pending: list[SyncCheck] = []
    while True:
        pending = []
        for expectation in remaining:
            try:
                result = check(cluster, expectation, since=since)
            except WriteError as exc:
                result = SyncCheck(expectation, False, str(exc))
            if on_check is not None and last.get(expectation.key) != (result.reason or "ok"):
                on_check(result)
            last[expectation.key] = result.reason or "ok"
            if not result.ok:
                pending.append(result)
        remaining = [c.expectation for c in pending]
        elapsed = time.monotonic() - started
        if not remaining:
            return WaitResult(True, elapsed)
        if elapsed >= timeout:
            return WaitResult(False, elapsed, tuple(pending))
        # The controller syncs on its own schedule; nothing here can be awaited but the next look.
        time.sleep(POLL_SECONDS)
