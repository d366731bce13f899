"""The collector's full pass waits for a quiet moment (``freeze_heap``, design §10.1).

A full pass at 2,000 entries took 20-40 ms after typing and 136 ms once Textual's render caches had
filled, and Python starts one in the middle of whatever allocates: filter keys, a rotation's builds. While
keys come the app defers Python's own full passes; at a quiet moment (no key for a second, no state for a
moment) it runs one once half of what makes Python start one has built up, and gives Python its thresholds
back. The collector is a fake here: the test process's real one is left alone.
"""

from __future__ import annotations

import time

import pytest

from tests.ui.conftest import Dashboard
from tui.ui import app as app_module
from tui.ui.app import FULL_PASS_DEFERRAL, IDLE_COLLECT_QUIET, STATE_QUIET
from tui.ui.view.settings import UiSettings


class FakeCollector:
    """The parts of the ``gc`` module the app uses, recording what it is asked."""

    def __init__(self, full_count: int) -> None:
        self.threshold = (700, 10, 10)
        self.count = (0, 0, full_count)
        self.collected = 0

    def get_threshold(self) -> tuple[int, int, int]:
        return self.threshold

    def set_threshold(self, *threshold: int) -> None:
        self.threshold = (threshold[0], threshold[1], threshold[2])

    def get_count(self) -> tuple[int, int, int]:
        return self.count

    def collect(self, *_args: object) -> int:
        self.collected += 1
        self.count = (0, 0, 0)
        return 0

    def freeze(self) -> None:
        pass


@pytest.mark.parametrize("full_count", [15, 6, 3])
async def test_a_full_pass_runs_at_a_quiet_moment(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch, full_count: int
) -> None:
    fake = FakeCollector(full_count)
    monkeypatch.setattr(app_module, "gc", fake)
    monkeypatch.setattr(app_module, "IDLE_COLLECT_CHECK", 3600)  # the test says when the app looks
    async with dashboard(settings=UiSettings(freeze_heap=True)) as (app, pilot, _source):
        assert fake.threshold == (700, 10, 10)  # nobody typed yet: Python's own schedule
        await pilot.press("3", "j")
        assert fake.threshold == (700, 10, 10 * FULL_PASS_DEFERRAL)
        app._collect_when_idle(now=time.monotonic())  # right after a key: not a pause
        assert fake.collected == 0 and fake.threshold[2] == 10 * FULL_PASS_DEFERRAL
        quiet = time.monotonic() + IDLE_COLLECT_QUIET + 1
        app._last_apply = quiet - STATE_QUIET / 2  # a state was just applied: more may follow
        app._collect_when_idle(now=quiet)
        assert fake.collected == 0 and fake.threshold[2] == 10 * FULL_PASS_DEFERRAL
        app._last_apply = quiet - STATE_QUIET - 1
        app._collect_when_idle(now=quiet)
        # Run once half of Python's threshold has built up (five middle passes of ten), a little before
        # Python would start one itself in the middle of whatever allocates.
        assert fake.collected == (1 if full_count >= 5 else 0)
        assert fake.threshold == (700, 10, 10)
        await pilot.press("k")
        assert fake.threshold == (700, 10, 10 * FULL_PASS_DEFERRAL)
    assert fake.threshold == (700, 10, 10)  # given back when the app ends


async def test_without_keys_a_quiet_moment_runs_the_pass_early(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeCollector(5)
    monkeypatch.setattr(app_module, "gc", fake)
    monkeypatch.setattr(app_module, "IDLE_COLLECT_CHECK", 3600)
    async with dashboard(settings=UiSettings(freeze_heap=True)) as (app, _pilot, _source):
        now = time.monotonic() + 10
        app._last_apply = now - STATE_QUIET - 1
        app._collect_when_idle(now=now)
        assert fake.collected == 1
        app._collect_when_idle(now=now)  # nothing has built up since
        assert fake.collected == 1


async def test_without_freeze_heap_the_collector_is_left_alone(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeCollector(15)
    monkeypatch.setattr(app_module, "gc", fake)
    async with dashboard() as (app, pilot, _source):
        await pilot.press("3", "j")
        app._collect_when_idle(now=time.monotonic() + IDLE_COLLECT_QUIET + 1)
        assert fake.threshold == (700, 10, 10) and fake.collected == 0
