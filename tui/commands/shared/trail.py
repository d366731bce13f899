"""The audit line of one change command run (:class:`Trail`), and the wrapper that guarantees it.

Every run of ``trust``, ``issuer``, ``vault add``, ``renew`` and ``journal resume|rollback`` that gets as
far as a usable state directory leaves exactly one final line in the audit log: applied, refused, dry
run, cancelled, unreachable, interrupted or failed. The change engine writes the lines of what it
applies itself (a ``started`` line before its first write, then the final one); :class:`Trail` writes
every other ending, and :func:`run_audited` makes sure nothing ends a run without one (and without a
traceback).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from tui.commands.shared.exits import EXIT_APPLY_FAILED, EXIT_UNREACHABLE, Refused, fail
from tui.core.clock import SystemClock
from tui.core.text import one_line
from tui.ops.audit import AuditLog


class Trail:
    """The audit line of one command run: exactly one, whatever ends the run.

    Made with what the user asked for (entries, secret names, file names as given), so a refusal before
    any plan exists still says what it concerned; :meth:`open` once the state directory is known (no
    cluster connection needed); then :meth:`record` the outcome, or :meth:`settled` when the change
    engine wrote the line itself. Lines after the first are dropped.
    """

    def __init__(
        self,
        action: str,
        *,
        context: str = "",
        entries: Sequence[str] = (),
        vault_secrets: Sequence[str] = (),
        extra: dict[str, object] | None = None,
    ) -> None:
        self.action = action
        self.context = context
        self.entries = tuple(entries)
        self.vault_secrets = tuple(vault_secrets)
        self.thumbprints: tuple[str, ...] = ()
        self.plan_id: str | None = None
        self.extra = dict(extra or {})
        self.log: AuditLog | None = None
        self.done = False

    def open(self, directory: Path) -> None:
        """Write to the audit log of ``directory`` (a state directory already prepared)."""
        self.log = AuditLog(directory, clock=SystemClock())

    def settled(self) -> None:
        """The line was written elsewhere (the change engine audits its own applies)."""
        self.done = True

    def record(self, outcome: str, *, detail: str = "") -> None:
        """Append the run's line (once; nothing before :meth:`open`). A log that cannot be written is
        said on stderr: the run's own result still stands."""
        if self.done or self.log is None:
            return
        self.done = True
        try:
            self.log.record(
                action=self.action,
                outcome=outcome,
                context=self.context,
                thumbprints=self.thumbprints,
                vault_secrets=self.vault_secrets,
                entries=self.entries,
                plan_id=self.plan_id,
                detail=detail,
                extra=self.extra,
            )
        except OSError as exc:
            print(
                f"aio-certs {self.action}: cannot write the audit log {self.log.path}: "
                f"{one_line(exc.strerror or str(exc))}",
                file=sys.stderr,
            )

    def refused(self, refused: Refused) -> None:
        """Record a :class:`Refused` run: ``unreachable`` when the site could not be read, else
        ``refused``."""
        self.record("unreachable" if refused.code == EXIT_UNREACHABLE else "refused", detail=str(refused))


def requested_trail(
    action: str,
    *,
    context: str | None,
    list_name: str,
    files: Sequence[str] = (),
    names: Sequence[str] = (),
    secrets: Sequence[str | None] = (),
) -> Trail:
    """The trail of a list change, filled with what the user asked for as given: the entries
    (``list/file name``: each file's name, then ``names``), the secret names and the file paths, for a
    refusal that comes before any plan."""
    paths = [str(f) for f in files]
    entries = [f"{list_name}/{n}" for n in (*(Path(f).name for f in paths), *names)]
    return Trail(
        action,
        context=context or "",
        entries=entries,
        vault_secrets=[s for s in secrets if s],
        extra={"files": paths} if paths else None,
    )


def run_audited(
    command: str,
    trail: Trail,
    body: Callable[[], int],
    *,
    interrupted: str = "interrupted by the user (the journal says what was done)",
) -> int:
    """Run ``body`` and return its exit status; whatever ends it, ``trail`` gets its one line.

    A :class:`Refused` is recorded (``refused`` or ``unreachable``) and printed as one line with its exit
    status; an interrupt is recorded (``interrupted``, ``interrupted`` the detail) and raised on; any
    other error is recorded as ``failed`` and printed as one line (exit 4), never as a traceback.
    """
    try:
        return body()
    except Refused as refused:
        trail.refused(refused)
        return fail(command, str(refused), refused.code)
    except KeyboardInterrupt:
        trail.record("interrupted", detail=interrupted)
        raise
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        message = f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0]
        trail.record("failed", detail=message)
        return fail(command, message, EXIT_APPLY_FAILED)
