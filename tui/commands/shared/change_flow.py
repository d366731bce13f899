"""The flow every list-changing command runs: plan, show, confirm, apply, report.

``trust add|remove``, ``issuer add|remove`` and ``vault add`` differ only in the change set they stage;
:func:`run_change` does the rest: mention unfinished applies, refuse in read-only mode, read the site,
plan, print the diff (``--dry-run`` stops there), print one line per problem and exit 1, warn
(Azure-managed objects...) and ask, apply with progress on stderr, and report. :func:`open_session` is
also how ``vault list``, ``journal resume|rollback`` and the live dashboard reach the change engine.

Lists that Azure Resource Manager owns are written through ARM (the session gets the ARM adapter from
here); when ARM cannot be written the plan is refused with the equivalent ``az iot ops`` commands, or,
with ``--local-only``, the cluster copies are written and the drift is audited (docs/design.md §7).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

from tui.cluster.config import ClusterConfigError, ClusterConnection, connect
from tui.commands.shared.arm_reader import ARM_SDK, arm_target, open_arm
from tui.commands.shared.confirm import confirm
from tui.commands.shared.exits import (
    EXIT_APPLY_FAILED,
    EXIT_CONFLICT,
    EXIT_NOT_SYNCED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    Refused,
    fail,
    warn,
)
from tui.commands.shared.settings import (
    ArmSettings,
    Settings,
    UsageError,
    check_timeouts,
    refuse_if_read_only,
    state_directory,
)
from tui.commands.shared.trail import Trail
from tui.commands.shared.vault_reader import vault_target
from tui.core.changes.changeset import ChangeSet
from tui.core.changes.plan import Plan
from tui.core.clock import Clock, SystemClock
from tui.core.model.arm import ArmIds
from tui.core.model.state import ClusterState
from tui.core.text import one_line, printable
from tui.ops.apply import (
    APPLIED,
    CONFLICT,
    NOTHING_DONE,
    REFUSED,
    ApplyResult,
    StepEvent,
    audit_info_for,
    new_warnings,
)
from tui.ops.journal import notice_lines
from tui.ops.resume import ROLLED_BACK
from tui.ops.runner import ArmAccess, ArmFor, ChangeSession, SiteUnavailable
from tui.vault.client import make_secret_client
from tui.vault.sdk_imports import import_sdk


def open_session(settings: Settings) -> tuple[ChangeSession, ClusterConnection]:
    """Connect as the settings say and build a :class:`~tui.ops.runner.ChangeSession`.

    Raises :class:`Refused` (exit 1 for an unusable state directory, 2 for bad flags, 3 for an unreachable
    cluster). The state directory is checked first: the dashboard says what is wrong with it before
    anything else.
    """
    directory = state_directory(settings.state_dir)
    try:
        model = settings.model
    except UsageError as exc:
        raise Refused(str(exc), EXIT_USAGE) from None
    try:
        connection = connect(settings.connection)
    except ClusterConfigError as exc:
        raise Refused(f"cannot reach the cluster: {exc}", EXIT_UNREACHABLE) from None
    vault = settings.vault
    clients: dict[str, Any] = {}
    clock = SystemClock()

    def vault_client_for(state: Any) -> Any:
        url, _ = vault_target(vault, state)
        if url is None:
            return None
        if url not in clients:
            clients[url] = make_secret_client(
                url, auth=vault.auth, ca_bundle=vault.ca_bundle, timeout=settings.request_timeout
            )
        return clients[url]

    session = ChangeSession(
        connection.api_client,
        model,
        clock=clock,
        state_dir=directory,
        context=connection.context,
        vault_client_for=vault_client_for,
        timeout=settings.timeouts,
        arm_for=arm_access_for(
            settings.arm, auth=vault.auth, cloud=vault.cloud, clock=clock, timeout=settings.request_timeout
        ),
    )
    return session, connection


def arm_access_for(
    arm: ArmSettings, *, auth: str | None, cloud: str | None, clock: Clock, timeout: float | None = None
) -> ArmFor:
    """The change session's way to ARM (see :data:`~tui.ops.runner.ArmFor`), on the ARM adapter.

    Where the list resources are: the flags, else what the cluster says (``state.arm``), else the
    environment (:func:`~tui.commands.shared.arm_reader.arm_target`); a site that names no ARM resource
    gets None. One adapter is kept per set of ids. A bad endpoint, CA file or auth mode is no access,
    with the reason, for the plan to refuse what ARM owns.
    """
    adapters: dict[ArmIds, Any] = {}

    def arm_for(state: ClusterState, _raw: Any) -> ArmAccess | None:
        ids = arm_target(arm, state)
        if ids is None:
            return None
        import_sdk(ARM_SDK)
        # The adapter brings the Azure SDK: imported when a change first needs ARM, one thread at a time.
        from tui.arm.errors import classify
        from tui.arm.reader import read_arm_snapshot

        adapter = adapters.get(ids)
        if adapter is None:
            try:
                adapter = open_arm(arm, ids, auth=auth, cloud=cloud, timeout=timeout)
            except Exception as exc:  # bad endpoint, CA file or auth mode: no access, with the reason
                state_of, reason = classify(exc)
                return ArmAccess(None, problem=reason, state=state_of)
            adapters[ids] = adapter
        return ArmAccess(adapter, read=lambda: read_arm_snapshot(adapter, clock=clock))

    return arm_for


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
        # Targets and reasons come from the cluster, ARM and the vault: one line, control characters escaped.
        print(one_line(text), file=out, flush=True)

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
        "sync_pending": []
        if result.sync is None
        else [{"secret_sync": c.expectation.key, "reason": c.reason} for c in result.sync.pending],
    }


def report_result(command: str, result: ApplyResult, *, verb: str = "apply") -> int:
    """Print the end of an apply (stderr) and return the exit status."""
    if result.outcome in (APPLIED, ROLLED_BACK):
        if result.sync is not None and not result.sync.ok:
            waited = f"{verb} done, but not synced within the wait: {result.sync.describe()}"
            return fail(command, waited, EXIT_NOT_SYNCED)
        return EXIT_OK
    if result.outcome == CONFLICT:
        if not result.journal_kept:
            return fail(command, f"conflict: {result.error}", EXIT_CONFLICT)
        return fail(
            command,
            f"conflict ({result.done}/{len(result.steps)} steps done): {result.error}. "
            f"Journal {result.journal_id} kept: run `aio-certs journal rollback {result.journal_id}` "
            f"or, once the other writer is done, `aio-certs journal resume {result.journal_id}`",
            EXIT_CONFLICT,
        )
    if result.outcome == REFUSED:
        return fail(
            command,
            f"{verb} refused: {result.error}; nothing was written (journal {result.journal_id} kept)",
            EXIT_REFUSED,
        )
    if result.outcome == NOTHING_DONE:
        return fail(
            command,
            f"{verb} failed before anything was written: {result.error}; nothing was changed",
            EXIT_APPLY_FAILED,
        )
    done = f"{result.done}/{len(result.steps)} steps done"
    return fail(
        command,
        f"{verb} failed ({done}): {result.error}. Journal {result.journal_id} kept: run "
        f"`aio-certs journal resume {result.journal_id}` or "
        f"`aio-certs journal rollback {result.journal_id}`",
        EXIT_APPLY_FAILED,
    )


def apply_question(plan: Plan, context: str) -> str:
    """The ``[y/N]`` question before an apply; it names the secrets a purge deletes for good (issue 13,
    item 11: the ``remove --purge`` prompt did not mention the purge)."""
    question = f"Apply these {len(plan.steps)} step(s) to context {printable(context)}?"
    purged = [printable(d.secret_name) for d in plan.vault_deletes if d.purge]
    deleted = [printable(d.secret_name) for d in plan.vault_deletes if not d.purge]
    if purged:
        question += (
            f" This deletes and PURGES Key Vault secret {', '.join(purged)}: deleted for good, it cannot "
            "be recovered."
        )
    if deleted:
        question += f" This deletes Key Vault secret {', '.join(deleted)} (recoverable until purged)."
    return question


def replan_asker(context: str, *, yes: bool, diff_to: Any = None) -> Callable[[Plan, Plan], bool]:
    """What the CLI does when a conflict made the apply re-plan (issue 13, item 15): print the new diff
    and the warnings the new plan adds, then ask again (with ``--yes``, go on after printing them).

    The diff goes to stdout like the first one (``diff_to``: stderr under ``--json``, whose stdout is
    one document). Stdin is a terminal here whenever ``yes`` is off: the first question required one."""

    def ask(previous: Plan, replanned: Plan) -> bool:
        print(
            "aio-certs: the lists changed while this apply ran (a concurrent change); the rest of the "
            f"apply was planned again (revision {replanned.revision}):",
            file=sys.stderr,
        )
        print(replanned.render_diff(), file=diff_to or sys.stdout)
        try:
            confirm(
                f"Go on with the new plan ({len(replanned.steps)} step(s) left) on context "
                f"{printable(context)}?",
                yes=yes,
                warnings=new_warnings(previous, replanned),
            )
        except Refused:
            return False
        return True

    return ask


def plan_trail(trail: Trail, plan: Plan, state: ClusterState | None) -> None:
    """Point ``trail`` at what ``plan`` concerns (thumbprints, secrets, entries, plan id)."""
    info = audit_info_for(plan, action=trail.action, context=trail.context, state=state)
    trail.thumbprints, trail.vault_secrets, trail.entries = info.thumbprints, info.vault_secrets, info.entries
    trail.plan_id = plan.plan_id


def run_change(
    settings: Settings, *, command: str, action: str, build: Callable[[], ChangeSet], trail: Trail
) -> int:
    """Plan and apply the changes ``build`` stages; returns the exit status.

    Run it inside :func:`~tui.commands.shared.trail.run_audited`: every run that gets as far as a usable
    state directory leaves one audit line, refusals and dry runs included.
    """
    options = settings.change
    check_timeouts(settings)
    directory = state_directory(settings.state_dir)
    trail.open(directory)  # from here on every way out is audited, before any cluster connection
    for line in notice_lines(directory):
        print(line, file=sys.stderr)
    if not options.dry_run:
        refuse_if_read_only(settings, action)
    changes = build()
    session, connection = open_session(settings)
    warn(command, connection.warning)
    trail.context = connection.context
    try:
        try:
            plan, site = session.plan(changes, local_only=options.local_only)
        except SiteUnavailable as exc:
            raise Refused(str(exc), EXIT_UNREACHABLE) from None
        if options.json:
            document: dict[str, Any] = {"plan": plan.to_json()}
        if plan.problems:
            if options.json:
                print(json.dumps(document, indent=2, default=str))
            for problem in plan.problems:
                print(f"aio-certs {command}: {one_line(str(problem))}", file=sys.stderr)
            session.record_refusal(action, plan, "; ".join(str(p) for p in plan.problems))
            trail.settled()
            return EXIT_REFUSED
        plan_trail(trail, plan, site.state)
        if not plan.steps:
            if options.json:
                print(json.dumps(document, indent=2, default=str))
            else:
                print("nothing to do: the lists already look like that")
            trail.record("nothing-to-do")
            return EXIT_OK
        if not options.json:
            print(plan.render_diff())
        warnings = [str(w) for w in plan.warnings]
        if options.dry_run:
            if options.json:
                print(json.dumps(document, indent=2, default=str))
            for warning in warnings:
                print(f"warning: {one_line(warning)}", file=sys.stderr)
            trail.record("dry-run")
            return EXIT_OK
        try:
            confirm(apply_question(plan, connection.context), yes=options.yes, warnings=warnings)
        except Refused as refused:
            trail.record("cancelled", detail=str(refused))
            raise
        result = session.apply(
            plan,
            site,
            action=action,
            progress=progress_printer(),
            wait_timeout=options.wait_timeout,
            on_replan=replan_asker(
                connection.context, yes=options.yes, diff_to=sys.stderr if options.json else None
            ),
        )
        trail.settled()  # the apply audits itself, with its outcome
        if options.json:
            document["result"] = result_json(result)
            print(json.dumps(document, indent=2, default=str))
        return report_result(command, result)
    finally:
        connection.close()
