"""The live feed: reflectors + vault polling -> coalesced ClusterState rebuilds -> subscriber callbacks.

Threads, none of which ever blocks another:
- one reflector per :func:`~tui.cluster.watch_set.watch_targets` entry, each marking the feed dirty;
- a builder that waits for a quiet moment (``quiet`` after the last change, at most ``max_delay`` after
  the first), assembles a RawSnapshot and calls ``build_state`` - so a burst of events within ~50 ms
  costs one rebuild - then hands the new state to every subscriber. It starts building as soon as the
  first collections have answered (at most one build per ``partial_every`` until all have): such a
  partial state names what is still loading (``ClusterState.loading``) and draws nothing from it;
- a vault poller that re-reads the vault every ``vault_interval`` seconds or on :meth:`refresh_vault`,
  so a slow or unreachable vault never holds up the cluster view;
- an ARM poller, the same for the ARM resources behind the lists (``arm_interval``,
  :meth:`refresh_arm`): an unreachable ARM only changes the ARM state and the drift judgements.

When a rebuild finds the list objects (SecretProviderClasses, SecretSyncs) changed since the last vault or
ARM read began - someone else's ``trust add``, a portal edit - the names newly mapped (and those whose
synced file was replaced) are read from the vault, those only, and ARM is read again, ``recheck_after``
after the change (a change comes as a burst: SPC, then SecretSync). Until those reads are in, the state
marks what they would judge as being checked (``VaultSnapshot.checking``, ``ArmSnapshot.checking``)
instead of judging it against the older read: a secret created a moment before it was mapped is no
``vault-missing``, a mapping removed through ARM no ``arm-drift`` (docs/design.md §6).

Subscribers run on the builder thread: a Textual app should ``post_message`` (thread-safe) from there.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
import random
import threading
import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Protocol, cast

from kubernetes.client import ApiClient

from tui.cluster.decoded_store import DecodedStore
from tui.cluster.reflector import Reflector, ReflectorTimings, WaitFunction, event_wait
from tui.cluster.watch_set import assemble, watch_targets
from tui.core.build.assemble import build_state
from tui.core.build.cache import DEFAULT_CACHE
from tui.core.build.opcua_rows import prewarm_list_files
from tui.core.build.readers import spec_of
from tui.core.build.sync import sync_mappings
from tui.core.clock import Clock, SystemClock
from tui.core.model import resources as rk
from tui.core.model.arm import ArmKind, ArmSnapshot
from tui.core.model.names import OPCUA_LISTS
from tui.core.model.settings import ModelSettings
from tui.core.model.snapshot import AreaState, RawSnapshot, ResourceStatus, VaultSnapshot
from tui.core.model.spc import parse_spc
from tui.core.model.state import ClusterState

log = logging.getLogger(__name__)


class VaultReader(Protocol):
    """Reads the vault, given the latest state (for the SPC's vault name); None when no vault is configured.

    ``incremental`` marks the poller's timed re-reads (False: a first read or one asked for with
    ``refresh_vault``); a reader may reuse values then. The site reader reuses them on every read, since
    it remembers values by version (tui/vault/reader.py).
    A reader that takes ``only`` reads just those secrets (the names the lists came to map since the last
    read): the snapshot then holds those found, and the feed lays it over the last full read. A reader
    without the keyword gets a full incremental read instead. A reader with a ``close()`` (one that reads
    in a child process) is closed when the feed stops, before the feed waits for its threads.
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

ListObjects = Mapping[tuple[ArmKind, str], Any]
"""The spec of each SecretProviderClass and SecretSync of the namespace, by kind and lower-case name."""


