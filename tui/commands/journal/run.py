"""Run ``aio-certs journal``: list the journals, or resume or roll back one (:mod:`.finish`)."""

from __future__ import annotations

import argparse
import json
import sys

from tui.commands.shared.exits import EXIT_OK, Refused
from tui.commands.shared.settings import Settings, command_settings, load_user_config, state_directory
from tui.commands.shared.trail import Trail, run_audited
from tui.core.changes.journal import SiteIdentity
from tui.core.text import printable
from tui.ops.journal import JournalError, JournalStore
from tui.ops.site import by_site


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

    return finish(
        command_settings(args, load_user_config()),
        action,
        args.journal_id,
        trail,
        site_unchecked=args.site_unchecked,
    )


def _list(args: argparse.Namespace) -> int:
    settings = command_settings(args, load_user_config())
    directory = state_directory(settings.state_dir, create=False)  # a listing creates nothing
    try:
        summaries = JournalStore(directory).infos()
    except JournalError as exc:
        raise Refused(str(exc)) from None
    every_site = bool(getattr(args, "all", False))
    others: dict[str, str] = {}
    unknown_site = ""
    if any(s.site is not None for s in summaries):
        # Which journals are this site's: several sites may share a context name (trial finding 1).
        # Only journals that record a site can be told apart: for none, nothing is read.
        current, unknown_site = _current_site(settings)
        if current is not None:
            others = {j.info.id: j.other for j in by_site(summaries, current) if j.other is not None}
    hidden = 0 if every_site else len(others)
    if not every_site:
        summaries = [s for s in summaries if s.id not in others]
    # What needs a decision first: pending applies and journals that cannot be read.
    summaries.sort(key=lambda s: (not (s.pending or s.problem), s.id))
    if args.json:
        print(json.dumps([{**s.to_json(), "other_site": others.get(s.id)} for s in summaries], indent=2))
        return EXIT_OK
    if unknown_site:
        print(
            printable(
                f"aio-certs journal: cannot tell which journals are this site's ({unknown_site}); listing all"
            ),
            file=sys.stderr,
        )
    if not summaries:
        print(f"no journals in {printable(str(directory))}" + (" for this site" if hidden else ""))
    for s in summaries:
        if s.problem:
            print(f"{printable(s.id)}  {'UNUSABLE':<11} {printable(s.problem_line)}")
            continue
        status = "RUNNING" if s.busy else ("PENDING" if s.pending else (s.outcome or "?"))
        site = "  (site not recorded)" if s.site is None else ""
        # Ids come from file names, contexts and descriptions from the file: escape what a terminal
        # would act on, and keep each journal on its line.
        print(
            printable(
                f"{s.id}  {status:<11} {s.done}/{s.steps} steps  context {s.context or '?'}{site}  "
                f"{'; '.join(s.description)}"
            )
        )
        if s.id in others:
            print(f"    OTHER SITE: {printable(others[s.id])}")
        if s.pending and s.failed:
            print(f"    last error: {printable(s.failed)}")
    if hidden:
        print(f"{hidden} journal(s) of other sites not shown (--all lists them)")
    return EXIT_OK


def _current_site(settings: Settings) -> tuple[SiteIdentity | None, str]:
    """The site the connection settings point at (one cheap read), or None and why it is unknown."""
    # Only when there are journals to sort: the kubernetes client costs ~0.4 s of imports.
    from tui.cluster.config import ClusterConfigError, connect
    from tui.ops.site import read_site

    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        return None, str(exc)
    try:
        return read_site(
            connection.api_client, connection.server, settings.vault.url, timeout=settings.timeouts
        ), ""
    finally:
        connection.close()
