"""``aio-certs vault add|list`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.exits import EXIT_CODES_HELP
from tui.commands.shared.options import (
    ENV_HELP,
    add_change_arguments,
    add_common_arguments,
    add_local_only_argument,
)

EPILOG = f"""\
examples:
  aio-certs vault list                                  # secrets no list maps yet
  aio-certs vault add plc-7-der --list trust --dry-run  # entry plc-7.der, named from the content
  aio-certs vault add site-root --list issuer --target-key site-root.crt --yes

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``vault add`` and ``vault list``."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser(
        "add",
        help="map an existing vault secret into a list",
        description="Map a certificate or CRL already in Key Vault into an OPC UA list.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("secret", metavar="SECRET", help="Key Vault secret name")
    add.add_argument(
        "--list", dest="list_name", choices=("trust", "issuer"), required=True, help="the list to add it to"
    )
    add.add_argument(
        "--target-key",
        metavar="FILE",
        help="file name in the list (default: from the secret name and what it holds, "
        "e.g. plc-7-der holding a DER certificate becomes plc-7.der)",
    )
    add_local_only_argument(add)
    add_change_arguments(add)
    show = sub.add_parser(
        "list",
        help="show vault secrets that no list maps",
        description="Show the Key Vault secrets that no OPC UA list maps yet.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    show.add_argument("--json", action="store_true", help="print a JSON array")
    add_common_arguments(show)
