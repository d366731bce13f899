"""The write-ahead journal of applies: one JSON-lines file per apply in the user's state directory.

What a record holds is :mod:`tui.core.journal_records` (plan, per-step ``pending``/``done``/``failed``/
``rolled-back`` with before-images, end). This module is the file side: each record is appended as one
whole line with one ``write`` and fsync'd before the caller goes on, so a process killed at any moment
leaves a file saying exactly which steps may have happened; the next start finds it
(:meth:`JournalStore.pending`) and offers to resume or roll it back.

Each journal is held with an exclusive ``flock`` while a process works on it: a second process cannot
resume an apply that is still running, and a journal whose lock is free but that has no final ``end``
was interrupted (or failed and was kept). A torn last line (power cut mid-write) is ignored.

Files live in ``<state dir>/journal/<id>.jsonl`` (directory mode 0700, files 0600). They hold the plan,
certificate hex included (public data), never a private key or a token (before-images keep a previous
value only when it is a certificate or CRL).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.core.journal_records import (
    EndRecord,
    JournalFormatError,
    JournalSummary,
    Record,
    StepState,
    record_from_json,
    summarize,
)

JOURNAL_DIR = "journal"
SUFFIX = ".jsonl"

# End outcomes after which nothing is left to do; "failed" keeps the journal pending.
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


def parse_lines(text: str) -> list[Record]:
    """The records of a journal file; lines that are not whole records (a torn tail) are skipped."""
    records: list[Record] = []
    for line in text.splitlines():
        try:
            records.append(record_from_json(json.loads(line)))
        except (ValueError, JournalFormatError):
            continue
    return records


class Journal:
    """One open, locked journal file. Append records; close (or use as a context manager) when done."""

    def __init__(self, path: Path, fd: int, records: list[Record]) -> None:
        self.path = path
        self._fd = fd
        self._records = records

    @property
    def id(self) -> str:
        """The journal id (file name without the suffix)."""
        return self.path.name[: -len(SUFFIX)]

    @property
    def records(self) -> list[Record]:
        """Every record so far, oldest first (a copy)."""
        return list(self._records)

    def summary(self) -> JournalSummary:
        """What the records say (see :func:`tui.core.journal_records.summarize`)."""
        return summarize(self._records)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` ran."""
        return self._fd < 0

    def append(self, record: Record) -> None:
        """Write one record durably (one ``write`` of a whole line, then fsync) before returning."""
        if self._fd < 0:
            raise JournalError(f"journal {self.path}: already closed")
        line = (json.dumps(record.to_json(), separators=(",", ":")) + "\n").encode("utf-8")
        try:
            os.write(self._fd, line)
            os.fsync(self._fd)
        except OSError as exc:
            raise JournalError(f"journal {self.path}: cannot write ({exc.strerror or exc})") from None
        self._records.append(record)

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
class JournalInfo:
    """One journal file as the ``journal`` command and the start-up notice show it."""

    id: str
    path: Path
    begun: str | None
    """When the apply started (ISO 8601)."""
    context: str | None
    description: tuple[str, ...]
    """One line per staged change."""
    steps: int
    """Steps done (in any plan revision) plus those the newest revision still has to run."""
    done: int
    """Steps done."""
    uncertain: int
    """Steps left ``pending``: the process stopped around the write."""
    failed: str | None
    """The last failure's one-line reason, if any."""
    outcome: str | None
    """The end record's outcome; None while the apply was never ended."""
    busy: bool
    """Another process holds it right now."""

    @property
    def pending(self) -> bool:
        """Not finished (no final end) and not being worked on: interrupted or failed."""
        return self.outcome not in FINAL_OUTCOMES and not self.busy and self.begun is not None

    def to_json(self) -> dict[str, Any]:
        """JSON object for ``aio-certs journal --json``."""
        return {"id": self.id, "begun": self.begun, "context": self.context,
                "changes": list(self.description), "steps": self.steps, "done": self.done,
                "uncertain": self.uncertain, "outcome": self.outcome, "pending": self.pending,
                "busy": self.busy, "last_error": self.failed}


def info_of(path: Path, records: list[Record], *, busy: bool) -> JournalInfo:
    """Describe one journal from its parsed records."""
    summary = summarize(records)
    plan = summary.plan
    first = summary.plans[0] if summary.plans else None
    # Done steps of every revision (a rebase keeps what was done and re-plans the rest), plus what is left.
    done = len(summary.done_steps)
    failures = [s for s in summary.steps.values() if s.state is StepState.FAILED and s.message]
    end: EndRecord | None = summary.end
    message = end.message if end is not None and end.message else None
    return JournalInfo(
        id=path.name[: -len(SUFFIX)],
        path=path,
        begun=first.at.isoformat() if first is not None else None,
        context=(plan.context or None) if plan is not None else None,
        description=plan.changes if plan is not None else (),
        steps=done + len(summary.remaining()),
        done=done,
        uncertain=len(summary.uncertain),
        failed=message or (failures[-1].message if failures else None),
        outcome=end.outcome if end is not None else None,
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

    def create(self, journal_id: str, first: Record) -> Journal:
        """Create and lock a new journal whose first record is ``first`` (the plan record)."""
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
        journal.append(first)
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

    def infos(self) -> list[JournalInfo]:
        """Every journal, oldest first."""
        if not self.directory.is_dir():
            return []
        out = []
        for path in sorted(self.directory.glob(f"*{SUFFIX}")):
            try:
                records = parse_lines(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                continue
            out.append(info_of(path, records, busy=self._is_busy(path)))
        return out

    def pending(self) -> list[JournalInfo]:
        """Journals of applies that were interrupted or failed and were neither resumed nor rolled back."""
        return [s for s in self.infos() if s.pending]


def pending_applies(state_dir: Path) -> list[JournalInfo]:
    """Interrupted or failed applies recorded under ``state_dir`` (see :meth:`JournalStore.pending`)."""
    return JournalStore(state_dir).pending()


def notice_lines(state_dir: Path) -> list[str]:
    """What every change command prints at start when earlier applies were left unfinished."""
    lines = []
    try:
        pending = pending_applies(state_dir)
    except OSError:
        return []
    for info in pending:
        what = "; ".join(info.description) or f"{info.steps} step(s)"
        why = f", last error: {info.failed}" if info.failed else ", interrupted"
        lines.append(f"aio-certs: unfinished apply {info.id} ({info.done}/{info.steps} steps done{why}): "
                     f"{what}. Run `aio-certs journal resume {info.id}` or "
                     f"`aio-certs journal rollback {info.id}`.")
    return lines


def records_json(records: list[Record]) -> list[Mapping[str, Any]]:
    """The records as JSON objects (for tools and tests)."""
    return [r.to_json() for r in records]
