"""What counts as "the site changed" when the dashboard plans again just before applying (issue 13
item 15): a different diff, warning or problem does; a new plan id, clock-made times and moved
preconditions do not, or a CRL upload (its secret expires plan time + 180 days) could never be applied."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import certgen as cg
from tests.plansite import NOW, PLC1, PLC2, PLC3, SITE_CA, build, plan_site
from tui.core.changes.changeset import AddFile, ChangeSet, RemoveEntry
from tui.core.changes.plan import Plan, make_plan
from tui.ui.change_session import replan_before_apply, steady_text


class Planner:
    """A session whose ``plan`` hands out the given plans in turn."""

    def __init__(self, *plans: Plan) -> None:
        self.plans = list(plans)

    def plan(self, _changes: Any, *, read_only: bool = False, local_only: bool = False) -> tuple[Plan, Any]:
        return self.plans.pop(0), object()


def _plan(changes: ChangeSet, trust: dict[str, bytes], issuer: dict[str, bytes], at: timedelta) -> Plan:
    built = build(plan_site(trust=trust, issuer=issuer))
    return make_plan(changes, built.state, vault_secrets=built.vault.secrets, now=NOW + at, raw=built.raw)


def test_a_crl_planned_again_seconds_later_is_the_same_plan() -> None:
    crl = cg.make_crl(SITE_CA, this_update=NOW - timedelta(days=1))
    changes = ChangeSet.of([AddFile("issuer", "site-ca.crl", crl.der)])
    issuer = {"site-ca.crt": SITE_CA.pem}
    reviewed = _plan(changes, {}, issuer, timedelta(0))
    again = _plan(changes, {}, issuer, timedelta(seconds=7))
    assert reviewed.render_diff() != again.render_diff()  # the secret's expiry moved with the clock
    result = replan_before_apply(Planner(again), reviewed, changes, read_only=False, local_only=False)  # type: ignore[arg-type]
    assert not result.changed and result.plan is again and result.new_warnings == ()


def test_someone_elses_entry_in_the_same_list_is_a_change() -> None:
    changes = ChangeSet.of([RemoveEntry("trust", "plc-1.der")])
    reviewed = _plan(changes, {"plc-1.der": PLC1.der, "plc-2.der": PLC2.der}, {}, timedelta(0))
    again = _plan(
        changes, {"plc-1.der": PLC1.der, "plc-2.der": PLC2.der, "plc-3.der": PLC3.der}, {}, timedelta(0)
    )
    result = replan_before_apply(Planner(again), reviewed, changes, read_only=False, local_only=False)  # type: ignore[arg-type]
    assert result.changed and result.plan is again


def test_volatile_parts_are_masked() -> None:
    assert steady_text(
        'Plan 38ea8adacbab3552 · ETag "56307bcd" · resourceVersion 812 · 2027-12-04T02:32:44Z'
    ) == ("Plan <id> · ETag <etag> · resourceVersion <rv> · <time>")
