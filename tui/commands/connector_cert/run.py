"""Run ``aio-certs connector-cert``: read the site once, write the connector's public certificate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tui.cluster.config import ClusterConfigError, connect
from tui.cluster.oneshot import read_once
from tui.cluster.watch_set import unreachable_reason
from tui.commands.shared.exits import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, EXIT_USAGE, Refused, fail, warn
from tui.commands.shared.settings import UsageError, command_settings, load_user_config
from tui.core.build.assemble import build_state
from tui.core.clock import SystemClock
from tui.core.text import printable
from tui.ops.connector_export import ExportRefused, export_public_certificate

COMMAND = "connector-cert"


def run(args: argparse.Namespace) -> int:
    """Write the certificate; returns the exit status (see the EPILOG)."""
    try:
        settings = command_settings(args, load_user_config())
        model = settings.model
    except (Refused, UsageError) as exc:
        return fail(COMMAND, str(exc), EXIT_USAGE)
    path = Path(args.out)
    if not args.force and (path.exists() or path.is_symlink()):
        # Said before the cluster is read: nothing to wait for when the answer is no.
        return fail(COMMAND, f"{printable(args.out)} already exists; --force replaces it", EXIT_REFUSED)
    clock = SystemClock()
    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        return fail(COMMAND, f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE)
    warn(COMMAND, connection.warning)
    try:
        raw = read_once(connection.api_client, model, clock=clock, timeout=settings.timeouts)
    finally:
        connection.close()
    reason = unreachable_reason(raw)
    if reason is not None:
        return fail(
            COMMAND,
            f"cannot reach the cluster at {printable(connection.server)} "
            f"(context {printable(connection.context)}): {reason}",
            EXIT_UNREACHABLE,
        )
    view = build_state(raw, settings=model, now=clock.now()).connector_certificate
    if view is None:
        return fail(
            COMMAND, "the connector's certificate is unknown: the Secrets could not be read", EXIT_UNREACHABLE
        )
    try:
        written = export_public_certificate(view, path, pem=args.pem, overwrite=args.force)
    except ExportRefused as exc:
        return fail(COMMAND, str(exc), EXIT_REFUSED)
    print(written.describe(view), file=sys.stderr)
    return EXIT_OK
