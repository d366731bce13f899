"""The sync wait against SecretSync conditions without observedGeneration (the released v0.0.4 sets none).

docs/domain.md §5.3: every condition lacks ``observedGeneration``, ``lastTransitionTime`` moves only
when the status flips, and a retry with an unchanged hash keeps the ``Unknown`` placeholder. A condition
left from before an apply's writes must not read as the apply's failure.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

from tui.core.model import resources as rk
from tui.core.model.resources import ResourceKind
from tui.ops.sync_wait import SyncExpectation, check, wait_for_sync

WRITES = datetime(2026, 12, 5, 2, 50, tzinfo=UTC)
NEW = b"new-der"
OLD = b"old-der"


def _time(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def _sync(*conditions: dict[str, Any], generation: int = 3) -> dict[str, Any]:
    return {
        "metadata": {"name": "aio-opc-ua-broker-trust-list", "namespace": "aio", "generation": generation},
        "status": {"conditions": list(conditions)},
    }


def _condition(type_: str, status: str, reason: str, at: datetime, **extra: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": f"{reason} message",
        "lastTransitionTime": _time(at),
        **extra,
    }


class _Cluster:
    """Only ``get``: the SecretSync and its Secret as the controller left them."""

    def __init__(self, sync: dict[str, Any], held: bytes) -> None:
        self.objects = {
            rk.SECRET_SYNCS.key: sync,
            rk.SECRETS.key: {"data": {"plc.der": base64.b64encode(held).decode()}},
        }

    def get(self, kind: ResourceKind, namespace: str, name: str) -> dict[str, Any] | None:
        return self.objects.get(kind.key)


WANTED = SyncExpectation("aio", "aio-opc-ua-broker-trust-list", keys={"plc.der": NEW})


def test_a_failure_left_from_before_the_writes_is_not_the_applys() -> None:
    # Over 1 MiB an hour ago: UnknownError, status Unknown, no observedGeneration (v0.0.4).
    old_failure = _condition("Update", "Unknown", "UnknownError", WRITES - timedelta(hours=1))
    cluster = _Cluster(_sync(old_failure), OLD)
    result = check(cluster, WANTED, since=WRITES)  # type: ignore[arg-type]
    assert not result.ok
    assert (
        result.reason
        == "UnknownError: UnknownError message (set before the change: may be an earlier sync's)"
    )
    # The same condition written after the writes is the apply's own failure, said as such.
    new_failure = _condition("Update", "Unknown", "UnknownError", WRITES + timedelta(seconds=2))
    fresh = check(_Cluster(_sync(new_failure), OLD), WANTED, since=WRITES)  # type: ignore[arg-type]
    assert fresh.reason == "UnknownError: UnknownError message"


def test_the_unknown_placeholder_is_a_sync_under_way() -> None:
    placeholder = _condition("Unknown", "Unknown", "Unknown", WRITES + timedelta(seconds=1))
    result = check(_Cluster(_sync(placeholder), OLD), WANTED, since=WRITES)  # type: ignore[arg-type]
    assert not result.ok and result.reason == "the synced Secret's plc.der is not the new file yet"


def test_the_bytes_decide_whatever_the_conditions_say() -> None:
    old_failure = _condition("Update", "False", "ProviderError", WRITES - timedelta(minutes=5))
    result = wait_for_sync(_Cluster(_sync(old_failure), NEW), [WANTED], timeout=0, since=WRITES)  # type: ignore[arg-type]
    assert result.ok


def test_a_condition_that_observed_the_generation_is_judged_by_it() -> None:
    # Upstream main sets observedGeneration: an old generation's failure is not current, whatever its time.
    stale = _condition(
        "SecretUpdated", "False", "ControllerSyncError", WRITES + timedelta(seconds=5), observedGeneration=2
    )
    result = check(_Cluster(_sync(stale, generation=3), OLD), WANTED, since=WRITES)  # type: ignore[arg-type]
    assert "(set before the change: may be an earlier sync's)" in result.reason
    current = _condition(
        "SecretUpdated", "False", "ControllerSyncError", WRITES - timedelta(hours=1), observedGeneration=3
    )
    again = check(_Cluster(_sync(current, generation=3), OLD), WANTED, since=WRITES)  # type: ignore[arg-type]
    assert again.reason == "ControllerSyncError: ControllerSyncError message"
