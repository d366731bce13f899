"""Renewing a Certificate now, for the CLI and the dashboard alike: write, audit, wait.

:func:`request_renewal` is ``cmctl renew`` (the Certificate's ``Issuing`` condition set to True with
reason ``ManuallyTriggered``) followed by its audit line, ``applied`` or ``failed``; :func:`wait_for_revision`
then follows cert-manager until it has issued the new revision. Which Certificate, and what to warn about
first, is the core's (:mod:`tui.core.changes.renewal`); asking and printing are the caller's.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from tui.core.build.certmanager import parse_certificate
from tui.core.clock import Clock
from tui.core.model import resources as rk
from tui.core.model.state import CertificateView
from tui.core.text import printable
from tui.ops.audit import AuditLog
from tui.ops.ports import ClusterPort

RENEW_ACTION = "renew"
"""The audit action of a renewal."""
POLL_SECONDS = 0.1


class RenewalMovedOn(Exception):
    """The Certificate changed since the user looked (a new revision, or an issuance now in flight);
    nothing was written. ``str()`` is one line that names the new state."""


def moved_on(seen: CertificateView, current: Mapping[str, Any]) -> str | None:
    """Why renewing ``current`` would not be the renewal the user confirmed on ``seen``, or None.

    A renewal issues the revision after the one shown. When cert-manager has issued another since
    (someone renewed, or the Certificate came due), or an issuance has started that was not under way
    when shown, renewing again would rotate a second time: a CA's second new key, and leaves re-issued
    twice. An unrelated status write (a Ready condition refreshed) moves the resourceVersion but not
    this, so it is judged here on the revision and the Issuing condition, not on the resourceVersion.
    """
    now = parse_certificate(dict(current))
    shown = seen.revision if seen.revision is not None else "none"
    if now.revision != seen.revision:
        revision = now.revision if now.revision is not None else "none"
        ready = "Ready" if now.is_ready else "not Ready"
        return (
            f"Certificate {seen.key} moved on since it was shown: now revision {revision} ({ready}), "
            f"shown revision {shown}; nothing written (look again, and renew only if still needed)"
        )
    if now.is_issuing and not seen.is_issuing:
        reason = now.issuing.reason if now.issuing is not None else ""
        return (
            f"Certificate {seen.key} is being issued now (reason {printable(reason) or 'unknown'}), "
            f"revision {shown} was shown with none under way; nothing written"
        )
    return None


def request_renewal(
    cluster: ClusterPort, cert: CertificateView, *, audit: AuditLog, context: str, clock: Clock
) -> None:
    """Ask cert-manager to re-issue ``cert`` now and audit it; re-raises the write's one-line failure.

    ``cert`` is the Certificate as the user saw it: the write goes ahead only over an object that has
    not moved on from it (:func:`moved_on`; :class:`RenewalMovedOn` otherwise, audited ``refused``),
    and carries that object's resourceVersion, so nothing slips in between the check and the write.
    """

    def unchanged(current: Mapping[str, Any]) -> None:
        reason = moved_on(cert, current)
        if reason is not None:
            raise RenewalMovedOn(reason)

    try:
        cluster.renew_certificate(cert.namespace, cert.name, now=clock.now(), precondition=unchanged)
    except RenewalMovedOn as exc:
        audit.record(
            action=RENEW_ACTION, outcome="refused", context=context, entries=[cert.key], detail=str(exc)
        )
        raise
    except Exception as exc:
        audit.record(
            action=RENEW_ACTION,
            outcome="failed",
            context=context,
            entries=[cert.key],
            detail=" ".join(str(exc).split()),
        )
        raise
    audit.record(action=RENEW_ACTION, outcome="applied", context=context, entries=[cert.key])


def wait_for_revision(cluster: ClusterPort, cert: CertificateView, timeout: float) -> int | None:
    """Poll the Certificate until its revision moves past the one seen and Ready is True again.

    Returns the new revision, or None when ``timeout`` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    before = cert.revision or 0
    while True:
        current = cluster.get(rk.CERTIFICATES, cert.namespace, cert.name) or {}
        status = current.get("status") or {}
        revision = status.get("revision")
        ready = any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in status.get("conditions") or []
            if isinstance(c, dict)
        )
        if isinstance(revision, int) and revision > before and ready:
            return revision
        if time.monotonic() >= deadline:
            return None
        # Polling with a deadline: cert-manager's progress arrives on its own schedule, nothing to await.
        time.sleep(POLL_SECONDS)
