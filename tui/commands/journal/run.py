"""Run ``aio-certs journal``: list the journals, or resume or roll back one (:mod:`.finish`)."""

from __future__ import annotations

import argparse
import json

from tui.commands.shared.exits import EXIT_OK, Refused
from tui.commands.shared.settings import command_settings, load_user_config, state_directory
from tui.commands.shared.trail import Trail, run_audited
from tui.core.text import printable
from tui.ops.journal import JournalError, JournalStore


def run(args: argparse.Namespace) -> int:
    """Run the journal action; returns the exit status."""
    action = args.action or "list"
    if action == "list":
        # A listing changes nothing: its trail is never opened, so it leaves no audit line.
        trail = Trail("journal list")
        return run_audited("journal list", trail, lambda: _list(args))
    # Resume and rollback are changes: one audit line each, whatever ends them.
    trail = Trail(f"journal {action}", context=args.context or "", extra={"journal": args.journal_id})
    return run_audited(f"journal {action}", trail, lambda: _finish(args, action, trail))


def _finish(args: argparse.Namespace, action: str, trail: Trail) -> int:
    # Resume and rollback reach the cluster and the vault through the change engine (~0.4 s of imports:
    # kubernetes, the Azure SDK); a listing reads only the state directory and does not pay for them.
    from tui.commands.journal.finish import finish

    return finish(command_settings(args, load_user_config()), action, args.journal_id, trail)


def _list(args: argparse.Namespace) -> int:
    settings = command_settings(args, load_user_config())
    directory = state_directory(settings.state_dir, create=False)  # a listing creates nothing
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
        # Ids come from file names, contexts and descriptions from the file: escape what a terminal
        # would act on, and keep each journal on its line.
        print(
            printable(
                f"{s.id}  {status:<11} {s.done}/{s.steps} steps  context {s.context or '?'}  "
                f"{'; '.join(s.description)}"
            )
        )
        if s.pending and s.failed:
            print(f"    last error: {printable(s.failed)}")
    return EXIT_OK
