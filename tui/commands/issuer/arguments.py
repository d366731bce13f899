"""``aio-certs issuer add|remove`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.list_arguments import add_list_arguments, epilog

EPILOG = epilog("issuer")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``issuer add`` and ``issuer remove``."""
    add_list_arguments(parser, "issuer")
