"""Ask cert-manager to re-issue a Certificate now, as `cmctl renew` does (default: the root CA).

Sets the Certificate's Issuing condition to True with reason ManuallyTriggered through the status
subresource; cert-manager then issues a new revision. NAME is a Certificate name or NAMESPACE/NAME; without
it the Certificate behind the AIO root CA secret is renewed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from tui.commands.change_common import (
    ENV_HELP,
    EXIT_APPLY_FAILED,
    EXIT_OK,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Refused,
    Trail,
    add_change_arguments,
    confirm,
    fail,
    load_user_config,
    positive_timeout,
    refuse_if_read_only,
    state_directory,
)

if TYPE_CHECKING:
    pass

EPILOG = f"""\
examples:
  aio-certs renew                       # the AIO root CA Certificate
  aio-certs renew cert-manager/azure-iot-operations-aio-selfsigned-root --yes --wait
  aio-certs renew aio-broker-frontend --dry-run

exit status:
  0  renewal requested (and, with --wait, the new revision was issued); --dry-run printed what it would do
  1  refused: unknown or ambiguous Certificate, --read-only, or not confirmed; nothing was changed
  2  bad usage
  3  the cluster could not be reached or read
  4  the request was written but --wait saw no new revision in time, or the write failed

{ENV_HELP}"""

POLL_SECONDS = 0.1


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``renew`` options."""
    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="Certificate name or NAMESPACE/NAME (default: the root CA's Certificate)")
    parser.add_argument("--wait", action="store_true",
                        help="wait (up to --wait-timeout) until cert-manager has issued the new revision")
    add_change_arguments(parser, wait_help="with --wait: how long to wait for the new revision (default: 60)")


def run(args: argparse.Namespace) -> int:
    """Request the renewal; returns the exit status (see EPILOG). Every run leaves one audit line."""
    # The Certificate as the user named it; once found, its NAMESPACE/NAME (the root CA's by default).
    trail = Trail("renew", context=getattr(args, "context", None) or "",
                  entries=[args.name] if getattr(args, "name", None) else [])
    try:
        return _renew(args, trail)
    except Refused as refused:
        trail.refused(refused)
        return fail("renew", str(refused), refused.code)
    except KeyboardInterrupt:
        trail.record("interrupted", detail="interrupted by the user")
        raise
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        message = f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0]
        trail.record("failed", detail=message)
        return fail("renew", message, EXIT_APPLY_FAILED)


def _renew(args: argparse.Namespace, trail: Trail) -> int:
    from tui.commands.common import UsageError
    from tui.core.changes.renewal import RenewTargetError, find_certificate, renew_warnings
    from tui.ops.renew import request_renewal, wait_for_revision

    config = load_user_config(args)
    positive_timeout(args)
    directory = state_directory(config)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    if not args.dry_run:
        refuse_if_read_only(args, "renew")
    from tui.ops.journal import notice_lines

    for line in notice_lines(directory):
        print(line, file=sys.stderr)
    try:
        from tui.commands.common import model_settings

        settings = model_settings(args)
    except UsageError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None

    from tui.cluster.config import ClusterConfigError
    from tui.cluster.oneshot import read_once
    from tui.cluster.watch_set import unreachable_reason
    from tui.cluster.writes import ClusterWriter, WriteError
    from tui.commands.common import connect_cluster
    from tui.core.build.assemble import build_state
    from tui.core.clock import SystemClock

    clock = SystemClock()
    try:
        connection = connect_cluster(args)
    except ClusterConfigError as exc:
        raise Refused(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE) from None
    trail.context = connection.context
    try:
        timeout = float(args.request_timeout)
        raw = read_once(connection.api_client, settings, clock=clock, timeout=(min(5.0, timeout), timeout))
        reason = unreachable_reason(raw)
        if reason is not None:
            raise Refused(f"cannot reach the cluster at {connection.server} (context {connection.context}): "
                          f"{reason}", EXIT_UNREACHABLE)
        state = build_state(raw, settings=settings, now=clock.now())
        try:
            cert = find_certificate(state, args.name)
        except RenewTargetError as exc:
            raise Refused(str(exc)) from None
        trail.entries = (cert.key,)
        warnings = list(renew_warnings(cert))
        summary = {"certificate": cert.key, "secret": cert.secret_name, "is_ca": cert.is_ca,
                   "revision_before": cert.revision, "warnings": warnings}
        if args.dry_run:
            _report(args, {**summary, "outcome": "dry-run"},
                    [f"would renew Certificate {cert.key} (secret {cert.secret_name}, revision "
                     f"{cert.revision if cert.revision is not None else 'none'}): set Issuing=True reason "
                     "ManuallyTriggered", *(f"warning: {w}" for w in warnings)])
            trail.record("dry-run")
            return EXIT_OK
        try:
            confirm(f"Renew Certificate {cert.key}?", yes=args.yes, warnings=warnings)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        writer = ClusterWriter(connection.api_client, timeout=(min(5.0, timeout), timeout))
        try:
            # The write and its audit line ("applied" or "failed") are the change engine's, as in the
            # dashboard; the trail records only what happens around it.
            assert trail.log is not None  # opened with the state directory above
            request_renewal(writer, cert, audit=trail.log, context=connection.context, clock=clock)
        except WriteError as exc:
            trail.settled()
            code = EXIT_UNREACHABLE if exc.unreachable else EXIT_APPLY_FAILED
            raise Refused(str(exc), code) from None
        trail.settled()
        result: dict[str, Any] = {**summary, "outcome": "requested"}
        lines = [f"renewal of Certificate {cert.key} requested (revision "
                 f"{cert.revision if cert.revision is not None else 'none'})"]
        code = EXIT_OK
        if args.wait:
            after = wait_for_revision(writer, cert, args.wait_timeout)
            result["revision_after"] = after
            if after is None:
                lines.append(f"no new revision within {args.wait_timeout:g}s; cert-manager may still be "
                             f"issuing (check: kubectl describe certificate -n {cert.namespace} {cert.name})")
                result["outcome"] = "timed-out"
                code = EXIT_APPLY_FAILED
            else:
                lines.append(f"issued: revision {cert.revision} -> {after}")
                result["outcome"] = "issued"
        _report(args, result, lines)
        return code
    finally:
        connection.close()


def _report(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> None:
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        for line in lines:
            print(line)

