"""The write-ahead journal of applies: one JSON-lines file per apply in the user's state directory.

What a record holds is :mod:`tui.core.changes.journal` (plan, per-step ``pending``/``done``/``failed``/
``rolled-back`` with before-images, end). This module is the file side: each record is appended as one
whole line with one ``write`` and fsync'd before the caller goes on, so a process killed at any moment
leaves a file saying exactly which steps may have happened; the next start finds it
(:meth:`JournalStore.pending`) and offers to resume or roll it back.

Each journal is held with an exclusive ``flock`` while a process works on it: a second process cannot
resume an apply that is still running, and a journal whose lock is free but that has no final ``end``
was interrupted (or failed and was kept). A torn last line (power cut mid-write) is ignored.

Files live in ``<state dir>/journal/<id>.jsonl`` (directory mode 0700, files 0600, both prepared and
checked by :func:`tui.config.prepare_state_dir`). They hold the plan, certificate hex included (public
data), never a private key or a token (before-images keep a previous value only when it is a certificate
or CRL). A journal that cannot be read whole (empty, not UTF-8, a line that is no record, no plan record,
not a regular file, another user's) is listed with what is wrong and is never resumed or rolled back:
replaying half a story could redo or undo the wrong steps.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tui.config import JOURNAL_DIR, StateDirError, prepare_state_dir, private_problem
from tui.core.certs.model import iso_utc
from tui.core.changes.journal import (
    EndRecord,
    JournalAuditFields,
    JournalFormatError,
    JournalSummary,
    PlanRecord,
    Record,
    SiteIdentity,
    StepState,
    journal_audit_fields,
    record_from_json,
    summarize,
)
from tui.core.text import printable

SUFFIX = ".jsonl"
MAX_JOURNAL_BYTES = 64 * 1024 * 1024
"""Far above any real journal (a plan of thousands of entries is a few MB); a bigger file is not one."""

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


def read_records(data: bytes) -> tuple[list[Record], str | None]:
    """The records in a journal file's bytes, and what makes the journal unusable (None: nothing).

    A last line without its newline is a record torn by a power cut mid-write and is left out (the
    write it announced never started). Anything else that is not a record (a garbage line, a record of a
    newer format, bytes that are not UTF-8) or a journal without a plan record makes it unusable.
    """
    if not data.strip():
        return [], "empty file, no plan record" if not data else "blank file, no plan record"
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [], f"not UTF-8 text (byte {exc.start} of {len(data)})"
    lines = text.split("\n")
    torn = lines.pop()  # "" when the file ends with a newline
    records: list[Record] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            records.append(record_from_json(json.loads(line)))
        except JournalFormatError as exc:
            return records, f"line {number} is not a journal record ({exc})"
        except (ValueError, RecursionError):
            return records, f"line {number} is not a journal record (not JSON)"
        except Exception as exc:  # any other shape a hand edit can produce: unusable, never a crash
            return records, f"line {number} is not a journal record ({type(exc).__name__})"
    if not records:
        return [], ("only a torn line, no plan record" if torn.strip() else "no journal records")
    if not any(isinstance(r, PlanRecord) for r in records):
        return records, "holds no plan record"
    return records, None


def _read_all(fd: int) -> bytes:
    """Every byte of an open file, from its start; OSError when there are too many for a journal."""
    size = os.fstat(fd).st_size
    if size > MAX_JOURNAL_BYTES:
        raise OSError(errno.EFBIG, f"{size} bytes is far too large for a journal")
    chunks: list[bytes] = []
    offset = 0
    while True:
        chunk = os.pread(fd, 1 << 20, offset)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        offset += len(chunk)
        if offset > MAX_JOURNAL_BYTES:
            raise OSError(errno.EFBIG, "far too large for a journal")


def _open_flags_problem(exc: OSError) -> str:
    """Why a journal file could not be opened, in the words the listing uses."""
    if exc.errno == errno.ELOOP:
        return "a symlink, not a journal file"
    if exc.errno == errno.EISDIR:
        return "not a regular file (a directory)"
    return f"cannot open ({exc.strerror or exc})"


def _file_problem(fd: int) -> str | None:
    """What makes an open journal file unusable before reading it: its type, owner or mode."""
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file"
    return private_problem(st)


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
        """What the records say (see :func:`tui.core.changes.journal.summarize`)."""
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
    problem: str | None = None
    """Why the file is unusable as a journal (empty, garbage, no plan record...); None when it is fine."""
    plan_id: str | None = None
    audit_fields: JournalAuditFields = field(default_factory=JournalAuditFields)
    """Thumbprints, vault secrets and entries the apply concerns, for the audit log."""
    site: SiteIdentity | None = None
    """The site the apply wrote to (its newest plan record's); None when it records none."""

    @property
    def pending(self) -> bool:
        """Not finished (no final end) and not being worked on: interrupted or failed."""
        return (
            self.problem is None
            and self.outcome not in FINAL_OUTCOMES
            and not self.busy
            and self.begun is not None
        )

    @property
    def problem_line(self) -> str:
        """One line naming the file and what is wrong with it (empty when nothing is)."""
        return f"journal {self.path}: {self.problem}" if self.problem else ""

    def to_json(self) -> dict[str, Any]:
        """JSON object for ``aio-certs journal --json``."""
        return {
            "id": self.id,
            "begun": self.begun,
            "context": self.context,
            "changes": list(self.description),
            "steps": self.steps,
            "done": self.done,
            "uncertain": self.uncertain,
            "outcome": self.outcome,
            "pending": self.pending,
            "busy": self.busy,
            "last_error": self.failed,
            "problem": self.problem,
            "path": str(self.path),
            "entries": list(self.audit_fields.entries),
            "site": self.site.to_json() if self.site is not None else None,
        }


def unusable_info(path: Path, problem: str, *, busy: bool = False) -> JournalInfo:
    """A journal file that cannot be read as one, described by ``problem``."""
    return JournalInfo(
        id=path.name[: -len(SUFFIX)],
        path=path,
        begun=None,
        context=None,
        description=(),
        steps=0,
        done=0,
        uncertain=0,
        failed=None,
        outcome=None,
        busy=busy,
        problem=problem,
    )


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
        begun=iso_utc(first.at) if first is not None else None,
        context=(plan.context or None) if plan is not None else None,
        description=plan.changes if plan is not None else (),
        steps=done + len(summary.remaining()),
        done=done,
        uncertain=len(summary.uncertain),
        failed=message or (failures[-1].message if failures else None),
        outcome=end.outcome if end is not None else None,
        busy=busy,
        plan_id=plan.plan_id if plan is not None else None,
        audit_fields=journal_audit_fields(summary),
        site=plan.site if plan is not None else None,
    )


