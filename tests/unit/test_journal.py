"""The write-ahead journal's file handling: durable records, locks, pending detection, torn lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tui.ops.journal import (
    APPLIED,
    END,
    STEP_DONE,
    STEP_FAILED,
    STEP_START,
    JournalBusy,
    JournalError,
    JournalStore,
    new_journal_id,
    notice_lines,
    pending_applies,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
BEGIN = {"time": T0.isoformat(), "context": "aio-demo", "description": ["add trust/plc-1.der"],
         "steps": [{"index": 0}, {"index": 1}]}


def test_ids_sort_by_time_and_are_unique() -> None:
    first, second = new_journal_id(T0), new_journal_id(T0)
    assert first.startswith("20260301T120000Z-") and first != second


def test_records_are_written_durably_and_read_back(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    with store.create("j1", BEGIN) as journal:
        journal.append({"type": STEP_START, "index": 0})
        journal.append({"type": STEP_DONE, "index": 0})
        assert [r["type"] for r in journal.records] == ["begin", STEP_START, STEP_DONE]
    lines = (tmp_path / "journal" / "j1.jsonl").read_text().splitlines()
    assert [json.loads(line)["type"] for line in lines] == ["begin", STEP_START, STEP_DONE]
    assert oct((tmp_path / "journal").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "journal" / "j1.jsonl").stat().st_mode & 0o777) == "0o600"
    [summary] = store.summaries()
    assert summary.done == (0,) and summary.steps == 2 and summary.pending and summary.outcome is None
    assert summary.context == "aio-demo" and summary.description == ("add trust/plc-1.der",)


def test_an_ended_apply_is_not_pending_and_a_failed_one_is(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    with store.create("ok", BEGIN) as journal:
        journal.append({"type": END, "outcome": APPLIED})
    with store.create("bad", BEGIN) as journal:
        journal.append({"type": STEP_START, "index": 0})
        journal.append({"type": STEP_FAILED, "index": 0, "detail": "vault: 403 Forbidden"})
        journal.append({"type": END, "outcome": "failed"})
    assert [s.id for s in pending_applies(tmp_path)] == ["bad"]
    [line] = notice_lines(tmp_path)
    assert "aio-certs journal resume bad" in line and "aio-certs journal rollback bad" in line
    assert "vault: 403 Forbidden" in line and "0/2 steps" in line


def test_a_journal_held_by_a_process_is_busy_not_pending(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    journal = store.create("live", BEGIN)
    try:
        assert store.pending() == []
        assert store.summaries()[0].busy
        with pytest.raises(JournalBusy, match="another aio-certs process"):
            store.open("live")
    finally:
        journal.close()
    assert [s.id for s in store.pending()] == ["live"]
    with store.open("live") as reopened:
        assert reopened.records[0]["context"] == "aio-demo"


def test_a_killed_process_leaves_a_pending_journal(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import os, signal, sys
        from pathlib import Path
        from tui.ops.journal import JournalStore
        journal = JournalStore(Path({str(tmp_path)!r})).create("killed", {{"steps": [{{}}, {{}}]}})
        journal.append({{"type": "step-start", "index": 0}})
        journal.append({{"type": "step-done", "index": 0}})
        journal.append({{"type": "step-start", "index": 1}})
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=30)
    assert result.returncode == -signal.SIGKILL
    [summary] = pending_applies(tmp_path)
    assert summary.id == "killed" and summary.done == (0,) and not summary.busy


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    store.create("torn", BEGIN).close()
    with open(tmp_path / "journal" / "torn.jsonl", "ab") as handle:
        handle.write(b'{"type": "step-do')
    with store.open("torn") as journal:
        assert [r["type"] for r in journal.records] == ["begin"]


def test_ids_cannot_escape_the_directory_and_unknown_ids_say_so(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    for bad in ("../x", ".hidden", ""):
        with pytest.raises(JournalError, match="not a valid id"):
            store.open(bad)
    with pytest.raises(JournalError, match="not found"):
        store.open("20260101T000000Z-abcdef")
    store.create("dup", BEGIN).close()
    with pytest.raises(JournalError, match="already exists"):
        store.create("dup", BEGIN)


def test_appending_after_close_and_without_type_is_refused(tmp_path: Path) -> None:
    journal = JournalStore(tmp_path).create("c", BEGIN)
    with pytest.raises(ValueError, match="needs a 'type'"):
        journal.append({"index": 1})
    journal.close()
    with pytest.raises(JournalError, match="already closed"):
        journal.append({"type": STEP_START})


def test_no_state_directory_means_nothing_pending(tmp_path: Path) -> None:
    assert pending_applies(tmp_path / "never-created") == []
    assert notice_lines(tmp_path / "never-created") == []
    assert not os.path.exists(tmp_path / "never-created")
