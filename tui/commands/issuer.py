"""Add files to, or remove entries from, the OPC UA connector's issuer list (CA certificates, CRLs).

Files go to Key Vault first (whole file as hex, tag file-encoding=hex, content type by extension, as
`az iot ops connector opcua issuer add`), then into the SecretProviderClass and the SecretSync, with a
journal so an interrupted change can be resumed or rolled back.
"""

from __future__ import annotations

import argparse

from tui.commands.list_changes import add_list_arguments, epilog, run_list

EPILOG = epilog("issuer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``issuer add`` and ``issuer remove``."""
    add_list_arguments(parser, "issuer")


def run(args: argparse.Namespace) -> int:
    """Plan and apply the change; returns the exit status (see --help)."""
    return run_list(args, "issuer")
