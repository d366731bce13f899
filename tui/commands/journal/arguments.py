"""``aio-certs journal [list|resume|rollback]`` arguments and help (standard library only; run by
:mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.exits import EXIT_CODES_HELP
from tui.commands.shared.options import ENV_HELP, add_change_arguments

EPILOG = f"""\
examples:
  aio-certs journal                     # every journal; pending and UNUSABLE ones first
  aio-certs journal resume 20260301T120000Z-3f9a1c --yes
  aio-certs journal rollback 20260301T120000Z-3f9a1c

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``journal [list]``, ``journal resume ID`` and ``journal rollback ID``."""
    parser.add_argument("--json", action="store_true", help="print the journals as JSON (with `list`)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = sub.add_parser("list", help="list journals (the default)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    for action, text in (
        ("resume", "run the remaining steps of an interrupted apply"),
        ("rollback", "undo what an interrupted apply did"),
    ):
        cmd = sub.add_parser(
            action,
            help=text,
            description=text[0].upper() + text[1:] + ".",
            epilog=EPILOG,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        cmd.add_argument("journal_id", metavar="ID", help="journal id, as `aio-certs journal` lists it")
        add_change_arguments(cmd)
