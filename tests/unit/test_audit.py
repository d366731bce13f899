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
        "time": "2026-03-01T12:00:00+00:00",
        "user": "tech",
        "host": "edge-1",
        "context": "aio-demo",
        "action": "trust add",
        "outcome": "applied",
        "thumbprints": ["ab" * 32],
        "vault_secrets": ["plc-1-der"],
        "entries": ["trust/plc-1.der"],
        "plan_id": "p1",
        "detail": "",
    }
    assert second["time"] == "2026-03-01T12:01:00+00:00"
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
