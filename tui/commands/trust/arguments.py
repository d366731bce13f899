"""``aio-certs trust add|remove`` arguments and help (standard library only; run by :mod:`.run`)."""

from __future__ import annotations

import argparse

from tui.commands.shared.list_arguments import add_list_arguments, epilog

EPILOG = epilog("trust")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``trust add`` and ``trust remove``."""
    add_list_arguments(parser, "trust")