def list_objects(raw: RawSnapshot, namespace: str) -> dict[tuple[ArmKind, str], Any]:
    """What ARM drift is judged on, as the cluster holds it now (see :data:`ListObjects`)."""
    out: dict[tuple[ArmKind, str], Any] = {}
    for resource, kind in ((rk.SECRET_PROVIDER_CLASSES, ArmKind.SPC), (rk.SECRET_SYNCS, ArmKind.SECRET_SYNC)):
        for (ns, name), obj in raw.objects.get(resource.key, {}).items():
            if ns == namespace:
                out[(kind, name.lower())] = spec_of(obj)
    return out


def mapped_files(raw: RawSnapshot, namespace: str) -> dict[str, str | None]:
    """The vault secret names the lists' objects name now, lower case (the SPCs' objects and the
    SecretSyncs' source paths, by which an entry looks its secret up), each with the synced value of its
    file (base64, as the Secret holds it; None when not synced, or only in an SPC)."""
    files: dict[str, str | None] = {}
    for (ns, _name), obj in raw.objects.get(rk.SECRET_PROVIDER_CLASSES.key, {}).items():
        if ns == namespace:
            for spc_object in parse_spc(obj).objects:
                files.setdefault(spc_object.object_name.lower(), None)
    secrets = raw.objects.get(rk.SECRETS.key, {})
    for (ns, name), obj in raw.objects.get(rk.SECRET_SYNCS.key, {}).items():
        if ns != namespace:
            continue
        data = (secrets.get((ns, name)) or {}).get("data")
        synced = data if isinstance(data, Mapping) else {}
        for source, target in sync_mappings(obj):
            if source:
                value = synced.get(target)
                files[source.lower()] = value if isinstance(value, str) else None
    return files


def overlay(full: VaultSnapshot, partial: VaultSnapshot, names: Collection[str]) -> VaultSnapshot:
    """``full`` with the secrets ``names`` (lower case) as ``partial`` read them (absent: gone)."""
    secrets = {k: v for k, v in full.secrets.items() if k.lower() not in names}
    secrets.update(partial.secrets)
    return dataclasses.replace(full, secrets=MappingProxyType(secrets))


def _reads_names(reader: VaultReader | None) -> bool:
    """Whether ``reader`` takes ``only`` (a targeted read of some secrets)."""
    try:
        return reader is not None and "only" in inspect.signature(reader).parameters
    except (TypeError, ValueError):  # a callable without a signature: read it whole
        return False


@dataclass(frozen=True)
class FeedTimings:
    """Pacing of the feed, in seconds."""

    quiet: float = 0.01  # rebuild once no change arrived for this long...
    max_delay: float = 0.05  # ...but never later than this after the first change of a burst
    tick: float = 30.0  # rebuild at least this often: days-left and "rotated at" depend on the time
    vault_interval: float = 60.0
    arm_interval: float = 60.0
    save_decoded_after: float = 3.0  # the on-disk copy of decodes is written this long after the first state
    recheck_after: float = 0.3
    """How long after a change of the list objects the vault (the names newly mapped) and ARM are read
    again: long enough to take the SPC and SecretSync writes of one change together."""
    side_reads_after: float = 0.0
    """How long the first vault and ARM reads wait after the first complete state for
    :meth:`ClusterFeed.release_side_reads` (0: they start at once). Both take a few hundred ms of the
    interpreter's time; a dashboard painting its first complete frame meanwhile paints it later (design
    §10.1). Partial states (some collection still loading) never start them: the vault reader needs the
    SPC, and ARM the list objects."""
    partial_every: float = 0.25
    """While some collections have not answered yet, build at most once per this many seconds: 18 lists
    arriving one by one cost a few builds, not 18. The dashboard shows at most four states a second
    (its repaint interval), so building more often only takes the processor from the lists and the UI.
    0 builds nothing before every collection has answered."""
    max_deferral: float = 1.0
    """The longest :meth:`ClusterFeed.defer_builds` holds a change back (from the change's first event)."""


