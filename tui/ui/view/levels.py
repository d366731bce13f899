"""Severity levels of what the dashboard shows, and the colours a theme gives them.

Widgets mark text with a :class:`Level` instead of a colour so the same code reads right under every
theme: :func:`palette_from_colors` turns the active theme's semantic colours (``$error``, ``$warning``...)
into Rich styles once per theme change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from tui.core.model.state import Severity


class Level(StrEnum):
    """How a value should be read at a glance."""

    OK = "ok"
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    MUTED = "muted"
    PLAIN = "plain"


@dataclass(frozen=True)
class Palette:
    """Rich style strings per level."""

    styles: Mapping[Level, str]

    def style(self, level: Level) -> str:
        """The style for ``level`` (empty for plain text)."""
        return self.styles.get(level, "")


DEFAULT_PALETTE = Palette(
    {
        Level.OK: "green",
        Level.INFO: "cyan",
        Level.WARNING: "yellow",
        Level.ERROR: "bold red",
        Level.MUTED: "dim",
        Level.PLAIN: "",
    }
)
"""Used before a theme is known and by tests that render without an app."""


def palette_from_colors(colors: Mapping[str, str | None]) -> Palette:
    """A palette from theme colours named ``success``, ``warning``, ``error``, ``accent`` (hex strings)."""

    def pick(name: str, fallback: str) -> str:
        value = colors.get(name)
        return value if value else fallback

    return Palette(
        {
            Level.OK: pick("success", "green"),
            Level.INFO: pick("accent", "cyan"),
            Level.WARNING: pick("warning", "yellow"),
            Level.ERROR: "bold " + pick("error", "red"),
            Level.MUTED: "dim",
            Level.PLAIN: "",
        }
    )


def severity_level(severity: Severity | None) -> Level:
    """The level of a finding's or entry's worst severity (None: healthy)."""
    if severity is None:
        return Level.OK
    return _SEVERITY_LEVELS[severity]


_SEVERITY_LEVELS = {
    Severity.CRITICAL: Level.ERROR,
    Severity.WARNING: Level.WARNING,
    Severity.INFO: Level.INFO,
}


def days_level(days: float | None, warn_days: int, critical_days: int) -> Level:
    """Colour of a days-left value under the configured thresholds (expired counts as critical)."""
    if days is None:
        return Level.MUTED
    if days <= critical_days or days < 0:
        return Level.ERROR
    if days <= warn_days:
        return Level.WARNING
    return Level.OK
