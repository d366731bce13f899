"""The live feed: reflectors + vault polling -> coalesced ClusterState rebuilds -> subscriber callbacks.

Threads, none of which ever blocks another:
- one reflector per :func:`~tui.cluster.watch_set.watch_targets` entry, each marking the feed dirty;
- a builder that waits for a quiet moment (``quiet`` after the last change, at most ``max_delay`` after
  the first), assembles a RawSnapshot and calls ``build_state`` - so a burst of events within ~50 ms
  costs one rebuild - then hands the new state to every subscriber;
- a vault poller that re-reads the vault every ``vault_interval`` seconds or on :meth:`refresh_vault`,
  so a slow or unreachable vault never holds up the cluster view;
- an ARM poller, the same for the ARM resources behind the lists (``arm_interval``,
  :meth:`refresh_arm`): an unreachable ARM only changes the ARM state and the drift judgements.

Subscribers run on the builder thread: a Textual app should ``post_message`` (thread-safe) from there.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from kubernetes.client import ApiClient

from tui.cluster.decoded_store import DecodedStore
from tui.cluster.reflector import Reflector, ReflectorTimings, WaitFunction, event_wait
from tui.cluster.watch_set import assemble, watch_targets
from tui.core.build.assemble import build_state
from tui.core.build.cache import DEFAULT_CACHE
from tui.core.build.opcua_rows import prewarm_list_files
from tui.core.clock import Clock, SystemClock
from tui.core.model import resources as rk
from tui.core.model.arm import ArmSnapshot
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.model.state import ClusterState

log = logging.getLogger(__name__)


class VaultReader(Protocol):
    """Reads the vault, given the latest state (for the SPC's vault name); None when no vault is configured.

    ``incremental`` (the poller's timed re-reads) allows reusing the values of secrets whose properties did
    not change since the last read; a first read or one asked for (``refresh_vault``) reads every value.
    """

    def __call__(
        self,
        state: ClusterState | None,
        *,
        incremental: bool = False,
        on_listed: Callable[[VaultSnapshot], None] | None = None,
    ) -> VaultSnapshot | None:
        """Read the vault for ``state``; ``on_listed`` may get the listing ahead of a long value read."""
        ...


class ArmReader(Protocol):
    """Reads ARM's list resources, given the latest state (for the ids it names); None when no ARM ids
    are known (a cluster-only site). Never raises: failures are the snapshot's status."""

    def __call__(self, state: ClusterState | None) -> ArmSnapshot | None:
        """Read ARM for ``state``."""
        ...


StateCallback = Callable[[ClusterState], None]


@dataclass(frozen=True)
class FeedTimings:
    """Pacing of the feed, in seconds."""

    quiet: float = 0.01  # rebuild once no change arrived for this long...
    max_delay: float = 0.05  # ...but never later than this after the first change of a burst
    tick: float = 30.0  # rebuild at least this often: days-left and "rotated at" depend on the time
    vault_interval: float = 60.0
    arm_interval: float = 60.0
    save_decoded_after: float = 3.0  # the on-disk copy of decodes is written this long after the first state
    side_reads_after: float = 0.0
    """How long the first vault and ARM reads wait after the first state for
    :meth:`ClusterFeed.release_side_reads` (0: they start at once). Both take a few hundred ms of the
    interpreter's time; a dashboard painting its first frame meanwhile paints it later (design §10.1)."""


class ClusterFeed:
    """Keeps a :class:`ClusterState` current for one site and tells subscribers about each new one.

    ``start()`` launches the threads and returns at once; ``first_state_ready`` is set when every
    collection has been listed once (or has definitively failed) and the first state was built.
    """

    def __init__(
        self,
        api_client: ApiClient,
        settings: ModelSettings,
        *,
        clock: Clock | None = None,
        vault_reader: VaultReader | None = None,
        arm_reader: ArmReader | None = None,
        timings: FeedTimings | None = None,
        reflector_timings: ReflectorTimings | None = None,
        wait: WaitFunction = event_wait,
        rand: Callable[[], float] = random.random,
        on_event: Callable[[Reflector], None] | None = None,
        decoded_store: DecodedStore | None = None,
    ) -> None:
        """``on_event(reflector)`` is called on a reflector thread for each change it sees, before the
        rebuild is scheduled (instrumentation such as the benchmark's latency probe); keep it quick.

        ``decoded_store`` keeps decoded certificates on disk between runs: loaded before the first build,
        saved once the first state is out (and again at :meth:`stop` when more were decoded since)."""
        self.settings = settings
        self._on_event = on_event
        self.clock = clock or SystemClock()
        self.timings = timings or FeedTimings()
        self._vault_reader = vault_reader
        self._arm_reader = arm_reader
        self._arm: ArmSnapshot | None = None
        self._arm_wanted = threading.Event()
        self._lock = threading.Lock()
        self._state_changed = threading.Condition(self._lock)
        self._state: ClusterState | None = None
        self._vault: VaultSnapshot | None = None
        self._subscribers: list[StateCallback] = []
        self._dirty = threading.Event()
        self._first_change = 0.0
        self._last_change = 0.0
        self._stop = threading.Event()
        self._vault_wanted = threading.Event()
        self._threads: list[threading.Thread] = []
        self.first_state_ready = threading.Event()
        """Set once the first complete state (every collection tried once) has been delivered."""
        self.builds = 0
        self.build_error: str | None = None
        """One line describing the last failed rebuild, None after a successful one."""
        self.reflectors = [
            Reflector(
                api_client,
                target,
                on_change=self._on_reflector_change,
                clock=self.clock,
                timings=reflector_timings,
                wait=wait,
                rand=rand,
            )
            for target in watch_targets(settings)
        ]
        # The reflector of the Secrets in the AIO namespace, whose list files are decoded early.
        self._secrets = next(
            (
                r
                for r in self.reflectors
                if r.target.kind is rk.SECRETS and r.target.namespace == settings.namespace
            ),
            None,
        )
        self._prewarmed = False
        self._decoded_store = decoded_store
        self._side_release = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> None:
        """Start reflectors, builder and vault poller; returns immediately."""
        if self._threads:
            return
        for reflector in self.reflectors:
            reflector.start()
        if self._decoded_store is not None:
            # While the lists are on the wire: the first decode of the list files then finds them.
            self._decoded_store.load_into(DEFAULT_CACHE)
        self._spawn(self._build_loop, "feed builder")
        if self._vault_reader is not None:
            self._spawn(self._vault_loop, "feed vault poller")
        if self._arm_reader is not None:
            self._spawn(self._arm_loop, "feed arm poller")

    def stop(self, timeout: float = 5.0) -> None:
        """Stop every thread of the feed and wait for them (bounded by ``timeout`` each)."""
        self._stop.set()
        self._dirty.set()
        self._side_release.set()
        self._vault_wanted.set()
        self._arm_wanted.set()
        for reflector in self.reflectors:
            reflector.stop(timeout=0)
        for reflector in self.reflectors:
            reflector.stop(timeout)
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout)
        if self._decoded_store is not None and self.first_state_ready.is_set():
            self._decoded_store.save_from(DEFAULT_CACHE)

    def __enter__(self) -> ClusterFeed:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    # -- consumers -------------------------------------------------------------------------------

    @property
    def state(self) -> ClusterState | None:
        """The latest state, or None before the first one."""
        with self._lock:
            return self._state

    @property
    def vault_snapshot(self) -> VaultSnapshot | None:
        """The latest vault read, or None when there was none yet (or no vault is configured)."""
        with self._lock:
            return self._vault

    @property
    def arm_snapshot(self) -> ArmSnapshot | None:
        """The latest ARM read, or None when there was none yet (or no ARM ids are known)."""
        with self._lock:
            return self._arm

    def subscribe(self, callback: StateCallback) -> Callable[[], None]:
        """Call ``callback(state)`` (on the builder thread) for every new state; returns an unsubscriber.

        A subscriber that joins after the first state gets the current one straight away (from the
        calling thread), so it never misses the initial picture.
        """
        with self._lock:
            self._subscribers.append(callback)
            current = self._state
        if current is not None:
            self._deliver(callback, current)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def wait_for_state(self, predicate: Callable[[ClusterState], bool], timeout: float) -> ClusterState:
        """Block until the latest state satisfies ``predicate``; raise TimeoutError after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        with self._state_changed:
            while True:
                state = self._state
                if state is not None and _safe_predicate(predicate, state):
                    return state
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    detail = "no state yet" if state is None else f"last state taken at {state.taken_at}"
                    raise TimeoutError(f"no matching cluster state within {timeout:g}s ({detail})")
                self._state_changed.wait(remaining)

    def rebuild(self) -> None:
        """Ask for a rebuild now (e.g. after moving an injected clock)."""
        self._mark_dirty()

    def refresh_vault(self) -> None:
        """Ask the vault poller to read the vault again as soon as it can; never blocks."""
        self._vault_wanted.set()

    def refresh_arm(self) -> None:
        """Ask the ARM poller to read ARM again as soon as it can; never blocks."""
        self._arm_wanted.set()

    def raw_snapshot(self) -> RawSnapshot:
        """Assemble what the reflectors hold right now."""
        parts = []
        for reflector in self.reflectors:
            items, status = reflector.snapshot()
            parts.append((reflector.target, items, status))
        return assemble(parts, self.clock.now())

    def statuses(self) -> dict[str, ResourceStatus]:
        """Read state per resource key, as the next snapshot would report it."""
        return dict(self.raw_snapshot().status)

    # -- internals -------------------------------------------------------------------------------

    def _on_reflector_change(self, reflector: Reflector) -> None:
        if self._on_event is not None:
            try:
                self._on_event(reflector)
            except Exception:  # instrumentation must never break the feed
                log.exception("on_event hook failed")
        self._mark_dirty()

    def _mark_dirty(self) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._dirty.is_set():
                self._first_change = now
            self._last_change = now
            self._dirty.set()

    def _all_ready(self) -> bool:
        return all(r.ready.is_set() for r in self.reflectors)

    def _build_loop(self) -> None:
        while not self._stop.is_set():
            if not self._dirty.wait(self.timings.tick):
                if self._state is not None:
                    self._build()
                continue
            if self._stop.is_set():
                return
            if self._wait_for_quiet():
                return
            self._dirty.clear()
            if not self._all_ready():
                # Not every collection has answered once yet; a partial picture would mislead
                # ("no root CA") - the remaining reflectors mark us dirty when they get there.
                self._prewarm()
                continue
            self._build()

    def _prewarm(self) -> None:
        """Once the list Secrets are in, decode their files while other collections still arrive."""
        if self._prewarmed or self._secrets is None or not self._secrets.ready.is_set():
            return
        self._prewarmed = True
        items, _status = self._secrets.snapshot()
        namespace = self.settings.namespace
        wanted = {
            name: items[(namespace, name)] for name in OPCUA_LISTS.values() if (namespace, name) in items
        }
        try:
            prewarm_list_files(wanted, DEFAULT_CACHE)
        except Exception:  # only a head start: the build decodes (and reports) whatever failed here
            log.exception("decoding the list files ahead of the first build failed")

    def _wait_for_quiet(self) -> bool:
        """Sleep until the burst of changes settles; True if the feed is stopping."""
        while True:
            with self._lock:
                deadline = min(
                    self._first_change + self.timings.max_delay, self._last_change + self.timings.quiet
                )
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._stop.is_set()
            if self._stop.wait(remaining):
                return True

    def _build(self) -> None:
        raw = self.raw_snapshot()
        with self._lock:
            previous = self._state
            vault = self._vault
            arm = self._arm
        try:
            state = build_state(
                raw, settings=self.settings, now=self.clock.now(), vault=vault, previous=previous, arm=arm
            )
        except Exception as exc:  # a model bug must not stop the feed: keep the last good state
            log.exception("building the cluster state failed")
            self.build_error = f"building the cluster state failed: {type(exc).__name__}: {exc}"
            return
        self.build_error = None
        with self._state_changed:
            self._state = state
            self.builds += 1
            subscribers = list(self._subscribers)
            self._state_changed.notify_all()
        for callback in subscribers:
            self._deliver(callback, state)
        if not self.first_state_ready.is_set():
            self.first_state_ready.set()
            if self.timings.side_reads_after > 0 and not self._side_release.is_set():
                self._spawn(self._start_side_reads, "feed side reads")
            else:
                self._vault_wanted.set()
                self._arm_wanted.set()
            if self._decoded_store is not None:
                self._spawn(self._save_decoded, "feed decoded saver")

    def release_side_reads(self) -> None:
        """The first state is on screen: start the first vault and ARM reads now (never blocks).

        Only the first reads wait (``FeedTimings.side_reads_after``); calling this again does nothing.
        """
        self._side_release.set()

    def _start_side_reads(self) -> None:
        self._side_release.wait(self.timings.side_reads_after)
        if self._stop.is_set():
            return
        self._vault_wanted.set()
        self._arm_wanted.set()

    def _save_decoded(self) -> None:
        """Write the decodes to disk once the first frame had the processor to itself."""
        store = self._decoded_store
        if store is None or self._stop.wait(self.timings.save_decoded_after):
            return
        try:
            store.save_from(DEFAULT_CACHE)
        except Exception:  # only a head start for the next run
            log.exception("saving the decoded certificates failed")

    @staticmethod
    def _deliver(callback: StateCallback, state: ClusterState) -> None:
        try:
            callback(state)
        except Exception:  # one broken subscriber must not starve the others
            log.exception("cluster state subscriber failed")

    def _vault_listed(self, listing: VaultSnapshot) -> None:
        # The listing ahead of a long value read: show what it tells now (the values follow). On a re-read
        # of the vault already shown whole, the last complete read stays until the new one is in: the
        # listing would only flip every entry to "values pending" and back, and each flip costs the UI a
        # refill of the whole table while the value read has the interpreter busy (design §10.1).
        with self._lock:
            shown = self._vault
            if (
                shown is not None
                and shown.vault_url == listing.vault_url
                and shown.status.state is AreaState.OK
                and not shown.values_pending
            ):
                return
            self._vault = listing
        self._mark_dirty()

    def _vault_loop(self) -> None:
        reader = self._vault_reader
        assert reader is not None
        # Read once the first cluster state exists (it names the vault), then on a timer or on demand.
        while not self._stop.is_set():
            asked = self._vault_wanted.wait(None if self.state is None else self.timings.vault_interval)
            if self._stop.is_set():
                return
            self._vault_wanted.clear()
            try:
                # A timed re-read reuses unchanged values: reading 2,000 of them costs seconds of CPU, and
                # every minute that would make the dashboard stutter.
                snapshot = reader(self.state, incremental=not asked, on_listed=self._vault_listed)
            except Exception as exc:  # the vault must never take the cluster view down with it
                log.exception("reading the vault failed")
                snapshot = VaultSnapshot(
                    vault_url="",
                    status=ResourceStatus(
                        AreaState.ERROR, f"vault: {type(exc).__name__}: {exc}", self.clock.now()
                    ),
                )
            with self._lock:
                self._vault = snapshot
            self._mark_dirty()

    def _arm_loop(self) -> None:
        reader = self._arm_reader
        assert reader is not None
        # Read once the first cluster state exists (it names the ids), then on a timer or on demand.
        while not self._stop.is_set():
            self._arm_wanted.wait(None if self.state is None else self.timings.arm_interval)
            if self._stop.is_set():
                return
            self._arm_wanted.clear()
            try:
                snapshot = reader(self.state)
            except Exception as exc:  # ARM must never take the cluster view down with it
                log.exception("reading ARM failed")
                now = self.clock.now()
                snapshot = ArmSnapshot(
                    ResourceStatus(AreaState.ERROR, f"ARM: {type(exc).__name__}: {exc}", now), taken_at=now
                )
            with self._lock:
                self._arm = snapshot
            self._mark_dirty()


def _safe_predicate(predicate: Callable[[ClusterState], bool], state: ClusterState) -> bool:
    try:
        return bool(predicate(state))
    except Exception:  # a predicate poking at a missing piece simply does not match yet
        return False
