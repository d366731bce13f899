"""``aio-certs connector-cert`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.options import add_connection_arguments, add_model_arguments

EPILOG = """\
The certificate written is the connector's public application instance certificate: cert-manager's
self-signed one (Secret aio-opc-opcuabroker-default-application-cert, key tls.crt), or the .der of the
client-certificate SecretSync aio-opc-ua-broker-client-certificate when one of your own is set. Its
private key is never read or written.

exit status:
  0  written
  1  refused: the file exists (without --force), no connector certificate on the site, or the file
     could not be written; nothing was written
  2  bad usage (unknown flag, bad flag value, unreadable config file)
  3  the cluster could not be reached or its Secrets could not be read
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``connector-cert`` options."""
    parser.add_argument(
        "--out",
        metavar="FILE",
        required=True,
        help="file to write the public certificate to",
    )
    parser.add_argument("--pem", action="store_true", help="write PEM instead of DER")
    parser.add_argument("--force", action="store_true", help="replace FILE when it exists")
    add_connection_arguments(parser)
    add_model_arguments(parser)
