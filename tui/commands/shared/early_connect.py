"""Connecting in a forked child (see :class:`~tui.commands.shared.forking.ChildPipe`): the dashboard's
first states (``commands/dashboard/prefetch.py``) and ``status``'s cluster read
(``commands/status/cluster_child.py``).

The `kubernetes` client's import (~0.17 s) and the lists then run on the machine's other core while the
command imports the rest of what it needs. The child connects with the terminal still its own (an exec
plugin may ask its user something) and tells the command where it connected, or the one line saying why it
could not, before anything else; the command says either before it goes on, as when it connected itself.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING

from tui.commands.shared.forking import ChildPipe, send_message

if TYPE_CHECKING:
    from tui.cluster.config import ClusterConnection
    from tui.cluster.settings import ConnectionSettings

PREFETCH_ENV = "AIO_CERTS_PREFETCH"
"""``0``: the dashboard and ``status`` connect and list in their own process, as before the child existed
(for comparisons)."""


def child_wanted(env: Mapping[str, str]) -> bool:
    """Whether to connect and list in a child: unless :data:`PREFETCH_ENV` is 0."""
    return env.get(PREFETCH_ENV, "").strip() != "0"


CONNECTED = "connected"
"""Message: the connection is made (a :class:`Connected`)."""
FAILED = "failed"
"""Message: the kubeconfig could not be loaded (the one line saying why)."""


@dataclass(frozen=True)
class Connected:
    """Where the child connected: the header's context and server, and the warning before anything else."""

    context: str
    server: str
    warning: str | None


def connect_here(settings: ConnectionSettings, send: IO[bytes]) -> ClusterConnection:
    """In the child: connect and tell the parent where to; on failure tell it why (or, on a bug or
    ``ctrl+c``, nothing: the parent then connects itself) and end the child."""
    # The cluster client is the child's to import: that is what it was forked for.
    from tui.cluster.config import ClusterConfigError, connect

    try:
        connection = connect(settings)
    except ClusterConfigError as exc:
        send_message(send, FAILED, str(exc))
        os._exit(0)
    except BaseException:
        os._exit(0)
    send_message(send, CONNECTED, Connected(connection.context, connection.server, connection.warning))
    return connection


def connected(child: ChildPipe) -> Connected | str | None:
    """In the parent: wait for the child's first message: where it connected, the one line saying why it
    could not, or None when it ended without saying (the parent then connects itself)."""
    message = child.receive()
    if message is None:
        return None
    kind, value = message
    if kind == FAILED and isinstance(value, str):
        return value
    if kind == CONNECTED and isinstance(value, Connected):
        return value
    return None
