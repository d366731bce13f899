"""A new root CA reaches the screen at once (issue 14 item 6): states are otherwise applied at most once
per repaint interval, and the state that brought a rotated CA waited behind the burst's first change.

The interval is set far beyond any test here, so a state that had to wait for it is visibly not applied.
"""

from __future__ import annotations

from tests.ui import sitedata
from tests.ui.conftest import Dashboard, screen_text
from tui.core.model.state import ClusterState
from tui.ui.view.settings import UiSettings

LONG = UiSettings(repaint_interval=3600)


async def test_a_rotated_root_ca_is_applied_without_waiting(
    dashboard: Dashboard, steady: ClusterState
) -> None:
    async with dashboard(steady, settings=LONG) as (app, pilot, source):
        assert app.applied == 1
        # A change with the same CA, right after the first state: it waits for the interval ...
        same = sitedata.steady_state()
        source.push(same)
        await pilot.pause()
        assert app.state is steady
        # ... but one with a new CA does not, and it supersedes the waiting one.
        rotated = sitedata.rotated_state(steady, sitedata.NOW)
        new, old = rotated.root_ca.certificate, steady.root_ca.certificate
        assert new is not None and old is not None and new.sha1 != old.sha1
        source.push(rotated)
        await pilot.pause()
        assert app.state is rotated
        assert app.applied == 2  # the waiting state was never applied on its own
        shown = screen_text(app)
        assert new.serial[:8] in shown or new.sha1 in shown
