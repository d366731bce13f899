"""The write-ahead journal of applies: one JSON-lines file per plan in the user's state directory.

Before a step touches the vault or the cluster, a ``step-start`` line is appended and fsync'd; after it,
``step-done`` (or ``step-failed``). A plan that finished ends with an ``end`` line. So a process killed
at any moment leaves a file saying exactly which steps may have happened, and the next start finds it
(:meth:`JournalStore.pending`) and offers to resume or roll back.

Each journal is held with an exclusive ``flock`` while a process works on it: a second process cannot
resume an apply that is still running, and a journal whose lock is free but that has no ``end`` line was
interrupted. Lines are whole JSON objects; a torn last line (power cut mid-write) is ignored.

Files live in ``<state dir>/journal/<id>.jsonl`` (directory mode 0700, files 0600). They hold the plan,
certificate hex included (public data), never a private key or a token.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

JOURNAL_DIR = "journal"
SUFFIX = ".jsonl"

# Record types.
BEGIN = "begin"
STEP_START = "step-start"
STEP_DONE = "step-done"
STEP_FAILED = "step-failed"
REBASED = "rebased"
END = "end"

# Outcomes an ``end`` record may carry; an apply without one is pending.
APPLIED = "applied"
ROLLED_BACK = "rolled-back"
ABANDONED = "abandoned"
FINAL_OUTCOMES = (APPLIED, ROLLED_BACK, ABANDONED)


class JournalError(Exception):
    """A journal cannot be created, read or locked; ``str()`` is one line naming the file and why."""


class JournalBusy(JournalError):
    """Another process holds the journal (an apply or resume is running right now)."""


def new_journal_id(now: datetime) -> str:
    """A sortable, unique id such as ``20260301T120000Z-3f9a1c``."""
    return f"{now.strftime('%Y%m%dT%H%M%SZ')}-{secrets.token_hex(3)}"


def _fsync_dir(directory: Path) -> None:
    # A new file's directory entry is durable only once the directory itself is synced.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def parse_lines(text: str) -> list[dict[str, Any]]:
    """The records of a journal file; lines that are not whole JSON objects (a torn tail) are skipped."""
    records = []
    for line in text.splitlines():
        try:
            value = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict) and "type" in value:
            records.append(value)
    return records


class Journal:
    """One open, locked journal file. Append records; close (or use as a context manager) when done."""

    def __init__(self, path: Path, fd: int, records: list[dict[str, Any]]) -> None:
        self.path = path
        self._fd = fd
        self._records = records

    @property
    def id(self) -> str:
        """The journal id (file name without the suffix)."""
        return self.path.name[: -len(SUFFIX)]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record so far, oldest first (a copy)."""
        return list(self._records)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._fd < 0

    def append(self, record: Mapping[str, Any]) -> None:
        """Write one record durably (one ``write`` of a whole line, then fsync) before returning."""
        if self._fd < 0:
            raise JournalError(f"journal {self.path}: already closed")
        if "type" not in record:
            raise ValueError("a journal record needs a 'type'")
        line = (json.dumps(dict(record), separators=(",", ":"), default=str) + "\n").encode("utf-8")
        try:
            os.write(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot write ({exc.strerror or exc})") from None
        self._records.append(dict(record))

    def close(self) -> None:
        """Release the lock and the file (idempotent)."""
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class JournalSummary:
    """What a journal file says, read without holding it."""

    id: str
    path: Path
    begun: str | None
    """Time of the begin record (ISO 8601)."""
    context: str | None
    description: tuple[str, ...]
    """One line per staged change, from the begin record."""
    steps: int
    done: tuple[int, ...]
    """Indexes of the steps with a done record."""
    failed: str | None
    """The last failure's one-line detail, if any."""
    outcome: str | None
    """The ``end`` record's outcome; None while pending."""
    busy: bool
    """Another process holds it right now."""

    @property
    def pending(self) -> bool:
        """Not finished (no final ``end``) and not being worked on: interrupted or failed."""
        return self.outcome not in FINAL_OUTCOMES and not self.busy


def summarize(path: Path, records: list[dict[str, Any]], *, busy: bool) -> JournalSummary:
    """Summarise parsed records of one journal file."""
    begin = next((r for r in records if r.get("type") == BEGIN), {})
    steps = begin.get("steps") or []
    for record in records:
        if record.get("type") == REBASED:
            steps = record.get("steps") or steps
    done = tuple(sorted({int(r["index"]) for r in records if r.get("type") == STEP_DONE and "index" in r}))
    failures = [r for r in records if r.get("type") == STEP_FAILED]
    ends = [r for r in records if r.get("type") == END]
    return JournalSummary(
        id=path.name[: -len(SUFFIX)],
        path=path,
        begun=begin.get("time"),
        context=begin.get("context"),
        description=tuple(str(d) for d in begin.get("description") or ()),
        steps=len(steps),
        done=done,
        failed=str(failures[-1].get("detail") or "") if failures else None,
        outcome=str(ends[-1].get("outcome")) if ends else None,
        busy=busy,
    )


class JournalStore:
    """The journal directory of one user: create journals, find pending ones, open one by id."""

    def __init__(self, state_dir: Path) -> None:
        self.directory = state_dir / JOURNAL_DIR

    def _ensure_dir(self) -> None:
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise JournalError(f"journal directory {self.directory}: cannot create "
                               f"({exc.strerror or exc})") from None

    def path_of(self, journal_id: str) -> Path:
        """The file of a journal id (ids are checked so a path can never escape the directory)."""
        if not journal_id or "/" in journal_id or journal_id.startswith(".") or "\0" in journal_id:
            raise JournalError(f"journal id {journal_id!r}: not a valid id")
        return self.directory / f"{journal_id}{SUFFIX}"

    def create(self, journal_id: str, begin: Mapping[str, Any]) -> Journal:
        """Create and lock a new journal whose first record is ``begin`` (type added if missing)."""
        self._ensure_dir()
        path = self.path_of(journal_id)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise JournalError(f"journal {path}: already exists") from None
        except OSError as exc:
            raise JournalError(f"journal {path}: cannot create ({exc.strerror or exc})") from None
        fcntl.flock(fd, fcntl.LOCK_EX)
        journal = Journal(path, fd, [])
        journal.append({"type": BEGIN, **dict(begin)})
        _fsync_dir(self.directory)
        return journal

    def open(self, journal_id: str) -> Journal:
        """Open and lock an existing journal to resume or roll it back; :class:`JournalBusy` if held."""
        path = self.path_of(journal_id)
        try:
            fd = os.open(path, os.O_RDWR | os.O_APPEND)
        except FileNotFoundError:
            raise JournalError(f"journal {journal_id}: not found in {self.directory}") from None
        except OSError as exc:
            raise JournalError(f"journal {path}: cannot open ({exc.strerror or exc})") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise JournalBusy(f"journal {journal_id}: another aio-certs process is working on it") from None
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            os.close(fd)
            raise JournalError(f"journal {path}: cannot read ({exc.strerror or exc})") from None
        return Journal(path, fd, parse_lines(text))

    def _is_busy(self, path: Path) -> bool:
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock we may have taken
        return False

    def summaries(self) -> list[JournalSummary]:
        """Every journal, oldest first."""
        if not self.directory.is_dir():
            return []
        out = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                records = parse_lines(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            out.append(summarize(path, records, busy=self._is_busy(path)))
        return out

    def pending(self) -> list[JournalSummary]:
        """Journals of applies that were interrupted or failed and were neither resumed nor rolled back."""
        return [s for s in self.summaries() if s.pending]

    def __iter__(self) -> Iterator[JournalSummary]:
        return iter(self.summaries())


def pending_applies(state_dir: Path) -> list[JournalSummary]:
    """Interrupted or failed applies recorded under ``state_dir`` (see :meth:`JournalStore.pending`)."""
    return JournalStore(state_dir).pending()


def notice_lines(state_dir: Path) -> list[str]:
    """What every change command prints at start when earlier applies were left unfinished."""
    lines = []
    try:
        pending = pending_applies(state_dir)
    except OSError:
        return []
    for summary in pending:
        what = "; ".join(summary.description) or f"{summary.steps} step(s)"
        why = f", last error: {summary.failed}" if summary.failed else ", interrupted"
        lines.append(f"aio-certs: unfinished apply {summary.id} ({len(summary.done)}/{summary.steps} steps "
                     f"done{why}): {what}. Run `aio-certs journal resume {summary.id}` or "
                     f"`aio-certs journal rollback {summary.id}`.")
    return lines
