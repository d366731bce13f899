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

from tui.core.changes.journal import EndRecord, PlanRecord, StepRecord, StepState
from tui.core.changes.operations import Step, VaultWrite
from tui.ops.journal import (
    JournalBusy,
    JournalError,
    JournalStore,
    new_journal_id,
    notice_lines,
    pending_applies,
)

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
STEPS = (
    Step(
        0, VaultWrite("plc-1-der", "3082", "application/pkix-cert", list_name="trust", target_key="plc-1.der")
    ),
    Step(
        1, VaultWrite("plc-2-der", "3082", "application/pkix-cert", list_name="trust", target_key="plc-2.der")
    ),
)
PLAN = PlanRecord(
    "p1", 0, T0, "azure-iot-operations", STEPS, ("add trust/plc-1.der", "add trust/plc-2.der"), "aio-demo"
)


def _step(index: int, state: StepState, message: str = "") -> StepRecord:
    step = STEPS[index]
    return StepRecord("p1", 0, index, step.kind, step.target, state, T0, op=step.op, message=message)


def test_ids_sort_by_time_and_are_unique() -> None:
    first, second = new_journal_id(T0), new_journal_id(T0)
    assert first.startswith("20260301T120000Z-") and first != second


def test_records_are_written_durably_and_read_back(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    with store.create("j1", PLAN) as journal:
        journal.append(_step(0, StepState.PENDING))
        journal.append(_step(0, StepState.DONE))
        assert journal.summary().remaining() == (STEPS[1],)
    lines = (tmp_path / "journal" / "j1.jsonl").read_text().splitlines()
    assert [json.loads(line)["record"] for line in lines] == ["plan", "step", "step"]
    assert oct((tmp_path / "journal").stat().st_mode & 0o777) == "0o700"
    assert oct((tmp_path / "journal" / "j1.jsonl").stat().st_mode & 0o777) == "0o600"
    [info] = store.infos()
    assert (info.done, info.steps, info.uncertain) == (1, 2, 0)
    assert info.pending and info.outcome is None and info.context == "aio-demo"
    assert info.description == ("add trust/plc-1.der", "add trust/plc-2.der")
    with store.open("j1") as reopened:
        assert reopened.records[0] == PLAN


def test_an_ended_apply_is_not_pending_and_a_failed_one_is(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    with store.create("ok", PLAN) as journal:
        journal.append(EndRecord("p1", "applied", T0))
    with store.create("bad", PLAN) as journal:
        journal.append(_step(0, StepState.PENDING))
        journal.append(_step(0, StepState.FAILED, "vault: 403 Forbidden"))
        journal.append(EndRecord("p1", "failed", T0, "writing secret plc-1-der: access denied"))
    assert [s.id for s in pending_applies(tmp_path)] == ["bad"]
    [line] = notice_lines(tmp_path)
    assert "aio-certs journal resume bad" in line and "aio-certs journal rollback bad" in line
    assert "access denied" in line and "0/2 steps" in line


def test_a_journal_held_by_a_process_is_busy_not_pending(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    journal = store.create("live", PLAN)
    try:
        assert store.pending() == []
        assert store.infos()[0].busy
        with pytest.raises(JournalBusy, match="another aio-certs process"):
            store.open("live")
    finally:
        journal.close()
    assert [s.id for s in store.pending()] == ["live"]


def test_a_killed_process_leaves_a_pending_journal_with_an_uncertain_step(tmp_path: Path) -> None:
    code = textwrap.dedent(f"""
        import os, signal
        from pathlib import Path
        from tests.unit.test_journal import PLAN, _step
        from tui.core.changes.journal import StepState
        from tui.ops.journal import JournalStore
        journal = JournalStore(Path({str(tmp_path)!r})).create("killed", PLAN)
        journal.append(_step(0, StepState.PENDING))
        journal.append(_step(0, StepState.DONE))
        journal.append(_step(1, StepState.PENDING))
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=False, timeout=30)
    assert result.returncode == -signal.SIGKILL
    [info] = pending_applies(tmp_path)
    assert (info.id, info.done, info.uncertain, info.busy) == ("killed", 1, 1, False)
    [line] = notice_lines(tmp_path)
    assert "1/2 steps done, interrupted" in line


def test_a_torn_last_line_is_ignored(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    store.create("torn", PLAN).close()
    with open(tmp_path / "journal" / "torn.jsonl", "ab") as handle:
        handle.write(b'{"record": "step", "sta')
    with store.open("torn") as journal:
        assert journal.records == [PLAN]


def test_ids_cannot_escape_the_directory_and_unknown_ids_say_so(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    for bad in ("../x", ".hidden", ""):
        with pytest.raises(JournalError, match="not a valid id"):
            store.open(bad)
    with pytest.raises(JournalError, match="not found"):
        store.open("20260101T000000Z-abcdef")
    store.create("dup", PLAN).close()
    with pytest.raises(JournalError, match="already exists"):
        store.create("dup", PLAN)


def test_appending_after_close_is_refused(tmp_path: Path) -> None:
    journal = JournalStore(tmp_path).create("c", PLAN)
    journal.close()
    with pytest.raises(JournalError, match="already closed"):
        journal.append(_step(0, StepState.PENDING))


def test_no_state_directory_means_nothing_pending(tmp_path: Path) -> None:
    assert pending_applies(tmp_path / "never-created") == []
    assert notice_lines(tmp_path / "never-created") == []
    assert not os.path.exists(tmp_path / "never-created")


def _plan_line() -> bytes:
    return (json.dumps(PLAN.to_json()) + "\n").encode()


def _step_line(index: int, state: StepState) -> bytes:
    return (json.dumps(_step(index, state).to_json()) + "\n").encode()


# Each unusable journal and what the one line says about it.
BROKEN = {
    "empty": (b"", "empty file, no plan record"),
    "blank": (b"\n\n", "blank file, no plan record"),
    "garbage": (b"\x1b[2Jhello\nworld\n", "line 1 is not a journal record (not JSON)"),
    "torn-only": (b'{"record": "plan", "pl', "only a torn line, no plan record"),
    "no-plan": (_step_line(0, StepState.PENDING) + _step_line(0, StepState.DONE), "holds no plan record"),
    "latin-1": (_plan_line() + "caf\xe9\n".encode("latin-1"), "not UTF-8 text (byte "),
    "middle": (
        _plan_line() + b"oops\n" + _step_line(0, StepState.PENDING),
        "line 2 is not a journal record (not JSON)",
    ),
    "newer": (
        _plan_line() + b'{"record": "end", "format": 99}\n',
        "line 2 is not a journal record (journal record: format 99 is newer than this aio-certs (2))",
    ),
    "not-an-object": (b"[1, 2]\n", "line 1 is not a journal record (journal record: not a JSON object)"),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_an_unusable_journal_is_listed_as_such_and_never_opened(tmp_path: Path, name: str) -> None:
    data, problem = BROKEN[name]
    store = JournalStore(tmp_path)
    store.create("good", PLAN).close()
    path = tmp_path / "journal" / f"{name}.jsonl"
    path.write_bytes(data)
    path.chmod(0o600)
    infos = {i.id: i for i in store.infos()}
    assert set(infos) == {"good", name}
    info = infos[name]
    assert info.problem is not None and info.problem.startswith(problem)
    assert info.problem_line == f"journal {path}: {info.problem}"
    assert not info.pending and infos["good"].pending and infos["good"].problem is None
    assert [i.id for i in store.pending()] == ["good"] and [i.id for i in store.unusable()] == [name]
    with pytest.raises(JournalError) as failed:
        store.open(name)
    assert str(failed.value).startswith(f"journal {path}: {problem}")
    assert str(failed.value).endswith("; it cannot be resumed or rolled back")
    assert "\n" not in str(failed.value)
    assert path.read_bytes() == data  # refused without touching it
    [notice] = [line for line in notice_lines(tmp_path) if name in line]
    assert notice.startswith(f"aio-certs: unusable journal {path}: {problem}")


def test_journal_files_that_cannot_be_opened_or_are_not_files_are_listed(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store = JournalStore(tmp_path)
    store.create("good", PLAN).close()
    directory = tmp_path / "journal"
    (directory / "a-dir.jsonl").mkdir()
    (directory / "a-link.jsonl").symlink_to(directory / "good.jsonl")
    os.mkfifo(directory / "a-fifo.jsonl")  # must not block the listing
    (directory / "open.jsonl").write_bytes(_plan_line())
    (directory / "open.jsonl").chmod(0o666)
    unreadable = directory / "unreadable.jsonl"
    unreadable.write_bytes(_plan_line())
    unreadable.chmod(0o600)
    real_open = os.open

    # Root reads a chmod 000 file anyway: make the open fail as it would for anyone else.
    def refusing_open(path: object, flags: int, *args: object, **kwargs: object) -> int:
        if str(path) == str(unreadable):
            raise PermissionError(13, "Permission denied", str(path))
        return real_open(path, flags, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    problems = {i.id: i.problem for i in store.infos()}
    assert problems == {
        "a-dir": "not a regular file",
        "a-fifo": "not a regular file",
        "a-link": "a symlink, not a journal file",
        "good": None,
        "open": "group- or world-writable (mode 0666), so another user could rewrite the audit log or a "
        "journal; refusing to use it (chmod go-w it)",
        "unreadable": "cannot open (Permission denied)",
    }
    for name in ("a-dir", "a-fifo", "a-link", "open", "unreadable"):
        with pytest.raises(JournalError, match=rf"^journal {directory / name}.jsonl: "):
            store.open(name)


def test_resuming_after_a_torn_line_starts_the_next_record_on_its_own_line(tmp_path: Path) -> None:
    store = JournalStore(tmp_path)
    store.create("torn", PLAN).close()
    with open(tmp_path / "journal" / "torn.jsonl", "ab") as handle:
        handle.write(b'{"record": "step", "sta')
    with store.open("torn") as journal:
        journal.append(_step(0, StepState.PENDING))
    [info] = store.infos()
    assert info.problem is None and info.uncertain == 1
    with store.open("torn") as journal:
        assert journal.records == [PLAN, _step(0, StepState.PENDING)]
