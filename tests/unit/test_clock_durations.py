"""Clock and duration helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.core.clock import FrozenClock
from tui.core.durations import format_duration, humanize, parse_duration


def test_frozen_clock_moves_only_when_told() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    clock = FrozenClock(start)
    assert clock.now() == start
    assert clock.advance(90) == start + timedelta(seconds=90)
    assert clock.now() == start + timedelta(seconds=90)


def test_frozen_clock_refuses_naive_time() -> None:
    with pytest.raises(ValueError):
        FrozenClock(datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("60s", 60),
        ("45s", 45),
        ("1h30m", 5400),
        ("2160h", 2160 * 3600),
        ("1.5h", 5400),
        ("2d", 172800),
        ("500ms", 0.5),
        ("1h0m0s", 3600),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "10", "h", "10x", "1h 30m", "-5s", "s10"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_format_and_humanize() -> None:
    assert format_duration(timedelta(hours=2160)) == "2160h0m0s"
    assert format_duration(timedelta(seconds=45)) == "0h0m45s"
    assert humanize(timedelta(days=42, hours=3)) == "42d"
    assert humanize(timedelta(days=1, hours=3)) == "1d 3h"
    assert humanize(timedelta(minutes=5, seconds=3)) == "5m 3s"
    assert humanize(timedelta(seconds=-59)) == "-59s"
