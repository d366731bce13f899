"""Settings of the dashboard itself (the model has its own,
:class:`~tui.core.model.settings.ModelSettings`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from tui.core.model.names import DEFAULT_NAMESPACE


@dataclass(frozen=True)
class UiSettings:
    """How the dashboard behaves; the defaults suit an SSH session on a slow link."""

    namespace: str = DEFAULT_NAMESPACE
    """AIO namespace shown in the header before the first state arrives."""
    read_only: bool = False
    """Start in the read-only view (no actions that would write)."""
    read_only_locked: bool = False
    """Started with ``--read-only``: the view cannot be switched to writable from the palette."""
    animations: bool = False
    """Allow Textual's animations (off by default, and always off over SSH)."""
    repaint_interval: float = 0.25
    """At most one state applied per this many seconds (newer states replace waiting ones)."""
    typing_quiet: float = 0.5
    """A state that arrives while keys come less than this many seconds apart waits for the pause (or for
    :attr:`typing_hold_max`): applying one costs the UI thread 35-50 ms at 2,000 entries, a keystroke
    that waits behind it is felt, a view half a second late while someone types is not (design §10.1).
    0 applies states as they come, whatever the keys."""
    typing_hold_max: float = 2.0
    """The longest a state waits here for typing to pause; it is then applied right after a keystroke's
    repaint, the moment the next key is least likely to be waiting. A live feed may have held the change
    back before it built the state (``FeedTimings.max_deferral``, 1 s): a change made while someone types
    steadily shows at most the two together later, 3 s by default."""
    tick_interval: float = 1.0
    """How often countdowns and the data age are re-evaluated (repainted only when their text changes)."""
    freeze_heap: bool = False
    """``gc.freeze()`` the heap once the first state is on screen and again once the vault has been read
    (imported libraries, reflector caches, model, tables): the collector's full passes then skip it,
    which at 2,000 entries cut pauses in the middle of typing from ~100 ms to ~30 ms. For a process that
    runs one dashboard (the commands); tests leave it off so one app's widgets are not kept for the rest
    of the session."""
    release_heap: Callable[[], object] | None = None
    """With :attr:`freeze_heap`, called right after the heap's second freeze, at the pause that follows
    the vault's values (the table is full, the first vault and ARM reads are in): the commands pass glibc's
    ``malloc_trim``, which hands the allocator's free pages back to the system (3.6 MiB at ``--scale
    2000``). The vault's first read, which used to trim its own garbage, now runs in a child process."""

    def __post_init__(self) -> None:
        if min(self.repaint_interval, self.typing_quiet, self.typing_hold_max) < 0 or self.tick_interval <= 0:
            raise ValueError("dashboard intervals must be positive")
