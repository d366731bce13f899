"""The flow every list-changing command runs: plan, show, confirm, apply, report.

``trust add|remove``, ``issuer add|remove`` and ``vault add`` differ only in the change set they stage;
:func:`run_change` does the rest: read the config, mention unfinished applies, refuse in read-only mode,
read the site, plan, print the diff (``--dry-run`` stops there), print one line per problem and exit 1,
warn (Azure-managed objects...) and ask, apply with progress on stderr, and report. Heavy modules are
imported inside the functions (see ``tui/cli.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tui.commands.change_common import (
    EXIT_APPLY_FAILED,
    EXIT_CONFLICT,
    EXIT_NOT_SYNCED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Refused,
    Trail,
    confirm,
    fail,
    load_user_config,
    positive_timeout,
    refuse_if_read_only,
    state_directory,
)
from tui.core.text import one_line

if TYPE_CHECKING:
    from tui.cluster.config import ClusterConnection
    from tui.config import UserConfig
    from tui.core.changes.changeset import ChangeSet
    from tui.core.changes.plan import Plan
    from tui.core.model.state import ClusterState
    from tui.ops.apply import ApplyResult, StepEvent
    from tui.ops.runner import ChangeSession

BuildChanges = Callable[[argparse.Namespace], "ChangeSet"]


def open_session(args: argparse.Namespace, config: UserConfig) -> tuple[ChangeSession, ClusterConnection]:
    """Connect as the flags say and build a :class:`~tui.ops.runner.ChangeSession`.

    Raises :class:`Refused` (exit 1 for an unusable state directory, 2 for bad flags, 3 for an unreachable
    cluster). The state directory is checked first: the dashboard says what is wrong with it before
    anything else.
    """
    from tui.cluster.config import ClusterConfigError
    from tui.commands.common import UsageError, connect_cluster, model_settings, vault_settings, vault_target
    from tui.core.clock import SystemClock
    from tui.ops.runner import ChangeSession
    from tui.vault.client import make_secret_client

    directory = state_directory(config)
    try:
        settings = model_settings(args)
    except UsageError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None
    try:
        connection = connect_cluster(args)
    except ClusterConfigError as exc:
        raise Refused(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE) from None
    vault = vault_settings(args)
    clients: dict[str, Any] = {}

    def vault_client_for(state: Any) -> Any:
        url, _ = vault_target(vault, state)
        if url is None:
            return None
        if url not in clients:
            clients[url] = make_secret_client(url, auth=vault.auth, ca_bundle=vault.ca_bundle,
                                              timeout=float(args.request_timeout))
        return clients[url]

    timeout = float(args.request_timeout)
    session = ChangeSession(connection.api_client, settings, clock=SystemClock(),
                            state_dir=directory, context=connection.context,
                            vault_client_for=vault_client_for, timeout=(min(5.0, timeout), timeout))
    return session, connection


def progress_printer(stream: Any = None) -> Callable[[StepEvent], None]:
    """Progress lines on stderr: one per step start/end, sync checks as they change."""
    out = stream or sys.stderr

    def show(event: StepEvent) -> None:
        where = f"[{event.index + 1}/{event.total}] " if event.index is not None else ""
        target = f"{event.target}: " if event.target else ""
        if event.phase == "start":
            text = f"{where}{target}{event.message} ..."
        elif event.phase in ("done", "skipped"):
            text = f"{where}{target}{'done' if event.phase == 'done' else 'already in place'}"
        elif event.phase == "wait":
            text = f"waiting: {target}{event.message}"
        elif event.phase == "synced":
            text = f"synced: the synced Secrets show the change ({event.message})"
        elif event.phase == "wait-timeout":
            text = f"not synced yet: {event.message}"
        else:
            text = f"{where}{target}{event.phase}: {event.message}"
        print(text, file=out, flush=True)

    return show


def result_json(result: ApplyResult) -> dict[str, Any]:
    """The ``--json`` form of an apply, resume or rollback result."""
    return {
        "journal": result.journal_id,
        "outcome": result.outcome,
        "steps": len(result.steps),
        "done": result.done,
        "error": result.error,
        "conflicts": result.conflicts,
        "journal_kept": result.journal_kept,
        "synced": None if result.sync is None else result.sync.ok,
        "sync_pending": [] if result.sync is None else [
            {"secret_sync": c.expectation.key, "reason": c.reason} for c in result.sync.pending],
    }


def report_result(command: str, result: ApplyResult, *, verb: str = "apply") -> int:
    """Print the end of an apply (stderr) and return the exit status."""
    from tui.ops.apply import APPLIED, CONFLICT, NOTHING_DONE
    from tui.ops.resume import ROLLED_BACK

    if result.outcome in (APPLIED, ROLLED_BACK):
        if result.sync is not None and not result.sync.ok:
            print(f"aio-certs {command}: {verb} done, but not synced within the wait: "
                  f"{result.sync.describe()}", file=sys.stderr)
            return EXIT_NOT_SYNCED
        return EXIT_OK
    if result.outcome == CONFLICT:
        if not result.journal_kept:
            return fail(command, f"conflict: {result.error}", EXIT_CONFLICT)
        return fail(command, f"conflict ({result.done}/{len(result.steps)} steps done): {result.error}. "
                    f"Journal {result.journal_id} kept: run `aio-certs journal rollback {result.journal_id}` "
                    f"or, once the other writer is done, `aio-certs journal resume {result.journal_id}`",
                    EXIT_CONFLICT)
    if result.outcome == NOTHING_DONE:
        return fail(command, f"{verb} failed before anything was written: {result.error}; "
                    "nothing was changed", EXIT_APPLY_FAILED)
    done = f"{result.done}/{len(result.steps)} steps done"
    return fail(command, f"{verb} failed ({done}): {result.error}. Journal {result.journal_id} kept: run "
                f"`aio-certs journal resume {result.journal_id}` or "
                f"`aio-certs journal rollback {result.journal_id}`", EXIT_APPLY_FAILED)


def requested_trail(args: argparse.Namespace, action: str) -> Trail:
    """The audit trail of a change command, filled with what the user asked for as given: the entries
    (``list/file name``), secret names and file paths, for a refusal that comes before any plan."""
    list_name = getattr(args, "list_name", None) or action.split()[0]
    files = [str(f) for f in getattr(args, "files", None) or ()]
    names = [*(Path(f).name for f in files), *(getattr(args, "names", None) or ())]
    if getattr(args, "target_key", None):
        names.append(args.target_key)
    secrets = [s for s in (getattr(args, "secret_name", None), getattr(args, "secret", None)) if s]
    return Trail(action, context=getattr(args, "context", None) or "",
                 entries=[f"{list_name}/{n}" for n in names], vault_secrets=secrets,
                 extra={"files": files} if files else None)


def plan_trail(trail: Trail, plan: Plan, state: ClusterState | None) -> None:
    """Point ``trail`` at what ``plan`` concerns (thumbprints, secrets, entries, plan id)."""
    from tui.ops.apply import audit_info_for

    info = audit_info_for(plan, action=trail.action, context=trail.context, state=state)
    trail.thumbprints, trail.vault_secrets, trail.entries = info.thumbprints, info.vault_secrets, info.entries
    trail.plan_id = plan.plan_id


def run_change(args: argparse.Namespace, *, command: str, action: str, build: BuildChanges) -> int:
    """Plan and apply the changes ``build`` stages from ``args``; returns the exit status.

    Every run that gets as far as a usable state directory leaves one audit line, refusals and dry runs
    included (see :class:`~tui.commands.change_common.Trail`).
    """
    trail = requested_trail(args, action)
    try:
        return _run(args, command=command, action=action, build=build, trail=trail)
    except Refused as refused:
        trail.refused(refused)
        return fail(command, str(refused), refused.code)
    except KeyboardInterrupt:
        trail.record("interrupted", detail="interrupted by the user (the journal says what was done)")
        raise
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        message = f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0]
        trail.record("failed", detail=message)
        return fail(command, message, EXIT_APPLY_FAILED)


def _run(args: argparse.Namespace, *, command: str, action: str, build: BuildChanges, trail: Trail) -> int:
    from tui.ops.journal import notice_lines

    config = load_user_config(args)
    positive_timeout(args)
    directory = state_directory(config)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    for line in notice_lines(directory):
        print(line, file=sys.stderr)
    if not args.dry_run:
        refuse_if_read_only(args, action)
    changes = build(args)

    from tui.ops.runner import SiteUnavailable

    session, connection = open_session(args, config)
    trail.context = connection.context
    try:
        try:
            plan, site = session.plan(changes)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
        if args.json:
            document: dict[str, Any] = {"plan": plan.to_json()}
        if plan.problems:
            if args.json:
                print(json.dumps(document, indent=2, default=str))
            for problem in plan.problems:
                print(f"aio-certs {command}: {one_line(str(problem))}", file=sys.stderr)
            session.record_refusal(action, plan, "; ".join(str(p) for p in plan.problems))
            trail.settled()
            return EXIT_REFUSED
        plan_trail(trail, plan, site.state)
        if not plan.steps:
            if args.json:
                print(json.dumps(document, indent=2, default=str))
            else:
                print("nothing to do: the lists already look like that")
            trail.record("nothing-to-do")
            return EXIT_OK
        if not args.json:
            print(plan.render_diff())
        warnings = [str(w) for w in plan.warnings]
        if args.dry_run:
            if args.json:
                print(json.dumps(document, indent=2, default=str))
            for warning in warnings:
                print(f"warning: {one_line(warning)}", file=sys.stderr)
            trail.record("dry-run")
            return EXIT_OK
        try:
            confirm(f"Apply these {len(plan.steps)} step(s) to context {connection.context}?",
                    yes=args.yes, warnings=warnings)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        result = session.apply(plan, site, action=action, progress=progress_printer(),
                               wait_timeout=args.wait_timeout)
        trail.settled()  # the apply audits itself, with its outcome
        if args.json:
            document["result"] = result_json(result)
            print(json.dumps(document, indent=2, default=str))
        return report_result(command, result)
    finally:
        connection.close()