class JournalStore:
    """The journal directory of one user: create journals, find pending ones, open one by id."""

    def __init__(self, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.directory = state_dir / JOURNAL_DIR

    def _ensure_dir(self) -> None:
        try:
            prepare_state_dir(self.state_dir)
        except StateDirError as exc:
            raise JournalError(str(exc)) from None

    def _check_dir(self) -> bool:
        """Whether the journal directory exists (checked as :func:`prepare_state_dir` checks it)."""
        try:
            prepare_state_dir(self.state_dir, create=False)
        except StateDirError as exc:
            raise JournalError(str(exc)) from None
        return self.directory.is_dir()

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
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        except FileExistsError:
            raise JournalError(f"journal {path}: already exists") from None
        except OSError as exc:
            raise JournalError(f"journal {path}: cannot create ({exc.strerror or exc})") from None
        os.fchmod(fd, 0o600)  # the umask may only have taken bits away; say the mode outright
        fcntl.flock(fd, fcntl.LOCK_EX)
        journal = Journal(path, fd, [])
        journal.append(first)
        _fsync_dir(self.directory)
        return journal

    def open(self, journal_id: str) -> Journal:
        """Open and lock an existing journal to resume or roll it back; :class:`JournalBusy` if held.

        :class:`JournalError` (one line naming the file and why) when the journal is unusable (see
        :func:`read_records`); a torn last line is cut off so the records appended next stand alone.
        """
        path = self.path_of(journal_id)
        self._check_dir()
        try:
            # O_NOFOLLOW: a journal is a file we made; O_NONBLOCK: a FIFO put in its place cannot hang us.
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except FileNotFoundError:
            raise JournalError(f"journal {journal_id}: not found in {self.directory}") from None
        except OSError as exc:
            raise JournalError(f"journal {path}: {_open_flags_problem(exc)}") from None
        try:
            problem = _file_problem(fd)
            if problem is not None:
                raise JournalError(f"journal {path}: {problem}")
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                busy = f"journal {journal_id}: another aio-certs process is working on it"
                raise JournalBusy(busy) from None
            try:
                data = _read_all(fd)
            except OSError as exc:
                raise JournalError(f"journal {path}: cannot read ({exc.strerror or exc})") from None
            records, problem = read_records(data)
            if problem is not None:
                raise JournalError(f"journal {path}: {problem}; it cannot be resumed or rolled back")
            if not data.endswith(b"\n"):
                os.ftruncate(fd, data.rfind(b"\n") + 1)
        except BaseException:
            os.close(fd)
            raise
        return Journal(path, fd, records)

    def _describe(self, path: Path) -> JournalInfo:
        """One journal file as the listing shows it, unusable ones with what is wrong."""
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError as exc:
            return unusable_info(path, _open_flags_problem(exc))
        try:
            problem = _file_problem(fd)
            if problem is not None:
                return unusable_info(path, problem)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                busy = False
            except BlockingIOError:
                busy = True
            try:
                data = _read_all(fd)
            except OSError as exc:
                return unusable_info(path, f"cannot read ({exc.strerror or exc})", busy=busy)
        finally:
            os.close(fd)  # closing drops a lock we may have taken
        records, problem = read_records(data)
        # A journal being written is read between two appends (a new one may hold nothing yet).
        if problem is not None and not busy:
            return unusable_info(path, problem)
        return info_of(path, records, busy=busy)

    def infos(self) -> list[JournalInfo]:
        """Every journal, oldest first, unusable ones included (with their :attr:`JournalInfo.problem`).

        :class:`JournalError` when the state or journal directory is unusable (see
        :func:`tui.config.prepare_state_dir`); none exists yet: no journals.
        """
        if not self._check_dir():
            return []
        return [self._describe(path) for path in sorted(self.directory.glob(f"*{SUFFIX}"))]

    def pending(self) -> list[JournalInfo]:
        """Journals of applies that were interrupted or failed and were neither resumed nor rolled back."""
        return [s for s in self.infos() if s.pending]

    def unusable(self) -> list[JournalInfo]:
        """Journal files that cannot be read as journals (see :func:`read_records`)."""
        return [s for s in self.infos() if s.problem]


def pending_applies(state_dir: Path) -> list[JournalInfo]:
    """Interrupted or failed applies recorded under ``state_dir`` (see :meth:`JournalStore.pending`)."""
    return JournalStore(state_dir).pending()


def notice_lines(state_dir: Path) -> list[str]:
    """What every change command prints at start when earlier applies were left unfinished (or their
    journals cannot be read: an apply may have stopped half-way behind one).

    Printed before connecting (so also when the cluster cannot be reached): a journal that records its
    site names its API server, since several sites may share a context name and a resume is refused
    on any other.
    """
    lines = []
    try:
        infos = JournalStore(state_dir).infos()
    except (OSError, JournalError):
        return []  # the command's own check of the state directory says what is wrong
    for info in infos:
        if info.problem:
            lines.append(
                printable(
                    f"aio-certs: unusable {info.problem_line}; it cannot be resumed or rolled back "
                    "(look at it, then remove it)"
                )
            )
            continue
        if not info.pending:
            continue
        what = "; ".join(info.description) or f"{info.steps} step(s)"
        why = f", last error: {info.failed}" if info.failed else ", interrupted"
        if info.site is not None and info.site.server:
            why += f", site {info.site.server}"
        lines.append(
            printable(
                f"aio-certs: unfinished apply {info.id} ({info.done}/{info.steps} steps done{why}): "
                f"{what}. Run `aio-certs journal resume {info.id}` or "
                f"`aio-certs journal rollback {info.id}`."
            )
        )
    return lines


def records_json(records: list[Record]) -> list[Mapping[str, Any]]:
    """The records as JSON objects (for tools and tests)."""
    return [r.to_json() for r in records]
