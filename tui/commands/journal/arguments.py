"""``aio-certs journal [list|resume|rollback]`` arguments and help (standard library only; run by
:mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.exits import EXIT_CODES_HELP
from tui.commands.shared.options import ENV_HELP, add_change_arguments

EPILOG = f"""\
examples:
  aio-certs journal                     # this site's journals; pending and UNUSABLE ones first
  aio-certs journal --all               # every site's, marking the others' OTHER SITE
  aio-certs journal resume 20260301T120000Z-3f9a1c --yes
  aio-certs journal rollback 20260301T120000Z-3f9a1c

A journal records the site it was written for (API server, the cluster's kube-system UID, vault,
ARM resources): resume and rollback refuse another site's journal, and one that records none,
with exit 1, unless --site-unchecked.

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``journal [list]``, ``journal resume ID`` and ``journal rollback ID``."""
    parser.add_argument("--json", action="store_true", help="print the journals as JSON (with `list`)")
    _add_list_arguments(parser, argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = sub.add_parser("list", help="list journals (the default)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    _add_list_arguments(listing, argparse.SUPPRESS)
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
        cmd.add_argument(
            "--site-unchecked",
            action="store_true",
            help="finish a journal that records no site (written by an earlier aio-certs) or whose site "
            "reads differently, when you know the current connection is its site (by default a journal "
            "is only finished on the API server or cluster, vault and ARM resources it was written for)",
        )
        add_change_arguments(cmd)


def _add_list_arguments(parser: argparse.ArgumentParser, default: object) -> None:
    """``--all`` and the connection that says which site is "this" one (``journal`` and ``journal list``
    both take them; SUPPRESS keeps one from clearing what the other set)."""
    parser.add_argument(
        "--all",
        action="store_true",
        default=default,
        help="list the journals of every site, marking those of other sites (default: only the site "
        "the kubeconfig context points at, and journals that record no site)",
    )
    parser.add_argument("--kubeconfig", metavar="PATH", default=default, help="kubeconfig file")
    parser.add_argument("--context", metavar="NAME", default=default, help="kubeconfig context to use")
    parser.add_argument(
        "--vault-url", metavar="URL", default=default, help="the site's Key Vault (compared when given)"
    )
