"""Command line entry point: builds the parser and dispatches to one command package.

Each command lives in ``tui/commands/<name>/`` (see ``tui/commands/__init__.py``): its ``arguments``
module (standard library only) is registered here for every command, so that ``--help`` is complete and
fast; its ``run`` module, which imports the heavy parts (Textual, kubernetes, azure) at its top, is
imported only when that command runs. ``tests/unit/test_layering.py`` checks that ``aio-certs --help``
and ``aio-certs inspect --help`` load no heavy library.
"""

from __future__ import annotations

import argparse
import importlib
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from typing import NoReturn

from tui import __version__
from tui.commands.shared.exits import end_now
from tui.core.text import one_line

# name -> one-line help; the command is the package tui.commands.<name>. Order is the order in --help.
COMMANDS: dict[str, str] = {
    "dashboard": "open the live dashboard (what `aio-certs` alone runs)",
    "inspect": "decode certificate and CRL files (PEM, DER, Key Vault hex)",
    "demo": "run an embedded AIO site (Kubernetes API, Key Vault, controllers)",
    "status": "one-screen certificate health of a site, with an exit status",
    "renew": "ask cert-manager to re-issue a Certificate now (default: the root CA)",
    "trust": "add files to / remove entries from the OPC UA trust list",
    "issuer": "add files to / remove entries from the OPC UA issuer list",
    "vault": "map a certificate already in Key Vault into a list; list unmapped ones",
    "journal": "list applies; resume or roll back an interrupted one",
    "connector-cert": "write the OPC UA connector's own public certificate to a file (for the servers)",
}
PACKAGE = "tui.commands"

EPILOG = """\
exit status:
  0  success / healthy
  1  warnings (status) or a file could not be decoded (inspect)
  2  critical findings (status) or bad usage (except status, where it is 3)
  3  status: unknown (the cluster could not be reached, or bad usage); other commands: the cluster
     or the vault could not be reached
  4  a change failed (trust, issuer, vault add, journal): the journal is kept to resume or roll back
  5  a change was applied but the synced Secret did not show it within --wait-timeout
  6  a change stopped on a conflict: another writer changed the same vault secret or list meanwhile
"""


UsageHook = Callable[[str, Sequence[str]], int]
"""``(one-line message, the arguments this parser was given) -> exit status``; prints what it wants."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line (control characters escaped), not a usage block.

    A command parser may set ``on_error`` (``status`` does: usage errors are UNKNOWN, exit 3, with a
    JSON object under ``--json``); otherwise the exit status is 2.
    """

    on_error: UsageHook | None = None

    def parse_known_args(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        namespace: argparse.Namespace | None = None,
    ) -> tuple[argparse.Namespace, list[str]]:
        """Parse as argparse does, remembering the arguments and which (sub)parser parsed last."""
        self._arguments = list(sys.argv[1:] if args is None else args)
        parsed, extras = super().parse_known_args(args, namespace)
        # The innermost sub-command parser finishes first: it is the one to report leftovers.
        if getattr(parsed, "_parser", None) is None:
            parsed._parser = self
        return parsed, extras

    def parse_args(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        namespace: argparse.Namespace | None = None,
    ) -> argparse.Namespace:
        """Parse as argparse does; leftover arguments are reported by the sub-command's own parser, so
        that its exit status and wording apply."""
        parsed, extras = self.parse_known_args(args, namespace)
        if extras:
            getattr(parsed, "_parser", self).error(f"unrecognized arguments: {' '.join(extras)}")
        return parsed

    def error(self, message: str) -> NoReturn:
        """Print ``<prog>: <message>`` on stderr (one line) and exit 2, or as ``on_error`` says."""
        text = one_line(message)
        if self.on_error is not None:
            sys.exit(self.on_error(text, getattr(self, "_arguments", [])))
        print(f"{self.prog}: {text} (see {self.prog} --help)", file=sys.stderr)
        sys.exit(2)


