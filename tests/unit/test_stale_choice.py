"""Which copy of a duplicate ``x`` keeps (issue 13 item 20): by default the one not named as a spare, and
whichever the user picks once asked."""

from __future__ import annotations

from tests.plansite import PLC1, build, plan_site
from tui.core.health.stale import aged_name, duplicate_groups, stale_reasons


def test_the_copy_named_old_is_the_duplicate_and_the_user_can_keep_it_instead() -> None:
    # The demo's pair: the same certificate as plc-press-line1.der and, uploaded again, -old.crt.
    site = plan_site(trust={"plc-press-line1-old.crt": PLC1.pem, "plc-press-line1.der": PLC1.der})
    state = build(site).state
    (group,) = duplicate_groups(state)
    assert group.keys == ("trust/plc-press-line1.der", "trust/plc-press-line1-old.crt")
    assert stale_reasons(state) == {
        "trust/plc-press-line1-old.crt": "duplicate: same certificate as trust/plc-press-line1.der, "
        "which is kept"
    }
    assert stale_reasons(state, keep={"trust/plc-press-line1-old.crt"}) == {
        "trust/plc-press-line1.der": "duplicate: same certificate as trust/plc-press-line1-old.crt, "
        "which is kept"
    }


def test_names_that_say_spare_copy() -> None:
    assert [aged_name(n) for n in ("plc-1-old.crt", "plc-1.der.bak", "copy_of_plc.der", "plc~")] == [True] * 4
    assert [aged_name(n) for n in ("plc-1.der", "golden-ca.crt", "cold-room.der", "bold.crl")] == [False] * 4
