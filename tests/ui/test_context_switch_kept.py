"""The ``K`` dialog says where the new context's vault and ARM come from (trial finding 5).

Found again from the new cluster unless a flag or the environment names them; then the dialog says they
stay, and which flag or variable keeps them. Pilot tests over a fake switcher.
"""

from __future__ import annotations

from textual.widgets import Static

from tests.ui import sitedata
from tui.core.clock import FrozenClock
from tui.core.model.state import ClusterState
from tui.ui.app import DashboardApp
from tui.ui.modals.context_switch import ContextChoice, ContextSwitchModal
from tui.ui.source import SourceInfo, StaticSource
from tui.ui.view.settings import UiSettings


class Switch:
    """Two contexts; ``kept`` is what the command would say stays."""

    def __init__(self, kept: tuple[str, ...]) -> None:
        self._kept = kept

    def contexts(self) -> tuple[list[ContextChoice], str]:
        return [
            ContextChoice(n, f"https://{n}:6443", None, n == "plant-a") for n in ("plant-a", "plant-b")
        ], "K"

    def open(self, context: str) -> tuple[StaticSource, None]:
        raise RuntimeError("not opened in this test")

    def release(self, source: StaticSource) -> None:
        pass

    def kept(self) -> tuple[str, ...]:
        return self._kept


async def _sides_line(state: ClusterState, switch: Switch) -> str:
    app = DashboardApp(
        StaticSource(state, SourceInfo("plant-a", "https://plant-a:6443")),
        settings=UiSettings(read_only=True),
        clock=FrozenClock(sitedata.NOW),
    )
    app.context_switch = switch  # type: ignore[assignment]  # a fake: open() is never called
    async with app.run_test(size=(120, 34)) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        await pilot.pause()
        await pilot.press("K")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert isinstance(app.screen, ContextSwitchModal)
        return str(app.screen.query_one("#context-sides", Static).render())


async def test_the_K_dialog_says_the_vault_named_by_the_environment_stays(steady: ClusterState) -> None:
    line = await _sides_line(steady, Switch(("vault https://kv.example/ (AIO_CERTS_VAULT_URL)",)))
    assert line == "stays on switching: vault https://kv.example/ (AIO_CERTS_VAULT_URL)"


async def test_the_K_dialog_says_the_vault_and_arm_are_found_again(steady: ClusterState) -> None:
    line = await _sides_line(steady, Switch(()))
    assert line == "the vault and ARM are found again from the new cluster (its SPC, its Arc ConfigMap)"
