"""Exit statuses of the change commands, and how a run ends early: one line on stderr.

``trust``, ``issuer``, ``vault``, ``renew`` and ``journal`` share these statuses (``status``,
``dashboard`` and ``demo`` declare their own with their arguments); every refusal or failure is one line
with control characters escaped. Standard library only: the ``arguments`` modules quote the help text.
"""

from __future__ import annotations

import atexit
import os
import signal
import sys
import threading
from typing import NoReturn

from tui.core.text import one_line

EXIT_OK = 0
EXIT_REFUSED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3
EXIT_APPLY_FAILED = 4
EXIT_NOT_SYNCED = 5
EXIT_CONFLICT = 6

EXIT_CODES_HELP = """\
exit status:
  0  applied (or, with --dry-run, the plan was printed; or there was nothing to do)
  1  refused: invalid input (one line per problem), --read-only, an unsafe or unusable state
     directory or journal, not confirmed, or a resume that must wait for you (a vault secret
     deleted but recoverable: recover or purge it first); nothing was changed
  2  bad usage (unknown flag, bad flag value, unreadable config file)
  3  the cluster or the vault could not be reached or read; nothing was changed
  4  the apply failed; when anything was written the journal is kept: `aio-certs journal resume ID`
     or `aio-certs journal rollback ID` finishes or undoes it
  5  applied, but the SecretSync / synced Secret did not show the change within --wait-timeout
  6  conflict: someone else wrote the same vault secret or list at the same time; stopped before the
     next write (when anything was written the journal is kept, as for 4)
"""


class Refused(Exception):
    """The command will not go on; ``str()`` is the one line to print, ``code`` the exit status.

    Quote user input in ``message`` with :func:`~tui.core.text.printable` (its newlines then show as
    ``\\0A``); whatever is left is folded into one line with every control character escaped.
    """

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(one_line(message))
        self.code = code


def warn(command: str, line: str | None) -> None:
    """Print ``aio-certs <command>: <line>`` on stderr (one line, escaped); nothing when ``line`` is None.

    For what the user should know before anything else, such as a kubeconfig that turns TLS
    verification off (:attr:`~tui.cluster.config.ClusterConnection.warning`)."""
    if line:
        print(f"aio-certs {command}: {one_line(line)}", file=sys.stderr)


def fail(command: str, message: str, code: int) -> int:
    """Print ``aio-certs <command>: <message>`` on stderr (one line, control characters escaped) and
    return ``code``."""
    print(f"aio-certs {command}: {one_line(message)}", file=sys.stderr)
    return code


def end_now(status: int) -> NoReturn:
    """End the process with ``status`` now that its work is done, without the interpreter's teardown.

    The teardown frees every object one by one and finds nothing to write: after ``status`` at 2,000
    certificates it is ~55 ms of a 0.6 s run. What the usual end does that matters is done first: the
    standard streams are flushed and the functions registered with :mod:`atexit` run (logging's flush,
    ``multiprocessing`` ending its daemon children). Ends the usual way (``SystemExit``) instead while a
    thread that is not a daemon is still running (the usual end waits for it), and when a standard stream
    cannot be flushed (a closed pipe: the usual end reports it as it always has). A signal that comes
    meanwhile ends the process as by default. Only for a command that leaves no file of its own open for
    writing: such a file is not flushed or closed here (``status`` and ``inspect`` write only to their
    standard streams and to files they close before they return).
    """
    main = threading.main_thread()
    if any(t is not main and not t.daemon and t.is_alive() for t in threading.enumerate()):
        sys.exit(status)
    if threading.current_thread() is main:
        # A signal from here on ends the process as the signal does by default: the command line's
        # handlers raise, and an exception out of here would be a traceback (and status 1) after the
        # report. Ignored signals stay ignored (nohup).
        for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            if callable(signal.getsignal(signum)):
                signal.signal(signum, signal.SIG_DFL)
    try:
        _flush_streams()
        atexit._run_exitfuncs()
        _flush_streams()  # what the exit functions printed
    except (OSError, ValueError):
        sys.exit(status)
    os._exit(status)


def _flush_streams() -> None:
    # The process's own streams too, should a command have put others in their place.
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        if stream is not None:
            stream.flush()