def module_of(command: str) -> str:
    """The package of a command: its name with ``-`` as ``_`` (``connector-cert`` -> ``connector_cert``)."""
    return command.replace("-", "_")


def build_parser() -> argparse.ArgumentParser:
    """Build the top-level parser with one subparser per command."""
    parser = Parser(
        prog="aio-certs",
        description="See and fix the certificates of an Azure IoT Operations deployment.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"aio-certs {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, help_text in COMMANDS.items():
        arguments = importlib.import_module(f"{PACKAGE}.{module_of(name)}.arguments")
        doc = sys.modules[f"{PACKAGE}.{module_of(name)}"].__doc__
        command_parser = sub.add_parser(
            name,
            help=help_text,
            description=doc.strip().splitlines()[0] if doc else help_text,
            epilog=getattr(arguments, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        arguments.add_arguments(command_parser)
        command_parser.set_defaults(_command=name)
    return parser


DEFAULT_COMMAND = "dashboard"
_TOP_LEVEL_FLAGS = frozenset({"-h", "--help", "--version"})


def with_default_command(argv: Sequence[str]) -> list[str]:
    """``aio-certs`` and ``aio-certs --context X`` mean the dashboard; anything else is left as it is."""
    arguments = list(argv)
    if not arguments or (arguments[0].startswith("-") and arguments[0] not in _TOP_LEVEL_FLAGS):
        return [DEFAULT_COMMAND, *arguments]
    return arguments


class Terminated(KeyboardInterrupt):
    """SIGTERM or SIGHUP: handled as Ctrl-C is (the run's audit line says "interrupted"), with the
    signal's own exit status."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.status = 128 + signum


def _terminate(signum: int, _frame: object) -> None:
    raise Terminated(signum)


# The dashboards own their terminal and their hang-up handling (exit 129 when the terminal goes away).
_SIGNALS_OWN_HANDLERS = frozenset({"dashboard", "demo"})


# One-shot reports whose end may skip the interpreter's teardown (exits.end_now): they change nothing, and
# after ``status`` at 2,000 certificates the teardown (freeing every object one by one) is ~55 ms of 0.6 s.
QUICK_END = frozenset({"status", "inspect"})


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return the process exit status."""
    return _dispatch(argv)[0]


def entry() -> NoReturn:
    """The console script and ``python -m tui``: :func:`main`, then the end of the process, without the
    interpreter's teardown after a one-shot report (:data:`QUICK_END`, :func:`end_now`)."""
    status, name = _dispatch(None)
    if name in QUICK_END:
        end_now(status)
    sys.exit(status)


def _dispatch(argv: Sequence[str] | None) -> tuple[int, str | None]:
    """Run the command line: the exit status, and the command that ran (None: none did)."""
    parser = build_parser()
    args = parser.parse_args(with_default_command(sys.argv[1:] if argv is None else argv))
    name = getattr(args, "_command", None)
    if name is None:
        parser.print_help()
        return 2, None
    if name not in _SIGNALS_OWN_HANDLERS and threading.current_thread() is threading.main_thread():
        # Default SIGTERM/SIGHUP end the process on the spot: a change killed that way after its first
        # write left no audit line. Raised in the main thread, they unwind like Ctrl-C.
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, _terminate)
    try:
        # The one import of a command's run module: what it needs is loaded only when it runs (inside
        # the try, so that Ctrl-C while loading ends as any interrupt does).
        command = importlib.import_module(f"{PACKAGE}.{module_of(name)}.run")
        return int(command.run(args)), name
    except Terminated as stop:
        print(f"aio-certs: interrupted ({stop})", file=sys.stderr)
        return stop.status, name
    except KeyboardInterrupt:
        print("aio-certs: interrupted", file=sys.stderr)
        return 130, name
    except BrokenPipeError:
        # Output piped into `head` and closed early: not an error worth a traceback.
        return 0, name


if __name__ == "__main__":
    entry()
