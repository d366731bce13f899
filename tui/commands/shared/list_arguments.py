"""The command line of ``trust`` and ``issuer``: ``add FILE...`` and ``remove NAME...`` on one OPC UA list.

Standard library only, like every ``arguments`` module; what the sub-commands do is
:mod:`tui.commands.shared.list_changes`.
"""

from __future__ import annotations

import argparse

from tui.commands.shared.exits import EXIT_CODES_HELP
from tui.commands.shared.options import ENV_HELP, add_change_arguments, add_local_only_argument

EXTENSIONS = {"trust": ".der, .crt", "issuer": ".der, .crt, .crl"}


def epilog(list_name: str) -> str:
    """Help text shown after the options."""
    other = "trust" if list_name == "issuer" else "issuer"
    return f"""\
examples:
  aio-certs {list_name} add plc-1.der                      # vault secret plc-1-der, entry plc-1.der
  aio-certs {list_name} add site-ca.crt --secret-name site-ca --dry-run
  aio-certs {list_name} add plc-1.der --overwrite --yes    # replace an entry or secret of that name
  aio-certs {list_name} add new.der --target-key plc-1.der --overwrite   # replace entry plc-1.der
  aio-certs {list_name} remove plc-1.der old-gw.crt --purge --yes

Allowed file extensions for the {list_name} list: {EXTENSIONS[list_name]} (as `az iot ops connector opcua
{list_name} add`). Use `aio-certs {other} ...` for the {other} list and `aio-certs vault add` for a
secret already in Key Vault.

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_list_arguments(parser: argparse.ArgumentParser, list_name: str) -> None:
    """``add`` and ``remove`` sub-commands of one list."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser(
        "add",
        help=f"upload files into the {list_name} list",
        description=f"Upload certificate files into the OPC UA {list_name} list.",
        epilog=epilog(list_name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add.add_argument("files", nargs="+", metavar="FILE", help=f"file to add ({EXTENSIONS[list_name]})")
    add.add_argument(
        "-s",
        "--secret-name",
        metavar="NAME",
        help="Key Vault secret name (default: the file name with '.' replaced by '-'; one FILE only)",
    )
    add.add_argument(
        "--target-key",
        metavar="NAME",
        help="file name of the entry in the list (default: the FILE's own name; one FILE only), e.g. "
        "plc-1.der for a file saved as 'download (3).der'",
    )
    add.add_argument(
        "--overwrite",
        action="store_true",
        help="replace an entry of the same file name and/or a vault secret of the same name",
    )
    add_local_only_argument(add)
    add_change_arguments(add)
    remove = sub.add_parser(
        "remove",
        help=f"take entries out of the {list_name} list",
        description=f"Remove entries (by file name) from the OPC UA {list_name} list.",
        epilog=epilog(list_name),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    remove.add_argument(
        "names",
        nargs="+",
        metavar="NAME",
        help="file name of the entry in the list (the SecretSync targetKey), e.g. plc-1.der",
    )
    remove.add_argument(
        "--purge",
        action="store_true",
        help="also delete and purge the entries' Key Vault secrets (cannot be undone)",
    )
    add_local_only_argument(remove)
    add_change_arguments(remove)
