"""What the dashboard knows about the terminal before Textual is imported (no Textual here).

Textual reads its frame-rate cap (``TEXTUAL_FPS``) once, when it is imported, so the choice is made here
and applied by the command that starts the app.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, MutableMapping

LOCAL_FPS = 120
"""Frame-rate cap on a local terminal: a change waits at most ~8 ms for its frame (Textual's default of 60
made a filter keystroke wait up to 17 ms, and twice that when its table refill missed the first frame)."""

SSH_FPS = 60
"""Frame-rate cap over SSH (Textual's default): bursts such as held arrow keys send fewer frames."""


def over_ssh(environ: MutableMapping[str, str] | None = None) -> bool:
    """True when the terminal is on the far end of an SSH connection."""
    env = os.environ if environ is None else environ
    return bool(env.get("SSH_CONNECTION") or env.get("SSH_CLIENT") or env.get("SSH_TTY"))


def choose_frame_rate(environ: MutableMapping[str, str] | None = None) -> int:
    """Set ``TEXTUAL_FPS`` for this terminal unless the user set it; returns the cap in force.

    Frames are drawn only when something changed, so the cap bounds how long a change waits for its
    frame, not how often the screen is redrawn while idle.
    """
    env = os.environ if environ is None else environ
    if "TEXTUAL_FPS" not in env:
        env["TEXTUAL_FPS"] = str(SSH_FPS if over_ssh(env) else LOCAL_FPS)
    try:
        return int(env["TEXTUAL_FPS"])
    except ValueError:
        return SSH_FPS  # Textual falls back to its default for a value it cannot read


EXIT_HANGUP = 129
"""Exit status when the terminal went away (128 + SIGHUP, as a shell reports a hangup)."""


class HangupWatch:
    """Calls ``on_hangup`` once when the terminal on ``fd`` goes away.

    An SSH drop normally sends SIGHUP, whose default action ends the process. Without it (``nohup``, a
    supervisor, a closed pseudo-terminal whose child is not its session leader) Textual's input thread
    reads end-of-file in a tight loop and its writer blocks the UI forever: a process burning a core on
    an edge host until someone finds it. A hung-up terminal stops being a tty, which this daemon thread
    checks every ``interval`` seconds.
    """

    def __init__(
        self,
        fd: int,
        on_hangup: Callable[[], None],
        *,
        interval: float = 1.0,
        is_tty: Callable[[int], bool] = os.isatty,
    ) -> None:
        self._fd = fd
        self._on_hangup = on_hangup
        self._interval = interval
        self._is_tty = is_tty
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="terminal hangup watch", daemon=True)

    def start(self) -> HangupWatch:
        """Start watching (only when ``fd`` is a terminal now); returns self."""
        if self._is_tty(self._fd):
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching (the app ended normally)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            if not self._is_tty(self._fd):
                if not self._stop.is_set():
                    self._on_hangup()
                return
