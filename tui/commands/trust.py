"""Add files to, or remove entries from, the OPC UA connector's trust list (certificates it trusts).

Files go to Key Vault first (whole file as hex, tag file-encoding=hex, content type by extension, as
`az iot ops connector opcua trust add`), then into the SecretProviderClass and the SecretSync, with a
journal so an interrupted change can be resumed or rolled back.
"""

from __future__ import annotations

import argparse

from tui.commands.list_changes import add_list_arguments, epilog, run_list

EPILOG = epilog("trust")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``trust add`` and ``trust remove``."""
    add_list_arguments(parser, "trust")


def run(args: argparse.Namespace) -> int:
    """Plan and apply the change; returns the exit status (see --help)."""
    return run_list(args, "trust")
