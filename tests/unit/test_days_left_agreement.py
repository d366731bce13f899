"""Issue 13 item 4 and 6: one days-left figure and one time form in every view and output.

The same certificates at the same injected clock, read at 13:00 while they expire at 12:00 (so rounding
matters: 12.5 days shows 12d everywhere, never 13d in one place and 12d in another): the OPC UA table,
the preview, the Root CA pane, ``status`` text and JSON, ``inspect`` text and JSON.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from tests.ui import sitedata
from tui.commands.inspect.run import render_human, render_json
from tui.commands.vault.run import _holds
from tui.core.certs import decode_bytes
from tui.core.certs.model import iso_utc
from tui.core.durations import DAYS_LEFT_RULE, days_left, days_text, expiry_phrase, screen_time
from tui.core.health.report import render_status, state_to_json
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import ClusterState, Health
from tui.ui.view import preview_doc
from tui.ui.view.levels import DEFAULT_PALETTE
from tui.ui.view.rows import entry_cells
from tui.ui.widgets.root_ca_pane import gauge_text

# Half a day and an hour past the site's reference time: every expiry is 12:00, the clock 01:00.
NOW = sitedata.NOW + timedelta(hours=13)


@pytest.fixture(scope="module")
def state() -> ClusterState:
    return sitedata.build(sitedata.make_site(sitedata.NOW), NOW)


def _field(doc: preview_doc.PreviewDoc, label: str) -> str:
    return next(f.value for s in doc.sections for f in s.fields if f.label == label)


def test_the_rule_rounds_down_and_is_stated() -> None:
    end = sitedata.NOW
    assert days_left(end, end - timedelta(days=12, hours=23)) == 12
    assert days_left(end, end - timedelta(minutes=1)) == 0
    assert days_left(end, end + timedelta(minutes=1)) == -1  # expired: never 0d
    assert days_left(end, end + timedelta(days=365, hours=12)) == -366
    assert expiry_phrase(-366) == "expired 366d ago" and expiry_phrase(26) == "expires in 26d"
    assert days_text(-366) == "-366d"
    assert "rounded down" in DAYS_LEFT_RULE


def test_every_view_of_an_entry_shows_the_same_days_left(state: ClusterState) -> None:
    settings = state.settings
    body = state_to_json(state)
    json_days = {row["key"]: row["days_left"] for row in body["opcua"]}
    status = render_status(state, width=None, show_all=True)
    checked = 0
    for entry in state.opcua:
        cert = entry.certificate
        if cert is None:
            continue
        expected = days_left(cert.not_after, NOW)
        assert entry.days_left == expected, entry.key
        cells = entry_cells(
            entry,
            DEFAULT_PALETTE,
            marked=False,
            warn_days=settings.expiring_warn_days,
            critical_days=settings.expiring_critical_days,
        )
        assert cells["days"].plain == f"{expected}d", entry.key
        if Health.NOT_YET_VALID not in entry.flags:
            assert _field(preview_doc.entry_preview(state, entry), "Days left") == f"{expected}d", entry.key
        assert json_days[entry.key] == expected, entry.key
        if Health.EXPIRED in entry.flags or Health.EXPIRING in entry.flags:
            assert f"{entry.target_key} ({cert.common_name}): {expiry_phrase(expected)}" in status
        decoded = [decode_bytes(cert.der, entry.target_key)]
        (inspected,) = json.loads(render_json(decoded, NOW))
        assert inspected["days_left"] == expected, entry.key
        human = render_human(decoded, NOW)
        if expected < 0:
            assert f"EXPIRED {-expected} day" in human
        elif Health.NOT_YET_VALID not in entry.flags:
            assert f"({expected} day" in human
        checked += 1
    assert checked >= 10
    # The expired certificate of the site: 10.5 days ago is -11d everywhere (it was -10d/-11d before).
    assert json_days["trust/plc-expired.der"] == -11


def test_the_root_ca_shows_the_same_days_left_everywhere(state: ClusterState) -> None:
    root = state.root_ca
    cert = root.certificate
    assert cert is not None
    expected = days_left(cert.not_after, NOW)
    assert root.days_left == expected
    assert f" {expected}d (" in gauge_text(state, NOW, DEFAULT_PALETTE).plain
    assert _field(preview_doc.root_ca_preview(state), "Days left") == f"{expected}d"
    assert f"({expiry_phrase(expected)})" in render_status(state, width=None)
    assert state_to_json(state)["root_ca"]["days_left"] == expected


def test_one_time_form_on_screen_and_iso_8601_in_json(state: ClusterState) -> None:
    entry = state.entry("trust/plc-expired.der")
    assert entry is not None and entry.certificate is not None
    cert = entry.certificate
    shown = screen_time(cert.not_after)
    assert shown.endswith("Z") and "T" not in shown and len(shown) == len("2027-01-13 21:32Z")
    assert _field(preview_doc.entry_preview(state, entry), "Not after") == shown
    assert f"to {shown}" in render_human([decode_bytes(cert.der, "x.der")], NOW)
    root = state.root_ca.certificate
    assert root is not None
    assert f"not after     {screen_time(root.not_after)}" in render_status(state, width=None)
    body = state_to_json(state)
    iso = iso_utc(root.not_after)
    assert iso is not None and iso.endswith("Z") and "T" in iso
    assert body["root_ca"]["certificate"]["not_after"] == iso
    assert "+00:00" not in json.dumps(body, default=str)


def test_vault_list_json_writes_iso_8601_with_z(state: ClusterState) -> None:
    entry = state.entry("trust/plc-expired.der")
    assert entry is not None and entry.certificate is not None
    held = _holds(VaultSecret("plc-expired-der", entry.certificate.der.hex()), NOW)
    assert held["not_after"] == iso_utc(entry.certificate.not_after)  # was ...+00:00
    assert held["expiry"] == expiry_phrase(days_left(entry.certificate.not_after, NOW))
