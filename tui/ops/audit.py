"""The append-only audit log: who changed what on which cluster, and how it ended.

One JSON object per line in ``<state dir>/audit.jsonl``: time (from the injected clock, ISO 8601 in
UTC with ``Z``), OS user, host, kube context, action, ``sha256`` (the SHA-256 of each certificate or CRL
file written: not a "thumbprint", which is SHA-1 everywhere else on screen; lines written before carry
the same list as ``thumbprints`` and read back as ``sha256``), vault secret names, list entries, the plan
id and the outcome. There is deliberately no field for a secret's value, a file's bytes or a
token: the log is safe to attach to a ticket. Each line is written with one ``write`` on a file opened
with ``O_APPEND`` and fsync'd, so concurrent processes never interleave partial lines.

Every attempted change leaves a line, whatever became of it: ``refused`` (bad input, read-only mode, an
unusable journal), ``dry-run``, ``nothing-to-do``, ``cancelled`` (not confirmed), ``unreachable`` (the
cluster or vault could not be read; nothing written), ``conflict``, ``applied``, ``failed``,
``nothing-done``, ``rolled-back``. A run of the change engine (apply, resume, rollback) also writes a
``started`` line just before its first write, naming the same journal (``extra.journal``) as its final
line: a run killed in between, even by SIGKILL, has left a trail, and every run still has exactly one
final outcome. Writing needs only the state directory and a clock, so a refusal made
before any cluster connection is recorded too. The file is created 0600 in a directory that
:func:`tui.config.prepare_state_dir` has checked is the user's alone.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
import stat
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tui.config import AUDIT_FILE, FILE_MODE, StateDirError, prepare_state_dir, private_problem
from tui.core.clock import Clock

_MAX_DETAIL = 300


def os_user() -> str:
    """The login name of the user running aio-certs (``uid:<n>`` when it has none)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, e.g. an arbitrary uid in a container
        return f"uid:{os.getuid()}"


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    time: str
    user: str
    host: str
    context: str
    action: str
    """``trust add``, ``issuer remove``, ``vault add``, ``renew``, ``journal rollback``..."""
    outcome: str
    """``applied``, ``refused``, ``failed``, ``dry-run``, ``cancelled``, ``rolled-back``... (see the module
    docstring)."""
    thumbprints: tuple[str, ...] = ()
    """SHA-256 of each certificate or CRL file concerned; written as ``sha256``."""
    vault_secrets: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    """List entries concerned, as ``list/targetKey`` (or the object renewed)."""
    plan_id: str | None = None
    detail: str = ""
    """One line: why it was refused or failed."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Anything else worth keeping, such as the file names a refused ``add`` was given."""

    def to_json(self) -> str:
        """The event as one JSON line (no trailing newline); :attr:`thumbprints` under the key ``sha256``."""
        data = asdict(self)
        for key in ("thumbprints", "vault_secrets", "entries"):
            data[key] = list(data[key])
        data = {SHA256_KEY if k == "thumbprints" else k: v for k, v in data.items()}
        if not data["extra"]:
            del data["extra"]
        return json.dumps(data, sort_keys=False, separators=(",", ":"), default=str)


SHA256_KEY = "sha256"
"""The key of the files' SHA-256 digests in a line."""
OLD_SHA256_KEY = "thumbprints"
"""Where lines written before held the same digests."""


def logged_time(now: datetime) -> str:
    """``2026-03-01T12:00:00Z`` (sub-second digits only when the clock has them): ISO 8601 in UTC with
    ``Z``, as JSON readers expect, rather than Python's ``+00:00``."""
    utc = now.astimezone(UTC)
    text = utc.isoformat(timespec="microseconds" if utc.microsecond else "seconds")
    return text.removesuffix("+00:00") + "Z"


def read_event(line: str) -> dict[str, Any]:
    """One line as a dict, with the digests under ``sha256`` whichever key the line used (ValueError
    when it is no JSON object)."""
    data = json.loads(line)
    if not isinstance(data, dict):
        raise ValueError("not a JSON object")
    if OLD_SHA256_KEY in data and SHA256_KEY not in data:
        data = {SHA256_KEY if k == OLD_SHA256_KEY else k: v for k, v in data.items()}
    return data


class AuditLog:
    """Appends :class:`AuditEvent` lines to ``<state dir>/audit.jsonl``."""

    def __init__(
        self, directory: Path, *, clock: Clock, user: str | None = None, host: str | None = None
    ) -> None:
        self.path = directory / AUDIT_FILE
        self._clock = clock
        self._user = user or os_user()
        self._host = host or socket.gethostname()

    def record(
        self,
        *,
        action: str,
        outcome: str,
        context: str,
        thumbprints: Iterable[str] = (),
        vault_secrets: Iterable[str] = (),
        entries: Iterable[str] = (),
        plan_id: str | None = None,
        detail: str = "",
        extra: dict[str, Any] | None = None,
    ) -> AuditEvent:
        """Append one event and return it.

        Raises ``OSError`` when the log cannot be written (:class:`~tui.config.StateDirError`, one line,
        when the state directory or the log is not the user's alone).
        """
        flat = " ".join(detail.split())
        event = AuditEvent(
            time=logged_time(self._clock.now()),
            user=self._user,
            host=self._host,
            context=context,
            action=action,
            outcome=outcome,
            thumbprints=tuple(thumbprints),
            vault_secrets=tuple(vault_secrets),
            entries=tuple(entries),
            plan_id=plan_id,
            detail=flat[:_MAX_DETAIL],
            extra=dict(extra or {}),
        )
        prepare_state_dir(self.path.parent)
        line = (event.to_json() + "\n").encode("utf-8")
        fd = self._open()
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return event

    def _open(self) -> int:
        """The log opened for appending: created 0600, or checked to be the user's alone."""
        flags = os.O_WRONLY | os.O_APPEND | os.O_CLOEXEC
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, FILE_MODE)
        except FileExistsError:
            fd = os.open(self.path, flags | os.O_NONBLOCK)
        else:
            os.fchmod(fd, FILE_MODE)  # the umask may only have taken bits away; say the mode outright
            return fd
        # Checked on the open file, not the name: what we write to is what was judged.
        st = os.fstat(fd)
        problem = "not a regular file" if not stat.S_ISREG(st.st_mode) else private_problem(st)
        if problem is not None:
            os.close(fd)
            raise StateDirError(f"audit log {self.path}: {problem}")
        return fd

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event logged so far, oldest first (a torn last line is skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                yield read_event(line)
            except ValueError:
                continue