class ClusterFeed:
    """Keeps a :class:`ClusterState` current for one site and tells subscribers about each new one.

    ``start()`` launches the threads and returns at once; states built from the collections listed so
    far go to subscribers as they come (each says what is still loading); ``first_state_ready`` is set
    when every collection has been listed once (or has definitively failed) and that complete state was
    built.
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
        self._defer_until = 0.0  # no build before this (monotonic) while someone types, within max_deferral
        self._deferral_changed = threading.Event()
        self._stop = threading.Event()
        self._vault_wanted = threading.Event()
        self._threads: list[threading.Thread] = []
        self.first_state_ready = threading.Event()
        """Set once the first complete state (every collection tried once) has been delivered."""
        self.partial_builds = 0
        """States built and delivered before every collection had answered once."""
        self._last_partial = float("-inf")
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
        # What the lists mapped at the last build, and as of which the vault and ARM snapshots hold
        # (the mapping of the last build when their read began): changes since are being checked.
        self._mapped: tuple[Mapping[str, str | None], ListObjects] = ({}, {})
        self._vault_asof: Mapping[str, str | None] = {}
        self._vault_reading: Mapping[str, str | None] = {}  # what a full read under way is as of
        self._arm_asof: ListObjects = {}
        self._vault_full = False  # a full read was asked for (first read, refresh_vault)
        self._vault_names: set[str] = set()  # names to read alone, not yet taken by the poller
        self._vault_inflight: frozenset[str] = frozenset()  # names a read under way will answer
        self._arm_recheck = False  # a re-read for changed list objects is asked, not yet begun
        self._arm_asked = False  # a read was asked for (first read, refresh_arm): no waiting
        self._arm_inflight: ListObjects | None = None  # what a read under way is as of
        self._reads_names = _reads_names(vault_reader)

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
        self._deferral_changed.set()
        self._side_release.set()
        self._vault_wanted.set()
        self._arm_wanted.set()
        # A reader that holds a child process or a connection ends it now: a read under way then returns
        # at once instead of being waited for below.
        close = getattr(self._vault_reader, "close", None)
        if callable(close):
            close()
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
        elif any(r.ready.is_set() for r in self.reflectors):
            self._mark_dirty()  # some lists are in: build what they show for the newcomer

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
        with self._lock:
            self._vault_full = True
        self._vault_wanted.set()

    def refresh_arm(self) -> None:
        """Ask the ARM poller to read ARM again as soon as it can; never blocks."""
        with self._lock:
            self._arm_asked = True
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

    def defer_builds(self, seconds: float) -> None:
        """Hold changes back for ``seconds`` from now, at most ``max_deferral`` after a change's first event
        (never the first complete state); 0 ends a hold. The dashboard calls it on every key: while someone
        types it holds new states back anyway (``UiSettings.typing_quiet``), so building each of a
        rotation's dozen events on the way only takes the interpreter from the keystrokes."""
        with self._lock:
            self._defer_until = time.monotonic() + max(seconds, 0.0)
        self._deferral_changed.set()

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
            if self._wait_for_quiet() or self._wait_for_deferral():
                return
            self._dirty.clear()
            if not self._all_ready():
                # Not every collection has answered once yet: draw what has (the state says what is
                # still loading, and judges nothing by its absence), at most once a frame; the remaining
                # reflectors mark us dirty when they get there.
                self._prewarm()
                if self._partial_due():
                    self._build()
                continue
            self._build()

    def _partial_due(self) -> bool:
        """Whether to build a partial state now: some collection answered, and the last partial build
        is ``partial_every`` ago. Otherwise the feed is marked dirty again for when it is due."""
        every = self.timings.partial_every
        if every <= 0 or not any(r.ready.is_set() for r in self.reflectors):
            return False
        with self._lock:
            listening = bool(self._subscribers)
        if not listening:
            # Nobody to show it to yet (the dashboard lists while it imports its UI): a partial build
            # would only take the processor from that import. subscribe() asks for one.
            return False
        wait = self._last_partial + every - time.monotonic()
        if wait > 0:
            # Wait out the frame, then build whatever has arrived by then (or the complete state).
            if self._stop.wait(wait):
                return False
            if self._all_ready():
                self._dirty.set()
                return False
        self._last_partial = time.monotonic()
        return True

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

    def _wait_for_deferral(self) -> bool:
        """Sleep while :meth:`defer_builds` holds changes back; True if the feed is stopping."""
        while True:
            self._deferral_changed.clear()
            if self._stop.is_set():  # set before the event it may have just cleared
                return True
            with self._lock:
                if self._state is None or not self._state.complete:
                    return self._stop.is_set()  # the first complete state is never held back
                deadline = min(self._defer_until, self._first_change + self.timings.max_deferral)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return self._stop.is_set()
            # Woken early by a new hold (or its end), to wait for the new deadline instead.
            self._deferral_changed.wait(remaining)
            if self._stop.is_set():
                return True

    def _build(self) -> None:
        # Ready before the snapshot: a collection that answered is in it (reflectors set ready after
        # storing their list). One that answers meanwhile marks the feed dirty for another build.
        complete = self._all_ready()
        raw = self.raw_snapshot()
        namespace = self.settings.namespace
        files, objects = mapped_files(raw, namespace), list_objects(raw, namespace)
        with self._lock:
            previous = self._state
            self._mapped = (files, objects)
            vault = self._vault_checked(self._vault, files)
            arm = self._arm_checked(self._arm, objects)
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
            if not complete:
                self.partial_builds += 1
            subscribers = list(self._subscribers)
            self._state_changed.notify_all()
        for callback in subscribers:
            self._deliver(callback, state)
        if complete and not self.first_state_ready.is_set():
            self.first_state_ready.set()
            if self.timings.side_reads_after > 0 and not self._side_release.is_set():
                self._spawn(self._start_side_reads, "feed side reads")
            else:
                self.refresh_vault()
                self.refresh_arm()
            if self._decoded_store is not None:
                self._spawn(self._save_decoded, "feed decoded saver")

    def _vault_checked(
        self, vault: VaultSnapshot | None, files: Mapping[str, str | None]
    ) -> VaultSnapshot | None:
        """``vault`` marking the names mapped since its read began, and those whose synced file changed
        since (a replaced value: the vault's may be newer than the read); asks for those not yet asked for.

        A file synced for the first time is no change: the vault was written before the name was mapped.
        Called with the lock held, by the builder.
        """
        if vault is None or vault.status.state is not AreaState.OK:
            return vault  # nothing is judged against a failed read anyway
        asof = self._vault_asof
        new = frozenset(
            name
            for name, value in files.items()
            if name not in asof or (asof[name] is not None and value != asof[name])
        )
        if not new:
            return vault
        ask = new - self._vault_inflight - self._vault_names
        if ask:
            self._vault_names |= ask
            self._vault_wanted.set()
        return dataclasses.replace(vault, checking=new)

    def _arm_checked(self, arm: ArmSnapshot | None, objects: ListObjects) -> ArmSnapshot | None:
        """``arm`` marking the list objects changed since its read began; asks for a re-read unless one
        under way began after the change. Called with the lock held, by the builder."""
        if arm is None or not arm.readable:
            return arm
        before = self._arm_asof
        changed = frozenset(k for k in objects.keys() | before.keys() if objects.get(k) != before.get(k))
        if not changed:
            return arm
        if not self._arm_recheck and self._arm_inflight != objects:
            self._arm_recheck = True
            self._arm_wanted.set()
        return dataclasses.replace(arm, checking=changed)

    def release_side_reads(self) -> None:
        """The first state is on screen: start the first vault and ARM reads now (never blocks).

        Only the first reads wait (``FeedTimings.side_reads_after``); calling this again does nothing.
        """
        self._side_release.set()

    def _start_side_reads(self) -> None:
        self._side_release.wait(self.timings.side_reads_after)
        if self._stop.is_set():
            return
        self.refresh_vault()
        self.refresh_arm()

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
            self._vault_asof = self._vault_reading
        self._mark_dirty()

    def _vault_loop(self) -> None:
        reader = self._vault_reader
        assert reader is not None
        # Read once the first cluster state exists (it names the vault), then on a timer or on demand, and
        # the names newly mapped alone when the lists change (see _vault_checked).
        while not self._stop.is_set():
            woken = self._vault_wanted.wait(None if self.state is None else self.timings.vault_interval)
            if self._stop.is_set():
                return
            with self._lock:
                names_only = woken and not self._vault_full and bool(self._vault_names)
            # A change of the lists is a burst (the SPC, then the SecretSync): take it whole.
            if names_only and self._stop.wait(self.timings.recheck_after):
                return
            with self._lock:
                self._vault_wanted.clear()
                full, self._vault_full = self._vault_full, False
                names = frozenset(self._vault_names)
                self._vault_names.clear()
                shown = self._vault
                asof = self._mapped[0]
                targeted = (
                    woken
                    and not full
                    and bool(names)
                    and self._reads_names
                    and shown is not None
                    and shown.status.state is AreaState.OK
                    and not shown.values_pending
                )
                self._vault_inflight = names if targeted else frozenset(asof)
                self._vault_reading = asof
            if targeted and shown is not None:
                self._read_vault_names(reader, shown, {name: asof.get(name) for name in names})
                continue
            try:
                # Timed or asked for, the site reader fetches only versions it has not read: reading
                # 2,000 values costs seconds of CPU, and every minute that would make the dashboard stutter.
                snapshot = reader(self.state, incremental=not full, on_listed=self._vault_listed)
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
                self._vault_asof = asof
                self._vault_inflight = frozenset()
            self._mark_dirty()

    def _read_vault_names(
        self, reader: VaultReader, shown: VaultSnapshot, files: Mapping[str, str | None]
    ) -> None:
        """Read the secrets ``files`` names alone and lay them over the vault read shown (``files``: what
        the lists held of each when the read began)."""
        names = frozenset(files)
        try:
            partial = cast(Any, reader)(self.state, only=names)
        except Exception:  # as a full read: never take the cluster view down
            log.exception("reading newly mapped vault secrets failed")
            partial = None
        with self._lock:
            if self._vault is not shown:
                # A full read landed meanwhile: it answers for whatever it was as of.
                self._vault_inflight = frozenset()
            elif (
                partial is None
                or partial.status.state is not AreaState.OK
                or partial.vault_url != shown.vault_url
            ):
                # Still checking, not asked again: the next timed read (or ctrl+r) answers for them.
                pass
            else:
                self._vault = overlay(shown, partial, names)
                self._vault_asof = {**self._vault_asof, **files}
                self._vault_inflight = frozenset()
        self._mark_dirty()

    def _arm_loop(self) -> None:
        reader = self._arm_reader
        assert reader is not None
        # Read once the first cluster state exists (it names the ids), then on a timer or on demand, and
        # soon after the list objects change (see _arm_checked).
        while not self._stop.is_set():
            woken = self._arm_wanted.wait(None if self.state is None else self.timings.arm_interval)
            if self._stop.is_set():
                return
            with self._lock:
                recheck_only = woken and self._arm_recheck and not self._arm_asked
            if recheck_only and self._stop.wait(self.timings.recheck_after):
                return  # the wait takes the SPC and SecretSync writes of one change together
            with self._lock:
                self._arm_wanted.clear()
                self._arm_recheck = self._arm_asked = False
                asof = self._mapped[1]
                self._arm_inflight = asof
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
                self._arm_asof = asof
                self._arm_inflight = None
            self._mark_dirty()


def _safe_predicate(predicate: Callable[[ClusterState], bool], state: ClusterState) -> bool:
    try:
        return bool(predicate(state))
    except Exception:  # a predicate poking at a missing piece simply does not match yet
        return False
