"""Unit tests of the dashboard's pure parts: column fitting, filter words, sorting, texts, header, preview."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from rich.console import Console

from tests.ui import sitedata
from tests.ui.conftest import WIDE, Dashboard, screen_text
from tui.core.model.snapshot import AreaState
from tui.core.model.state import ClusterState
from tui.ui.view import connection
from tui.ui.view import format as fmt
from tui.ui.view.cells import Cell, MiddleCell
from tui.ui.view.columns import CELL_PADDING, ColumnSpec, layout_columns, total_width
from tui.ui.view.filtering import HaystackCache, parse_filter
from tui.ui.view.levels import Level, days_level
from tui.ui.view.preview_doc import entry_preview, issuer_preview, root_ca_preview
from tui.ui.view.rows import ISSUER_COLUMNS, OPCUA_COLUMNS, SortOrder, sort_entries

# -- columns ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [40, 60, 76, 100, 116, 200])
def test_columns_always_fit_and_keep_the_essential_ones(width: int) -> None:
    placed = layout_columns(OPCUA_COLUMNS, width)
    keys = [c.key for c in placed]
    assert total_width(placed) <= width or len(placed) == 1
    assert keys == [c.key for c in OPCUA_COLUMNS if c.key in keys]  # declared order kept
    if width >= 76:
        # File name and health before subject (issue 13): the subject shows from 100 columns on.
        assert {"mark", "file", "days", "health"} <= set(keys)
    if width >= 100:
        assert "subject" in keys


def test_columns_drop_the_least_important_first_and_spread_spare_width() -> None:
    specs = (ColumnSpec("a", "A", 10, flex=1), ColumnSpec("b", "B", 10, priority=9), ColumnSpec("c", "C", 5))
    narrow = layout_columns(specs, 20)
    assert [c.key for c in narrow] == ["a", "c"]
    wide = layout_columns(specs, 60)
    assert [c.width for c in wide] == [60 - 3 * 2 * CELL_PADDING - 15, 10, 5]
    capped = layout_columns(
        (ColumnSpec("a", "A", 5, flex=1, max_width=8), ColumnSpec("b", "B", 5, flex=1)), 40
    )
    assert [c.width for c in capped] == [8, 40 - 4 * CELL_PADDING - 8]


def test_issuer_columns_fit_the_wide_layout_issuers_pane() -> None:
    placed = layout_columns(ISSUER_COLUMNS, 63)
    assert {"name", "kind", "type", "ready", "certs"} <= {c.key for c in placed}
    assert next(c.width for c in placed if c.key == "name") >= 20


# -- filter ----------------------------------------------------------------------------------------


def _keys(state: ClusterState, text: str) -> set[str]:
    return {e.key for e in parse_filter(text).apply(state.opcua, HaystackCache())}


def test_filter_words_match_names_subjects_thumbprints_and_health(steady: ClusterState) -> None:
    assert _keys(steady, "") == {e.key for e in steady.opcua}
    assert _keys(steady, "expired") == {"trust/plc-expired.der"}
    assert _keys(steady, "crl-stale") == {"issuer/fabrikam-vendor-ca.crl"}
    assert _keys(steady, "HISTORIAN") == {"trust/historian.der"}
    sha1 = steady.entry("trust/gateway-north.der").certificate.sha1  # type: ignore[union-attr]
    assert _keys(steady, sha1[:12].lower()) == {"trust/gateway-north.der"}
    assert _keys(steady, "duplicate plc") == {"trust/plc-line1.der", "trust/plc-line1-copy.der"}
    assert _keys(steady, "issuer healthy") == {
        "issuer/contoso-site-ca.der",
        "issuer/contoso-site-ca.crl",
        "issuer/fabrikam-vendor-ca.der",
    }
    assert _keys(steady, "problem !duplicate trust") == {
        "trust/plc-expired.der",
        "trust/mes-connector.der",
        "trust/sensor-hub.der",
        "trust/robot-cell-3.der",
    }
    # A stale CRL is critical: many OPC UA stacks reject every certificate of its CA (issue 13).
    assert _keys(steady, "critical") == {
        "trust/plc-expired.der",
        "trust/sensor-hub.der",
        "issuer/fabrikam-vendor-ca.crl",
    }
    assert _keys(steady, "no-such-thing") == set()
    assert not parse_filter("  ! ").active


# -- sort ------------------------------------------------------------------------------------------


def test_sort_uses_model_values_with_the_key_as_tie_breaker(steady: ClusterState) -> None:
    by_days = [e.key for e in sort_entries(steady.opcua, SortOrder("days"))]
    assert by_days[:3] == ["issuer/fabrikam-vendor-ca.crl", "trust/plc-expired.der", "trust/sensor-hub.der"]
    assert by_days[-1] == "issuer/contoso-site-ca.der"
    twins = [k for k in by_days if k.startswith("trust/plc-line1")]
    assert twins == ["trust/plc-line1-copy.der", "trust/plc-line1.der"]  # same expiry: key order
    reverse = [e.key for e in sort_entries(steady.opcua, SortOrder("days", reverse=True))]
    assert reverse[0] == "issuer/contoso-site-ca.der"
    marked_first = sort_entries(steady.opcua, SortOrder("mark"), marked={"trust/sensor-hub.der"})
    assert marked_first[0].key == "trust/sensor-hub.der"


# -- texts and levels ------------------------------------------------------------------------------


def test_short_texts() -> None:
    # Whole days rounded down, the one rule (tui.core.durations.days_left): -1d within a day of expiry.
    assert [fmt.days_text(d) for d in (59.9, 1.0, 0.5, 0.01, -0.5, -3.2, None)] == [
        "59d",
        "1d",
        "0d",
        "0d",
        "-1d",
        "-4d",
        "-",
    ]
    assert fmt.until(sitedata.NOW + timedelta(minutes=4, seconds=12), sitedata.NOW) == "in 4m 12s"
    assert fmt.until(sitedata.NOW - timedelta(seconds=12), sitedata.NOW) == "12s ago"
    assert fmt.common_name("CN=PLC 1,O=Contoso") == "PLC 1"
    assert fmt.common_name("O=Contoso,CN=Escaped\\, Name") == "Escaped, Name"
    assert fmt.common_name("O=No CN") == "O=No CN"
    assert fmt.thumb("0123456789ABCDEF", 10) == "0123456789…" and fmt.thumb(None) == "-"
    assert fmt.one_line("a\n  b\tc", 4) == "a b…"
    assert [days_level(d, 30, 7) for d in (40, 30, 7, -1, None)] == [
        Level.OK,
        Level.WARNING,
        Level.ERROR,
        Level.ERROR,
        Level.MUTED,
    ]


# -- header ----------------------------------------------------------------------------------------


def _with_states(state: ClusterState, new: AreaState, since_seconds: int | None = None) -> ClusterState:
    since = sitedata.NOW + timedelta(seconds=since_seconds) if since_seconds is not None else None
    areas = tuple(
        replace(a, state=new, parts=tuple((k, replace(s, state=new, since=since)) for k, s in a.parts))
        for a in state.areas
    )
    return replace(state, areas=areas)


def test_header_connection_summary(steady: ClusterState) -> None:
    assert connection.cluster_summary(None).text == "connecting…"
    assert connection.cluster_summary(steady) == connection.Summary("live", Level.OK)
    reconnecting = _with_states(steady, AreaState.RECONNECTING, 30)
    assert connection.cluster_summary(reconnecting) == connection.Summary(
        "reconnecting since 12:00Z", Level.WARNING
    )
    assert connection.cluster_summary(_with_states(steady, AreaState.UNREACHABLE, 0)).text == "unreachable"
    assert connection.cluster_summary(steady, "boom").text == "error: boom"
    assert connection.vault_summary(steady).text == "vault ok (16)"
    offline = replace(steady, vault=replace(steady.vault, state=AreaState.UNREACHABLE))
    assert connection.vault_summary(offline) == connection.Summary("vault offline", Level.WARNING)
    reading = replace(steady, vault=replace(steady.vault, values_pending=12))
    assert connection.vault_summary(reading) == connection.Summary("vault reading (16)", Level.MUTED)
    later = sitedata.NOW + timedelta(seconds=95)
    assert connection.data_age(reconnecting, later) == timedelta(seconds=65)
    assert connection.age_summary(reconnecting, later) == connection.Summary("1m 5s old", Level.WARNING)
    assert connection.age_summary(steady, later) == connection.Summary("", Level.MUTED)  # live: no age


# -- preview ---------------------------------------------------------------------------------------


def test_previews_hold_every_field_and_never_key_material(steady: ClusterState) -> None:
    docs = [entry_preview(steady, e) for e in steady.opcua] + [root_ca_preview(steady)]
    docs += [issuer_preview(steady, i) for i in steady.issuers]
    for doc in docs:
        everything = doc.pem + " ".join(f.value for s in doc.sections for f in s.fields)
        assert "PRIVATE KEY" not in everything and "tls.key" not in everything
    crl = entry_preview(steady, steady.entry("issuer/fabrikam-vendor-ca.crl"))  # type: ignore[arg-type]
    fields = {f.label: f for s in crl.sections for f in s.fields}
    assert fields["Next update"].level is Level.WARNING
    assert crl.copy_label == "CRL SHA-256" and crl.pem.startswith("-----BEGIN X509 CRL-----")
    leaf = entry_preview(steady, steady.entry("trust/plc-expired.der"))  # type: ignore[arg-type]
    cert_fields = {f.label: f for f in next(s for s in leaf.sections if s.title == "Certificate").fields}
    assert {
        "Subject",
        "Issuer",
        "Serial",
        "Not before",
        "Not after",
        "SHA-1",
        "SHA-256",
        "Key usage",
        "Extended usage",
        "SAN",
        "Application URI",
        "Subject key id",
        "Authority key id",
    } <= set(cert_fields)
    assert cert_fields["Days left"].level is Level.ERROR
    assert cert_fields["Application URI"].value == "urn:plc-retired:opcua"


def _rendered(cell: Cell, width: int) -> str:
    console = Console(width=200, color_system=None, legacy_windows=False)
    lines = console.render_lines(cell, console.options.update_dimensions(width, 1).update(no_wrap=True))
    return "".join(segment.text for segment in lines[0]).rstrip()


def test_names_are_cut_in_the_middle_so_a_shared_prefix_still_tells_them_apart() -> None:
    issuer = MiddleCell("azure-iot-operations-aio-certificate-issuer", "bold")
    root = MiddleCell("azure-iot-operations-aio-selfsigned-root")
    assert _rendered(issuer, 24) == "azure-iot-o…icate-issuer"  # the whole width, the tail a little longer
    assert _rendered(root, 24) == "azure-iot-o…fsigned-root"
    assert _rendered(MiddleCell("plc-1.der"), 24) == "plc-1.der"  # fits: as it is
    # A plain Cell cuts at the end; wide characters keep the end ellipsis rather than a wrong cut.
    plain = Cell("azure-iot-operations-aio-selfsigned-root")
    assert _rendered(plain, 24) == "azure-iot-operations-ai…"
    assert _rendered(MiddleCell("設備証明書-設備証明書-設備証明書"), 10).endswith("…")
    assert issuer.look == ("azure-iot-operations-aio-certificate-issuer", "bold")  # what it shows, uncut


async def test_the_issuers_table_shows_both_aio_issuers_apart_at_120_columns(dashboard: Dashboard) -> None:
    async with dashboard(size=WIDE) as (app, _pilot, _source):
        # The names take the room before Kind does (issue 13): read them by their common start.
        names = re.findall(r"(azure-iot-o\S*…\S+)\s", screen_text(app))
        assert len(names) == 2 and names[0] != names[1], names


def test_an_entry_preview_says_where_it_came_from_and_why_it_did_not_sync(steady: ClusterState) -> None:
    plc = steady.entry("trust/plc-line2.der")
    assert plc is not None
    failed = replace(plc, sync_error="403 Forbidden", object_spc="spc-ops-abc1234", spc_object=False)
    fields = {f.label: f for s in entry_preview(steady, failed).sections for f in s.fields}
    assert fields["  not synced"].value == "partial sync: 403 Forbidden"
    assert fields["  not synced"].level is Level.ERROR
    assert fields["SPC object"].value.endswith("present no (it is in SPC spc-ops-abc1234)")
    hand = replace(plc, source_path=None, mapped=False)
    fields = {f.label: f for s in entry_preview(steady, hand).sections for f in s.fields}
    assert fields["Key Vault secret"].value.startswith("none: added to the Secret by hand, not in Key Vault")


def test_raised_widths_narrow_before_a_column_of_their_priority_is_dropped() -> None:
    # Trial finding 3: a 41-cell health text raised Health's minimum past what 80 columns hold, and the
    # layout dropped Health itself. Now the flexible columns of that priority narrow to their floors.
    specs = (
        ColumnSpec("a", "A", 30, flex=1, floor=10),
        ColumnSpec("b", "B", 12, flex=1, floor=10),
        ColumnSpec("c", "C", 5),
        ColumnSpec("d", "D", 8, priority=3),
    )
    placed = layout_columns(specs, 40)
    assert [c.key for c in placed] == ["a", "b", "c"]  # the lower priority goes first, unnarrowed
    assert [c.width for c in placed] == [40 - 6 * CELL_PADDING - 12 - 5, 12, 5]  # the widest is cut
    # Too narrow even at the floors: the last column of the priority goes, the others narrow to fit.
    narrow = layout_columns(specs, 26)
    assert [c.key for c in narrow] == ["a", "b"] and total_width(narrow) <= 26
