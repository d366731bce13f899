"""``aio-certs inspect`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

EPILOG = """\
examples:
  aio-certs inspect ca.crt plc-1.der site.crl
  aio-certs inspect --json bundle.pem | jq '.[] | {subject, not_after}'
  kubectl get secret my-tls -o jsonpath='{.data.tls\\.crt}' | base64 -d | aio-certs inspect -

A file may hold PEM blocks (with text around them), DER (one or several back to back), or the hex
text Key Vault stores for `az iot ops connector opcua` certificates. CRLs are checked against the
CA certificates given on the same command line. Private keys are noted, never shown. A FILE must be a
regular file: a FIFO, socket or device is refused at once (pipe into '-' instead).
exit status: 0 every file decoded, 1 at least one file could not be decoded, or is UTF-16 text (shown,
but not usable as a list file until saved as ASCII/UTF-8).
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ``inspect`` arguments."""
    parser.add_argument("files", nargs="+", metavar="FILE", help="certificate/CRL file; '-' reads stdin")
    parser.add_argument(
        "--json",
        action="store_true",
        help="print a JSON array, one object per certificate or CRL, in file order",
    )
