"""``aio-certs journal resume|rollback ID``: finish or undo an interrupted apply, audited like every change.

Imported by :mod:`.run` only for these two actions: they need the change engine and the cluster and
vault clients, which a listing does not.
"""

from __future__ import annotations

import json
import sys

from tui.commands.shared.change_flow import open_session, progress_printer, report_result, result_json
from tui.commands.shared.confirm import confirm
from tui.commands.shared.exits import EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, Refused, warn
from tui.commands.shared.settings import Settings, check_timeouts, refuse_if_read_only, state_directory
from tui.commands.shared.trail import Trail
from tui.core.text import printable
from tui.ops.journal import APPLIED, ROLLED_BACK, JournalError, JournalInfo, JournalStore
from tui.ops.runner import SiteUnavailable
from tui.ops.site import OtherSite, refuse_other_site


def finish(
    settings: Settings, action: str, journal_id: str, trail: Trail, *, site_unchecked: bool = False
) -> int:
    """``resume`` or ``rollback`` (``action``) the journal ``journal_id``; returns the exit status.

    A journal written for another site than the one connected now (API server or cluster, vault, ARM
    resources), or recording none, is refused before anything is asked or written, unless
    ``site_unchecked`` (``--site-unchecked``: the user vouches that this is its site).

    Raises :class:`~tui.commands.shared.exits.Refused` for every refusal (run it inside
    :func:`~tui.commands.shared.trail.run_audited`).
    """
    options = settings.change
    check_timeouts(settings)
    directory = state_directory(settings.state_dir)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    store = JournalStore(directory)
    unusable: str | None = None
    try:
        summary = next((s for s in store.infos() if s.id == journal_id), None)
    except JournalError as exc:
        summary, unusable = None, str(exc)
    if summary is not None and not summary.problem:
        # Read before any refusal, so that even a refused attempt says which entries it concerned.
        fields = summary.audit_fields
        trail.thumbprints, trail.vault_secrets, trail.entries = (
            fields.thumbprints,
            fields.vault_secrets,
            fields.entries,
        )
        trail.plan_id = summary.plan_id
    if not options.dry_run:
        refuse_if_read_only(settings, f"journal {action}")
    if unusable is not None:
        raise Refused(unusable)
    if summary is None:
        raise Refused(f"journal {printable(journal_id)}: not found in {store.directory}")
    if summary.problem:
        verb = "resumed" if action == "resume" else "rolled back"
        raise Refused(f"{summary.problem_line}; it cannot be {verb}")
    if summary.busy:
        raise Refused(f"journal {printable(journal_id)}: another aio-certs process is working on it")
    if not summary.pending:
        return _finished(summary, action, trail)
    what = "; ".join(summary.description)
    todo = (
        f"{summary.steps - summary.done} remaining step(s)"
        if action == "resume"
        else f"undo of {summary.done + summary.uncertain} step(s)"
    )
    text = printable(f"{action} journal {summary.id} ({what}): {todo}, context {summary.context}")
    if options.dry_run:
        print(f"would {text}")
        trail.record("dry-run")
        return EXIT_OK
    session, connection = open_session(settings)
    warn(f"journal {action}", connection.warning)
    trail.context = connection.context
    try:
        if summary.site is None and summary.context and connection.context != summary.context:
            # A journal of an earlier aio-certs names only its context: at least that must match.
            raise Refused(
                f"journal {printable(summary.id)} was written against context "
                f"{printable(summary.context)}, but the current context is "
                f"{printable(connection.context)}; pass --context {printable(summary.context)}"
            )
        try:
            # Before the question: the answer would not matter on the wrong site.
            refuse_other_site(summary, session.current_site(), unchecked=site_unchecked, action=action)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
        except OtherSite as exc:
            raise Refused(str(exc)) from None
        try:
            confirm(f"{text[0].upper()}{text[1:]}?", yes=options.yes)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        runner = session.resume if action == "resume" else session.rollback
        try:
            result = runner(
                summary.id,
                progress=progress_printer(),
                wait_timeout=options.wait_timeout,
                site_unchecked=site_unchecked,
            )
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
        except JournalError as exc:
            raise Refused(str(exc), EXIT_REFUSED) from None
        trail.settled()  # the resume or rollback audits itself, with its outcome
        if options.json:
            print(json.dumps(result_json(result), indent=2))
        code = report_result(f"journal {action}", result, verb=action)
        if code == EXIT_OK:
            word = "resumed and applied" if action == "resume" else "rolled back"
            print(f"journal {printable(summary.id)}: {word}", file=sys.stderr)
        return code
    finally:
        connection.close()


def _opposite(description: str) -> str | None:
    """The command that takes back one applied change (``description`` as the journal words it)."""
    words = description.split(" ")
    if words[:3] == ["add", "or", "replace"] or len(words) < 2:
        return None  # an overwrite: only the previous file, added again with --overwrite, takes it back
    list_name, _, target = words[1].partition("/")
    if words[0] == "add" and target and not target.startswith("<"):
        return f"aio-certs {list_name} remove {target}"
    if words[0] == "remove" and target:
        return f"aio-certs {list_name} add <the file of {target}>"
    return None


def _finished(summary: JournalInfo, action: str, trail: Trail) -> int:
    """A journal that already ended: nothing to do (exit 0) when the ask is already true, else refused.

    ``help`` promises exit 0 when there is nothing to do; a resume of an applied journal and a rollback of
    a rolled-back one are that. A rollback of an applied journal is too (nothing is unfinished), and says
    how to take the change back instead; a resume of an undone or abandoned one has no plan left to run.
    """
    name = printable(summary.id)
    if action == "resume" and summary.outcome == APPLIED:
        line = f"journal {name}: already applied; nothing to resume"
    elif action == "rollback" and summary.outcome == ROLLED_BACK:
        line = f"journal {name}: already rolled back; nothing to roll back"
    elif action == "rollback" and summary.outcome == APPLIED:
        undo = [c for c in map(_opposite, summary.description) if c]
        how = f": {'; '.join(undo)}" if undo else ""
        line = (
            f"journal {name}: was applied, so there is no unfinished apply to roll back (a rollback undoes "
            f"an interrupted or failed apply). To take the change back, make the opposite change{how}"
        )
    else:
        outcome = {ROLLED_BACK: "rolled back"}.get(summary.outcome or "", summary.outcome)
        raise Refused(f"journal {name}: already {outcome}; nothing to {action}; plan the change again")
    print(printable(line), file=sys.stderr)
    trail.record("nothing-to-do", detail=line)
    return EXIT_OK
