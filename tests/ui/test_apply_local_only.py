"""The apply dialog's explicit "cluster copy only" choice, when ARM owns the lists and cannot be written.

The session here plans with the real core against an ARM-owned test site whose ARM refuses (403), and
applies through the engine's in-memory fakes (tests/unit/ops_fakes.py), so the dialog runs its real
workers: the refusal with the ``az iot ops`` commands, the choice off by default, a new plan when it is
ticked, and the drift in the audit log after the apply. The CLI's ``--local-only`` is tested over the
wire in tests/integration/test_changes_arm.py.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from textual.widgets import Button, Checkbox

from tests.armobjects import IDS
from tests.ui import sitedata
from tests.ui.conftest import INFO, WIDE
from tests.unit.test_ops_arm import ArmRig
from tui.core.changes.changeset import ChangeSet, RemoveEntry
from tui.core.changes.plan import Plan
from tui.core.clock import FrozenClock
from tui.core.model.arm import ArmSnapshot
from tui.core.model.snapshot import AreaState, ResourceStatus
from tui.ops.apply import ApplyResult, Progress, apply_plan, audit_info_for
from tui.ui.app import DashboardApp
from tui.ui.change_session import SessionHolder
from tui.ui.modals.apply import APPLY_ACTION, ApplyModal
from tui.ui.source import StaticSource
from tui.ui.view.settings import UiSettings
from tui.ui.view.staging import StagedItem, Staging

DENIED = ArmSnapshot(
    ResourceStatus(AreaState.FORBIDDEN, "ARM refused the request (403 AuthorizationFailed)"), IDS
)


class DeniedArmSession:
    """What the dialog asks of a ChangeSession, over an ARM-owned fake site whose ARM answers 403."""

    context = "aio-test"

    def __init__(self, rig: ArmRig) -> None:
        self.rig = rig
        self.audit = rig.audit
        self.clock = rig.clock
        self.planned: list[bool] = []

    def plan(
        self, changes: ChangeSet, *, read_only: bool = False, local_only: bool = False
    ) -> tuple[Plan, Any]:
        """The core's plan against the site, with ARM refusing."""
        from tests.plansite import plan_for

        self.planned.append(local_only)
        plan = plan_for(self.rig.site, *changes, arm=DENIED, local_only=local_only, read_only=read_only)
        return plan, object()  # the dialog hands it back to apply() untouched

    def apply(
        self,
        plan: Plan,
        _site: Any,
        *,
        action: str,
        progress: Progress,
        wait_timeout: float,
        on_replan: Any = None,
    ) -> ApplyResult:
        """The engine on the fakes, without ARM access."""
        return apply_plan(
            plan,
            kube=self.rig.cluster,
            vault=self.rig.vault,
            arm=None,
            journal=self.rig.store,
            audit=self.rig.audit,
            clock=self.rig.clock,
            progress=progress,
            wait_timeout=wait_timeout,
            audit_info=audit_info_for(plan, action=action, context=self.context),
            on_replan=on_replan,
        )

    def record_refusal(
        self, action: str, plan: Plan | None, detail: str, *, outcome: str = "refused"
    ) -> None:
        """As the session does: one audit line."""
        self.audit.record(action=action, outcome=outcome, context=self.context, detail=detail)


def _verdict(app: DashboardApp) -> str:
    return str(app.screen.query_one("#apply-verdict").render())


async def test_cluster_copy_only_is_offered_off_by_default_and_audits_the_drift(tmp_path: Path) -> None:
    from tests.plansite import plan_site

    rig = ArmRig(plan_site(), tmp_path / "state")
    session = DeniedArmSession(rig)
    app = DashboardApp(
        StaticSource(sitedata.steady_state(), INFO), settings=UiSettings(), clock=FrozenClock(sitedata.NOW)
    )
    staging = Staging((StagedItem(RemoveEntry("trust", "plc-1.der")),))
    async with app.run_test(size=WIDE) as pilot:
        await app.wait_for_state(lambda _s: True, timeout=10)
        modal = ApplyModal(SessionHolder(lambda: session), staging, wait_timeout=1.0)  # type: ignore[arg-type,return-value]
        app.push_screen(modal)
        await app.workers.wait_for_complete()
        await pilot.pause()
        choice = modal.query_one("#apply-local-only", Checkbox)
        assert choice.display and not choice.value
        assert modal.query_one("#apply-confirm", Button).disabled
        verdict = _verdict(app)
        assert "managed from Azure Resource Manager, which cannot be written now" in verdict
        assert "az iot ops connector opcua trust remove --instance <instance> -g rg-aio" in verdict
        before = rig.everything()
        choice.value = True
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert session.planned == [False, True]
        assert not modal.query_one("#apply-confirm", Button).disabled
        assert "only its cluster copy is written (--local-only)" in _verdict(app)
        assert rig.everything() == before  # nothing written until Apply
        modal.query_one("#apply-confirm", Button).press()
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert modal.outcome is not None and modal.outcome.outcome == "applied", modal.outcome
    events = list(rig.audit.events())
    assert [e["outcome"] for e in events] == ["refused", "started", "applied"]
    assert events[-1]["action"] == APPLY_ACTION and "will undo this" in events[-1]["extra"]["drift_warning"]
    assert "plc-1.der" not in rig.cluster.synced("azure-iot-operations", "aio-opc-ua-broker-trust-list")
    assert ("plc-1-der", "plc-1.der") in rig.arm.mappings("aio-opc-ua-broker-trust-list")  # ARM untouched
