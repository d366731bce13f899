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
import logging
import multiprocessing
import os
import pickle
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, BinaryIO

from tui.commands.shared.forking import (
    can_fork,
    detach_child_output,
    dump,
    end_with_parent,
    flush_std_streams,
    quiet_child_signals,
)
from tui.core.model.state import ClusterState

if TYPE_CHECKING:
    from multiprocessing.process import BaseProcess

    from tui.commands.shared.settings import Settings
    from tui.core.clock import Clock

log = logging.getLogger(__name__)

# What the child writes, one pickled (kind, value) pair after the other, on a pipe of its own.
_CONNECTED = "connected"  # the connection is made: a Connected (where to, the warning before the screen)
_FAILED = "failed"  # the kubeconfig could not be loaded: the one line to end the dashboard with
_STATE = "state"  # a state built

PARTIAL_AFTER = 0.4
"""Seconds the child waits for a complete state before sending partial ones as they are built: a local
site answers every list sooner (0.15-0.3 s on the 2-core bench machine), and a partial state built then
only delays the complete one by a build and a pickle on both sides; a far one (200 ms round trips) still
has its first collections drawn as they arrive."""

CHILD_LIMIT = 60.0
"""Seconds after which the child gives up waiting for a complete state (the live feed then starts)."""


def _child(settings: Settings, clock: Clock, send: BinaryIO) -> None:
    quiet_child_signals()
    end_with_parent()
    # Connecting loads the kubeconfig's credentials, and an exec plugin may ask its user something: the
    # terminal is still this child's to use, and the dashboard waits for the answer before taking it.
    from tui.cluster.config import ClusterConfigError, connect

    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        _send(send, _FAILED, str(exc))
        os._exit(0)
    except BaseException:  # a bug, or ctrl+c: no answer, and the dashboard connects itself
        os._exit(0)
    _send(send, _CONNECTED, Connected(connection.context, connection.server, connection.warning))
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
            _send(send, _STATE, state)
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


def _send(send: BinaryIO, kind: str, value: object) -> None:
    try:
        dump((kind, value), send)
        send.flush()
    except OSError:  # the dashboard is gone or stopped listening
        os._exit(0)


@dataclass(frozen=True)
class Connected:
    """Where the child connected: what the dashboard's header and its warning before the screen say."""

    context: str
    server: str
    warning: str | None


class ForkedStates:
    """The states a child sends, read by the dashboard (a :class:`~tui.ui.source.FirstStates`)."""

    def __init__(self, receive: BinaryIO, process: BaseProcess) -> None:
        self._receive = receive
        self._process = process
        self._lock = threading.Lock()
        self._closed = False

    def _read(self) -> tuple[str, object] | None:
        # Without the collector: the ~100,000 objects of a state at 2,000 entries made it run a dozen
        # times, a third of the load's time, to find nothing to free (every one of them is kept). The
        # load reads the pickle as the child writes it, so most of it is done when the child's dump is.
        enabled = gc.isenabled()
        gc.disable()
        try:
            kind, value = pickle.load(self._receive)
        except (EOFError, OSError, ValueError):  # the child ended (or was ended), or the pipe closed
            return None
        except Exception:  # a bug: the dashboard then does it all itself, never depending on the child
            log.exception("reading from the first-states child failed")
            return None
        finally:
            if enabled:
                gc.enable()
        return str(kind), value

    def connected(self) -> Connected | str | None:
        """Wait for the child to connect: where to, or the one line saying why it could not (a
        ``ClusterConfigError``); None when it ended without saying (the dashboard then connects itself)."""
        message = self._read()
        if message is None:
            return None
        kind, value = message
        if kind == _FAILED and isinstance(value, str):
            return value
        if kind == _CONNECTED and isinstance(value, Connected):
            return value
        return None

    def next(self) -> ClusterState | None:
        """The child's next state; None at its end (or on anything it sent that cannot be read)."""
        message = self._read()
        if message is None or message[0] != _STATE:
            return None
        state = message[1]
        return state if isinstance(state, ClusterState) else None

    def finish(self, timeout: float) -> None:
        """Wait (at most ``timeout`` s) for the child to end: it saves the decoded copy before it does."""
        self._process.join(timeout)

    def close(self) -> None:
        """End the child, if still there, and close the pipe."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if self._process.is_alive():
            self._process.kill()
        self._process.join(1.0)
        with contextlib.suppress(OSError):
            self._receive.close()


def fork_first_states(settings: Settings, clock: Clock) -> ForkedStates | None:
    """Start the child that connects, lists and builds the first states (see the module); None where no
    child can be forked (not Linux, or a thread already running): the dashboard then does it all here."""
    if not can_fork():
        return None
    context = multiprocessing.get_context("fork")
    read_end, write_end = os.pipe()
    flush_std_streams()
    process = context.Process(
        target=_forked, args=(settings, clock, read_end, write_end), name="first-states", daemon=True
    )
    process.start()
    os.close(write_end)  # the child holds the only writing end: its exit is this end's EOF
    return ForkedStates(os.fdopen(read_end, "rb"), process)


def _forked(settings: Settings, clock: Clock, read_end: int, write_end: int) -> None:
    os.close(read_end)  # the dashboard's end, copied by the fork
    with os.fdopen(write_end, "wb") as send:
        _child(settings, clock, send)
