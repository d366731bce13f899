"""What the dashboard knows about the terminal before Textual is imported (no Textual here).

Textual reads its frame-rate cap (``TEXTUAL_FPS``) once, when it is imported, so the choice is made here
and applied by the command that starts the app.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

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
