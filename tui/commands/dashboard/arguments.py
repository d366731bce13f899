"""``aio-certs dashboard`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.options import add_common_arguments

EPILOG = """\
keys (press ? in the dashboard for all of them):
  tab, 1 2 3   move between the Root CA, Issuers and OPC UA panes
  /            filter the OPC UA entries (words such as expired, expiring, crl-stale; !word negates)
  enter        preview the entry (every field, chain, where it lives, PEM); c copies its thumbprint
  s, S         sort by the next column, reverse;   space  mark an entry
  u, v, d, x   upload a file, add from Key Vault, delete, mark stale entries (staged, shown in the table)
  a, z, Z      apply the staged changes (plan diff, confirm, progress), unstage, discard all
  r            renew the root CA (on the Root CA pane)
  q, ctrl+c    quit

environment:
  KUBECONFIG            kubeconfig file(s), separated by ':'
  AIO_CERTS_VAULT_URL   Key Vault URL, instead of the one named by the SecretProviderClass
  AIO_CERTS_VAULT_CA    CA bundle to verify the vault's TLS certificate with
  TEXTUAL_FPS           frame cap of the terminal output (default 60); lower it on very slow links

exit status:
  0  quit normally
  2  bad usage
  3  no usable kubeconfig or context
"""

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_UNREACHABLE = 3


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register the dashboard's options."""
    add_common_arguments(parser)
    add_display_arguments(parser)


def add_display_arguments(parser: argparse.ArgumentParser) -> None:
    """``--no-mouse`` and ``--animations``."""
    group = parser.add_argument_group("display")
    group.add_argument(
        "--no-mouse",
        action="store_true",
        help="do not capture the mouse (keeps the terminal's own selection; less traffic over SSH)",
    )
    group.add_argument(
        "--animations", action="store_true", help="allow animations (off by default, and always off over SSH)"
    )
