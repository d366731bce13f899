"""The collector's full pass waits for a quiet moment (``freeze_heap``, design §10.1).

A full pass at 2,000 entries took 20-40 ms after typing and 136 ms once Textual's render caches had
filled, and Python starts one in the middle of whatever allocates: filter keys, a rotation's builds. From
the first state on the app defers Python's own full passes and runs the one that is due when no key has
come for a second and no state for a moment. The collector is a fake here: the test process's real one
is left alone.
"""

from __future__ import annotations

import time

import pytest

from tests.ui.conftest import Dashboard
from tui.ui import app as app_module
from tui.ui.app import FULL_PASS_DEFERRAL, IDLE_COLLECT_QUIET, PASS_OVERDUE, STATE_QUIET
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


@pytest.mark.parametrize("full_count", [15, 3])
async def test_a_full_pass_waits_for_a_quiet_moment(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch, full_count: int
) -> None:
    fake = FakeCollector(full_count)
    monkeypatch.setattr(app_module, "gc", fake)
    async with dashboard(settings=UiSettings(freeze_heap=True)) as (app, pilot, _source):
        # From the first state on, Python's own full passes are deferred: one started by allocations
        # comes in the middle of whatever allocates (a keystroke, a rotation's builds and repaints).
        assert fake.threshold == (700, 10, 10 * FULL_PASS_DEFERRAL)
        await pilot.press("3", "j")
        app._collect_when_idle(now=time.monotonic())  # right after a key: not a pause
        assert fake.collected == 0
        quiet = time.monotonic() + IDLE_COLLECT_QUIET + 1
        app._last_apply = quiet - STATE_QUIET / 2  # a state was just applied: more may follow
        app._collect_when_idle(now=quiet)
        assert fake.collected == 0
        app._last_apply = quiet - STATE_QUIET - 1
        app._collect_when_idle(now=quiet)
        # A pass is run only when Python would have run one (ten middle passes since the last).
        assert fake.collected == (1 if full_count >= 10 else 0)
        assert fake.threshold == (700, 10, 10 * FULL_PASS_DEFERRAL)  # still deferred
    assert fake.threshold == (700, 10, 10)  # given back when the app ends


async def test_states_coming_without_end_do_not_hold_a_due_pass_for_ever(
    dashboard: Dashboard, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeCollector(15)
    monkeypatch.setattr(app_module, "gc", fake)
    async with dashboard(settings=UiSettings(freeze_heap=True)) as (app, _pilot, _source):
        start = time.monotonic() + IDLE_COLLECT_QUIET + 1
        for step in (0.0, PASS_OVERDUE / 2):
            app._last_apply = start + step  # a state at every look
            app._collect_when_idle(now=start + step)
            assert fake.collected == 0
        app._last_apply = start + PASS_OVERDUE
        app._collect_when_idle(now=start + PASS_OVERDUE)
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
