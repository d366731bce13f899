"""What every command that changes a site shares: flags, exit codes, confirmation, refusals.

``trust``, ``issuer``, ``vault``, ``renew`` and ``journal`` all take ``--dry-run``, ``--yes``, ``--json``
and ``--read-only``; they ask before writing unless ``--yes`` (and refuse rather than hang when stdin is
not a terminal); and every refusal or failure is one line on stderr. Only the standard library is
imported here (see ``tui/cli.py``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from tui.commands.common import add_common_arguments, non_negative_seconds
from tui.core.text import one_line

if TYPE_CHECKING:
    from tui.config import UserConfig
    from tui.ops.audit import AuditLog

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
     directory or journal, or not confirmed; nothing was changed
  2  bad usage (unknown flag, bad flag value, unreadable config file)
  3  the cluster or the vault could not be reached or read; nothing was changed
  4  the apply failed; when anything was written the journal is kept: `aio-certs journal resume ID`
     or `aio-certs journal rollback ID` finishes or undoes it
  5  applied, but the SecretSync / synced Secret did not show the change within --wait-timeout
  6  conflict: someone else wrote the same vault secret or list at the same time; stopped before the
     next write (when anything was written the journal is kept, as for 4)
"""

ENV_HELP = """\
environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  AIO_CERTS_AUTH        how to sign in to the vault (see --auth)
  AIO_CERTS_CONFIG      configuration file (default ~/.config/aio-certs/config.toml)
  AIO_CERTS_STATE_DIR   where the apply journal and audit log live (default ~/.local/state/aio-certs);
                        owner-only, refused when another user could write to it
"""


class Refused(Exception):
    """The command will not go on; ``str()`` is the one line to print, ``code`` the exit status.

    Quote user input in ``message`` with :func:`~tui.core.text.printable` (its newlines then show as
    ``\\0A``); whatever is left is folded into one line with every control character escaped.
    """

    def __init__(self, message: str, code: int = EXIT_REFUSED) -> None:
        super().__init__(one_line(message))
        self.code = code


def add_change_arguments(parser: argparse.ArgumentParser, *, wait_help: str | None = None) -> None:
    """``--dry-run``, ``--yes``, ``--json``, ``--wait-timeout`` and every shared cluster/vault option."""
    group = parser.add_argument_group("change")
    group.add_argument("--dry-run", action="store_true",
                       help="print the plan (what would be written where) and write nothing")
    group.add_argument("-y", "--yes", action="store_true",
                       help="do not ask for confirmation (needed when stdin is not a terminal)")
    group.add_argument("--json", action="store_true", help="print the plan and the result as JSON")
    group.add_argument("--wait-timeout", metavar="SECONDS", type=non_negative_seconds, default=60.0,
                       help=wait_help or "how long to wait for the SecretSync and the synced Secret to show "
                                         "the change (default: 60; 0 does not wait)")
    add_common_arguments(parser)


def load_user_config(args: argparse.Namespace) -> UserConfig:
    """Read the config file and fold it into ``args`` (flags win; read_only only turns on).

    Raises :class:`Refused` with exit status 2 when the file is unusable.
    """
    from tui.config import ConfigError, apply_to_args, load_config

    try:
        config = load_config()
    except ConfigError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None
    apply_to_args(args, config)
    return config


def state_directory(config: UserConfig, *, create: bool = True) -> Path:
    """The journal and audit directory for this user (see :func:`tui.config.state_dir`), created and
    checked by :func:`tui.config.prepare_state_dir` (``create=False``: checked only, for listings).

    Raises :class:`Refused` (exit 1, one line naming the path and why) when another user could write to
    it or it is not a directory.
    """
    from tui.config import StateDirError, prepare_state_dir, state_dir

    try:
        return prepare_state_dir(state_dir(config), create=create)
    except StateDirError as exc:
        raise Refused(str(exc)) from None


class Trail:
    """The audit line of one command run: exactly one, whatever ends the run.

    Made with what the user asked for (entries, secret names, file names as given), so a refusal before
    any plan exists still says what it concerned; :meth:`open` once the state directory is known (no
    cluster connection needed); then :meth:`record` the outcome, or :meth:`settled` when the change
    engine wrote the line itself. Lines after the first are dropped.
    """

    def __init__(self, action: str, *, context: str = "", entries: Sequence[str] = (),
                 vault_secrets: Sequence[str] = (), extra: dict[str, object] | None = None) -> None:
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
        from tui.core.clock import SystemClock
        from tui.ops.audit import AuditLog

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
            self.log.record(action=self.action, outcome=outcome, context=self.context,
                            thumbprints=self.thumbprints, vault_secrets=self.vault_secrets,
                            entries=self.entries, plan_id=self.plan_id, detail=detail, extra=self.extra)
        except OSError as exc:
            print(f"aio-certs {self.action}: cannot write the audit log {self.log.path}: "
                  f"{one_line(exc.strerror or str(exc))}", file=sys.stderr)

    def refused(self, refused: Refused) -> None:
        """Record a :class:`Refused` run: ``unreachable`` when the site could not be read, else
        ``refused``."""
        self.record("unreachable" if refused.code == EXIT_UNREACHABLE else "refused", detail=str(refused))


def refuse_if_read_only(args: argparse.Namespace, what: str) -> None:
    """Raise :class:`Refused` when read-only mode is on (flag or config) and ``what`` would write."""
    if getattr(args, "read_only", False):
        raise Refused(f"{what}: refused, read-only mode is on (--read-only or read_only in the config "
                      "file); nothing was changed")


def confirm(question: str, *, yes: bool, warnings: Sequence[str] = (), stdin: TextIO | None = None,
            stderr: TextIO | None = None, isatty: Callable[[], bool] | None = None) -> None:
    """Print ``warnings``, then ask ``question [y/N]`` on stderr unless ``yes``; raise :class:`Refused`
    on anything but yes.

    Without a terminal on stdin there is nobody to answer: refuse at once (before the warnings, so the
    refusal is the only line) instead of hanging.
    """
    source = stdin or sys.stdin
    out = stderr or sys.stderr
    if not yes:
        interactive = isatty() if isatty is not None else _is_tty(source)
        if not interactive:
            raise Refused("not confirmed: stdin is not a terminal; pass --yes to apply without a prompt "
                          "(nothing was changed)")
    for warning in warnings:
        out.write(f"warning: {one_line(warning)}\n")
    if yes:
        out.flush()
        return
    out.write(f"{question} [y/N] ")
    out.flush()
    answer = source.readline()
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("not confirmed; nothing was changed")


def _is_tty(stream: TextIO) -> bool:
    try:
        return os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


def fail(command: str, message: str, code: int) -> int:
    """Print ``aio-certs <command>: <message>`` on stderr (one line, control characters escaped) and
    return ``code``."""
    print(f"aio-certs {command}: {one_line(message)}", file=sys.stderr)
    return code


def positive_timeout(args: argparse.Namespace) -> None:
    """Check ``--request-timeout`` and ``--wait-timeout``; raise :class:`Refused` (exit 2) if bad."""
    if getattr(args, "request_timeout", None) is not None and args.request_timeout <= 0:
        raise Refused("--request-timeout: must be a positive number of seconds", EXIT_USAGE)
    if getattr(args, "wait_timeout", None) is not None and args.wait_timeout < 0:
        raise Refused("--wait-timeout: must not be negative", EXIT_USAGE)
