"""Progress of an apply, resume or rollback, built from the runner's progress events.

The runner calls its progress callback on the worker thread; the dialogs post each
:class:`~tui.ops.apply.StepEvent` to themselves and feed it to :class:`StepProgress` on the UI thread,
which renders one line per step (pending, running, done, failed) and the sync wait below them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from rich.text import Text

from tui.ui.modals.safe import safe
from tui.ui.view.levels import Level, Palette

if TYPE_CHECKING:
    from tui.core.changes.operations import Step
    from tui.ops.apply import StepEvent

_SYMBOL = {
    "pending": ("·", Level.MUTED),
    "start": ("…", Level.INFO),
    "done": ("✓", Level.OK),
    "skipped": ("=", Level.OK),
    "failed": ("✗", Level.ERROR),
    "conflict": ("↻", Level.WARNING),
}


@dataclass
class _Row:
    status: str
    target: str
    message: str


class StepProgress:
    """Step lines and sync lines of one run, updated event by event (UI thread only)."""

    def __init__(self, steps: Sequence[Step] = ()) -> None:
        from tui.ops.apply import describe_step

        self.total = len(steps)
        self.rows: dict[int, _Row] = {s.index: _Row("pending", s.target, describe_step(s)) for s in steps}
        self.notes: list[tuple[str, Level]] = []
        self.waits: dict[str, str] = {}
        """Sync checks by SecretSync: the latest word on each."""
        self.final: tuple[str, Level] | None = None

    def handle(self, event: StepEvent) -> None:
        """Take one progress event."""
        self.total = max(self.total, event.total)
        if event.phase == "rebased":
            # The remaining steps were re-planned: forget the ones not done, new events will name them.
            self.rows = {i: r for i, r in self.rows.items() if r.status in ("done", "skipped")}
            self.notes.append((event.message, Level.WARNING))
        elif event.phase == "wait":
            self.waits[event.target] = event.message
        elif event.phase == "synced":
            self.final = (f"synced: the synced Secrets show the change ({event.message})", Level.OK)
        elif event.phase == "wait-timeout":
            self.final = (f"not synced yet: {event.message}", Level.WARNING)
        elif event.index is not None:
            row = self.rows.get(event.index) or _Row("pending", event.target, "")
            row.status = event.phase if event.phase in _SYMBOL else row.status
            row.target = event.target or row.target
            # A start names what the step does; a failure or conflict says why it stopped.
            if (event.phase == "start" and event.message) or event.phase in ("failed", "conflict"):
                row.message = event.message
            self.rows[event.index] = row
        elif event.phase == "failed":
            self.notes.append((event.message, Level.ERROR))

    @property
    def done(self) -> int:
        """Steps done (or found already in place)."""
        return sum(1 for r in self.rows.values() if r.status in ("done", "skipped"))

    def text(self, palette: Palette) -> Text:
        """One line per step, then notes, sync checks and the final word."""
        lines: list[Text] = []
        for index in sorted(self.rows):
            row = self.rows[index]
            symbol, level = _SYMBOL.get(row.status, _SYMBOL["pending"])
            line = Text(f"{symbol} [{index + 1}/{self.total}] ", style=palette.style(level))
            line.append(row.target)
            if row.message:
                line.append(
                    f": {row.message}",
                    style=palette.style(Level.ERROR if row.status == "failed" else Level.MUTED),
                )
            lines.append(line)
        lines += [Text(note, style=palette.style(level)) for note, level in self.notes]
        lines += [
            Text(f"waiting: {target}: {message}", style=palette.style(Level.MUTED))
            for target, message in self.waits.items()
        ]
        if self.final is not None:
            lines.append(Text(self.final[0], style=palette.style(self.final[1])))
        return Text("\n").join(safe(line) for line in lines)
