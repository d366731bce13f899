"""The dashboard's connection and first states, made ahead in a forked child (design §10.1).

At start the dashboard is bound by its one interpreter: the `kubernetes` client's import (~0.17 s), the
cluster's 19 lists (their JSON), the decoded copy's load and the first build all took the processor from
importing and mounting the UI, on a machine with a second core doing nothing. A child forked at once
(before any thread) connects, with the terminal still its to use (an exec plugin may ask its user
something), says where to or why not, and then runs a feed of its own with no vault and no ARM reader: it
sends every state it builds until the first complete one (pickled: the model, the certificates the cluster
holds; no token), saves what it decoded to the state directory's decoded copy and ends. Meanwhile the
dashboard imports the UI; it waits for the child's connection before it takes the screen (a failure is
then one line, as before), shows the child's states (``tui.ui.source.PrefetchedSource``) and connects and
starts its own live feed once the complete one is painted; that feed loads the decoded copy the child
saved, so it decodes nothing again.

The child never writes to the terminal once connected (the screen is Textual's), ends with the dashboard
(a ``multiprocessing`` daemon that also watches its parent), and gives up after :data:`CHILD_LIMIT`.
Whatever becomes of it the dashboard connects itself: a start never fails because of it.
"""

from __future__ import annotations

import contextlib
import gc
import os
import threading
from typing import IO, TYPE_CHECKING

from tui.commands.shared.early_connect import Connected, connect_here, connected
from tui.commands.shared.forking import (
    ChildPipe,
    can_fork,
    detach_child_output,
    end_with_parent,
    quiet_child_signals,
    send_message,
)
from tui.core.model.state import ClusterState

if TYPE_CHECKING:
    from tui.commands.shared.settings import Settings
    from tui.core.clock import Clock


# What the child writes, one pickled (kind, value) pair after the other, on a pipe of its own.
_STATE = "state"  # a state built (after early_connect's message saying where the child connected)

PARTIAL_AFTER = 0.4
"""Seconds the child waits for a complete state before sending partial ones as they are built: a local
site answers every list sooner (0.15-0.3 s on the 2-core bench machine), and a partial state built then
only delays the complete one by a build and a pickle on both sides; a far one (200 ms round trips) still
has its first collections drawn as they arrive."""

SAVE_GRACE = 0.5
"""Seconds a child that sent its complete state is given to finish saving the decoded copy when the
dashboard closes (tens of milliseconds at 2,000 entries)."""

CHILD_LIMIT = 60.0
"""Seconds after which the child gives up waiting for a complete state (the live feed then starts)."""


def _child(settings: Settings, clock: Clock, send: IO[bytes]) -> None:
    quiet_child_signals()
    end_with_parent()
    connection = connect_here(settings.connection, send)  # the terminal is still the child's to use
    detach_child_output()  # from here on the screen is Textual's
    # No collections at all: the child lives a second or so, and a pass over the lists' and the state's
    # objects (its own, and the pages it shares with the dashboard) would only delay the first frame.
    gc.disable()
    # The feed and its cluster client: the child's to import (the dashboard's after its first frame).
    from tui.cluster.decoded_store import DecodedStore
    from tui.cluster.live import ClusterFeed, FeedTimings
    from tui.core.build.cache import DEFAULT_CACHE

    store = DecodedStore(settings.state_dir)
    # No vault and no ARM reader: the live feed reads both after the first frame, as it would have.
    # The decoded copy is saved below, before the child ends, not on the feed's timer.
    feed = ClusterFeed(
        connection.api_client,
        settings.model,
        clock=clock,
        decoded_store=store,
        timings=FeedTimings(save_decoded_after=CHILD_LIMIT * 2),
    )
    complete = threading.Event()
    lock = threading.Lock()

    def send_state(state: ClusterState) -> None:
        with lock:
            if complete.is_set():
                return
            send_message(send, _STATE, state)
            if state.complete:
                complete.set()

    feed.start()
    feed.first_state_ready.wait(PARTIAL_AFTER)
    # The current state (the complete one, on a site that answered in time), then every one built.
    feed.subscribe(send_state)
    complete.wait(CHILD_LIMIT)
    with contextlib.suppress(OSError):
        send.close()  # the dashboard's reader sees the end now; the save below is awaited by join
    with contextlib.suppress(Exception):  # only a head start for the live feed
        store.save_from(DEFAULT_CACHE)
    # At once: the feed's threads hold watches open that nobody needs, and stopping them waits.
    os._exit(0)


class ForkedStates:
    """The states a child sends, read by the dashboard (a :class:`~tui.ui.source.FirstStates`)."""

    def __init__(self, child: ChildPipe) -> None:
        self.child = child
        self._complete = False

    def connected(self) -> Connected | str | None:
        """Wait for the child to connect: where to, or the one line saying why it could not (a
        ``ClusterConfigError``); None when it ended without saying (the dashboard then connects itself)."""
        return connected(self.child)

    def next(self) -> ClusterState | None:
        """The child's next state; None at its end (or on anything it sent that cannot be read)."""
        message = self.child.receive()
        if message is None or message[0] != _STATE:
            return None
        state = message[1]
        if not isinstance(state, ClusterState):
            return None
        self._complete = self._complete or state.complete
        return state

    def finish(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for the child to end: it saves the decoded copy before it does."""
        self.child.join(timeout)

    def close(self) -> None:
        """End the child, if still there, and close the pipe. After its complete state the child is
        writing the decoded copy: it is given a moment to finish (a cut write would leave its temporary
        file behind in the state directory)."""
        self.child.close(SAVE_GRACE if self._complete else 0.0)


def fork_first_states(settings: Settings, clock: Clock) -> ForkedStates | None:
    """Start the child that connects, lists and builds the first states (see the module); None where no
    child can be forked (not Linux, or a thread already running): the dashboard then does it all here."""
    if not can_fork():
        return None
    return ForkedStates(ChildPipe(lambda send: _child(settings, clock, send), "first-states"))
