"""A list-only read of everything the model needs, for ``aio-certs status``: parallel lists, no watches.

Each collection is listed once on a small thread pool; a failure becomes that collection's status
exactly as a reflector would report it, so the model sees the same RawSnapshot either way.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from kubernetes.client import ApiClient

from tui.cluster.listwatch import WatchTarget, classify, list_objects
from tui.cluster.watch_set import assemble, watch_targets
from tui.core.clock import Clock, SystemClock
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ObjectKey, RawSnapshot, ResourceStatus

# Enough to overlap the latency of all collections on a remote API server, small enough for a Pi.
MAX_PARALLEL_LISTS = 8


def read_once(
    api_client: ApiClient,
    settings: ModelSettings,
    *,
    clock: Clock | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
    max_workers: int = MAX_PARALLEL_LISTS,
) -> RawSnapshot:
    """List every collection for ``settings`` once, in parallel, and return the assembled snapshot.

    Never raises for cluster-side problems: unreachable, forbidden or missing collections are reported
    in ``RawSnapshot.status``.
    """
    clk = clock or SystemClock()
    targets = watch_targets(settings)

    def read(target: WatchTarget) -> tuple[WatchTarget, dict[ObjectKey, Any], ResourceStatus]:
        try:
            result = list_objects(api_client, target, timeout=timeout)
        except Exception as exc:  # every failure is data here: the status says what went wrong
            state, message = classify(exc, target, had_data=False)
            return target, {}, ResourceStatus(state, message, clk.now())
        return target, result.items, ResourceStatus(AreaState.OK, "", clk.now())

    with ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="list") as pool:
        parts = list(pool.map(read, targets))
    return assemble(parts, clk.now())
