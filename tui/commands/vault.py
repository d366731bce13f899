"""Put a certificate or CRL already in Key Vault into an OPC UA list, or list the secrets in no list.

`vault add SECRET --list trust|issuer` maps an existing secret into the list (SPC object and SecretSync
mapping; nothing is written to the vault). Its value must decode (hex, PEM or DER) to one certificate or
CRL: picking the wrong secret would break the connector's connection, so anything else is refused.
`vault list` shows the vault's secrets that no list maps yet, with what they hold.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from tui.commands.change_common import (
    ENV_HELP,
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_UNREACHABLE,
    Refused,
    add_change_arguments,
    fail,
    load_user_config,
    positive_timeout,
)
from tui.commands.common import add_common_arguments

if TYPE_CHECKING:
    from tui.core.changes.changeset import ChangeSet

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
    add = sub.add_parser("add", help="map an existing vault secret into a list",
                         description="Map a certificate or CRL already in Key Vault into an OPC UA list.",
                         epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    add.add_argument("secret", metavar="SECRET", help="Key Vault secret name")
    add.add_argument("--list", dest="list_name", choices=("trust", "issuer"), required=True,
                     help="the list to add it to")
    add.add_argument("--target-key", metavar="FILE",
                     help="file name in the list (default: from the secret name and what it holds, "
                          "e.g. plc-7-der holding a DER certificate becomes plc-7.der)")
    add_change_arguments(add)
    show = sub.add_parser("list", help="show vault secrets that no list maps",
                          description="Show the Key Vault secrets that no OPC UA list maps yet.",
                          epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    show.add_argument("--json", action="store_true", help="print a JSON array")
    add_common_arguments(show)


def stage(args: argparse.Namespace) -> ChangeSet:
    """The one-change set ``vault add`` asks for."""
    from tui.core.changes.changeset import AddVaultSecret, ChangeSet

    return ChangeSet.of([AddVaultSecret(args.list_name, args.secret, target_key=args.target_key)])


def run(args: argparse.Namespace) -> int:
    """Run ``vault add`` or ``vault list``."""
    if args.action == "add":
        from tui.commands.change_run import run_change

        return run_change(args, command="vault add", action="vault add", build=stage)
    try:
        return _list(args)
    except Refused as refused:
        return fail("vault list", str(refused), refused.code)
    except (KeyboardInterrupt, BrokenPipeError):
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        return fail("vault list", f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0],
                    EXIT_UNREACHABLE)


def _list(args: argparse.Namespace) -> int:
    from tui.commands.change_run import open_session
    from tui.ops.runner import SiteUnavailable

    config = load_user_config(args)
    positive_timeout(args)
    session, connection = open_session(args, config)
    try:
        try:
            site = session.read(need_vault=True)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
    finally:
        connection.close()
    assert site.vault is not None
    mapped = {e.source_path.lower() for e in site.state.opcua if e.source_path}
    mapped |= {o.object_name.lower() for s in site.state.spcs for o in s.objects}
    rows: list[dict[str, Any]] = []
    for name, secret in sorted(site.vault.secrets.items(), key=lambda item: item[0].lower()):
        if name.lower() in mapped:
            continue
        rows.append({"name": name, "content_type": secret.content_type, "enabled": secret.enabled,
                     "tags": dict(secret.tags),
                     "expires_on": secret.expires_on.isoformat() if secret.expires_on else None})
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    if not rows:
        print(f"every secret in {site.vault.vault_url} is already in a list (or the vault is empty)")
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        state = "" if row["enabled"] else "  (disabled)"
        expires = f"  expires {row['expires_on'][:10]}" if row["expires_on"] else ""
        print(f"{row['name']:<{width}}  {row['content_type'] or '-'}{expires}{state}")
    print(f"{len(rows)} secret(s) not in any list; add one with: aio-certs vault add NAME --list trust",
          file=sys.stderr)
    return EXIT_OK
