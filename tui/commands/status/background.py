"""``status``'s background reads and output width (standard library only, shared by both halves)."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from typing import Generic, TextIO, TypeVar

T = TypeVar("T")


class Background(Generic[T]):
    """Run ``read()`` in a daemon thread: an exit (say, cluster unreachable) never waits for it."""

    def __init__(self, read: Callable[[], T | None], name: str = "vault") -> None:
        self._result: T | None = None
        self._done = threading.Event()
        self._read = read
        threading.Thread(target=self._run, name=f"status-{name}", daemon=True).start()

    def _run(self) -> None:
        try:
            self._result = self._read()
        finally:
            self._done.set()

    def result(self) -> T | None:
        """Wait for the read (the reader bounds its own time) and return it."""
        self._done.wait()
        return self._result


def status_width(stream: TextIO) -> int | None:
    """The width to fit ``status`` to: the terminal's (60 to 140), or None (cut nothing) when ``stream`` is
    not a terminal: piped into a file or a ticket, every line is kept whole."""
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    width = shutil.get_terminal_size((100, 24)).columns
    return max(60, min(width, 140))
