"""``add`` and ``remove`` for one OPC UA list (``trust`` or ``issuer``): arguments and staging.

``aio-certs trust add FILE... [--secret-name S] [--overwrite]`` uploads each file to Key Vault (hex, as
the official tool) and maps it into the list under its file name; ``aio-certs trust remove NAME...
[--purge]`` takes entries out by file name (the SecretSync targetKey), with ``--purge`` also deleting and
purging their vault secrets. ``issuer`` is the same for the issuer list (CA certificates and CRLs).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from tui.commands.change_common import ENV_HELP, EXIT_CODES_HELP, EXIT_USAGE, Refused, add_change_arguments
from tui.core.text import printable

if TYPE_CHECKING:
    from tui.core.changes.changeset import ChangeSet

# Certificates and CRLs are a few kB; Key Vault takes at most 25k characters (about 12 kB of file as hex).
MAX_FILE_BYTES = 1024 * 1024
EXTENSIONS = {"trust": ".der, .crt", "issuer": ".der, .crt, .crl"}


def epilog(list_name: str) -> str:
    """Help text shown after the options."""
    other = "trust" if list_name == "issuer" else "issuer"
    return f"""\
examples:
  aio-certs {list_name} add plc-1.der                      # vault secret plc-1-der, entry plc-1.der
  aio-certs {list_name} add site-ca.crt --secret-name site-ca --dry-run
  aio-certs {list_name} add plc-1.der --overwrite --yes    # replace an entry or secret of that name
  aio-certs {list_name} remove plc-1.der old-gw.crt --purge --yes

Allowed file extensions for the {list_name} list: {EXTENSIONS[list_name]} (as `az iot ops connector opcua
{list_name} add`). Use `aio-certs {other} ...` for the {other} list and `aio-certs vault add` for a
secret already in Key Vault.

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_list_arguments(parser: argparse.ArgumentParser, list_name: str) -> None:
    """``add`` and ``remove`` sub-commands of one list."""
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    add = sub.add_parser("add", help=f"upload files into the {list_name} list",
                         description=f"Upload certificate files into the OPC UA {list_name} list.",
                         epilog=epilog(list_name), formatter_class=argparse.RawDescriptionHelpFormatter)
    add.add_argument("files", nargs="+", metavar="FILE", help=f"file to add ({EXTENSIONS[list_name]})")
    add.add_argument("-s", "--secret-name", metavar="NAME",
                     help="Key Vault secret name (default: the file name with '.' replaced by '-'; "
                          "one FILE only)")
    add.add_argument("--overwrite", action="store_true",
                     help="replace an entry of the same file name and/or a vault secret of the same name")
    add_change_arguments(add)
    remove = sub.add_parser("remove", help=f"take entries out of the {list_name} list",
                            description=f"Remove entries (by file name) from the OPC UA {list_name} list.",
                            epilog=epilog(list_name), formatter_class=argparse.RawDescriptionHelpFormatter)
    remove.add_argument("names", nargs="+", metavar="NAME",
                        help="file name of the entry in the list (the SecretSync targetKey), e.g. plc-1.der")
    remove.add_argument("--purge", action="store_true",
                        help="also delete and purge the entries' Key Vault secrets (cannot be undone)")
    add_change_arguments(remove)


def read_file(path_text: str) -> tuple[str, bytes]:
    """``(file name, bytes)`` of one FILE argument; :class:`Refused` (one line naming it) if unreadable.

    Only a regular file is read, and nothing blocks: a FIFO, socket or device is refused at once.
    """
    from tui.core.files import UnreadableFile, read_regular_file

    path = Path(path_text).expanduser()
    try:
        data = read_regular_file(path, limit=MAX_FILE_BYTES, too_large=_too_large)
    except UnreadableFile as exc:
        raise Refused(f"{printable(path_text)}: {exc}") from None
    return path.name, data


def _too_large(size: int | None) -> str:
    return (f"{size} bytes is far too large for a certificate or CRL file" if size is not None
            else f"over {MAX_FILE_BYTES} bytes, far too large for a certificate or CRL file")


def stage(args: argparse.Namespace, list_name: str) -> ChangeSet:
    """The change set the parsed ``add``/``remove`` arguments ask for."""
    from tui.core.changes.changeset import AddFile, ChangeSet, RemoveEntry

    if args.action == "add":
        if args.secret_name is not None and len(args.files) > 1:
            raise Refused("--secret-name: give one FILE per command when naming its secret", EXIT_USAGE)
        changes = []
        for path_text in args.files:
            name, data = read_file(path_text)
            changes.append(AddFile(list_name, name, data, secret_name=args.secret_name,
                                   overwrite=args.overwrite))
        return ChangeSet.of(changes)
    return ChangeSet.of(RemoveEntry(list_name, name, purge=args.purge) for name in args.names)


def run_list(args: argparse.Namespace, list_name: str) -> int:
    """Run ``add``/``remove`` on one list."""
    from tui.commands.change_run import run_change

    return run_change(args, command=f"{list_name} {args.action}", action=f"{list_name} {args.action}",
                      build=lambda parsed: stage(parsed, list_name))
