"""``status``'s cluster read in a forked child (design §10.1).

``status`` is a chain: import the cluster client (~0.17 s), list every collection (~0.1 s), build, read
ARM (its SDK's import ~0.15 s, then a few requests), print. A child forked at start connects (through
``early_connect``: where to, or why not, comes first) and lists once (``read_once``), and sends the raw
objects back with the reason the cluster counts as unreachable, if it does; meanwhile ``status`` imports
the build and the ARM SDK, which it would otherwise import after the lists. The raw objects are what the
cluster holds (no token: the credential stays in the child, which ends after its one message).
"""

from __future__ import annotations

import gc
import os
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from tui.commands.shared.early_connect import Connected, connect_here, connected
from tui.commands.shared.forking import (
    ChildPipe,
    can_fork,
    end_with_parent,
    quiet_child_signals,
    send_message,
)
from tui.core.model.snapshot import RawSnapshot

if TYPE_CHECKING:
    from tui.commands.shared.settings import Settings
    from tui.core.clock import Clock
    from tui.core.model.settings import ModelSettings

_READ = "read"


@dataclass(frozen=True)
class ClusterRead:
    """Every collection listed once, and why the cluster counts as unreachable (None: it answered)."""

    raw: RawSnapshot
    unreachable: str | None


def _child(settings: Settings, model: ModelSettings, clock: Clock, send: IO[bytes]) -> None:
    quiet_child_signals()
    end_with_parent()
    connection = connect_here(settings.connection, send)
    gc.disable()  # one read and one message: a collection would find nothing to free
    # The one-shot read and the cluster client: the child's to import.
    from tui.cluster.oneshot import read_once
    from tui.cluster.watch_set import unreachable_reason

    try:
        raw = read_once(connection.api_client, model, clock=clock, timeout=settings.timeouts)
        send_message(send, _READ, ClusterRead(raw, unreachable_reason(raw)))
    except BaseException:  # a bug: no read sent, and status reads the cluster itself
        pass
    os._exit(0)


class ForkedClusterRead:
    """The child's connection and read, as ``status`` waits for them."""

    def __init__(self, child: ChildPipe) -> None:
        self.child = child

    def connected(self) -> Connected | str | None:
        """Where the child connected, the one line saying why it could not, or None (no word from it)."""
        return connected(self.child)

    def read(self) -> ClusterRead | None:
        """The child's read; None when it ended without one (status then reads the cluster itself)."""
        message = self.child.receive()
        if message is None or message[0] != _READ or not isinstance(message[1], ClusterRead):
            return None
        return message[1]

    def close(self) -> None:
        """End the child if it is still there."""
        self.child.close()


def fork_cluster_read(settings: Settings, model: ModelSettings, clock: Clock) -> ForkedClusterRead | None:
    """Start the child (see the module); None where none can be forked: status then reads here."""
    if not can_fork():
        return None
    return ForkedClusterRead(ChildPipe(lambda send: _child(settings, model, clock, send), "status-cluster"))
