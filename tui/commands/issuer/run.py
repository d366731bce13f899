"""Run ``aio-certs issuer add|remove``: the list change of :mod:`tui.commands.shared.list_changes`."""

from __future__ import annotations

import argparse

from tui.commands.shared.list_changes import run_list_change


def run(args: argparse.Namespace) -> int:
    """Plan and apply the change; returns the exit status (see --help)."""
    return run_list_change(args, "issuer")
