"""Run ``aio-certs renew``: find the Certificate, show what would change, confirm, request, maybe wait.

The lookup is the core's (:mod:`tui.core.changes.renewal`), the write, its audit line and the wait are
the change engine's (:mod:`tui.ops.renew`), as in the dashboard; this module reads the site once and
talks to the user.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tui.cluster.config import ClusterConfigError, connect
from tui.cluster.oneshot import read_once
from tui.cluster.watch_set import unreachable_reason
from tui.cluster.writes import ClusterWriter, WriteError
from tui.commands.shared.confirm import confirm
from tui.commands.shared.exits import (
    EXIT_APPLY_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Refused,
    warn,
)
from tui.commands.shared.settings import (
    Settings,
    UsageError,
    check_timeouts,
    command_settings,
    load_user_config,
    refuse_if_read_only,
    state_directory,
)
from tui.commands.shared.trail import Trail, run_audited
from tui.core.build.assemble import build_state
from tui.core.changes.renewal import RenewTargetError, find_certificate, renew_warnings
from tui.core.clock import SystemClock
from tui.core.text import printable
from tui.ops.journal import notice_lines
from tui.ops.renew import RenewalMovedOn, request_renewal, wait_for_revision


def run(args: argparse.Namespace) -> int:
    """Request the renewal; returns the exit status (see EPILOG). Every run leaves one audit line."""
    # The Certificate as the user named it; once found, its NAMESPACE/NAME (the root CA's by default).
    trail = Trail("renew", context=args.context or "", entries=[args.name] if args.name else [])
    return run_audited(
        "renew",
        trail,
        lambda: _renew(command_settings(args, load_user_config()), args.name, trail, wait=args.wait),
        interrupted="interrupted by the user",
    )


def _renew(settings: Settings, name: str | None, trail: Trail, *, wait: bool) -> int:
    options = settings.change
    check_timeouts(settings)
    directory = state_directory(settings.state_dir)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    if not options.dry_run:
        refuse_if_read_only(settings, "renew")
    for line in notice_lines(directory):
        print(line, file=sys.stderr)
    try:
        model = settings.model
    except UsageError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None
    clock = SystemClock()
    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        raise Refused(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE) from None
    warn("renew", connection.warning)
    trail.context = connection.context
    try:
        raw = read_once(connection.api_client, model, clock=clock, timeout=settings.timeouts)
        reason = unreachable_reason(raw)
        if reason is not None:
            raise Refused(
                f"cannot reach the cluster at {printable(connection.server)} "
                f"(context {printable(connection.context)}): {reason}",
                EXIT_UNREACHABLE,
            )
        state = build_state(raw, settings=model, now=clock.now())
        try:
            cert = find_certificate(state, name)
        except RenewTargetError as exc:
            raise Refused(str(exc)) from None
        trail.entries = (cert.key,)
        warnings = list(renew_warnings(cert))
        summary = {
            "certificate": cert.key,
            "secret": cert.secret_name,
            "is_ca": cert.is_ca,
            "revision_before": cert.revision,
            "warnings": warnings,
        }
        if options.dry_run:
            _report(
                options.json,
                {**summary, "outcome": "dry-run"},
                [
                    f"would renew Certificate {cert.key} (secret {cert.secret_name}, revision "
                    f"{cert.revision if cert.revision is not None else 'none'}): set Issuing=True reason "
                    "ManuallyTriggered",
                    *(f"warning: {w}" for w in warnings),
                ],
            )
            trail.record("dry-run")
            return EXIT_OK
        try:
            confirm(f"Renew Certificate {cert.key}?", yes=options.yes, warnings=warnings)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        writer = ClusterWriter(connection.api_client, timeout=settings.timeouts)
        try:
            # The write and its audit line ("applied" or "failed") are the change engine's, as in the
            # dashboard; the trail records only what happens around it.
            assert trail.log is not None  # opened with the state directory above
            request_renewal(writer, cert, audit=trail.log, context=connection.context, clock=clock)
        except RenewalMovedOn as exc:
            # Renewed by someone else (or issuing) while the prompt waited: a second renewal would
            # rotate again. The engine wrote the "refused" line; say the new state and stop.
            trail.settled()
            raise Refused(str(exc)) from None
        except WriteError as exc:
            trail.settled()
            code = EXIT_UNREACHABLE if exc.unreachable else EXIT_APPLY_FAILED
            raise Refused(str(exc), code) from None
        trail.settled()
        result: dict[str, Any] = {**summary, "outcome": "requested"}
        lines = [
            f"renewal of Certificate {cert.key} requested (revision "
            f"{cert.revision if cert.revision is not None else 'none'})"
        ]
        code = EXIT_OK
        if wait:
            after = wait_for_revision(writer, cert, options.wait_timeout)
            result["revision_after"] = after
            if after is None:
                lines.append(
                    f"no new revision within {options.wait_timeout:g}s; cert-manager may still be "
                    f"issuing (check: kubectl describe certificate -n {cert.namespace} {cert.name})"
                )
                result["outcome"] = "timed-out"
                code = EXIT_APPLY_FAILED
            else:
                lines.append(f"issued: revision {cert.revision} -> {after}")
                result["outcome"] = "issued"
        _report(options.json, result, lines)
        return code
    finally:
        connection.close()


def _report(as_json: bool, data: dict[str, Any], lines: list[str]) -> None:
    if as_json:
        print(json.dumps(data, indent=2))
    else:
        for line in lines:
            print(printable(line))  # names and warnings come from the cluster
