"""The append-only audit log: who changed what on which cluster, and how it ended.

One JSON object per line in ``<state dir>/audit.jsonl``: time (from the injected clock), OS user,
host, kube context, action, the certificates' SHA-256 thumbprints, vault secret names, list entries,
the plan id and the outcome. There is deliberately no field for a secret's value, a file's bytes or a
token: the log is safe to attach to a ticket. Each line is written with one ``write`` on a file opened
with ``O_APPEND`` and fsync'd, so concurrent processes never interleave partial lines.
"""

from __future__ import annotations

import getpass
import json
import os
import socket
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from tui.core.clock import Clock

AUDIT_FILE = "audit.jsonl"
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
    """``applied``, ``refused``, ``failed``, ``dry-run``, ``cancelled``, ``resumed``, ``rolled-back``."""
    thumbprints: tuple[str, ...] = ()
    vault_secrets: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()
    """List entries concerned, as ``list/targetKey`` (or the object renewed)."""
    plan_id: str | None = None
    detail: str = ""
    """One line: why it was refused or failed."""
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        """The event as one JSON line (no trailing newline)."""
        data = asdict(self)
        for key in ("thumbprints", "vault_secrets", "entries"):
            data[key] = list(data[key])
        if not data["extra"]:
            del data["extra"]
        return json.dumps(data, sort_keys=False, separators=(",", ":"), default=str)


class AuditLog:
    """Appends :class:`AuditEvent` lines to ``<state dir>/audit.jsonl``."""

    def __init__(self, directory: Path, *, clock: Clock, user: str | None = None,
                 host: str | None = None) -> None:
        self.path = directory / AUDIT_FILE
        self._clock = clock
        self._user = user or os_user()
        self._host = host or socket.gethostname()

    def record(self, *, action: str, outcome: str, context: str, thumbprints: Iterable[str] = (),
               vault_secrets: Iterable[str] = (), entries: Iterable[str] = (), plan_id: str | None = None,
               detail: str = "", extra: dict[str, Any] | None = None) -> AuditEvent:
        """Append one event and return it. Raises ``OSError`` when the log cannot be written."""
        flat = " ".join(detail.split())
        event = AuditEvent(
            time=self._clock.now().isoformat(),
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
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        line = (event.to_json() + "\n").encode("utf-8")
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
        return event

    def events(self) -> Iterator[dict[str, Any]]:
        """Every event logged so far, oldest first (a torn last line is skipped)."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return
        for line in text.splitlines():
            try:
                yield json.loads(line)
            except ValueError:
                continue
