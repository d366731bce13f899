"""``aio-certs renew`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.options import ENV_HELP, add_change_arguments

EPILOG = f"""\
examples:
  aio-certs renew                       # the AIO root CA Certificate
  aio-certs renew cert-manager/azure-iot-operations-aio-selfsigned-root --yes --wait
  aio-certs renew aio-broker-frontend --dry-run

exit status:
  0  renewal requested (and, with --wait, the new revision was issued); --dry-run printed what it would do
  1  refused: unknown or ambiguous Certificate, --read-only, not confirmed, or the Certificate
     moved on since it was read (a new revision, or an issuance started); nothing was changed
  2  bad usage
  3  the cluster could not be reached or read
  4  the request was written but --wait saw no new revision in time, or the write failed

{ENV_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``renew`` options."""
    parser.add_argument(
        "name",
        nargs="?",
        metavar="NAME",
        help="Certificate name or NAMESPACE/NAME (default: the root CA's Certificate)",
    )
    parser.add_argument(
        "--wait",
        action="store_true",
        help="wait (up to --wait-timeout) until cert-manager has issued the new revision",
    )
    add_change_arguments(parser, wait_help="with --wait: how long to wait for the new revision (default: 60)")
