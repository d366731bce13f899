"""The audit log: one JSON line per event, appended, with no room for secret values."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

from tui.core.clock import FrozenClock
from tui.ops.audit import AuditEvent, AuditLog, os_user

T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)


def test_events_are_appended_as_json_lines(tmp_path: Path) -> None:
    clock = FrozenClock(T0)
    log = AuditLog(tmp_path / "state", clock=clock, user="tech", host="edge-1")
    log.record(
        action="trust add",
        outcome="applied",
        context="aio-demo",
        thumbprints=["ab" * 32],
        vault_secrets=["plc-1-der"],
        entries=["trust/plc-1.der"],
        plan_id="p1",
    )
    clock.advance(60)
    log.record(
        action="trust remove",
        outcome="refused",
        context="aio-demo",
        entries=["trust/x.der"],
        detail="trust/x.der: not in the list\nsecond line",
    )
    lines = (tmp_path / "state" / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    assert first == {
        "time": "2026-03-01T12:00:00Z",  # ISO 8601 with Z, not Python's +00:00
        "user": "tech",
        "host": "edge-1",
        "context": "aio-demo",
        "action": "trust add",
        "outcome": "applied",
        "sha256": ["ab" * 32],  # the files' SHA-256: "thumbprint" is SHA-1 everywhere else
        "vault_secrets": ["plc-1-der"],
        "entries": ["trust/plc-1.der"],
        "plan_id": "p1",
        "detail": "",
    }
    assert second["time"] == "2026-03-01T12:01:00Z"
    assert second["detail"] == "trust/x.der: not in the list second line"  # one line
    assert list(log.events()) == [first, second]
    assert oct((tmp_path / "state" / "audit.jsonl").stat().st_mode & 0o777) == "0o600"


def test_the_event_has_no_field_for_values() -> None:
    fields = set(AuditEvent.__dataclass_fields__)
    assert not fields & {"value", "values", "data", "token", "content"}


def test_os_user_is_a_name() -> None:
    assert os_user()
    assert os_user() != "" and ("uid:" not in os_user() or os_user() == f"uid:{os.getuid()}")


def test_missing_log_reads_as_empty(tmp_path: Path) -> None:
    assert list(AuditLog(tmp_path, clock=FrozenClock(T0)).events()) == []


def test_lines_written_before_read_their_digests_as_sha256(tmp_path: Path) -> None:
    # Trial finding 18: the key is sha256 now; a line an earlier aio-certs wrote still reads.
    log = AuditLog(tmp_path, clock=FrozenClock(T0), user="tech", host="edge-1")
    log.record(action="trust add", outcome="applied", context="aio-demo", thumbprints=["cd" * 32])
    old = {
        "time": "2026-03-01T11:00:00+00:00",
        "action": "trust add",
        "outcome": "applied",
        "thumbprints": ["ab" * 32],
    }
    with (tmp_path / "audit.jsonl").open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(old) + "\n")
    new, earlier = log.events()
    assert new["sha256"] == ["cd" * 32] and "thumbprints" not in new
    assert earlier["sha256"] == ["ab" * 32] and "thumbprints" not in earlier


def test_sub_second_times_keep_their_digits_and_the_z(tmp_path: Path) -> None:
    log = AuditLog(tmp_path, clock=FrozenClock(T0.replace(microsecond=250000)), user="tech", host="edge-1")
    event = log.record(action="renew", outcome="applied", context="aio-demo")
    assert event.time == "2026-03-01T12:00:00.250000Z"


def test_the_audit_view_shows_started_plainly_and_names_sha256() -> None:
    from tui.ui.modals.audit_view import event_detail, event_line
    from tui.ui.view.levels import DEFAULT_PALETTE, Level

    def outcome_style(outcome: str) -> str:
        line = event_line(
            {"time": "2026-03-01T12:00:00Z", "action": "trust add", "outcome": outcome}, DEFAULT_PALETTE
        )
        styles = [str(s.style) for s in line.spans if line.plain[s.start : s.end].strip() == outcome]
        return styles[0] if styles else ""  # no span: plain text

    # "started" precedes every run's own final line: not a warning (the trial saw it orange).
    assert outcome_style("started") == DEFAULT_PALETTE.style(Level.PLAIN)
    assert outcome_style("started") != outcome_style("refused") == DEFAULT_PALETTE.style(Level.WARNING)
    detail = event_detail({"action": "trust add", "sha256": ["AB" * 32]}).plain
    assert "sha256        " + "AB" * 32 in detail and "thumbprint" not in detail
