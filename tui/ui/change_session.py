"""The dashboard's link to the change engine: one :class:`~tui.ops.runner.ChangeSession`, made on first
use from the factory the command passed in, and the blocking calls the change dialogs make through it.

Every function here does network I/O and is called from a thread worker, never on the UI thread. Each
failure becomes :class:`ChangeFailed` with one line to show; nothing here prints, and no value read from
the vault is ever put into a message.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING

from tui.core.changes.file_rules import PKCS12_CONTENT_TYPE, FileContent, read_content, vault_value
from tui.core.model.snapshot import VaultSecret
from tui.core.model.state import CertificateView, ClusterState
from tui.vault.sdk_imports import VAULT, import_sdk

if TYPE_CHECKING:
    from tui.core.changes.changeset import ChangeSet
    from tui.core.changes.plan import Plan
    from tui.core.changes.validation import Issue
    from tui.ops.runner import ChangeSession, Site

log = logging.getLogger(__name__)

SessionFactory = Callable[[], "ChangeSession"]
"""Builds the session (no network at construction); may raise with a one-line reason."""

RENEW_ACTION = "renew"
"""Audit action of a renewal (:data:`tui.ops.renew.RENEW_ACTION`)."""


class ChangeFailed(Exception):
    """A change could not be read, planned or written; ``str()`` is one line for the user."""


def one_line(exc: BaseException) -> str:
    """A one-line reason for any failure (the adapters' own messages are already one line)."""
    from tui.ops.apply import failure_line
    from tui.ops.runner import SiteUnavailable

    if isinstance(exc, ChangeFailed | SiteUnavailable):
        return " ".join(str(exc).split())
    return failure_line(exc)[0]


def outcome_of(exc: BaseException) -> str:
    """The audit outcome of a change stopped by ``exc`` before anything was written."""
    from tui.ops.journal import JournalError
    from tui.ops.runner import SiteUnavailable

    if isinstance(exc, SiteUnavailable):
        return "unreachable"
    return "refused" if isinstance(exc, ChangeFailed | JournalError) else "failed"


def audit_attempt(
    session: ChangeSession,
    action: str,
    outcome: str,
    *,
    entries: Iterable[str] = (),
    thumbprints: Iterable[str] = (),
    vault_secrets: Iterable[str] = (),
    plan_id: str | None = None,
    detail: str = "",
) -> None:
    """Record a change the dashboard was asked for and that the change engine did not audit itself
    (refused, cancelled, not planned). Call from a worker. A log that cannot be written is logged, not
    raised: the dialog already says what became of the change."""
    try:
        session.audit.record(
            action=action,
            outcome=outcome,
            context=session.context,
            entries=entries,
            thumbprints=thumbprints,
            vault_secrets=vault_secrets,
            plan_id=plan_id,
            detail=detail,
        )
    except OSError as exc:
        log.warning("cannot write the audit log: %s", exc)


class SessionHolder:
    """Makes the :class:`ChangeSession` once, on first use (from a worker), and keeps it."""

    def __init__(self, factory: SessionFactory | None) -> None:
        self._factory = factory
        self._session: ChangeSession | None = None
        self._lock = threading.Lock()

    @property
    def available(self) -> bool:
        """Whether changes can be written at all (the dashboard was given a way to make a session)."""
        return self._factory is not None

    def may_have_pending_journals(self) -> bool:
        """Whether an unfinished apply may be waiting, asked without making the session: the factory
        may answer cheaply (``pending_journals_possible``, the commands' :class:`LazySession`), or
        else it may. Call from a worker (it reads the state directory)."""
        if self._session is not None or self._factory is None:
            return True
        probe = getattr(self._factory, "pending_journals_possible", None)
        return True if probe is None else bool(probe())

    def get(self) -> ChangeSession:
        """The session; :class:`ChangeFailed` when there is none or it cannot be made."""
        with self._lock:
            if self._session is None:
                if self._factory is None:
                    raise ChangeFailed(
                        "changes are not available in this view (no cluster connection for writes)"
                    )
                try:
                    self._session = self._factory()
                except Exception as exc:  # bad config, state directory...: one line, never a traceback
                    reason = " ".join(str(exc).split()) or type(exc).__name__
                    raise ChangeFailed(f"cannot prepare changes: {reason}") from None
            return self._session


@dataclass(frozen=True)
class VaultCandidate:
    """A vault secret no list maps yet, with what its value holds."""

    secret: VaultSecret
    content: FileContent | None
    """The certificate or CRL it decodes to (None when it does not)."""
    problem: str | None
    """Why it cannot go into a list (not a certificate or CRL, disabled...), or None."""

    @property
    def name(self) -> str:
        """The secret name."""
        return self.secret.name


@dataclass(frozen=True)
class VaultCandidates:
    """What "add from Key Vault" offers: the unmapped secrets, and the listing the core validates with."""

    vault_url: str
    candidates: tuple[VaultCandidate, ...]
    secrets: Mapping[str, VaultSecret]
    """Every secret of the vault (values read for the candidates), for
    :func:`tui.ui.view.staging.check_new`."""
    note: str = ""
    """Why some values could not be read (those candidates say "not read"), or empty."""


def mapped_secret_names(state: ClusterState) -> set[str]:
    """Lower-case names of the secrets a list entry or an SPC object already uses."""
    names = {e.source_path.lower() for e in state.opcua if e.source_path}
    names |= {o.object_name.lower() for s in state.spcs for o in s.objects}
    return names


def describe_candidate(secret: VaultSecret) -> VaultCandidate:
    """Decode a secret's value as the provider would write it; say why when it is no certificate or CRL."""
    if not secret.enabled:
        return VaultCandidate(secret, None, "disabled in Key Vault; the provider cannot read it")
    if (secret.content_type or "").lower() == PKCS12_CONTENT_TYPE:
        return VaultCandidate(secret, None, "the PKCS#12 secret of a Key Vault certificate object")
    held = vault_value(secret)
    if held.payload is None:
        return VaultCandidate(secret, None, held.problem or "unreadable value")
    content = read_content(held.payload, secret.name)
    if content.kind is None:
        reason = content.problem[1] if content.problem is not None else "no certificate or CRL"
        return VaultCandidate(secret, None, reason)
    return VaultCandidate(secret, content, None)


def read_vault_listing(session: ChangeSession) -> Mapping[str, VaultSecret]:
    """Every secret of the vault, without values (enough for the upload dialog's name checks)."""
    from tui.ops.runner import SiteUnavailable

    try:
        site = session.read(need_vault=True)
    except SiteUnavailable as exc:
        raise ChangeFailed(one_line(exc)) from None
    assert site.vault is not None
    return site.vault.secrets


def read_vault_candidates(session: ChangeSession) -> VaultCandidates:
    """The secrets no list maps yet, with their values decoded (one request per value, as the API has it)."""
    from tui.ops.runner import SiteUnavailable

    import_sdk(VAULT)  # on a worker thread, maybe beside the feed's vault reader
    from tui.vault.reader import read_vault_snapshot

    try:
        site = session.read(need_vault=True)
    except SiteUnavailable as exc:
        raise ChangeFailed(one_line(exc)) from None
    assert site.vault is not None and site.vault_client is not None
    used = mapped_secret_names(site.state)
    wanted = sorted((name for name in site.vault.secrets if name.lower() not in used), key=str.lower)
    values = read_vault_snapshot(site.vault_client, names=wanted, clock=session.clock)
    if values.status.message and not values.secrets:
        raise ChangeFailed(f"cannot read the vault {values.vault_url}: {values.status.message}")
    secrets = dict(site.vault.secrets)
    secrets.update(values.secrets)
    candidates = tuple(describe_candidate(secrets[name]) for name in wanted if name in secrets)
    return VaultCandidates(site.vault.vault_url, candidates, MappingProxyType(secrets), values.status.message)


@dataclass(frozen=True)
class RenewTarget:
    """The Certificate ``r`` renews and what to say before doing it."""

    certificate: CertificateView
    warnings: tuple[str, ...]


def renew_target(state: ClusterState) -> RenewTarget:
    """The root CA's Certificate and the warnings about renewing it; :class:`ChangeFailed` if none."""
    # The core's lookup and warnings, so the dialog and `aio-certs renew` say the same thing.
    from tui.core.changes.renewal import RenewTargetError, find_certificate, renew_warnings

    try:
        cert = find_certificate(state, None)
    except RenewTargetError as exc:
        raise ChangeFailed(str(exc)) from None
    return RenewTarget(cert, renew_warnings(cert))


def renew_certificate(session: ChangeSession, cert: CertificateView) -> None:
    """Ask cert-manager to re-issue ``cert`` now (Issuing=True, ManuallyTriggered); audited by the same
    engine call as ``aio-certs renew``."""
    from tui.ops.renew import request_renewal

    try:
        request_renewal(
            session.writer, cert, audit=session.audit, context=session.context, clock=session.clock
        )
    except Exception as exc:  # a WriteError: one line in the dialog
        raise ChangeFailed(one_line(exc)) from None


@dataclass(frozen=True)
class Replanned:
    """The plan made again just before applying, and how it differs from the one the user reviewed."""

    plan: Plan
    site: Site
    changed: bool
    """The diff, the warnings or the problems differ: the user must see the new plan and confirm again."""
    new_warnings: tuple[Issue, ...]
    """Warnings the reviewed plan did not have (e.g. a CRL left without its CA by someone else's change)."""


def replan_before_apply(
    session: ChangeSession, reviewed: Plan, changes: ChangeSet, *, read_only: bool, local_only: bool
) -> Replanned:
    """Read the site again and plan ``changes`` afresh, to compare with ``reviewed`` (issue 13 item 15).

    Someone may have changed the lists while the user read the diff. Applying the reviewed plan would
    then re-plan on the first 409 and go on silently with a plan nobody saw; planning again first lets
    the dialog show the new diff and its new warnings and ask again. A plan whose diff, warnings and
    problems read the same (only resourceVersions moved) is applied as it is now, without asking.
    """
    from tui.ops.runner import SiteUnavailable

    try:
        plan, site = session.plan(changes, read_only=read_only, local_only=local_only)
    except SiteUnavailable as exc:
        raise ChangeFailed(one_line(exc)) from None
    seen = {steady_text(w.message) for w in reviewed.warnings}
    new_warnings = tuple(w for w in plan.warnings if steady_text(w.message) not in seen)
    changed = (
        steady_text(plan.render_diff()) != steady_text(reviewed.render_diff())
        or [steady_text(w.message) for w in plan.warnings]
        != [steady_text(w.message) for w in reviewed.warnings]
        or [steady_text(p.message) for p in plan.problems]
        != [steady_text(p.message) for p in reviewed.problems]
    )
    return Replanned(plan, site, changed, new_warnings)


_VOLATILE = (
    # Made afresh by every plan: its id, and times taken from the clock (a CRL secret's Key Vault expiry
    # is plan time + 180 days), which would make every re-plan look different.
    (re.compile(r"\bPlan [0-9a-f]+"), "Plan <id>"),
    (re.compile(r"\b\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)"), "<time>"),
    # The preconditions: they move with any write to the object, related or not; what the write changes is
    # compared through the diff's own lines instead.
    (re.compile(r'ETag "[^"]*"'), "ETag <etag>"),
    (re.compile(r"resourceVersion \S+"), "resourceVersion <rv>"),
)


def steady_text(text: str) -> str:
    """``text`` without what differs between two plans of the same changes on the same site."""
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text
