"""A list-only read of everything the model needs, for ``aio-certs status``: parallel lists, no watches.

Each collection is listed once, all at the same time on daemon threads; a failure becomes that
collection's status exactly as a reflector would report it, so the model sees the same RawSnapshot
either way. The whole read is bounded by the request timeout on the wall clock: a server that trickles
its answer a byte at a time never trips a per-read socket timeout, so a collection still unanswered at
the deadline is reported unreachable and its thread abandoned (daemon threads never hold up an exit,
and a Ctrl-C or SIGTERM is not held up by them either).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from kubernetes.client import ApiClient

from tui.cluster.listwatch import WatchTarget, classify, list_objects
from tui.cluster.watch_set import assemble, watch_targets
from tui.core.clock import Clock, SystemClock
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, ObjectKey, RawSnapshot, ResourceStatus

Part = tuple[WatchTarget, dict[ObjectKey, Any], ResourceStatus]


def read_once(
    api_client: ApiClient,
    settings: ModelSettings,
    *,
    clock: Clock | None = None,
    timeout: tuple[float, float] = (5.0, 30.0),
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

    def late(target: WatchTarget) -> Part:
        seconds = timeout[0] + timeout[1]
        message = f"{target.kind.key}: no complete answer within {seconds:g}s (the API server is too slow)"
        return target, {}, ResourceStatus(AreaState.UNREACHABLE, message, clk.now())

    parts = run_bounded(read, targets, late, seconds=timeout[0] + timeout[1])
    return assemble(parts, clk.now())


def run_bounded(
    work: Callable[[WatchTarget], Part],
    targets: Sequence[WatchTarget],
    late: Callable[[WatchTarget], Part],
    *,
    seconds: float,
) -> list[Part]:
    """``work`` on every target at once; a target without a result after ``seconds`` gets ``late``'s."""
    results: dict[int, Part] = {}
    done = threading.Condition()

    def one(index: int, target: WatchTarget) -> None:
        part = work(target)
        with done:
            results[index] = part
            done.notify()

    for index, target in enumerate(targets):
        threading.Thread(target=one, args=(index, target), name=f"list-{index}", daemon=True).start()
    deadline = time.monotonic() + seconds
    with done:
        while len(results) < len(targets):
            left = deadline - time.monotonic()
            if left <= 0:
                break
            done.wait(left)
        finished = dict(results)
    return [finished[i] if i in finished else late(t) for i, t in enumerate(targets)]
