"""List the journals of earlier applies, and resume or roll back one that was interrupted or failed.

Every change is journaled step by step in the state directory before it is written. An apply killed
part way (or that failed on a lost connection or a refused write) leaves its journal pending; every
change command mentions pending journals when it starts. `resume ID` runs the remaining steps against
the objects as they are now; `rollback ID` undoes what was done, newest step first. A journal file that
cannot be read whole (empty, garbage, no plan record...) is listed as UNUSABLE with what is wrong, and is
never resumed or rolled back. Resume and rollback are audited like every change, refusals included.
"""

from __future__ import annotations

import argparse
import json
import sys

from tui.commands.change_common import (
    ENV_HELP,
    EXIT_APPLY_FAILED,
    EXIT_CODES_HELP,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
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
from tui.core.text import printable

EPILOG = f"""\
examples:
  aio-certs journal                     # every journal; pending and UNUSABLE ones first
  aio-certs journal resume 20260301T120000Z-3f9a1c --yes
  aio-certs journal rollback 20260301T120000Z-3f9a1c

{EXIT_CODES_HELP}
{ENV_HELP}"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Register ``journal [list]``, ``journal resume ID`` and ``journal rollback ID``."""
    parser.add_argument("--json", action="store_true", help="print the journals as JSON (with `list`)")
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    listing = sub.add_parser("list", help="list journals (the default)")
    listing.add_argument("--json", action="store_true", help="print a JSON array")
    for action, text in (("resume", "run the remaining steps of an interrupted apply"),
                         ("rollback", "undo what an interrupted apply did")):
        cmd = sub.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".",
                             epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
        cmd.add_argument("journal_id", metavar="ID", help="journal id, as `aio-certs journal` lists it")
        add_change_arguments(cmd)


def run(args: argparse.Namespace) -> int:
    """Run the journal action; returns the exit status."""
    action = getattr(args, "action", None) or "list"
    # Resume and rollback are changes: one audit line each, whatever ends them. Listing is not.
    trail = Trail(f"journal {action}", context=getattr(args, "context", None) or "",
                  extra={"journal": getattr(args, "journal_id", "")})
    try:
        if action == "list":
            return _list(args)
        return _finish(args, action, trail)
    except Refused as refused:
        trail.refused(refused)
        return fail(f"journal {action}", str(refused), refused.code)
    except KeyboardInterrupt:
        trail.record("interrupted", detail="interrupted by the user (the journal says what was done)")
        raise
    except BrokenPipeError:
        raise
    except Exception as exc:  # a bug must still end in one line, never a traceback
        message = f"unexpected error: {type(exc).__name__}: {exc}".splitlines()[0]
        trail.record("failed", detail=message)
        return fail(f"journal {action}", message, EXIT_APPLY_FAILED)


def _list(args: argparse.Namespace) -> int:
    from tui.ops.journal import JournalError, JournalStore

    config = load_user_config(args)
    directory = state_directory(config, create=False)  # a listing creates nothing
    try:
        summaries = JournalStore(directory).infos()
    except JournalError as exc:
        raise Refused(str(exc)) from None
    # What needs a decision first: pending applies and journals that cannot be read.
    summaries.sort(key=lambda s: (not (s.pending or s.problem), s.id))
    if args.json:
        print(json.dumps([s.to_json() for s in summaries], indent=2))
        return EXIT_OK
    if not summaries:
        print(f"no journals in {printable(str(directory))}")
        return EXIT_OK
    for s in summaries:
        if s.problem:
            print(f"{printable(s.id)}  {'UNUSABLE':<11} {printable(s.problem_line)}")
            continue
        status = "RUNNING" if s.busy else ("PENDING" if s.pending else (s.outcome or "?"))
        print(f"{s.id}  {status:<11} {s.done}/{s.steps} steps  context {s.context or '?'}  "
              f"{'; '.join(s.description)}")
        if s.pending and s.failed:
            print(f"    last error: {s.failed}")
    return EXIT_OK


def _finish(args: argparse.Namespace, action: str, trail: Trail) -> int:
    from tui.commands.change_run import open_session, progress_printer, report_result, result_json
    from tui.ops.journal import JournalError, JournalStore
    from tui.ops.runner import SiteUnavailable

    config = load_user_config(args)
    positive_timeout(args)
    directory = state_directory(config)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    store = JournalStore(directory)
    try:
        summary = next((s for s in store.infos() if s.id == args.journal_id), None)
    except JournalError as exc:
        summary, unusable = None, str(exc)
    else:
        unusable = None
    if summary is not None and not summary.problem:
        # Read before any refusal, so that even a refused attempt says which entries it concerned.
        fields = summary.audit_fields
        trail.thumbprints, trail.vault_secrets, trail.entries = (fields.thumbprints, fields.vault_secrets,
                                                                 fields.entries)
        trail.plan_id = summary.plan_id
    if not args.dry_run:
        refuse_if_read_only(args, f"journal {action}")
    if unusable is not None:
        raise Refused(unusable)
    if summary is None:
        raise Refused(f"journal {printable(args.journal_id)}: not found in {store.directory}")
    if summary.problem:
        verb = "resumed" if action == "resume" else "rolled back"
        raise Refused(f"{summary.problem_line}; it cannot be {verb}")
    if summary.busy:
        raise Refused(f"journal {printable(args.journal_id)}: another aio-certs process is working on it")
    if not summary.pending:
        raise Refused(f"journal {printable(args.journal_id)}: already {summary.outcome}; nothing to {action}")
    what = "; ".join(summary.description)
    todo = (f"{summary.steps - summary.done} remaining step(s)" if action == "resume"
            else f"undo of {summary.done + summary.uncertain} step(s)")
    text = f"{action} journal {summary.id} ({what}): {todo}, context {summary.context}"
    if args.dry_run:
        print(f"would {text}")
        trail.record("dry-run")
        return EXIT_OK
    session, connection = open_session(args, config)
    trail.context = connection.context
    try:
        if summary.context and connection.context != summary.context:
            raise Refused(f"journal {summary.id} was written against context {summary.context}, but the "
                          f"current context is {connection.context}; pass --context {summary.context}")
        try:
            confirm(f"{text[0].upper()}{text[1:]}?", yes=args.yes)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        runner = session.resume if action == "resume" else session.rollback
        try:
            result = runner(summary.id, progress=progress_printer(), wait_timeout=args.wait_timeout)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
        except JournalError as exc:
            raise Refused(str(exc), EXIT_REFUSED) from None
        trail.settled()  # the resume or rollback audits itself, with its outcome
        if args.json:
            print(json.dumps(result_json(result), indent=2))
        code = report_result(f"journal {action}", result, verb=action)
        if code == EXIT_OK:
            word = "resumed and applied" if action == "resume" else "rolled back"
            print(f"journal {summary.id}: {word}", file=sys.stderr)
        return code
    finally:
        connection.close()

